"""Promote an approved plan into a new corpus case study, so the corpus learns from what HR approved.

The case study keeps what generalises (the seniority policy the plan followed, its tasks,
its risks) and drops who it was for and who it was with: the hire's name is never copied, and
every text field goes through :func:`tailor.pipeline.privacy.redact` with the hire's and the named
colleagues' names (task owners, relationships, the team's manager and contacts) as known names,
so a name, email, phone number or link that slipped into a task description becomes a
placeholder. A case study outlives a team's roster, and colleagues' names are personal data too.

The narrative body names every task and the policy's days and weeks, as
``tests/corpus/test_documents.py`` requires of every case study.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import yaml

from tailor.corpus.documents import CaseStudyMeta, Outcome, Policy, TaskTemplate
from tailor.errors import BadInput
from tailor.pipeline.privacy import redact
from tailor.schema import Plan
from tailor.text import slug

DEFAULT_CHECK_IN_WEEKS = (1, 4, 8, 12)
_ID_MAX = 80


@dataclass(frozen=True)
class PromotedCase:
    meta: CaseStudyMeta
    body: str

    @property
    def filename(self) -> str:
        return f"{self.meta.id}.md"

    @property
    def text(self) -> str:
        """The whole Markdown file: YAML front matter, then the narrative."""
        front = yaml.safe_dump(self.meta.model_dump(mode="json"), sort_keys=False, allow_unicode=True, width=100)
        return f"---\n{front}---\n\n{self.body.strip()}\n"


def case_id(plan: Plan, plan_id: int, taken: Iterable[str] = ()) -> str:
    used = set(taken)
    base = f"case-approved-{plan.hire.seniority}-{plan.hire.role_family}-plan-{plan_id}"[:_ID_MAX]
    candidate, n = base, 2
    while candidate in used:
        candidate = f"{base[: _ID_MAX - 4]}-{n}"
        n += 1
    return candidate


def case_study_from_plan(
    plan: Plan,
    plan_id: int,
    *,
    taken_ids: Iterable[str] = (),
    keep_urls: Iterable[str] = (),
) -> PromotedCase:
    """Build a valid case study (front matter and narrative) from an approved plan."""
    if plan.status != "approved":
        raise BadInput(f"plan {plan_id} is {plan.status}; only approved plans can become case studies")
    tasks = plan.all_tasks()
    if len(tasks) < 3:
        raise BadInput(f"plan {plan_id} has {len(tasks)} tasks; a case study needs at least 3")
    hire = plan.hire
    names = people_named(plan)
    urls = list(keep_urls)

    def clean(text: str) -> str:
        return redact(" ".join(text.split()), names=names, keep_urls=urls).text

    role = clean(hire.role)
    targets = plan.targets
    weeks = sorted({c.week for c in plan.check_ins})
    if len(weeks) < 3:
        weeks = sorted(set(weeks) | set(DEFAULT_CHECK_IN_WEEKS))
    support_note = clean(plan.support.note or plan.support.who)
    policy = Policy(
        applies_to=[hire.seniority],
        support_model=plan.support.model,
        support_note=support_note,
        first_commit_day=targets.first_commit_day,
        first_pr_day=targets.first_pr_day,
        full_productivity_week=targets.full_productivity_week,
        on_call_week=targets.on_call_week,
        first_leadership_week=targets.first_leadership_week,
        check_in_weeks=weeks,
    )
    templates = [
        TaskTemplate(
            title=clean(t.title),
            description=clean(t.description),
            owner=t.owner,
            due_week=t.due_week,
            success_criteria=clean(t.success_criteria),
        )
        for t in tasks
    ]
    avoid = [clean(r.risk) for r in plan.risks if r.risk.strip()] or [
        "Dropping the agreed check-ins once the first weeks go well."
    ]
    outcomes = [
        Outcome(metric="First PR (planned)", value=f"Day {targets.first_pr_day}"),
        Outcome(metric="Full productivity (planned)", value=f"Week {targets.full_productivity_week}"),
    ]
    if targets.on_call_week is not None:
        outcomes.append(Outcome(metric="Joined on-call (planned)", value=f"Week {targets.on_call_week}"))
    outcomes.append(Outcome(metric="Approved plan", value=f"#{plan_id}"))
    situation_words = hire.situation.replace("_", " ")
    title = f"Approved plan: {hire.seniority} {role}"
    if hire.situation != "standard":
        title += f" ({situation_words})"
    tags = list(dict.fromkeys(["approved-plan", slug(hire.situation), *(slug(s) for s in hire.skills[:6])]))
    meta = CaseStudyMeta(
        id=case_id(plan, plan_id, taken_ids),
        kind="case_study",
        title=title,
        roles=[hire.role_family],
        seniority=[hire.seniority],
        tags=[t for t in tags if t],
        situation=hire.situation,
        policy=policy,
        tasks=templates,
        avoid=avoid,
        outcomes=outcomes,
    )
    return PromotedCase(meta=meta, body=_narrative(plan, meta, clean))


def people_named(plan: Plan) -> list[str]:
    """Everyone the plan names: the hire, task owners, colleagues to meet, the manager and gap contacts."""
    team = plan.fit.team
    names = [
        plan.hire.name,
        *(t.owner_name for t in plan.all_tasks()),
        *(r.name for r in plan.relationships),
        team.manager if team else None,
        *(g.contact for g in plan.fit.gaps),
    ]
    return list(dict.fromkeys(n for n in names if n))


def _narrative(plan: Plan, meta: CaseStudyMeta, clean: Callable[[str], str]) -> str:
    hire = plan.hire
    p = meta.policy
    lines = [
        f"# {meta.title}",
        "",
        "A plan HR approved, kept as a case study so later plans for similar hires can learn from it. "
        "The names of the hire and their colleagues and other personal details were removed.",
        "",
        "## Context",
        "",
        f"**Hire:** a {hire.seniority} {hire.role_family} engineer with about "
        f"{hire.years_experience:g} years of experience ({hire.situation.replace('_', ' ')}).",
    ]
    if hire.skills:
        lines.append(f"**Skills:** {', '.join(clean(s) for s in hire.skills[:12])}.")
    lines += [
        "",
        clean(plan.summary),
        "",
        f"**Why this plan:** {clean(plan.rationale)}",
        "",
        "## Policy",
        "",
        f"Support came from a {p.support_model.replace('_', ' ')}: {p.support_note}. "
        f"The first commit was planned for day {p.first_commit_day} and the first PR for day "
        f"{p.first_pr_day}; full productivity was expected by week {p.full_productivity_week}.",
    ]
    if p.on_call_week is not None:
        lines.append(f"The hire joins on-call in week {p.on_call_week}.")
    else:
        lines.append("On-call is not part of the first 90 days.")
    if p.first_leadership_week is not None:
        lines.append(f"Leadership work starts in week {p.first_leadership_week}.")
    lines.append(f"Check-ins happen in weeks {', '.join(str(w) for w in p.check_in_weeks)}.")
    lines += ["", "## Tasks", ""]
    for task in meta.tasks:
        when = "before day 1" if task.due_week == 0 else f"week {task.due_week}"
        lines.append(f"- **{task.title}** ({task.owner}, {when}): {task.description} Success: {task.success_criteria}")
    lines += ["", "## What to avoid", ""]
    lines += [f"- {a}" for a in meta.avoid]
    lines += ["", "## Outcomes", ""]
    lines += [f"- {o.metric}: {o.value}" for o in meta.outcomes]
    return "\n".join(lines) + "\n"
