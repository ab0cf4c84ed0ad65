"""Compose: the deterministic planner that builds the grounded skeleton.

Everything here comes from the corpus: tasks from the role profile's
responsibilities, relationships and artifacts; milestones, support and
check-ins from the seniority policy a case study states; extra tasks from the
case studies that worked for similar hires. Every task carries the ids of the
documents it came from. No model is involved, so the skeleton is ready in
milliseconds and stands when the model is weak or down.

:func:`compose` is a sequence of named steps:

1. choose the documents (:func:`_choose_grounds`): the role profile (:func:`pick_role_profile`),
   the case study stating the level's policy and the hire's situational case
   (:func:`pick_policy_cases`); the situational case's policy wins;
2. collect the tasks (:func:`tailor.pipeline.compose_tasks.collect_tasks`): policy milestones,
   the case studies' tasks, on-call and leadership duties, responsibilities, relationships,
   artifacts, then on-call and leadership moved to the weeks the policy allows;
3. lay the tasks out in phases, with the role's 30/60/90-day expectations as goals;
4. the relationships, capabilities, check-ins, risks, sources, summary, rationale, support and
   targets, each from one function below.

The prompts sent to models quote task titles, and the recorded eval answers are keyed by
those prompts: a change to a title or to the task order invalidates ``evals/recorded``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from tailor.corpus.documents import (
    CaseStudyMeta,
    Corpus,
    Expectations,
    Policy,
    Proficiency,
    RoleProfileMeta,
    Seniority,
)
from tailor.corpus.teams import TeamProfileMeta
from tailor.pipeline.compose_tasks import LAST_WEEK, collect_tasks
from tailor.pipeline.compose_team import TeamPlan, choose_support, team_policy
from tailor.pipeline.fit import analyse
from tailor.pipeline.levels import LEVEL_FALLBACK, nearest
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
_LEVEL_WORDS: dict[Seniority, str] = {
    "intern": "an intern",
    "junior": "a junior engineer",
    "mid": "a mid-level engineer",
    "senior": "a senior engineer",
    "staff": "a staff engineer",
    "principal": "a principal engineer",
    "manager": "an engineering manager",
    "director": "an engineering director",
}
# Check-in focus after the settling-in weeks: the first row whose last week is not before the
# check-in names the review and the role profile's expectations it checks.
_SETTLING_IN_WEEKS = 2
_REVIEWS: tuple[tuple[int, str, Callable[[Expectations], list[str]]], ...] = (
    (5, "30-day review", lambda e: e.day_30),
    (9, "60-day review", lambda e: e.day_60),
    (LAST_WEEK, "90-day review", lambda e: e.day_90),
)


class CompositionError(Exception):
    """The corpus lacks what a plan needs (no role profiles or no policy): a corpus bug, not user input."""


# =========================================================================== choosing the documents
def pick_role_profile(corpus: Corpus, family: str, ranked_ids: Sequence[str] = ()) -> RoleProfileMeta:
    """The role profile for the hire's role family; retrieval's ranking breaks ties and fills gaps.

    The family the intake read is the stronger signal, so a matching profile always wins; only
    when no profile covers the family does the best-ranked retrieved profile stand in.
    """
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
    """The canonical case for the hire's level, and a situational one if the hire's situation has a story.

    The seniority policy is stated once per level by a ``standard`` case study, so the base case is
    picked by level alone (nearest level when none states it). A situational case (a rehire, a
    career break) is picked by retrieval's ranking, since several stories may share a situation.
    """
    cases = corpus.case_studies()
    canonical = [c for c in cases if c.situation == "standard"]
    if not canonical:
        raise CompositionError("the corpus states no standard seniority policy (no case study with situation standard)")
    base = None
    for level in LEVEL_FALLBACK[hire.seniority]:
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


@dataclass(frozen=True)
class _Grounds:
    """The documents a plan is built from, and the policy in force."""

    role: RoleProfileMeta
    base_case: CaseStudyMeta
    situational: CaseStudyMeta | None
    level: Seniority

    @property
    def cases(self) -> list[CaseStudyMeta]:
        return [c for c in (self.base_case, self.situational) if c is not None]

    @property
    def policy_case(self) -> CaseStudyMeta:
        """A situational case adapts the base policy, so its numbers win (a rehire ramps up faster)."""
        return self.situational or self.base_case

    @property
    def policy(self) -> Policy:
        return self.policy_case.policy

    @property
    def expectations(self) -> Expectations | None:
        """The role profile's 30/60/90-day expectations for the nearest level it states."""
        band = nearest(list(self.role.expectations), self.level)
        return self.role.expectations.get(band) if band else None


