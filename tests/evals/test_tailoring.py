"""The tailoring measures (issue #12): specificity, gap coverage and divergence, and their evaluators.

Plans are built by hand against the small corpus of ``tests/fixtures/plans.py`` plus two small
team profiles (``tests/evals/helpers.py``), so the figures depend on neither the engine nor the
real corpus's text.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic_evals.evaluators import EvaluationReason, EvaluatorContext
from pydantic_evals.otel._errors import SpanTreeRecordingError

from tailor.evals import tailoring
from tailor.evals.evaluators import DraftOutcome, Expected, GapCoverage, Specificity, use_corpus
from tailor.evals.pairs import Divergence, PairContext, PairSpec
from tailor.schema import DraftRequest, Fit, FitGap, FitStrength, Plan, SkippedBasic, TeamRef
from tests.evals.helpers import RUNBOOK_URL, TEAM, generic, team_corpus, team_meta, with_tasks
from tests.fixtures.plans import ROLE_URL, good_plan, task


@pytest.fixture(autouse=True)
def corpus() -> Any:
    with use_corpus(team_corpus()) as c:
        yield c


BACKGROUND = """Dana Whitfield — Backend Engineer
Backend Engineer, 2 years. Built the matchmaking service for a multiplayer game in Python,
with PostgreSQL migrations and a Redis leaderboard."""


def ctx(
    plan: Plan | None, *, team: str | None = TEAM, background: str = BACKGROUND, expected: Expected | None = None
) -> EvaluatorContext[DraftRequest, DraftOutcome, Expected]:
    outcome = DraftOutcome(plan=plan) if plan is not None else DraftOutcome(error_kind="unexpected", error_message="x")
    return EvaluatorContext(
        name="case",
        inputs=DraftRequest(background=background, team=team),
        metadata=expected or Expected(),
        expected_output=None,
        output=outcome,
        duration=0.0,
        _span_tree=SpanTreeRecordingError("not recorded in unit tests"),
        attributes={},
        metrics={},
    )


def verdict(result: Any, name: str) -> EvaluationReason:
    """The named assertion of an evaluator that also reports a score."""
    assert isinstance(result, dict) and isinstance(result[name], EvaluationReason), result
    return result[name]


def verdict_of(result: Any) -> EvaluationReason:
    """The one assertion of an evaluator that reports no score (not applicable, no plan, unknown team)."""
    assert isinstance(result, EvaluationReason), result
    return result


# --------------------------------------------------------------------------- specificity
def test_specificity_counts_tasks_that_name_the_team_the_fit_or_the_background() -> None:
    plan = with_tasks(
        task("meet", 1, "Pair with Kofi on the first review"),  # a member, by first name
        task("api", 2, "Trace one request through widgets-api"),  # a service
        task("starter", 3, "Add a count test to widgets search"),  # a starter task
        task("gap", 4, "Learn Kafka consumer groups"),  # a gap skill of the fit section
        task("game", 5, "Compare the queue with your matchmaking design"),  # a distinctive background word
        *generic(5),
        fit=Fit(gaps=[FitGap(skill="Kafka", resource="Widgets runbook", source=TEAM)]),
    )
    score = tailoring.specificity(
        plan, tailoring.specificity_terms(plan, BACKGROUND, team_meta(), team_corpus()), team_corpus().skills
    )
    assert score.share == 0.5 and len(score.considered) == 10
    assert score.specific["meet"] == ("team", "Kofi") and score.specific["gap"] == ("fit", "Kafka")
    assert score.specific["game"] == ("background", "matchmaking")
    assert score.by_origin() == {"team": 3, "fit": 1, "background": 1}

    result = Specificity().evaluate(ctx(plan))
    assert verdict(result, "Specificity").value is True
    assert result["specificity"] == 0.5
    assert "5/10 tasks after day 1" in (verdict(result, "Specificity").reason or "")


def test_specificity_fails_a_generic_plan_and_says_the_score_and_the_target() -> None:
    plan = with_tasks(task("one", 1, "Pair with Kofi on the first review"), *generic(4))
    result = Specificity().evaluate(ctx(plan))
    assert verdict(result, "Specificity").value is False
    assert result["specificity"] == 0.2
    assert "0.20 specific (target 0.30)" in (verdict(result, "Specificity").reason or "")
    assert verdict(Specificity(min_share=0.2).evaluate(ctx(plan)), "Specificity").value is True


def test_tasks_before_day_one_are_not_counted() -> None:
    plan = with_tasks(*generic(2))
    plan.phases[0].tasks = [task("laptop", 0, "Kofi ships the laptop")]  # names a member, but before day 1
    assert Specificity().evaluate(ctx(plan))["specificity"] == 0.0
    plan.phases = plan.phases[:1]
    assert "no task is due in week 1 or later" in (verdict_of(Specificity().evaluate(ctx(plan))).reason or "")


def test_what_any_plan_for_the_role_says_is_not_specific() -> None:
    """Words the role profile or case studies use, a name in the heading and a lowercase "grace" do not count."""
    corpus = team_corpus()
    words = tailoring.distinctive_words(BACKGROUND, corpus)
    assert {"matchmaking", "multiplayer", "leaderboard"} <= words
    assert "migration" not in words  # the role profile's "Migrations" responsibility
    assert "dana" not in words and "whitfield" not in words  # the name line
    plan = with_tasks(
        task("role", 2, "Write migrations with the buddy"),
        task("name", 2, "Welcome, Dana"),
        task("grace", 3, "Agree a grace period for deprecations"),
        task("person", 4, "Ask Grace about priorities"),
    )
    plan.hire = plan.hire.model_copy(update={"skills": []})
    terms = tailoring.specificity_terms(plan, BACKGROUND, team_meta(), corpus)
    assert set(tailoring.specificity(plan, terms, corpus.skills).specific) == {"person"}


def test_team_phrases_the_generic_corpus_or_another_team_has_do_not_count() -> None:
    phrases, people = tailoring.team_terms(team_meta(), team_corpus())
    assert "Stand-up" not in phrases  # the gadgets squad has one too
    assert "Handbook" not in phrases  # the role profile's resource
    assert {"Widgets squad", "widgets-api", "Widgets review", "#widgets", "Widgets runbook"} <= set(phrases)
    assert {"Grace Widgets", "Grace", "Kofi", "Tom Widgets"} <= set(people)


def test_skills_match_through_the_vocabulary_aliases() -> None:
    plan = with_tasks(task("alias", 2, "Tune a slow Postgres query"), task("other", 2, "Read the style guide"))
    plan.hire = plan.hire.model_copy(update={"skills": ["PostgreSQL"]})
    result = Specificity().evaluate(ctx(plan, team=None, background="Backend Engineer, 2 years, PostgreSQL."))
    assert result["specificity"] == 0.5


def test_the_team_comes_from_the_fit_when_the_case_names_none_and_must_exist() -> None:
    plan = with_tasks(task("meet", 1, "Pair with Ines"), *generic(1))
    assert Specificity().evaluate(ctx(plan, team=None))["specificity"] == 0.0
    plan.fit = Fit(team=TeamRef(id=TEAM, name="Widgets squad", manager="Grace Widgets", timezone="Europe/Amsterdam"))
    assert Specificity().evaluate(ctx(plan, team=None))["specificity"] == 0.5
    missing = verdict_of(Specificity().evaluate(ctx(plan, team="team-nowhere")))
    assert missing.value is False and "team-nowhere" in (missing.reason or "")


def test_tailoring_checks_stand_aside_for_refused_input_and_fail_a_missing_plan() -> None:
    refused = Expected(expect_error="bad_input")
    assert Specificity().evaluate(ctx(None, expected=refused)) == {}
    assert GapCoverage().evaluate(ctx(None, expected=refused)) == {}
    assert verdict_of(GapCoverage().evaluate(ctx(None))).value is False


# --------------------------------------------------------------------------- gap coverage
REF = TeamRef(id=TEAM, name="Widgets squad", manager="Grace Widgets", timezone="Europe/Amsterdam")


def covered_plan() -> Plan:
    """Two gaps, each with a learning task and a resource; one skipped basic that stays out."""
    return with_tasks(
        task("learn-kafka", 3, "Learn Kafka with Kofi", "Walk through the consumer groups."),
        task("learn-redis", 4, "Cache widgets lookups with Redis", f"Start from {ROLE_URL}."),
        fit=Fit(
            team=REF,
            strengths=[FitStrength(skill="Python", needed_for=["widgets-api"])],
            gaps=[
                FitGap(skill="Kafka", resource="Widgets runbook", resource_url=RUNBOOK_URL, task_id="learn-kafka",
                       source=TEAM),
                FitGap(skill="Redis", source=TEAM),  # no task id, no resource: the task names both
            ],
            skipped=[SkippedBasic(title="Git and pull request basics", reason="Years of PRs.", source=TEAM)],
        ),
    )  # fmt: skip


def test_gap_coverage_passes_when_every_gap_has_a_task_and_a_resource() -> None:
    result = GapCoverage().evaluate(ctx(covered_plan()))
    assert verdict(result, "GapCoverage").value is True, result
    assert result["gap_coverage"] == 1.0
    assert "2/2 gaps covered, 1 skipped basics, 1 strengths" in (verdict(result, "GapCoverage").reason or "")


def test_gap_coverage_is_not_applicable_only_without_a_team_and_without_a_fit() -> None:
    assert GapCoverage().evaluate(ctx(good_plan(), team=None)) == {}
    empty = verdict(GapCoverage().evaluate(ctx(good_plan(), team=TEAM)), "GapCoverage")
    assert empty.value is False and "no fit analysis" in (empty.reason or "")  # not 100 % by vacuity
    # without a team the role's gaps are still checked
    role_gap = covered_plan()
    role_gap.fit = role_gap.fit.model_copy(update={"team": None, "gaps": [FitGap(skill="Go", source=TEAM)]})
    result = GapCoverage().evaluate(ctx(role_gap, team=None))
    assert verdict(result, "GapCoverage").value is False and result["gap_coverage"] == 0.0
    assert "gap 'Go' has no learning task" in (verdict(result, "GapCoverage").reason or "")


def test_gap_coverage_fails_each_kind_of_hole() -> None:
    dangling = covered_plan()
    dangling.fit.gaps[0].task_id = "learn-kafka-later"
    assert "which the plan does not have" in (
        verdict(GapCoverage().evaluate(ctx(dangling)), "GapCoverage").reason or ""
    )

    no_resource = covered_plan()
    no_resource.phases[1].tasks[1].description = "Try it out."  # names neither a URL nor a resource
    result = GapCoverage().evaluate(ctx(no_resource))
    assert verdict(result, "GapCoverage").value is False and result["gap_coverage"] == 0.5
    assert "gap 'Redis': task 'learn-redis' has no resource" in (verdict(result, "GapCoverage").reason or "")

    skipped_back = covered_plan()
    skipped_back.phases[1].tasks.append(task("git", 2, "Git and pull request basics"))
    reason = verdict(GapCoverage().evaluate(ctx(skipped_back)), "GapCoverage").reason or ""
    assert "skipped basic 'Git and pull request basics' is back as task 'git'" in reason

    other_team = covered_plan()
    other_team.fit.team = REF.model_copy(update={"id": "team-gadgets"})
    assert "plan.fit is for team-gadgets" in (
        verdict(GapCoverage().evaluate(ctx(other_team)), "GapCoverage").reason or ""
    )


def test_a_team_fit_with_no_gaps_passes_without_a_score() -> None:
    plan = covered_plan()
    plan.fit = plan.fit.model_copy(update={"gaps": []})
    result = GapCoverage().evaluate(ctx(plan))
    assert verdict(result, "GapCoverage").value is True and "gap_coverage" not in result
    plan.fit = Fit(team=REF, skipped=plan.fit.skipped)  # a team, but nothing compared
    assert "neither strengths nor gaps" in (verdict(GapCoverage().evaluate(ctx(plan)), "GapCoverage").reason or "")


# --------------------------------------------------------------------------- divergence
def test_divergence_is_the_share_of_task_texts_the_two_plans_do_not_share() -> None:
    a = with_tasks(*generic(1), task("x", 2, "Learn Kafka"), task("y", 3, "Ship the widget cache"))
    assert tailoring.divergence(a, a).share == 0.0
    b = with_tasks(*generic(1), task("x", 2, "learn  kafka!"), task("z", 3, "Write the pooling design"))
    score = tailoring.divergence(a, b)  # accounts, generic and Kafka shared (case and punctuation aside)
    assert (score.shared, score.total) == (3, 8)
    assert score.share == pytest.approx(0.25)
    c = with_tasks(task("p", 2, "Something else"))
    c.phases[0].tasks = [task("laptop", 0, "Order the laptop")]
    assert tailoring.divergence(a, c).share == 1.0


def test_the_hires_name_alone_does_not_make_a_task_differ() -> None:
    a = with_tasks(task("w", 1, "Welcome, Dana", "Dana meets the squad."))
    a.hire = a.hire.model_copy(update={"name": "Dana"})
    b = with_tasks(task("w", 1, "Welcome, Lee", "Lee meets the squad."))
    b.hire = b.hire.model_copy(update={"name": "Lee"})
    assert tailoring.divergence(a, b).share == 0.0


def test_divergence_check_against_its_target_and_without_a_plan() -> None:
    pair = PairSpec("p", ("a", "b"), TEAM)
    a = with_tasks(*generic(1), task("x", 2, "Learn Kafka"), task("y", 3, "Ship the widget cache"))
    b = with_tasks(*generic(1), task("x", 2, "Learn Kafka"), task("z", 3, "Write the pooling design"))
    same = Divergence().evaluate(PairContext(pair, DraftOutcome(plan=a), DraftOutcome(plan=b)))
    assert not same.passed and same.scores == {"divergence": 0.25}
    assert "0.25 of task texts differ (target 0.40)" in same.reason
    assert Divergence(min_share=0.25).evaluate(PairContext(pair, DraftOutcome(plan=a), DraftOutcome(plan=b))).passed
    crashed = DraftOutcome(error_kind="unexpected", error_message="KeyError: 'x'")
    missing = Divergence().evaluate(PairContext(pair, DraftOutcome(plan=a), crashed))
    assert not missing.passed and "no plan for b" in missing.reason
