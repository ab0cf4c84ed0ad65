"""The skill-gap analysis: this hire's skills against what the role and the team need. No model.

Skills are compared through the corpus vocabulary and its aliases (``Corpus.skills``), so
"Postgres" on a résumé is the team's PostgreSQL. The analysis sorts what it finds into:

- **strengths to use**: skills the hire has that the team's stack, services, projects and pain
  points, or the role's capabilities at the hire's level, need;
- **gaps to close**: skills that work needs and the hire lacks, ranked by how much of it needs
  them, each with the resource to learn from and the team member who knows the area;
- **basics to skip** (chosen in :mod:`tailor.pipeline.compose_team`): onboarding steps for skills
  the hire already has at the level the role expects.

The composer turns strengths into the starter task, gaps into learning and stretch tasks, and
lists the skipped basics in the plan, so a reviewer sees why a step is missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from tailor.corpus.documents import SENIORITY_ORDER, Proficiency, RoleProfileMeta, Seniority
from tailor.corpus.skills import SkillVocabulary
from tailor.corpus.teams import Member, TeamProfileMeta
from tailor.pipeline.levels import nearest
from tailor.schema import FitGap, FitStrength, HireProfile, TeamRef

MAX_GAPS = 4  # more than this is a second job, not a 90-day plan; the rest stay with the role's capabilities
PROFICIENCY_ORDER: tuple[Proficiency, ...] = (
    "awareness",
    "foundational",
    "working",
    "proficient",
    "advanced",
    "expert",
)
# What a skill on a résumé is worth at each level, to compare with the role's target for that level.
_LEVEL_PROFICIENCY: dict[Seniority, Proficiency] = {
    "intern": "foundational",
    "junior": "working",
    "mid": "proficient",
    "senior": "advanced",
    "staff": "expert",
    "principal": "expert",
    "manager": "advanced",
    "director": "advanced",
}
# A role capability is a need only when the level's target is at least this; "awareness" is not a gap.
_NEEDED_FROM: Proficiency = "working"


@dataclass
class Need:
    """One skill the work needs, with what needs it and how much."""

    skill: str
    needed_for: list[str] = field(default_factory=list)
    weight: int = 0
    target: Proficiency | None = None


@dataclass
class FitAnalysis:
    """The analysis before it becomes plan tasks: needs by skill, the hire's skills, strengths and gaps."""

    hire_skills: list[str]
    needs: dict[str, Need]
    strengths: list[FitStrength]
    gaps: list[FitGap]
    team: TeamProfileMeta | None

    def has(self, skill: str) -> bool:
        return skill.lower() in {s.lower() for s in self.hire_skills}


def team_ref(team: TeamProfileMeta) -> TeamRef:
    return TeamRef(id=team.id, name=team.team, manager=team.manager.name, timezone=team.timezone)


def hire_proficiency(level: Seniority) -> Proficiency:
    return _LEVEL_PROFICIENCY[level]


def at_least(have: Proficiency, target: Proficiency) -> bool:
    return PROFICIENCY_ORDER.index(have) >= PROFICIENCY_ORDER.index(target)


def _nearest_target(targets: dict[Seniority, Proficiency], level: Seniority) -> Proficiency | None:
    """The role's target for ``level``, by the same nearest-level rule as the plan's capability list."""
    key = nearest(list(targets), level)
    return targets[key] if key else None


def _needs(
    role: RoleProfileMeta, team: TeamProfileMeta | None, level: Seniority, words: SkillVocabulary, have: set[str]
) -> dict[str, Need]:
    """Every skill the work needs, weighted: a pain point or a tier-1 service counts most, the role's
    capability at the hire's level counts, the team's general stack counts least.

    A capability naming several skills ("Python and Go service development") is met by any one of
    them: a Python engineer does not also need Go for it."""
    needs: dict[str, Need] = {}

    def add(skill: str, what: str | None, weight: int, target: Proficiency | None = None) -> None:
        canonical = words.canonical(skill) or skill
        need = needs.setdefault(canonical.lower(), Need(canonical))
        if what and what not in need.needed_for:
            need.needed_for.append(what)
        need.weight += weight
        if target is not None:
            need.target = target

    for cap in role.capabilities:
        target = _nearest_target(dict(cap.targets), level)
        if target is None or not at_least(target, _NEEDED_FROM):
            continue
        named = words.find(cap.name)
        held = [s for s in named if s.lower() in have]
        for skill in held if held and len(named) > 1 else named:
            add(skill, f"the role: {cap.name}", 2, target)
    if team is None:
        return needs
    for skill in team.stack:
        add(skill, None, 1)
    for svc in team.services:
        for skill in svc.skills:
            add(skill, svc.name, 3 if svc.tier == 1 else 2)
    for proj in team.current_projects:
        for skill in proj.skills:
            add(skill, proj.name, 2)
    for pain in team.pain_points:
        for skill in pain.skills:
            add(skill, pain.title, 3)
    # Only skills the team actually uses are needs on a team; the role's other capabilities stay in
    # the plan's capability list rather than becoming learning tasks for tools the team does not run.
    for need in needs.values():  # the team's own services and problems name the need best
        need.needed_for.sort(key=lambda what: what.startswith("the role: "))
    team_skills = {s.lower() for s in team.stack}
    team_skills |= {s.lower() for svc in team.services for s in svc.skills}
    team_skills |= {s.lower() for proj in team.current_projects for s in proj.skills}
    team_skills |= {s.lower() for pain in team.pain_points for s in pain.skills}
    return {k: v for k, v in needs.items() if k in team_skills}


