"""compose: the grounded skeleton applies the corpus policy for the hire's level and situation."""

from __future__ import annotations

import pytest

from tailor.corpus.documents import CaseStudyMeta, Expectations, load_corpus
from tailor.pipeline.compose import _check_in_focus, compose, pick_policy_cases
from tailor.pipeline.validate import plan_problems
from tailor.schema import HireProfile, Plan
from tests.conftest import CORPUS_DIR

CORPUS = load_corpus(CORPUS_DIR)


def hire(seniority: str, family: str = "backend", situation: str = "standard") -> HireProfile:
    return HireProfile(
        role=f"{seniority} {family} engineer",
        role_family=family,
        seniority=seniority,
        years_experience=5,
        skills=["Python"],
        summary="A hire for tests.",
        situation=situation,
    )


def policy_for(level: str) -> CaseStudyMeta:
    return next(c for c in CORPUS.case_studies() if c.situation == "standard" and level in c.policy.applies_to)


@pytest.mark.parametrize("level", ["intern", "junior", "mid", "senior", "staff", "manager"])
def test_skeleton_applies_the_corpus_policy_for_the_level(level: str) -> None:
    family = "management" if level == "manager" else "backend"
    plan = compose(CORPUS, hire(level, family))
    policy = policy_for(level).policy
    assert plan.support.model == policy.support_model
    assert plan.targets.full_productivity_week == policy.full_productivity_week
    assert plan.targets.on_call_week == policy.on_call_week
    assert plan.targets.first_leadership_week == policy.first_leadership_week
    assert [c.week for c in plan.check_ins] == sorted(w for w in set(policy.check_in_weeks) if w >= 1)


def test_senior_gets_a_peer_network_and_early_design_work_junior_a_buddy_and_no_early_on_call() -> None:
    senior = compose(CORPUS, hire("senior"))
    junior = compose(CORPUS, hire("junior"))
    assert senior.support.model == "peer_network"
    assert any("design" in t.title.lower() and t.due_week <= 4 for t in senior.all_tasks())
    assert junior.support.model == "buddy"
    assert junior.targets.on_call_week is None
    # The senior story's "Join the on-call rotation" must not reach a junior, whose policy keeps them off call.
    assert any("on-call rotation" in t.title.lower() for t in senior.all_tasks())
    assert not [t.title for t in junior.all_tasks() if "on-call rotation" in t.title.lower()]


def test_every_task_cites_corpus_documents_the_plan_lists() -> None:
    plan = compose(CORPUS, hire("mid", "mobile"))
    ids = set(CORPUS.by_id())
    listed = {s.id for s in plan.sources}
    for task in plan.all_tasks():
        assert task.sources and set(task.sources) <= ids and set(task.sources) <= listed
    assert plan_problems(plan, corpus_ids=ids, allowed_urls=CORPUS.urls()) == []


def test_a_situation_brings_its_case_study() -> None:
    h = hire("senior", "data", "rehire")
    _base, situational = pick_policy_cases(CORPUS, h)
    assert situational is not None and situational.situation == "rehire"
    plan = compose(CORPUS, h)
    assert plan.targets.full_productivity_week == situational.policy.full_productivity_week
    assert any(situational.id in t.sources for t in plan.all_tasks())


@pytest.mark.parametrize("family", sorted({r.roles[0] for r in CORPUS.roles()}))
def test_every_role_composes_a_valid_plan(family: str) -> None:
    plan = compose(CORPUS, hire("manager" if family == "management" else "mid", family))
    again = Plan.model_validate(plan.model_dump(by_alias=True))
    assert again.all_tasks() and all(p.start_week <= t.due_week <= p.end_week for p in again.phases for t in p.tasks)


def test_no_on_call_ownership_before_the_policy_allows_it() -> None:
    for level in ("intern", "junior"):
        plan = compose(CORPUS, hire(level))
        assert not [
            t.title for t in plan.all_tasks() if "on-call" in t.title.lower() and "take ownership" in t.title.lower()
        ], level
    senior = compose(CORPUS, hire("senior"))
    owned = [t for t in senior.all_tasks() if "on-call" in t.title.lower() and "take ownership" in t.title.lower()]
    assert owned and senior.targets.on_call_week is not None
    assert all(t.due_week >= senior.targets.on_call_week for t in owned)


def test_check_ins_settle_in_then_review_the_30_60_90_day_expectations() -> None:
    exp = Expectations(day_30=["ships"], day_60=["owns a feature"], day_90=["owns a service"])
    focus = {week: _check_in_focus(week, exp) for week in (1, 2, 3, 5, 6, 9, 10, 13)}
    assert focus == {
        1: "Settling in, access and first tasks",
        2: "Settling in, access and first tasks",
        3: "30-day review: ships",
        5: "30-day review: ships",
        6: "60-day review: owns a feature",
        9: "60-day review: owns a feature",
        10: "90-day review: owns a service",
        13: "90-day review: owns a service",
    }
    assert _check_in_focus(4, None) == "Progress review"


def test_task_ids_are_unique_slugs_of_their_titles() -> None:
    """Ids are stable names for tasks: prompts, edits and recorded eval answers refer to them."""
    plan = compose(CORPUS, hire("senior"))
    ids = [t.id for t in plan.all_tasks()]
    assert len(ids) == len(set(ids))
    by_title = {t.title: t.id for t in plan.all_tasks()}
    assert by_title["Land your first commit"] == "land-your-first-commit"
    assert all(t.id.split("-")[0] in t.title.lower() for t in plan.all_tasks())
