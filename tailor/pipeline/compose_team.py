"""The team's part of the grounded plan: named people, the starter and stretch tasks, learning tasks
for the gaps, rituals and the on-call rotation, and the basics the hire can skip. No model.

:func:`compose` calls :func:`team_plan` once it has chosen the role profile and the policy:

- **people**: the manager, and the support the policy in force calls for, chosen from the team's
  members (a buddy for interns and juniors, a mentor for mid-level hires, a peer network of the
  team's senior engineers for seniors and above), each with the reason to meet them;
- **starter task**: the team's non-stretch starter task that uses most of the hire's strengths,
  due with the first pull request; **stretch task**: a stretch task on a gap, in weeks 3-6;
- **learning tasks**: one per gap, with its resource and the person who knows the area, due the
  week before the first milestone that needs the skill;
- **rituals and on-call**: the team's rituals in week 1; the rotation's facts on the on-call
  tasks, at the later of the policy's and the team's first on-call week;
- **skipped basics**: onboarding steps for skills the hire already has at the level the role
  expects (a mid-level or more senior hire only), listed in the plan with the reason.

Every task added here cites the team profile and the role profile.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from tailor.corpus.documents import SENIORITY_ORDER, Policy, RoleProfileMeta, Seniority
from tailor.corpus.skills import SkillVocabulary
from tailor.corpus.teams import Member, StarterTask, TeamProfileMeta
from tailor.pipeline.compose_tasks import LAST_WEEK, TaskBook, week_of_day
from tailor.pipeline.fit import PROFICIENCY_ORDER, FitAnalysis, covered, team_ref
from tailor.schema import Fit, FitGap, HireProfile, PlanRelationship, SkippedBasic, Task
from tailor.text import join_and

MAX_PEERS = 3
_PEER_LEVELS: tuple[Seniority, ...] = ("senior", "staff", "principal")
_STRETCH_WEEKS = (3, 6)
# Steps a hire who already has the skill can skip: shadowing a responsibility's owner, and the
# exercises and walkthroughs the stories give newcomers. Meetings and deliverables are never basics.
_BASIC_STEP = re.compile(
    r"(?i)^(?:shadow the owner of|work through|complete the|learn|pair with [\w ]+ on|build one)\b"
)
_ON_CALL_TITLE = re.compile(r"(?i)\b(?:join|take|start)\b[^.\n]{0,40}?\bon[- ]?call\b|release (?:duty|captain)")
_DESIGN_DOC = re.compile(r"(?i)design doc|observations note|top problem|technical strategy memo")
_LEADS_REVIEW = re.compile(r"(?i)^lead (?:a|the) design review")
_FIRST_LOOK = re.compile(
    r"(?i)observations note|small production change|listening tour|first pr from|module graph|good-first-issue|"
    r"small feature|first change"
)
_THIRTY_DAY_REVIEW = 5  # the week of the 30-day check-in: a gap nothing else dates is closed before it
_SKIP_FROM_LEVEL: Seniority = "mid"  # interns and juniors get every basic: the junior policies say so


@dataclass
class TeamPlan:
    """What the team adds to a plan: its tasks go in through :meth:`add_tasks`, the rest after."""

    team: TeamProfileMeta | None
    role: RoleProfileMeta
    hire: HireProfile
    level: Seniority
    policy: Policy
    analysis: FitAnalysis
    words: SkillVocabulary
    support: list[Member] = field(default_factory=list)
    skipped: list[SkippedBasic] = field(default_factory=list)
    gap_tasks: dict[str, str] = field(default_factory=dict)  # skill (lowercase) -> task id
    chosen: list[str] = field(default_factory=list)  # ids of the starter and stretch tasks
    created: set[str] = field(default_factory=set)  # ids of every task added here

    @property
    def _stretch_week(self) -> int:
        """Two weeks after the first pull request, within weeks 3-6."""
        return min(_STRETCH_WEEKS[1], max(_STRETCH_WEEKS[0], week_of_day(self.policy.first_pr_day) + 2))

    @property
    def sources(self) -> list[str]:
        return [self.team.id, self.role.id] if self.team else [self.role.id]

    # ------------------------------------------------------------------ tasks
    def add_tasks(self, book: TaskBook) -> None:
        """Step 2b of :func:`compose`: the people, rituals, starter, stretch, learning and on-call tasks."""
        before = {t.id for t in book.tasks}
        self._add_team_parts(book)
        self.created = {t.id for t in book.tasks} - before

    def _add_team_parts(self, book: TaskBook) -> None:
        if self.team is not None:
            self._add_people_tasks(book, self.team)
            self._add_ritual_task(book, self.team)
        starter = self._add_starter_task(book)
        stretch = self._add_stretch_task(book, exclude=starter)
        self._add_learning_tasks(book, stretch)
        if self.team is not None:
            self._add_on_call_prep(book, self.team)

    def _add_people_tasks(self, book: TaskBook, team: TeamProfileMeta) -> None:
        mgr = team.manager
        book.add(
            title=f"Meet your manager, {mgr.name}",
            description=f"{mgr.why_meet} Agree how you will work together and what the first 30 days should show.",
            owner="manager",
            owner_name=mgr.name,
            due_week=1,
            success="First 1:1 held in week 1; check-in rhythm agreed",
            sources=self.sources,
        )
        label = _support_label(self.policy)
        for member in self.support:
            book.add(
                title=f"Meet {member.name}, your {label}",
                description=f"{member.name} ({member.role}) is your {label} on the {team.team}. {member.why_meet}",
                owner=_support_owner(self.policy),
                owner_name=member.name,
                due_week=1,
                success=f"First session with {member.name} held in week 1; next sessions booked",
                sources=self.sources,
            )

    def _add_ritual_task(self, book: TaskBook, team: TeamProfileMeta) -> None:
        rituals = "; ".join(
            f"{r.name} ({_when(r.day, r.cadence, r.time)}, {team.timezone}): {r.purpose}" for r in team.rituals
        )
        book.add(
            title=f"Join the {team.team}'s rituals",
            description=f"Add the team's rituals to your calendar and attend each once in your first two weeks: "
            f"{rituals}",
            owner="hire",
            due_week=1,
            success="Every ritual attended once; calendar invites accepted",
            sources=self.sources,
        )

    def _fits(self, task: StarterTask) -> bool:
        return (not task.roles or self.hire.role_family in task.roles) and (
            not task.seniority or self.level in task.seniority
        )

    def _add_starter_task(self, book: TaskBook) -> StarterTask | None:
        """The non-stretch starter task that uses most of the hire's skills; smaller first on a tie."""
        if self.team is None:
            return None
        options = [t for t in self.team.starter_tasks if not t.stretch and self._fits(t)]
        if not options:
            return None
        sizes = "SML"
        best = max(options, key=lambda t: (len(self._strengths_in(t.skills)), -sizes.index(t.size)))
        used = self._strengths_in(best.skills)
        why = f" It puts your {join_and(used)} to work from the start." if used else ""
        week = max(1, week_of_day(self.policy.first_pr_day))
        self._add_team_task(book, best, week, f"{best.description}{why}", used)
        return best

    def _add_stretch_task(self, book: TaskBook, exclude: StarterTask | None) -> StarterTask | None:
        """A stretch task on a gap (the one covering most gaps), in weeks 3-6, after the starter task."""
        if self.team is None:
            return None
        gaps = {g.skill.lower() for g in self.analysis.gaps}
        options = [t for t in self.team.starter_tasks if t.stretch and self._fits(t) and t is not exclude]
        options = [t for t in options if gaps & {s.lower() for s in t.skills}] or options
        if not options:
            return None
        best = max(options, key=lambda t: len(gaps & {s.lower() for s in t.skills}))
        on_gaps = [s for s in best.skills if s.lower() in gaps]
        used = self._strengths_in(best.skills)
        week = self._stretch_week
        why = f" A stretch on {join_and(on_gaps)}, which you are learning here" if on_gaps else " A stretch task"
        why += f", backed by your {join_and(used)}." if used else "."
        self._add_team_task(book, best, week, f"{best.description}{why}", used)
        return best

    def _add_team_task(self, book: TaskBook, t: StarterTask, week: int, description: str, used: list[str]) -> None:
        task = book.add(
            title=t.title,
            description=description,
            owner="hire",
            owner_name=t.contact,
            due_week=week,
            success=f"Done as scoped ({t.size}-sized): {t.description}"[:4000],
            sources=self.sources,
            skills=used,
        )
        if task is not None:
            self.chosen.append(task.id)

    def _add_learning_tasks(self, book: TaskBook, stretch: StarterTask | None) -> None:
        """One task per gap, due the week before the first milestone that needs the skill: the stretch
        task that uses it, the on-call week for a tier-1 service's skill, else the 30-day review."""
        on_call = _on_call_week(self.policy)
        for gap in self.analysis.gaps:
            milestones = [_THIRTY_DAY_REVIEW]
            if stretch is not None and gap.skill.lower() in {s.lower() for s in stretch.skills}:
                milestones.append(self._stretch_week)
            if on_call is not None and self._tier_one_needs(gap):
                milestones.append(on_call)
            due = max(2, min(LAST_WEEK, min(milestones) - 1))
            task = book.add(
                title=_learning_title(gap),
                description=_learning_description(gap),
                owner="hire",
                owner_name=gap.contact,
                due_week=due,
                success=f"Can use {gap.skill} on {gap.needed_for[0].removeprefix('the role: ')} without help; "
                f"one change using it reviewed by {gap.contact or 'the manager'}",
                sources=list(dict.fromkeys([*self.sources, gap.source])),
            )
            if task is not None:
                self.gap_tasks[gap.skill.lower()] = task.id

    def _tier_one_needs(self, gap: FitGap) -> bool:
        if self.team is None:
            return False
        tier_one = {s.name for s in self.team.services if s.tier == 1}
        return bool(tier_one & set(gap.needed_for))

    def _add_on_call_prep(self, book: TaskBook, team: TeamProfileMeta) -> None:
        oc, week = team.on_call, _on_call_week(self.policy)
        if oc is None or week is None or week > LAST_WEEK:
            return
        runbooks = [r.title for r in team.resources if r.kind == "runbook"]
        shifts = oc.shadow_shifts  # the team's rule; a policy that wants more says so in its own tasks
        if shifts:
            book.add(
                title=f"Shadow {shifts} shift{'s' if shifts > 1 else ''} on the {oc.name}",
                description=f"Shadow the {oc.name} before your first primary week, with the "
                f"{join_and(runbooks) or 'team runbooks'} open. Pages come through {oc.paging_tool}; the target is "
                f"to acknowledge within {oc.ack_minutes} minutes.",
                owner="hire",
                due_week=max(1, week - 1),
                success=f"{shifts} shadow shift{'s' if shifts > 1 else ''} done; questions taken to the handover",
                sources=self.sources,
            )

    def _strengths_in(self, skills: Sequence[str]) -> list[str]:
        return [s for s in skills if self.analysis.has(s)]

    # ------------------------------------------------------------------ after collection
    def finish(self, tasks: list[Task]) -> list[Task]:
        """Name the owners, add the team's facts to the corpus tasks, and drop the basics the hire can skip."""
        if self.team is not None:
            self._name_owners(tasks, self.team)
            self._add_team_facts(tasks, self.team)
        kept = self._skip_basics(tasks)
        self._link_to_fit(kept)
        return kept

    def _link_to_fit(self, tasks: list[Task]) -> None:
        """Tie the corpus's own tasks to this hire: the strengths a task uses, and the learning task
        that comes before one needing a gap. Two hires for one role then read different plans
        before any model writes a word."""
        gaps = {g.skill.lower(): g for g in self.analysis.gaps if self.gap_tasks.get(g.skill.lower())}
        titles = {t.id: t.title for t in tasks}
        for task in tasks:
            if task.id in self.created or task.owner != "hire" or task.due_week < 1:
                continue
            named = self.words.find(f"{task.title}. {task.description}")
            strengths = [s for s in named if self.analysis.has(s)]
            notes = []
            if strengths:
                notes.append(f"You bring {join_and(strengths[:3])} to this.")
                task.skills = list(dict.fromkeys([*task.skills, *strengths[:3]]))
            for skill in named:
                gap = gaps.get(skill.lower())
                learn = titles.get(self.gap_tasks.get(skill.lower(), ""))
                if gap is not None and learn is not None and learn != task.title:
                    carries = f" (your {join_and(gap.builds_on)} helps)" if gap.builds_on else ""
                    notes.append(f'{gap.skill} is new to you{carries}: "{learn}" comes first.')
                    break
            if notes:
                task.description = f"{task.description} {' '.join(notes)}"[:4000]

    def _name_owners(self, tasks: list[Task], team: TeamProfileMeta) -> None:
        support = self.support[0] if self.support else None
        for task in tasks:
            if task.owner_name:
                continue
            if task.owner == "manager":
                task.owner_name = team.manager.name
            elif task.owner in ("buddy", "mentor") and support is not None:
                task.owner_name = support.name
            elif support is not None and re.search(r"(?i)\byour (?:buddy|mentor)\b", task.title):
                task.owner_name = support.name
                task.description = f"{task.description} Your {_support_label(self.policy)}: {support.name}."
            else:
                continue
            task.sources = list(dict.fromkeys([*task.sources, team.id]))

    def _add_team_facts(self, tasks: list[Task], team: TeamProfileMeta) -> None:
        """The team's facts on the corpus's own tasks, chosen for this hire where a choice exists:
        the rotation on the on-call task, the pain point that fits the hire's strengths on the first
        design doc, the service that runs on them for the first change and the observations note,
        the stretch task and the team's design review on the leadership task."""
        design_review = next((r for r in team.rituals if "design review" in r.name.lower()), None)
        home, home_skills = self._home_service(team)
        stretch = next((t for t in tasks if t.id in self.chosen[1:]), None)
        doc_done = False
        for task in tasks:
            note = ""
            if team.on_call is not None and _ON_CALL_TITLE.search(task.title):
                oc = team.on_call
                note = (
                    f" On the {team.team} this is the {oc.name} ({oc.hours}, {oc.rotation_length_days}-day rotation "
                    f"through {oc.paging_tool}): acknowledge a page within {oc.ack_minutes} minutes, hand over on "
                    f"{oc.handover.day} at {oc.handover.time}, escalate to {', then '.join(oc.escalation)}."
                )
            elif _DESIGN_DOC.search(task.title) and not doc_done and team.pain_points:
                doc_done = True
                pains = sorted(team.pain_points, key=lambda p: -len(self._strengths_in(p.skills)))
                first, used = pains[0], self._strengths_in(pains[0].skills)
                why = f", where your {join_and(used)} count" if used else ""
                note = f" On the {team.team}, start from {first.title}{why}: {first.description}"
            elif home is not None and _FIRST_LOOK.search(task.title):
                note = f" Look at {home} first: it runs on your {join_and(home_skills)}."
            elif _LEADS_REVIEW.search(task.title) and (design_review is not None or stretch is not None):
                parts = []
                if stretch is not None:
                    parts.append(f'the design for "{stretch.title}" is a good first subject')
                if design_review is not None:
                    when = _when(design_review.day, design_review.cadence, design_review.time)
                    parts.append(f"bring it to the {team.team}'s {design_review.name} ({when})")
                note = " " + "; ".join(parts).capitalize() + "."
            if note:
                task.description = f"{task.description}{note}"[:4000]
                task.sources = list(dict.fromkeys([*task.sources, team.id]))

    def _home_service(self, team: TeamProfileMeta) -> tuple[str | None, list[str]]:
        """The team's service that uses most of the hire's strengths (tier 1 first on a tie)."""
        best = max(
            team.services,
            key=lambda s: (len(self._strengths_in(s.skills)), -(s.tier or 4)),
            default=None,
        )
        if best is None or not self._strengths_in(best.skills):
            return None, []
        return best.name, self._strengths_in(best.skills)[:3]

    def _skip_basics(self, tasks: list[Task]) -> list[Task]:
        if SENIORITY_ORDER.index(self.level) < SENIORITY_ORDER.index(_SKIP_FROM_LEVEL):
            return tasks
        kept: list[Task] = []
        for task in tasks:
            skills = self.words.find(f"{task.title}. {task.description}")
            basic = task.id not in self.created and _BASIC_STEP.search(task.title)
            if basic and self._has_basics(skills):
                have = [s for s in skills if self.analysis.has(s)]
                self.skipped.append(
                    SkippedBasic(
                        title=task.title,
                        reason=f"The hire already brings {join_and(have)} at the level the role expects of a "
                        f"{self.level} hire; the step is for newcomers to it.",
                        source=task.sources[0],
                    )
                )
                continue
            kept.append(task)
        return kept

    def _has_basics(self, skills: Sequence[str]) -> bool:
        """The hire has at least half the skills a step names (and one), at the role's target for them."""
        if not skills:
            return False
        have = [s for s in skills if self.analysis.has(s)]
        if 2 * len(have) < len(skills):
            return False
        targets = [self.analysis.needs[s.lower()].target for s in have if s.lower() in self.analysis.needs]
        target = max((t for t in targets if t), key=PROFICIENCY_ORDER.index, default=None)
        return covered(have, self.analysis, target, self.level)

    # ------------------------------------------------------------------ the rest of the plan
    def relationships(self) -> list[PlanRelationship]:
        """The manager and the support people by name, before the role profile's relationships."""
        if self.team is None:
            return []
        src = self.team.id
        out = [
            PlanRelationship(
                role=self.team.manager.role,
                name=self.team.manager.name,
                purpose=self.team.manager.why_meet,
                meet_by_week=1,
                cadence="weekly",
                source=src,
            )
        ]
        label = _support_label(self.policy)
        cadence = "daily" if label == "buddy" else "weekly"
        out += [
            PlanRelationship(
                role=f"{m.role} ({label})", name=m.name, purpose=m.why_meet, meet_by_week=1, cadence=cadence, source=src
            )
            for m in self.support
        ]
        return out

    def support_who(self) -> str | None:
        if not self.support:
            return None
        return f"{_support_label(self.policy).capitalize()}: " + ", ".join(f"{m.name} ({m.role})" for m in self.support)

    def fit(self) -> Fit:
        gaps = [g.model_copy(update={"task_id": self.gap_tasks.get(g.skill.lower())}) for g in self.analysis.gaps]
        return Fit(
            team=team_ref(self.team) if self.team else None,
            strengths=self.analysis.strengths,
            gaps=gaps,
            skipped=self.skipped,
            chosen_tasks=self.chosen,
        )


