"""Plans about this hire joining this team: the fit analysis, the team's part of the composer, and
colleagues' names kept out of prompts to hosted models. All on the real corpus; no model needed
except the scripted one the engine tests pass in."""

from __future__ import annotations

import json
import re

import pytest

from tailor.corpus.documents import load_corpus
from tailor.errors import BadInput
from tailor.models.scripted import ScriptedModel
from tailor.pipeline.compose import compose
from tailor.pipeline.compose_tasks import LAST_WEEK
from tailor.pipeline.engine import Engine
from tailor.pipeline.fit import analyse
from tailor.pipeline.personalise import pick_tasks_to_tailor
from tailor.schema import DraftRequest, HireProfile, Plan
from tests.conftest import CORPUS_DIR, task_answers
from tests.fixtures.drafting import model_settings

CORPUS = load_corpus(CORPUS_DIR)
ORDERS = CORPUS.team("team-orders")
assert ORDERS is not None


def hire(seniority: str = "senior", skills: tuple[str, ...] = ("Go", "Postgres", "Kafka", "REST APIs")) -> HireProfile:
    return HireProfile(
        role=f"{seniority.title()} Backend Engineer",
        role_family="backend",
        seniority=seniority,  # type: ignore[arg-type]
        years_experience={"junior": 1, "mid": 4, "senior": 9, "staff": 13}.get(seniority, 5),
        skills=list(skills),
        summary="A backend engineer.",
    )


def texts(plan: Plan) -> set[str]:
    return {f"{t.title}. {t.description}" for t in plan.all_tasks()}


# --------------------------------------------------------------------------- the fit analysis
def test_aliases_make_postgres_a_strength_and_gaps_come_from_the_team() -> None:
    h = hire()
    role = next(r for r in CORPUS.roles() if "backend" in r.roles)
    fit = analyse(h, role, ORDERS, "senior", CORPUS.skills)
    assert "PostgreSQL" in [s.skill for s in fit.strengths]  # written "Postgres" on the résumé
    assert fit.gaps, "the Orders squad runs Python and the outbox; this hire has neither"
    team_skills = set(ORDERS.stack) | {s for svc in ORDERS.services for s in svc.skills}
    for gap in fit.gaps:
        assert gap.skill in team_skills
        assert gap.skill not in h.skills
        assert gap.resource, f"{gap.skill}: every gap has somewhere to learn it"
        assert gap.contact in {m.name for m in ORDERS.members}
        assert gap.skill in next(m.knows for m in ORDERS.members if m.name == gap.contact)


def test_without_a_team_the_role_decides_strengths_and_gaps() -> None:
    plan = compose(CORPUS, hire(skills=("Go",)))
    assert plan.fit.team is None
    assert [s.skill for s in plan.fit.strengths] == ["Go"]
    assert {g.skill for g in plan.fit.gaps} >= {"PostgreSQL", "Kafka"}
    assert all(g.contact is None and g.resource for g in plan.fit.gaps)


# --------------------------------------------------------------------------- the composer with a team
@pytest.mark.parametrize(
    ("seniority", "label", "count"), [("junior", "buddy", 1), ("mid", "mentor", 1), ("senior", "peer", 2)]
)
def test_named_support_follows_the_policy_in_force(seniority: str, label: str, count: int) -> None:
    plan = compose(CORPUS, hire(seniority), team=ORDERS)
    meet = [t for t in plan.all_tasks() if t.title.endswith(f", your {label}")]
    assert len(meet) == count
    members = {m.name: m for m in ORDERS.members}
    for task in meet:
        person = members[task.owner_name or ""]
        assert {"buddy": person.buddy, "mentor": person.mentor, "peer": person.seniority != "junior"}[label]
        assert task.due_week == 1 and person.why_meet in task.description
    named = {r.name for r in plan.relationships if r.name}
    assert ORDERS.manager.name in named and {t.owner_name for t in meet} <= named
    assert plan.support.who.startswith(label.capitalize())


def test_starter_uses_strengths_stretch_is_on_a_gap_and_every_gap_has_a_task_before_its_milestone() -> None:
    plan = compose(CORPUS, hire("mid", ("Python", "SQLAlchemy", "PostgreSQL", "pytest")), team=ORDERS)
    starters = {t.title: t for t in ORDERS.starter_tasks}
    tasks = {t.title: t for t in plan.all_tasks()}
    chosen = [tasks[title] for title in starters if title in tasks]
    starter = next(t for t in chosen if not starters[t.title].stretch)
    stretch = next(t for t in chosen if starters[t.title].stretch)
    assert set(starter.skills) >= {"SQLAlchemy", "PostgreSQL"}
    assert 3 <= stretch.due_week <= 6
    gaps = {g.skill for g in plan.fit.gaps}
    assert gaps & set(starters[stretch.title].skills)
    by_id = {t.id: t for t in plan.all_tasks()}
    for gap in plan.fit.gaps:
        task = by_id[gap.task_id or ""]
        assert gap.skill in task.title and (gap.resource or "") in task.description
        if gap.skill in starters[stretch.title].skills:
            assert task.due_week < stretch.due_week
    for task in plan.all_tasks():
        if ORDERS.id in task.sources and task.title in starters:
            assert task.sources[:2] == [ORDERS.id, "role-backend-engineer"]


