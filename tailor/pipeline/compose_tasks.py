"""The tasks of the grounded skeleton, collected in a fixed order (step 2 of :func:`compose`).

Each ``_add_*`` step adds the tasks one kind of corpus fact calls for. The order of the steps is
part of the output: when two titles slug alike, the later task gets the ``-2`` id, and when two
documents propose the same task, the first wording stays and both are cited. Task titles reach
the model prompts, and the recorded eval answers are keyed by those prompts, so a change to a
title or to the order here invalidates ``evals/recorded``.

Split from ``compose.py`` so each file reads in one sitting; :func:`collect_tasks` is the one
entry point.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence

from tailor.corpus.documents import CaseStudyMeta, Policy, RoleProfileMeta
from tailor.schema import Task
from tailor.text import unique_slug

LAST_WEEK = 13  # the first 90 days are weeks 1-13; week 0 is before day 1
_ON_CALL = re.compile(r"(?i)\bon[- ]call\b|incident (?:response|commander)|release (?:duty|captain)")
_JOINS_ON_CALL = re.compile(r"(?i)\b(?:join|enter|take|start|begin|primary)\b[^.\n]{0,40}?\bon[- ]?call\b")
_SHADOWS = re.compile(r"(?i)\b(?:shadow\w*|observe\w*)\b")
_LEADS = re.compile(r"(?i)^(?:lead|facilitate|mentor|run)\b")


def week_of_day(day: int) -> int:
    """The week a working day falls in (five working days a week), within the 90 days."""
    return max(1, min(LAST_WEEK, math.ceil(day / 5)))


def _norm(title: str) -> str:
    return re.sub(r"[^a-z ]", "", title.lower())


class TaskBook:
    """Collects tasks, merging sources when two documents propose the same task."""

    def __init__(self) -> None:
        self.tasks: list[Task] = []
        self._ids: set[str] = set()
        self._by_title: dict[str, Task] = {}

    def add(
        self,
        *,
        title: str,
        description: str,
        owner: str,
        due_week: int,
        success: str,
        sources: Sequence[str],
        owner_name: str | None = None,
        skills: Sequence[str] = (),
    ) -> Task | None:
        """Add a task; None when an earlier task has the same title (its sources then cite both)."""
        # Titles that differ only in case, digits or punctuation are the same task: keep the first
        # wording and cite every document that proposed it.
        key = _norm(title)
        existing = self._by_title.get(key)
        if existing is not None:
            existing.sources = sorted(set(existing.sources) | set(sources))
            return None
        task_id = unique_slug(title, self._ids)
        self._ids.add(task_id)
        task = Task(
            id=task_id,
            title=title[:300],
            description=description,
            owner=owner,
            due_week=max(0, min(LAST_WEEK, due_week)),
            success_criteria=success,
            sources=list(dict.fromkeys(sources)),
            owner_name=owner_name,
            skills=list(skills),
        )
        self.tasks.append(task)
        self._by_title[key] = task
        return task

    def has_keyword(self, *words: str) -> bool:
        return any(any(w in t.title.lower() for w in words) for t in self.tasks)


def _add_milestone_tasks(book: TaskBook, role: RoleProfileMeta, policy_case: CaseStudyMeta) -> None:
    """First commit and first pull request, on the policy's days: the numbers a reviewer checks first."""
    policy, src = policy_case.policy, policy_case.id
    book.add(
        title="Land your first commit",
        description=f"Get a small change merged by day {policy.first_commit_day}, following the {role.title} "
        f"team's normal review path, so that tooling and access are proven early.",
        owner="hire",
        due_week=week_of_day(policy.first_commit_day),
        success=f"A merged commit by day {policy.first_commit_day}",
        sources=[src, role.id],
    )
    book.add(
        title="Open your first pull request",
        description=f"Open a reviewed pull request on real work by day {policy.first_pr_day}.",
        owner="hire",
        due_week=week_of_day(policy.first_pr_day),
        success=f"A pull request reviewed and merged by day {policy.first_pr_day}",
        sources=[src],
    )


def _add_case_study_tasks(book: TaskBook, cases: Sequence[CaseStudyMeta]) -> None:
    """The tasks that worked in the stories behind the policy, base case first, as the stories state them."""
    for case in cases:
        for t in case.tasks:
            book.add(
                title=t.title,
                description=t.description,
                owner=t.owner,
                due_week=t.due_week,
                success=t.success_criteria,
                sources=[case.id],
            )


def _add_policy_duty_tasks(book: TaskBook, role: RoleProfileMeta, policy_case: CaseStudyMeta) -> None:
    """On-call and leadership tasks when the policy starts them within 90 days and no story already has one."""
    policy, src = policy_case.policy, policy_case.id
    if (
        policy.on_call_week is not None
        and policy.on_call_week <= LAST_WEEK
        and not book.has_keyword("on-call", "on call")
    ):
        book.add(
            title="Join the on-call rotation",
            description=f"Shadow one on-call shift, then join the rotation in week {policy.on_call_week}, "
            "with the runbooks for the services you own.",
            owner="hire",
            due_week=policy.on_call_week,
            success="Completed a shadow shift and a first primary shift with runbooks at hand",
            sources=[src, role.id],
        )
    leadership_week = policy.first_leadership_week
    if leadership_week is not None and leadership_week <= LAST_WEEK and not book.has_keyword("design review", "lead "):
        book.add(
            title="Lead a design review",
            description=f"Facilitate a design review for work in the {role.title} area by week {leadership_week}.",
            owner="hire",
            due_week=leadership_week,
            success="Design review held with decisions recorded",
            sources=[src],
        )