def who_knows(team: TeamProfileMeta | None, skill: str, level: Seniority) -> Member | None:
    """The team member to learn ``skill`` from: one who knows it, preferring mentors, then seniority."""
    if team is None:
        return None
    knowers = [m for m in team.members if skill.lower() in {k.lower() for k in m.knows}]
    if not knowers:
        return None
    return sorted(knowers, key=lambda m: (not m.mentor, -SENIORITY_ORDER.index(m.seniority)))[0]


def _flat(text: str) -> str:
    return " ".join(text.lower().replace("-", " ").replace("_", " ").split())


def _resource_for(
    need: Need, role: RoleProfileMeta, team: TeamProfileMeta | None, words: SkillVocabulary
) -> tuple[str, str | None, str] | None:
    """``(title, url, source doc id)`` to learn a skill from: a team resource on it, then the role's,
    then the runbook or repo of the service that needs it, so every gap has somewhere to start."""
    if team is not None:
        for res in team.resources:
            if need.skill in words.find(f"{res.title} {res.note or ''}"):
                return res.title, res.url, team.id
    for rres in role.resources:
        if need.skill in words.find(f"{rres.name} {rres.note or ''}"):
            return rres.name, rres.url, role.id
    if team is not None:
        for what in need.needed_for:
            for res in team.resources:
                if res.kind in ("runbook", "repo", "doc") and _flat(what) in _flat(res.title):
                    return res.title, res.url, team.id
        repo = next((r for r in team.resources if r.kind == "repo"), None)
        if repo is not None:
            return repo.title, repo.url, team.id
    return None


def analyse(
    hire: HireProfile, role: RoleProfileMeta, team: TeamProfileMeta | None, level: Seniority, words: SkillVocabulary
) -> FitAnalysis:
    """Strengths and gaps for ``hire`` joining ``team`` (or the role alone when no team is chosen)."""
    hire_skills = words.normalise(hire.skills)
    have = {s.lower() for s in hire_skills}
    needs = _needs(role, team, level, words, have)
    strengths = [
        FitStrength(skill=n.skill, needed_for=n.needed_for[:3] or ["the team's stack"])
        for n in sorted(needs.values(), key=lambda n: -n.weight)
        if n.skill.lower() in have
    ]
    missing = [n for n in sorted(needs.values(), key=lambda n: (-n.weight, n.skill)) if n.skill.lower() not in have]
    gaps: list[FitGap] = []
    for need in missing:
        if len(gaps) >= MAX_GAPS:
            break
        resource = _resource_for(need, role, team, words)
        contact = who_knows(team, need.skill, level)
        if resource is None:
            continue  # nothing in the corpus to learn it from; the role's capability list still names it
        gaps.append(
            FitGap(
                skill=need.skill,
                needed_for=need.needed_for[:3] or ["the team's stack"],
                resource=resource[0] if resource else None,
                resource_url=resource[1] if resource else None,
                contact=contact.name if contact else None,
                contact_role=contact.role if contact else None,
                builds_on=[s for s in words.related(need.skill) if s.lower() in have][:2],
                source=resource[2] if resource else (team.id if team else role.id),
            )
        )
    return FitAnalysis(hire_skills=hire_skills, needs=needs, strengths=strengths, gaps=gaps, team=team)


def covered(skills: Sequence[str], analysis: FitAnalysis, target: Proficiency | None, level: Seniority) -> bool:
    """True when the hire has every one of ``skills`` at or above ``target`` (a basic they can skip)."""
    if not skills:
        return False
    if target is not None and not at_least(hire_proficiency(level), target):
        return False
    return all(analysis.has(s) for s in skills)