def test_skipped_basics_are_listed_with_a_reason_and_never_planned() -> None:
    plan = compose(CORPUS, hire(), team=ORDERS)
    assert plan.fit.skipped
    titles = {t.title for t in plan.all_tasks()}
    for basic in plan.fit.skipped:
        assert basic.title not in titles and "already brings" in basic.reason
    junior = compose(CORPUS, hire("junior"), team=ORDERS)
    assert junior.fit.skipped == [], "interns and juniors get every basic"


def test_on_call_follows_the_team_rotation() -> None:
    oc = ORDERS.on_call
    assert oc is not None
    senior = compose(CORPUS, hire(), team=ORDERS)
    assert senior.targets.on_call_week == max(oc.earliest_week, compose(CORPUS, hire()).targets.on_call_week or 0)
    join = next(t for t in senior.all_tasks() if re.search(r"(?i)join the on-call", t.title))
    assert oc.name in join.description and f"{oc.ack_minutes} minutes" in join.description
    shadow = next(t for t in senior.all_tasks() if t.title.startswith("Shadow") and oc.name in t.title)
    assert shadow.due_week < join.due_week
    junior = compose(CORPUS, hire("junior"), team=ORDERS)
    assert junior.targets.on_call_week is None
    assert not any(oc.name in t.title for t in junior.all_tasks())


def test_two_contrasting_hires_for_the_same_team_get_different_plans() -> None:
    payments = compose(CORPUS, hire("mid", ("Python", "PostgreSQL", "Kafka", "SQLAlchemy")), team=ORDERS)
    games = compose(CORPUS, hire("mid", ("Go", "gRPC", "Redis", "Docker")), team=ORDERS)
    a, b = texts(payments), texts(games)
    assert len(a ^ b) / len(a | b) >= 0.2
    assert {g.skill for g in payments.fit.gaps} != {g.skill for g in games.fit.gaps}


def test_every_team_makes_a_valid_plan_for_each_family_it_hires() -> None:
    for team in CORPUS.teams():
        for family in team.roles:
            h = hire("mid").model_copy(update={"role_family": family, "role": f"{family} engineer"})
            plan = Plan.model_validate(compose(CORPUS, h, team=team).model_dump(by_alias=True))
            assert plan.fit.team is not None and plan.fit.team.id == team.id
            assert any(t.owner_name for t in plan.all_tasks())
            assert all(t.due_week <= LAST_WEEK for t in plan.all_tasks())


# --------------------------------------------------------------------------- the engine
def test_an_unknown_team_is_refused_naming_the_teams() -> None:
    engine = Engine(model_settings(), corpus=CORPUS, model=ScriptedModel([]))
    with pytest.raises(BadInput, match="team-orders"):
        engine.draft(DraftRequest(background="Senior Backend Engineer, 9 years of Go.", team="team-nope"))


def test_no_colleague_name_reaches_a_hosted_model_and_the_plan_keeps_the_names() -> None:
    settings = model_settings()  # openai/… on a server: not private
    request = DraftRequest(
        background="Senior Backend Engineer, 9 years of experience with Go, PostgreSQL and Kafka at a payments "
        "company. Led the REST to gRPC migration.",
        team="team-orders",
    )
    engine = Engine(settings, corpus=CORPUS, model=ScriptedModel([]))
    skeleton = next(e.plan for e in engine.draft_events(request) if e.kind == "skeleton" and e.plan)
    asked = pick_tasks_to_tailor(skeleton, 10)
    assert any(t.owner_name and t.owner_name in t.title for t in asked) or any(
        m.name in t.title for t in asked for m in ORDERS.members
    ), "the test needs a named task among those sent to the model"
    names = [ORDERS.manager.name, *(m.name for m in ORDERS.members)]
    summary = {"summary": "The hire brings Go and PostgreSQL depth and will learn the outbox first.", "focus_areas": []}
    rewrites = task_answers(asked, skeleton.hire.skills, "Work with the team's Staff Backend Engineer here ({n}).")
    model = ScriptedModel([json.dumps(summary), json.dumps(rewrites)])
    result = Engine(settings, corpus=CORPUS, model=model).draft(request)
    sent = json.dumps(result.prompts)
    assert result.prompts and not [n for n in names for part in n.split() if part in sent]
    assert "the team's" in sent
    tailored = [t for t in result.plan.all_tasks() if t.tailored]
    assert tailored and all("Folake Adeyemi" in t.description for t in tailored)
    assert any(n in json.dumps(result.plan.model_dump()) for n in names)