def choose_support(
    team: TeamProfileMeta | None, policy: Policy, hire: HireProfile, gaps: Sequence[FitGap]
) -> list[Member]:
    """The team members the policy in force pairs the hire with.

    A buddy or a mentor is one person: of those the team marks for it, the one who knows most of
    the hire's gaps, then one from the hire's role family, then the more senior. A peer network
    is up to three of the team's senior, staff and principal engineers, the hire's family first.
    """
    if team is None:
        return []
    gap_skills = {g.skill.lower() for g in gaps}

    def rank(m: Member) -> tuple[int, int, int]:
        return (
            -len(gap_skills & {k.lower() for k in m.knows}),
            0 if m.role_family == hire.role_family else 1,
            -SENIORITY_ORDER.index(m.seniority),
        )

    if policy.support_model == "peer_network":
        peers = [m for m in team.members if m.seniority in _PEER_LEVELS]
        return sorted(peers, key=rank)[:MAX_PEERS]
    flag = "buddy" if policy.support_model == "buddy" else "mentor"
    options = [m for m in team.members if getattr(m, flag)]
    return sorted(options, key=rank)[:1]


def team_policy(policy: Policy, team: TeamProfileMeta | None, level: Seniority) -> Policy:
    """The policy with the team's on-call rules applied: never before the team's earliest week, and
    not at all in 90 days when the team's rotation does not take the hire's level."""
    if team is None or team.on_call is None or policy.on_call_week is None:
        return policy
    if level not in team.on_call.eligible_seniority:
        return policy.model_copy(update={"on_call_week": None})
    return policy.model_copy(update={"on_call_week": max(policy.on_call_week, team.on_call.earliest_week)})