def _choose_grounds(
    corpus: Corpus, hire: HireProfile, ranked: Sequence[str], team: TeamProfileMeta | None = None
) -> _Grounds:
    """Choose the role profile, the policy's case study and the situational case for this hire.

    The team's on-call rules adjust the policy in force (see :func:`team_policy`).
    """
    role = pick_role_profile(corpus, hire.role_family, ranked)
    base_case, situational = pick_policy_cases(corpus, hire, ranked)
    g = _Grounds(role, base_case, situational, hire.seniority)
    policy = team_policy(g.policy, team, g.level)
    if policy == g.policy:
        return g
    case = g.policy_case.model_copy(update={"policy": policy})
    return replace(g, situational=case) if g.situational else replace(g, base_case=case)


# =========================================================================== the rest of the plan
def _phase_index(week: int) -> int:
    """The phase a week belongs to; a week past the last phase counts as the last."""
    for i, (_, start, end) in enumerate(PHASES):
        if start <= week <= end:
            return i
    return len(PHASES) - 1


def _build_phases(tasks: Sequence[Task], exp: Expectations | None) -> list[Phase]:
    """The four phases, each with its tasks by due week and the role's expectations for it as goals.

    The phase before day 1 has no expectations in a role profile; it gets the one goal every
    hire shares. ``sorted`` is stable, so tasks due the same week keep the order they were added in.
    """
    goals: list[list[str]] = [[], exp.day_30, exp.day_60, exp.day_90] if exp else [[], [], [], []]
    goals[0] = goals[0] or ["Access, equipment and reading ready before day 1"]
    phases = []
    for i, (name, start, end) in enumerate(PHASES):
        in_phase = sorted((t for t in tasks if _phase_index(t.due_week) == i), key=lambda t: t.due_week)
        phases.append(Phase(name=name, start_week=start, end_week=end, goals=list(goals[i]), tasks=in_phase))
    return phases


def _plan_relationships(g: _Grounds) -> list[PlanRelationship]:
    """The role profile's relationships, as the plan lists them (the meeting tasks are separate)."""
    return [
        PlanRelationship(
            role=r.role, purpose=r.purpose, meet_by_week=r.meet_by_week, cadence=r.cadence, source=g.role.id
        )
        for r in g.role.relationships
    ]


def _plan_capabilities(g: _Grounds) -> list[PlanCapability]:
    """Each capability at the target level the role states for the nearest level ("working" if none)."""
    reviewer = "mentor" if g.policy.support_model == "mentor" else "manager"
    capabilities = []
    for cap in g.role.capabilities:
        key = nearest(list(cap.targets), g.level)
        target: Proficiency = cap.targets[key] if key else "working"
        capabilities.append(
            PlanCapability(
                name=cap.name,
                target_level=target,
                source=g.role.id,
                plan=f"Reach {target} in {cap.name} by day 90 through the tasks that use it and review with "
                f"the {reviewer}.",
            )
        )
    return capabilities


def _check_in_focus(week: int, exp: Expectations | None) -> str:
    """What a check-in in ``week`` is about: settling in, then the 30/60/90-day review it falls in.

    A review quotes the role's expectations for that milestone, so the manager checks the same
    goals the phases list; without expectations it is a plain progress review.
    """
    if week <= _SETTLING_IN_WEEKS:
        return "Settling in, access and first tasks"
    if exp is None:
        return "Progress review"
    # Check-in weeks are 1-13 (the schema says so); a later one would still count as the 90-day review.
    _, label, goals = next((row for row in _REVIEWS if week <= row[0]), _REVIEWS[-1])
    return f"{label}: " + "; ".join(goals(exp))


def _check_ins(g: _Grounds) -> list[CheckIn]:
    """One manager check-in per week the policy names (week 0 has none: the hire has not started)."""
    exp = g.expectations
    return [
        CheckIn(week=week, with_="manager", focus=_check_in_focus(week, exp)[:4000])
        for week in sorted(set(g.policy.check_in_weeks))
        if week >= 1
    ]


def _risks(g: _Grounds, check_ins: Sequence[CheckIn]) -> list[Risk]:
    """What the stories say to avoid (three each), checked at the first check-in."""
    week = check_ins[0].week if check_ins else 4
    return [
        Risk(risk=a, mitigation=f"Check at the week-{week} check-in that this is being avoided.")
        for c in g.cases
        for a in c.avoid[:3]
    ]


