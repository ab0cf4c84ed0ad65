"""Measures of tailoring (issue #12): is a plan about *this* hire joining *this* team?

Three deterministic measures, turned into verdicts by ``evaluators.Specificity``,
``evaluators.GapCoverage`` and ``pairs.Divergence``:

- **specificity**: the share of tasks due in week 1 or later whose title or description names
  something from the hire's background (a skill read, or a distinctive word of the text), the
  plan's fit section (a strength or gap skill) or the team profile (a service, a person, a
  project, a pain point, a starter task, a resource);
- **gap coverage**: every gap in ``plan.fit`` has a task and a resource, and no skipped basic
  comes back as a task;
- **divergence**: the share of task texts that differ between the plans of two hires.

"Distinctive" means absent from the generic corpus (role profiles and case studies): every plan
for the role can say "PostgreSQL migration" or "on-call", so only words the grounded text could
not have supplied show that the plan read the hire. Skills the hire has count as the brief asks,
even where the role profile names them too.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from tailor.corpus.documents import URL_RE, CaseStudyMeta, Corpus, RoleProfileMeta
from tailor.corpus.skills import SkillVocabulary
from tailor.corpus.teams import TeamProfileMeta
from tailor.evals.text import fold, mentions, names, normalised, word_key, word_keys
from tailor.schema import Plan, Task

Origin = Literal["team", "fit", "background"]

# Words too common in any résumé or plan to show anything, should the generic corpus lack them.
_COMMON = """
about after again also always among been before being both could does doing during each every
from have having here into itself just like made make many more most much must never only other
over same should since some such than that their them then there these they this those through
under until very were what when where which while whose will with within would your year month
experience experienced professional work worked working role team company using used first last
currently previously earlier later today keen learn learning want
"""
STOPWORDS = frozenset(word_key(w) for w in _COMMON.split())


# --------------------------------------------------------------------------- the generic corpus
@dataclass(frozen=True)
class Generic:
    """The role profiles' and case studies' words: what any plan for a role can say without reading the hire."""

    words: frozenset[str]
    text: str  # folded, for phrase checks


_GENERIC: dict[str, Generic] = {}


def generic(corpus: Corpus) -> Generic:
    key = corpus.content_hash
    found = _GENERIC.get(key)
    if found is None:
        parts = [
            f"{d.body}\n{d.meta.model_dump_json()}"
            for d in corpus.docs
            if isinstance(d.meta, RoleProfileMeta | CaseStudyMeta)
        ]
        text = "\n".join(parts)
        found = Generic(frozenset(word_keys(text)), fold(text))
        if len(_GENERIC) > 8:  # one entry per corpus version seen in this process
            _GENERIC.clear()
        _GENERIC[key] = found
    return found


# --------------------------------------------------------------------------- what a task may name
@dataclass(frozen=True)
class Terms:
    """What a task may name to count as specific, by where it comes from."""

    hire_skills: tuple[str, ...] = ()  # canonical where the vocabulary knows them
    fit_skills: tuple[str, ...] = ()
    words: frozenset[str] = frozenset()  # word keys of the background's distinctive words
    team_phrases: tuple[str, ...] = ()  # matched whole-word, case-insensitive
    team_people: tuple[str, ...] = ()  # matched case-sensitively


def hire_skills(plan: Plan, background: str, vocab: SkillVocabulary) -> list[str]:
    """The skills read for the hire (the plan's profile, overrides included) and any the background names."""
    return vocab.normalise([*plan.hire.skills, *vocab.find(background)])


_HEADING_LINES = 2
_CAPITALISED = re.compile(r"\b[^\W\d_a-zà-ÿ][^\W_]*")


def distinctive_words(background: str, corpus: Corpus, exclude: Iterable[str] = ()) -> frozenset[str]:
    """Words of the background that the generic corpus never uses.

    Left out as well: ``exclude`` (the hire's name) and the capitalised words of the first two
    lines, where a résumé puts the name and contact line; a plan that repeats them has not read
    the hire's history.
    """
    heading = "\n".join(background.splitlines()[:_HEADING_LINES])
    left_out = set(STOPWORDS) | generic(corpus).words
    left_out |= {k for e in [*exclude, *_CAPITALISED.findall(heading)] for k in word_keys(e, 1)}
    return frozenset(word_keys(background) - left_out)


_TEAM_TERMS: dict[tuple[str, str], tuple[tuple[str, ...], tuple[str, ...]]] = {}


def _phrases(team: TeamProfileMeta) -> list[str]:
    return [
        team.team,
        *(s.name for s in team.services),
        *(p.name for p in team.current_projects),
        *(p.title for p in team.pain_points),
        *(t.title for t in team.starter_tasks),
        *(r.title for r in team.resources),
        *(r.name for r in team.rituals),
        *([team.on_call.name] if team.on_call else []),
    ]


def team_terms(team: TeamProfileMeta, corpus: Corpus) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(phrases, people) of the team profile that a plan could only have from this team.

    Phrases: the team's name, services, projects, pain points, starter tasks, resources, rituals
    and on-call rotation. People: the manager and members, by full and first name.

    A phrase the generic corpus also uses (the frontend role profile names the Compass design
    system; the data profile names Airflow) does not show the plan read the team, nor does one that
    another team has too (every squad has a "Stand-up"), so those are left out.
    """
    key = (corpus.content_hash, team.id)
    found = _TEAM_TERMS.get(key)
    if found is None:
        text = generic(corpus).text
        others = {normalised(p) for other in corpus.teams() if other.id != team.id for p in _phrases(other)}
        kept = [p for p in dict.fromkeys(_phrases(team)) if normalised(p) not in others and not mentions(text, p)]
        people: list[str] = []
        for full, _ in team.people():
            people += [full, full.split()[0]]
        found = (tuple(kept), tuple(dict.fromkeys(people)))
        if len(_TEAM_TERMS) > 64:
            _TEAM_TERMS.clear()
        _TEAM_TERMS[key] = found
    return found


def specificity_terms(plan: Plan, background: str, team: TeamProfileMeta | None, corpus: Corpus) -> Terms:
    vocab = corpus.skills
    fit = [g.skill for g in plan.fit.gaps] + [s.skill for s in plan.fit.strengths]
    phrases, people = team_terms(team, corpus) if team is not None else ((), ())
    return Terms(
        hire_skills=tuple(hire_skills(plan, background, vocab)),
        fit_skills=tuple(vocab.normalise(fit)),
        words=distinctive_words(background, corpus, exclude=[plan.hire.name or ""]),
        team_phrases=phrases,
        team_people=people,
    )


def _skill_in(text: str, skills: Iterable[str], found: set[str], vocab: SkillVocabulary) -> str | None:
    for s in skills:
        canonical = vocab.canonical(s)
        if (canonical is not None and canonical in found) or (canonical is None and mentions(text, s)):
            return s
    return None


def named_term(text: str, terms: Terms, vocab: SkillVocabulary) -> tuple[Origin, str] | None:
    """The first thing ``text`` names from the team, the fit section or the background, with its origin."""
    for person in terms.team_people:
        if names(text, person):
            return "team", person
    for phrase in terms.team_phrases:
        if mentions(text, phrase):
            return "team", phrase
    found = set(vocab.find(text))
    if skill := _skill_in(text, terms.fit_skills, found, vocab):
        return "fit", skill
    if skill := _skill_in(text, terms.hire_skills, found, vocab):
        return "background", skill
    hits = sorted(word_keys(text) & terms.words)
    return ("background", hits[0]) if hits else None


# --------------------------------------------------------------------------- specificity
@dataclass
class SpecificityScore:
    considered: list[str] = field(default_factory=list)  # ids of the tasks due in week 1 or later
    specific: dict[str, tuple[Origin, str]] = field(default_factory=dict)  # task id -> what it names

    @property
    def share(self) -> float:
        return len(self.specific) / len(self.considered) if self.considered else 0.0

    def by_origin(self) -> Counter[str]:
        return Counter(origin for origin, _ in self.specific.values())

    def examples(self, n: int = 3) -> list[str]:
        return [f"{tid}: {term!r}" for tid, (_, term) in list(self.specific.items())[:n]]


def task_words(task: Task) -> str:
    """What a reader of the task sees first: its title and description."""
    return f"{task.title}\n{task.description}"


def specificity(plan: Plan, terms: Terms, vocab: SkillVocabulary) -> SpecificityScore:
    """Which tasks after day 1 (due week >= 1) name something of this hire, this fit or this team."""
    score = SpecificityScore()
    for t in plan.all_tasks():
        if t.due_week < 1:
            continue
        score.considered.append(t.id)
        hit = named_term(task_words(t), terms, vocab)
        if hit is not None:
            score.specific[t.id] = hit
    return score


# --------------------------------------------------------------------------- gap coverage
@dataclass
class GapCoverageResult:
    problems: list[str] = field(default_factory=list)
    gaps: int = 0
    covered: int = 0
    skipped: int = 0
    strengths: int = 0


def _resource_names(plan: Plan, team: TeamProfileMeta | None, corpus: Corpus) -> list[str]:
    out = [r.title for r in team.resources] if team is not None else []
    for role in corpus.roles():
        if plan.hire.role_family in role.roles:
            out += [r.name for r in role.resources]
    return out


def _names_skill(task: Task, skill: str, vocab: SkillVocabulary) -> bool:
    text = task_words(task)
    canonical = vocab.canonical(skill)
    return (canonical is not None and canonical in vocab.find(text)) or mentions(text, skill)


def gap_coverage(plan: Plan, team_id: str | None, corpus: Corpus) -> GapCoverageResult | None:
    """Every gap has a learning task with a resource; no skipped basic is back as a task.

    None (not applicable) only when the case names no team and the fit section is empty: then no
    analysis was asked for and none found a gap. A case that names a team and gets an empty fit
    section fails, so a plan cannot reach 100 % by having no gaps to cover.
    """
    fit = plan.fit
    empty = not (fit.strengths or fit.gaps or fit.skipped)
    if team_id is None and fit.team is None and empty:
        return None
    vocab = corpus.skills
    team = corpus.team(team_id or (fit.team.id if fit.team else ""))
    result = GapCoverageResult(gaps=len(fit.gaps), skipped=len(fit.skipped), strengths=len(fit.strengths))
    if team_id is not None:
        if fit.team is None and empty:
            result.problems.append(f"the case names {team_id} but the plan has no fit analysis (fit is empty)")
        elif fit.team is None:
            result.problems.append(f"the case names {team_id} but plan.fit.team is empty")
        elif fit.team.id != team_id:
            result.problems.append(f"plan.fit is for {fit.team.id}, the case names {team_id}")
        if not empty and not (fit.strengths or fit.gaps):
            result.problems.append("plan.fit has neither strengths nor gaps: nothing was compared")
    tasks = {t.id: t for t in plan.all_tasks()}
    resources = _resource_names(plan, team, corpus)
    for gap in fit.gaps:
        if gap.task_id is not None and gap.task_id not in tasks:
            result.problems.append(f"gap {gap.skill!r} points at task {gap.task_id!r}, which the plan does not have")
            continue
        candidates = (
            [tasks[gap.task_id]] if gap.task_id else [t for t in tasks.values() if _names_skill(t, gap.skill, vocab)]
        )
        if not candidates:
            result.problems.append(f"gap {gap.skill!r} has no learning task (no task_id, no task names it)")
            continue
        cited = [
            t for t in candidates if URL_RE.search(task_words(t)) or any(mentions(task_words(t), r) for r in resources)
        ]
        if gap.resource is None and not cited:
            result.problems.append(
                f"gap {gap.skill!r}: task {candidates[0].id!r} has no resource and the gap names none"
            )
            continue
        result.covered += 1
    for basic in fit.skipped:
        key = normalised(basic.title)
        for t in tasks.values():
            if normalised(t.title) == key or mentions(t.title, basic.title):
                result.problems.append(f"skipped basic {basic.title!r} is back as task {t.id!r}")
    return result


# --------------------------------------------------------------------------- divergence
@dataclass(frozen=True)
class DivergenceScore:
    share: float
    shared: int
    total: int


def task_texts(plan: Plan) -> Counter[str]:
    """Each task's title and description, normalised; the hire's own name (if any) does not make a task differ."""
    name = plan.hire.name
    out: Counter[str] = Counter()
    for t in plan.all_tasks():
        text = task_words(t)
        if name:
            text = text.replace(name, "the hire")
        out[normalised(text)] += 1
    return out


def divergence(a: Plan, b: Plan) -> DivergenceScore:
    """The share of task texts that differ between two plans: 1 - 2|A ∩ B| / (|A| + |B|), counting repeats.

    Symmetric, 0 for identical plans and 1 for plans with no task text in common.
    """
    ta, tb = task_texts(a), task_texts(b)
    total = sum(ta.values()) + sum(tb.values())
    shared = sum((ta & tb).values())
    return DivergenceScore(share=1 - 2 * shared / total if total else 0.0, shared=shared, total=total)