def _on_call_week(policy: Policy) -> int | None:
    return policy.on_call_week if policy.on_call_week is not None and policy.on_call_week <= LAST_WEEK else None


def _support_label(policy: Policy) -> str:
    return {"buddy": "buddy", "mentor": "mentor", "peer_network": "peer"}[policy.support_model]


def _support_owner(policy: Policy) -> str:
    return {"buddy": "buddy", "mentor": "mentor", "peer_network": "team"}[policy.support_model]


def _when(day: str, cadence: str, time: str) -> str:
    if cadence == "daily":
        return f"every weekday at {time}"
    every = {"weekly": "every", "biweekly": "every other", "monthly": "monthly on a", "quarterly": "quarterly on a"}
    return f"{every.get(cadence, cadence)} {day} at {time}"


def _learning_title(gap: FitGap) -> str:
    where = gap.needed_for[0] if gap.needed_for else "the team"
    where = where.removeprefix("the role: ")
    with_whom = f" with {gap.contact}" if gap.contact else ""
    return f"Learn {gap.skill} for {where}{with_whom}"


def _learning_description(gap: FitGap) -> str:
    needed = join_and([n.removeprefix("the role: ") for n in gap.needed_for])
    start = f"Start with {gap.resource}" + (f" ({gap.resource_url})" if gap.resource_url else "") + "."
    pair = (
        f" Pair with {gap.contact} ({gap.contact_role}), who knows the area, on one real change."
        if gap.contact
        else " Take one real change that uses it to the manager for review."
    )
    carries = f" Your {join_and(gap.builds_on)} experience carries over." if gap.builds_on else ""
    return f"You have not used {gap.skill} yet, and the work needs it: {needed}.{carries} {start}{pair}"