def _cited_sources(corpus: Corpus, retrieved: Sequence[SourceRef], tasks: Sequence[Task]) -> list[SourceRef]:
    """What retrieval found, plus every document a task cites that retrieval did not rank.

    A policy case is chosen by level, not by similarity, so it may be cited without having been
    retrieved; the plan must still list it, or validation reports an unknown source.
    """
    used_ids = {s for t in tasks for s in t.sources}
    sources = list(retrieved)
    known = {s.id for s in sources}
    docs = corpus.by_id()
    for doc_id in sorted(used_ids - known):
        doc = docs[doc_id]
        sources.append(
            SourceRef(id=doc_id, title=doc.meta.title, kind=doc.meta.kind, score=0.0, sections=["(selected by policy)"])
        )
    return sources


def _summary(hire: HireProfile, g: _Grounds, team: TeamProfileMeta | None) -> str:
    """The grounded summary: who the plan is for and which documents it follows (the model may rewrite it)."""
    situational_note = (
        f' It adapts that policy with "{g.situational.title}" because the background reads as '
        f"{hire.situation.replace('_', ' ')}."
        if g.situational
        else ""
    )
    joining = f" on the {team.team}" if team else ""
    return (
        f"A 90-day plan for {_LEVEL_WORDS[g.level]} joining as {hire.role}{joining}, "
        f"built from the {g.role.title} profile "
        f'and the seniority policy of the case study "{g.base_case.title}".{situational_note}'
    )


def _rationale(g: _Grounds) -> str:
    """The policy's numbers in one sentence: the rationale stays grounded, no model writes it."""
    policy = g.policy
    on_call = (
        f", on-call from week {policy.on_call_week}" if policy.on_call_week else ", no on-call in the first 90 days"
    )
    leadership = (
        f", leadership work from week {policy.first_leadership_week}"
        if policy.first_leadership_week
        else ", no leadership work expected in the first 90 days"
    )
    return (
        f"{policy.support_model.replace('_', ' ').capitalize()} support, first pull request by day "
        f"{policy.first_pr_day}, full productivity expected by week {policy.full_productivity_week}"
        f"{on_call}{leadership}, as the corpus policy for {g.level} hires states."
    )


def _targets(policy: Policy) -> Targets:
    return Targets(
        first_commit_day=policy.first_commit_day,
        first_pr_day=policy.first_pr_day,
        full_productivity_week=policy.full_productivity_week,
        on_call_week=policy.on_call_week,
        first_leadership_week=policy.first_leadership_week,
    )


# =========================================================================== compose
def compose(
    corpus: Corpus,
    hire: HireProfile,
    *,
    team: TeamProfileMeta | None = None,
    retrieved: Sequence[SourceRef] = (),
    flags: Sequence[ReviewFlag] = (),
    model: str = "none",
    prompt_version: str = "none",
    engine_version: str = "0",
) -> Plan:
    """The grounded plan for ``hire``: every task, target and check-in from the corpus, none from a model.

    ``team`` is the team the hire joins: its people, starter tasks, rituals and rotation go into the
    plan, and the skill-gap analysis compares the hire with its stack (with none, with the role alone).
    ``retrieved`` ranks the documents retrieval found (it breaks ties between role profiles and
    situational cases, and heads the plan's sources); ``flags`` are carried into the plan for review.
    """
    g = _choose_grounds(corpus, hire, [s.id for s in retrieved], team)
    analysis = analyse(hire, g.role, team, g.level, corpus.skills)
    support = choose_support(team, g.policy, hire, analysis.gaps)
    tp = TeamPlan(team, g.role, hire, g.level, g.policy, analysis, corpus.skills, support=support)
    tasks = tp.finish(collect_tasks(g.role, g.cases, g.policy_case, tp.add_tasks))
    check_ins = _check_ins(g)
    who = tp.support_who()
    return Plan(
        hire=hire,
        summary=_summary(hire, g, team),
        rationale=_rationale(g),
        focus_areas=[],
        support=Support(
            model=g.policy.support_model,
            who=(who or g.policy.support_note)[:300],
            note=g.policy.support_note if who else None,
        ),
        targets=_targets(g.policy),
        phases=_build_phases(tasks, g.expectations),
        relationships=[*tp.relationships(), *_plan_relationships(g)],
        capabilities=_plan_capabilities(g),
        check_ins=check_ins,
        risks=_risks(g, check_ins),
        sources=_cited_sources(corpus, retrieved, tasks),
        fit=tp.fit(),
        review_flags=list(flags),
        provenance=Provenance(
            model=model, prompt_version=prompt_version, corpus_hash=corpus.content_hash, engine_version=engine_version
        ),
    )