def _ownership_week(resp_index: int, primary: bool, productivity_week: int) -> int:
    """When the hire owns a responsibility: primary ones from full productivity on, one a week in
    the role profile's order; secondary ones two weeks later. Never before week 3."""
    base = max(productivity_week, 3)
    if primary:
        return min(LAST_WEEK, base + resp_index)
    return min(LAST_WEEK, base + 2 + resp_index)


def _add_responsibility_tasks(book: TaskBook, role: RoleProfileMeta, policy: Policy) -> None:
    """For each responsibility of the role: shadow its owner (when the profile says to), then own it."""
    for i, resp in enumerate(role.responsibilities):
        # Shadowing is staggered: two responsibilities start in the same week, the next two a week later.
        shadow_week = max(1, min(LAST_WEEK, 1 + math.ceil(resp.shadow_days / 5) + (i // 2)))
        if resp.shadow_days > 0:
            book.add(
                title=f"Shadow the owner of {resp.name}",
                description=f"{resp.description} Shadow the current owner for {resp.shadow_days} working days.",
                owner="hire",
                due_week=shadow_week,
                success="Can explain how the work is done today and where it hurts",
                sources=[role.id],
            )
        own_week = _ownership_week(i, resp.primary, policy.full_productivity_week)
        if _ON_CALL.search(resp.name):
            # The seniority policy decides on-call, not the role profile: no ownership of an on-call duty
            # before the policy's on-call week, and none at all when the policy keeps the hire off call.
            if policy.on_call_week is None or policy.on_call_week > LAST_WEEK:
                continue
            own_week = max(own_week, policy.on_call_week)
        book.add(
            title=f"Take ownership of {resp.name}",
            description=f"{resp.description} Own it with the manager's guidance, measured by: "
            + "; ".join(resp.success_metrics)
            + ".",
            owner="hire",
            due_week=own_week,
            success="; ".join(resp.success_metrics),
            sources=[role.id],
        )


def _add_relationship_tasks(book: TaskBook, role: RoleProfileMeta) -> None:
    """A first meeting with each person the role works with, by the week the profile names."""
    for rel in role.relationships:
        book.add(
            title=f"Meet the {rel.role}",
            description=f"{rel.purpose} Agree how to work together; the cadence going forward is {rel.cadence}.",
            owner="hire",
            due_week=rel.meet_by_week,
            success=f"First meeting held by week {rel.meet_by_week}; {rel.cadence} cadence agreed",
            sources=[role.id],
        )


def _add_artifact_tasks(book: TaskBook, role: RoleProfileMeta) -> None:
    """Review each artifact the role owns, one a week from week 2, so reading is spread out."""
    for j, art in enumerate(role.artifacts):
        book.add(
            title=f"Review the {art.name}",
            description=f"Learn the current state and ownership of the {art.name} ({art.type}); "
            "note gaps and improvement ideas.",
            owner="hire",
            due_week=min(LAST_WEEK, 2 + j),
            success="Current state understood; gaps written down for the manager",
            sources=[role.id],
        )


def _apply_policy_weeks(book: TaskBook, on_call_week: int | None, leadership_week: int | None) -> None:
    """The policy in force wins over the weeks a story's own tasks carry.

    A situational case adapts the base policy (a hire back from a career break joins on-call later
    than other seniors), so the base case's "join on-call in week 4" must move, or go when the
    policy keeps the hire off call for 90 days. Leadership tasks likewise wait for the policy's week.
    """
    kept: list[Task] = []
    for task in book.tasks:
        text = f"{task.title}. {task.description}"
        if _JOINS_ON_CALL.search(task.title) and not _SHADOWS.search(task.title):
            if on_call_week is None or on_call_week > LAST_WEEK:
                continue
            task.due_week = max(task.due_week, on_call_week)
        elif _JOINS_ON_CALL.search(text) and not _SHADOWS.search(text) and on_call_week is not None:
            task.due_week = max(task.due_week, min(on_call_week, LAST_WEEK))
        if _LEADS.search(task.title) and leadership_week is not None and leadership_week <= LAST_WEEK:
            task.due_week = max(task.due_week, leadership_week)
        kept.append(task)
    book.tasks = kept


def collect_tasks(
    role: RoleProfileMeta,
    cases: Sequence[CaseStudyMeta],
    policy_case: CaseStudyMeta,
    team_tasks: Callable[[TaskBook], None] | None = None,
) -> list[Task]:
    """Every task of the plan, in the order that fixes their ids, at the weeks the policy allows.

    ``cases`` are the stories behind the plan (the base case, then a situational one);
    ``policy_case`` is the one whose policy is in force. ``team_tasks`` adds the team's tasks
    (:mod:`tailor.pipeline.compose_team`) after the corpus's own, so those keep their ids.
    """
    policy = policy_case.policy
    book = TaskBook()
    _add_milestone_tasks(book, role, policy_case)
    _add_case_study_tasks(book, cases)
    _add_policy_duty_tasks(book, role, policy_case)
    _add_responsibility_tasks(book, role, policy)
    _add_relationship_tasks(book, role)
    _add_artifact_tasks(book, role)
    if team_tasks is not None:
        team_tasks(book)
    _apply_policy_weeks(book, policy.on_call_week, policy.first_leadership_week)
    return book.tasks
