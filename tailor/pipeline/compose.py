"""Compose: the deterministic planner that builds the grounded skeleton.

Everything here comes from the corpus: tasks from the role profile's
responsibilities, relationships and artifacts; milestones, support and
check-ins from the seniority policy a case study states; extra tasks from the
case studies that worked for similar hires. Every task carries the ids of the
documents it came from. No model is involved, so the skeleton is ready in
milliseconds and stands when the model is weak or down.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from tailor.corpus.documents import (
    SENIORITY_ORDER,
    CaseStudyMeta,
    Corpus,
    Expectations,
    Proficiency,
    RoleProfileMeta,
    Seniority,
)
from tailor.schema import (
    CheckIn,
    HireProfile,
    Phase,
    Plan,
    PlanCapability,
    PlanRelationship,
    Provenance,
    ReviewFlag,
    Risk,
    SourceRef,
    Support,
    Targets,
    Task,
)

PHASES: tuple[tuple[str, int, int], ...] = (
    ("Before day 1", 0, 0),
    ("Days 1-30: Foundation", 1, 4),
    ("Days 31-60: Integration", 5, 8),
    ("Days 61-90: Ownership", 9, 13),
)
_LEVEL_FALLBACK: dict[Seniority, tuple[Seniority, ...]] = {
    "intern": ("intern", "junior", "mid"),
    "junior": ("junior", "intern", "mid"),
    "mid": ("mid", "junior", "senior"),
    "senior": ("senior", "mid", "staff"),
    "staff": ("staff", "principal", "senior"),
    "principal": ("principal", "staff", "senior"),
    "manager": ("manager", "director", "senior"),
    "director": ("director", "manager", "staff"),
}


_ON_CALL = re.compile(r"(?i)\bon[- ]call\b|incident (?:response|commander)|release (?:duty|captain)")


_JOINS_ON_CALL = re.compile(r"(?i)\b(?:join|enter|take|start|begin|primary)\b[^.\n]{0,40}?\bon[- ]?call\b")
_SHADOWS = re.compile(r"(?i)\b(?:shadow\w*|observe\w*)\b")
_LEADS = re.compile(r"(?i)^(?:lead|facilitate|mentor|run)\b")


def _apply_policy_weeks(book: _TaskBook, on_call_week: int | None, leadership_week: int | None) -> None:
    """The policy in force wins over the weeks a story's own tasks carry.

    A situational case adapts the base policy (a hire back from a career break joins on-call later
    than other seniors), so the base case's "join on-call in week 4" must move, or go when the
    policy keeps the hire off call for 90 days. Leadership tasks likewise wait for the policy's week.
    """
    kept: list[Task] = []
    for task in book.tasks:
        text = f"{task.title}. {task.description}"
        if _JOINS_ON_CALL.search(task.title) and not _SHADOWS.search(task.title):
            if on_call_week is None or on_call_week > 13:
                continue
            task.due_week = max(task.due_week, on_call_week)
        elif _JOINS_ON_CALL.search(text) and not _SHADOWS.search(text) and on_call_week is not None:
            task.due_week = max(task.due_week, min(on_call_week, 13))
        if _LEADS.search(task.title) and leadership_week is not None and leadership_week <= 13:
            task.due_week = max(task.due_week, leadership_week)
        kept.append(task)
    book.tasks = kept


class CompositionError(Exception):
    """The corpus lacks what a plan needs (no role profiles or no policy): a corpus bug, not user input."""


def nearest(mapping_keys: Sequence[Seniority], level: Seniority) -> Seniority | None:
    for candidate in _LEVEL_FALLBACK[level]:
        if candidate in mapping_keys:
            return candidate
    ordered = sorted(mapping_keys, key=lambda k: abs(SENIORITY_ORDER.index(k) - SENIORITY_ORDER.index(level)))
    return ordered[0] if ordered else None


def pick_role_profile(corpus: Corpus, family: str, ranked_ids: Sequence[str] = ()) -> RoleProfileMeta:
    roles = corpus.roles()
    if not roles:
        raise CompositionError("the corpus has no role profiles; run `tailor ingest` on a complete corpus")
    matching = [r for r in roles if family in r.roles]
    if matching:
        by_rank = {rid: i for i, rid in enumerate(ranked_ids)}
        return sorted(matching, key=lambda r: by_rank.get(r.id, 999))[0]
    by_id = {r.id: r for r in roles}
    for rid in ranked_ids:
        if rid in by_id:
            return by_id[rid]
    return roles[0]


def pick_policy_cases(
    corpus: Corpus, hire: HireProfile, ranked_ids: Sequence[str] = ()
) -> tuple[CaseStudyMeta, CaseStudyMeta | None]:
    """The canonical case for the hire's level, and a situational one if the hire's situation has a story."""
    cases = corpus.case_studies()
    canonical = [c for c in cases if c.situation == "standard"]
    if not canonical:
        raise CompositionError("the corpus states no standard seniority policy (no case study with situation standard)")
    base = None
    for level in _LEVEL_FALLBACK[hire.seniority]:
        found = [c for c in canonical if level in c.policy.applies_to]
        if found:
            base = found[0]
            break
    if base is None:
        base = canonical[0]
    situational = None
    if hire.situation != "standard":
        options = [c for c in cases if c.situation == hire.situation]
        by_rank = {cid: i for i, cid in enumerate(ranked_ids)}
        options.sort(key=lambda c: by_rank.get(c.id, 999))
        situational = options[0] if options else None
    return base, situational


def _slug(text: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    if len(base) > 48:
        base = base[:48].rsplit("-", 1)[0]
    base = base or "task"
    slug, n = base, 2
    while slug in taken:
        slug = f"{base}-{n}"
        n += 1
    taken.add(slug)
    return slug


def _week_of_day(day: int) -> int:
    return max(1, min(13, math.ceil(day / 5)))


def _phase_index(week: int) -> int:
    for i, (_, start, end) in enumerate(PHASES):
        if start <= week <= end:
            return i
    return len(PHASES) - 1


def _norm(title: str) -> str:
    return re.sub(r"[^a-z ]", "", title.lower())


class _TaskBook:
    """Collects tasks, merging sources when two documents propose the same task."""

    def __init__(self) -> None:
        self.tasks: list[Task] = []
        self._ids: set[str] = set()
        self._by_title: dict[str, Task] = {}

    def add(
        self, *, title: str, description: str, owner: str, due_week: int, success: str, sources: Sequence[str]
    ) -> None:
        key = _norm(title)
        existing = self._by_title.get(key)
        if existing is not None:
            existing.sources = sorted(set(existing.sources) | set(sources))
            return
        task = Task(
            id=_slug(title, self._ids),
            title=title[:300],
            description=description,
            owner=owner,
            due_week=max(0, min(13, due_week)),
            success_criteria=success,
            sources=list(dict.fromkeys(sources)),
        )
        self.tasks.append(task)
        self._by_title[key] = task

    def has_keyword(self, *words: str) -> bool:
        return any(any(w in t.title.lower() for w in words) for t in self.tasks)


def _level_words(level: Seniority) -> str:
    return {
        "intern": "an intern",
        "junior": "a junior engineer",
        "mid": "a mid-level engineer",
        "senior": "a senior engineer",
        "staff": "a staff engineer",
        "principal": "a principal engineer",
        "manager": "an engineering manager",
        "director": "an engineering director",
    }[level]


def _ownership_week(resp_index: int, primary: bool, level: Seniority, productivity_week: int) -> int:
    base = max(productivity_week, 3)
    if primary:
        return min(13, base + resp_index)
    return min(13, base + 2 + resp_index)


def compose(
    corpus: Corpus,
    hire: HireProfile,
    *,
    retrieved: Sequence[SourceRef] = (),
    flags: Sequence[ReviewFlag] = (),
    model: str = "none",
    prompt_version: str = "none",
    engine_version: str = "0",
) -> Plan:
    ranked = [s.id for s in retrieved]
    role = pick_role_profile(corpus, hire.role_family, ranked)
    base_case, situational = pick_policy_cases(corpus, hire, ranked)
    policy = situational.policy if situational else base_case.policy
    policy_src = situational.id if situational else base_case.id
    level = hire.seniority
    book = _TaskBook()

    # Milestones the policy sets: the numbers a reviewer checks first.
    book.add(
        title="Land your first commit",
        description=f"Get a small change merged by day {policy.first_commit_day}, following the {role.title} "
        f"team's normal review path, so that tooling and access are proven early.",
        owner="hire",
        due_week=_week_of_day(policy.first_commit_day),
        success=f"A merged commit by day {policy.first_commit_day}",
        sources=[policy_src, role.id],
    )
    book.add(
        title="Open your first pull request",
        description=f"Open a reviewed pull request on real work by day {policy.first_pr_day}.",
        owner="hire",
        due_week=_week_of_day(policy.first_pr_day),
        success=f"A pull request reviewed and merged by day {policy.first_pr_day}",
        sources=[policy_src],
    )

    # Tasks that worked in the stories behind the policy.
    for case in [c for c in (base_case, situational) if c is not None]:
        for t in case.tasks:
            book.add(
                title=t.title,
                description=t.description,
                owner=t.owner,
                due_week=t.due_week,
                success=t.success_criteria,
                sources=[case.id],
            )

    if policy.on_call_week is not None and policy.on_call_week <= 13 and not book.has_keyword("on-call", "on call"):
        book.add(
            title="Join the on-call rotation",
            description=f"Shadow one on-call shift, then join the rotation in week {policy.on_call_week}, "
            "with the runbooks for the services you own.",
            owner="hire",
            due_week=policy.on_call_week,
            success="Completed a shadow shift and a first primary shift with runbooks at hand",
            sources=[policy_src, role.id],
        )
    if (
        policy.first_leadership_week is not None
        and policy.first_leadership_week <= 13
        and not book.has_keyword("design review", "lead ")
    ):
        book.add(
            title="Lead a design review",
            description=f"Facilitate a design review for work in the {role.title} area by week "
            f"{policy.first_leadership_week}.",
            owner="hire",
            due_week=policy.first_leadership_week,
            success="Design review held with decisions recorded",
            sources=[policy_src],
        )

    # Responsibilities: shadow, then own.
    for i, resp in enumerate(role.responsibilities):
        shadow_week = max(1, min(13, 1 + math.ceil(resp.shadow_days / 5) + (i // 2)))
        if resp.shadow_days > 0:
            book.add(
                title=f"Shadow the owner of {resp.name}",
                description=f"{resp.description} Shadow the current owner for {resp.shadow_days} working days.",
                owner="hire",
                due_week=shadow_week,
                success="Can explain how the work is done today and where it hurts",
                sources=[role.id],
            )
        own_week = _ownership_week(i, resp.primary, level, policy.full_productivity_week)
        if _ON_CALL.search(resp.name):
            # The seniority policy decides on-call, not the role profile: no ownership of an on-call duty
            # before the policy's on-call week, and none at all when the policy keeps the hire off call.
            if policy.on_call_week is None or policy.on_call_week > 13:
                continue
            own_week = max(own_week, policy.on_call_week)
        book.add(
            title=f"Take ownership of {resp.name}",
            description=f"Own {resp.name.lower()} with the manager's guidance, measured by: "
            + "; ".join(resp.success_metrics)
            + ".",
            owner="hire",
            due_week=own_week,
            success="; ".join(resp.success_metrics),
            sources=[role.id],
        )

    for rel in role.relationships:
        book.add(
            title=f"Meet the {rel.role}",
            description=f"{rel.purpose} Agree how to work together; the cadence going forward is {rel.cadence}.",
            owner="hire",
            due_week=rel.meet_by_week,
            success=f"First meeting held by week {rel.meet_by_week}; {rel.cadence} cadence agreed",
            sources=[role.id],
        )
    for j, art in enumerate(role.artifacts):
        book.add(
            title=f"Review the {art.name}",
            description=f"Learn the current state and ownership of the {art.name} ({art.type}); "
            "note gaps and improvement ideas.",
            owner="hire",
            due_week=min(13, 2 + j),
            success="Current state understood; gaps written down for the manager",
            sources=[role.id],
        )

    _apply_policy_weeks(book, policy.on_call_week, policy.first_leadership_week)

    phases = []
    band = nearest(list(role.expectations), level)
    exp: Expectations | None = role.expectations.get(band) if band else None
    goals = [[], exp.day_30 if exp else [], exp.day_60 if exp else [], exp.day_90 if exp else []]
    for i, (name, start, end) in enumerate(PHASES):
        tasks = sorted((t for t in book.tasks if _phase_index(t.due_week) == i), key=lambda t: t.due_week)
        phase_goals = (
            list(goals[i]) if goals[i] else (["Access, equipment and reading ready before day 1"] if i == 0 else [])
        )
        phases.append(Phase(name=name, start_week=start, end_week=end, goals=phase_goals, tasks=tasks))

    relationships = [
        PlanRelationship(role=r.role, purpose=r.purpose, meet_by_week=r.meet_by_week, cadence=r.cadence, source=role.id)
        for r in role.relationships
    ]
    capabilities = []
    for cap in role.capabilities:
        key = nearest(list(cap.targets), level)
        target: Proficiency = cap.targets[key] if key else "working"
        capabilities.append(
            PlanCapability(
                name=cap.name,
                target_level=target,
                source=role.id,
                plan=f"Reach {target} in {cap.name} by day 90 through the tasks that use it and review with "
                f"the {'mentor' if policy.support_model == 'mentor' else 'manager'}.",
            )
        )
    check_ins = []
    for week in sorted(set(policy.check_in_weeks)):
        if week < 1:
            continue
        focus = (
            "Settling in, access and first tasks"
            if week <= 2
            else (
                "30-day review: " + "; ".join(exp.day_30)
                if exp and week <= 5
                else "60-day review: " + "; ".join(exp.day_60)
                if exp and week <= 9
                else "90-day review: " + "; ".join(exp.day_90)
                if exp
                else "Progress review"
            )
        )
        check_ins.append(CheckIn(week=week, with_="manager", focus=focus[:4000]))

    risks = [
        Risk(
            risk=a,
            mitigation=f"Check at the week-{check_ins[0].week if check_ins else 4} check-in that this "
            "is being avoided.",
        )
        for c in (base_case, situational)
        if c is not None
        for a in c.avoid[:3]
    ]
    used_ids = {s for t in book.tasks for s in t.sources}
    sources = list(retrieved)
    known = {s.id for s in sources}
    docs = corpus.by_id()
    for doc_id in sorted(used_ids - known):
        doc = docs[doc_id]
        sources.append(
            SourceRef(
                id=doc_id,
                title=doc.meta.title,
                kind=doc.meta.kind,
                score=0.0,
                sections=["(selected by policy)"],
            )
        )

    situational_note = (
        f' It adapts that policy with "{situational.title}" because the background reads as '
        f"{hire.situation.replace('_', ' ')}."
        if situational
        else ""
    )
    summary = (
        f"A 90-day plan for {_level_words(level)} joining as {hire.role}, built from the {role.title} profile "
        f'and the seniority policy of the case study "{base_case.title}".{situational_note}'
    )
    rationale = (
        f"{policy.support_model.replace('_', ' ').capitalize()} support, first pull request by day "
        f"{policy.first_pr_day}, full productivity expected by week {policy.full_productivity_week}"
        + (f", on-call from week {policy.on_call_week}" if policy.on_call_week else ", no on-call in the first 90 days")
        + (
            f", leadership work from week {policy.first_leadership_week}"
            if policy.first_leadership_week
            else ", no leadership work expected in the first 90 days"
        )
        + f", as the corpus policy for {level} hires states."
    )
    return Plan(
        hire=hire,
        summary=summary,
        rationale=rationale,
        focus_areas=[],
        support=Support(model=policy.support_model, who=policy.support_note[:300], note=None),
        targets=Targets(
            first_commit_day=policy.first_commit_day,
            first_pr_day=policy.first_pr_day,
            full_productivity_week=policy.full_productivity_week,
            on_call_week=policy.on_call_week,
            first_leadership_week=policy.first_leadership_week,
        ),
        phases=phases,
        relationships=relationships,
        capabilities=capabilities,
        check_ins=check_ins,
        risks=risks,
        sources=sources,
        review_flags=list(flags),
        provenance=Provenance(
            model=model,
            prompt_version=prompt_version,
            corpus_hash=corpus.content_hash,
            engine_version=engine_version,
        ),
    )
