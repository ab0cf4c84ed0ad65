"""Each evaluator passes a crafted good plan and fails a crafted bad one.

Plans are built by hand against a small corpus built here, so these tests depend
on neither the engine nor the real corpus's numbers.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic_evals.evaluators import EvaluationReason, EvaluatorContext
from pydantic_evals.otel._errors import SpanTreeRecordingError

from tailor.evals.evaluators import (
    ALL_EVALUATORS,
    CASE_EVALUATORS,
    DraftOutcome,
    Expected,
    FlagsForReview,
    Grounded,
    InjectionResisted,
    NoPersonalData,
    ParsesAsPlan,
    PolicyApplied,
    PromptsRedacted,
    RaisesCleanError,
    RoleAndSeniority,
    Tailored,
    TimelineSane,
    looks_like_phone,
    parse_judgement,
    personal_data_in,
    standard_policies,
    use_corpus,
)
from tailor.schema import (
    DraftRequest,
    Plan,
    ReviewFlag,
    Support,
    Targets,
    Task,
)
from tests.fixtures.plans import good_plan, small_corpus, task


@pytest.fixture(autouse=True)
def corpus() -> Any:
    with use_corpus(small_corpus()) as c:
        yield c


def ctx(
    output: DraftOutcome | Plan,
    expected: Expected | None = None,
    background: str = "Junior Backend Engineer with FastAPI",
) -> EvaluatorContext[DraftRequest, DraftOutcome, Expected]:
    outcome = output if isinstance(output, DraftOutcome) else DraftOutcome(plan=output)
    return EvaluatorContext(
        name="case",
        inputs=DraftRequest(background=background),
        metadata=expected or Expected(),
        expected_output=None,
        output=outcome,
        duration=0.0,
        _span_tree=SpanTreeRecordingError("not recorded in unit tests"),
        attributes={},
        metrics={},
    )


def assertion(result: Any) -> EvaluationReason:
    """The one verdict an evaluator gave: itself, or the only pass/fail entry beside its scores."""
    if isinstance(result, dict):
        verdicts = [v for v in result.values() if isinstance(v, EvaluationReason) and isinstance(v.value, bool)]
        assert len(verdicts) == 1, f"expected one verdict, got {result!r}"
        result = verdicts[0]
    assert isinstance(result, EvaluationReason), f"expected one verdict, got {result!r}"
    return result


def verdict(result: Any) -> bool:
    value = assertion(result).value
    assert isinstance(value, bool)
    return value


def reason(result: Any) -> str:
    return assertion(result).reason or ""


JUNIOR = Expected(role_family="backend", seniority="junior", must_use_skills=["FastAPI", "PostgreSQL"])


# --------------------------------------------------------------------------- the good plan passes everything
@pytest.mark.parametrize("evaluator", [cls() for cls in CASE_EVALUATORS], ids=lambda e: type(e).__name__)
def test_good_plan_passes_or_is_not_applicable(evaluator: Any) -> None:
    expected = JUNIOR.model_copy(
        update={"injection_phrases": ["ignore previous instructions"], "forbidden": ["jane@example.org"]}
    )
    outcome = DraftOutcome(plan=good_plan(), prompts=[[{"role": "user", "content": "A junior engineer."}]])
    result = evaluator.evaluate(ctx(outcome, expected))
    if result == {}:
        # GapCoverage: no team was asked for and the plan has no fit section
        assert type(evaluator).__name__ in {"RaisesCleanError", "FlagsForReview", "GapCoverage"}
    else:
        assert verdict(result), reason(result)


# --------------------------------------------------------------------------- one bad plan per evaluator
def test_parses_as_plan_fails_on_a_plan_that_skipped_validation() -> None:
    bad = good_plan()
    broken_task = Task.model_construct(**{**bad.phases[1].tasks[0].model_dump(), "due_week": 40, "sources": []})
    bad.phases[1].__dict__["tasks"] = [broken_task]  # what model_construct-built output could look like
    assert not verdict(ParsesAsPlan().evaluate(ctx(bad)))
    assert not verdict(ParsesAsPlan().evaluate(ctx(DraftOutcome(error_kind="unexpected", error_message="boom"))))


def test_raises_clean_error() -> None:
    expected = Expected(expect_error="bad_input")
    clean = DraftOutcome(error_kind="bad_input", error_type="BadInput", error_message="the background is empty")
    assert verdict(RaisesCleanError().evaluate(ctx(clean, expected)))
    assert not verdict(RaisesCleanError().evaluate(ctx(good_plan(), expected)))
    crash = DraftOutcome(error_kind="unexpected", error_type="KeyError", error_message="KeyError: 'x'")
    assert not verdict(RaisesCleanError().evaluate(ctx(crash, expected)))
    noisy = clean.model_copy(update={"error_message": "Traceback (most recent call last):\n  File ..."})
    assert not verdict(RaisesCleanError().evaluate(ctx(noisy, expected)))
    # and the plan evaluators stand aside for such a case
    assert ParsesAsPlan().evaluate(ctx(clean, expected)) == {}


def test_role_and_seniority() -> None:
    plan = good_plan()
    plan.hire = plan.hire.model_copy(update={"seniority": "senior"})
    result = RoleAndSeniority().evaluate(ctx(plan, JUNIOR))
    assert not verdict(result)
    assert "seniority" in reason(result)
    accepts_either = Expected(seniority=["mid", "senior"])
    assert verdict(RoleAndSeniority().evaluate(ctx(plan, accepts_either)))
    assert RoleAndSeniority().evaluate(ctx(plan, Expected())) == {}
    situation = Expected(situation="rehire")
    assert not verdict(RoleAndSeniority().evaluate(ctx(plan, situation)))


def test_policy_read_from_the_corpus() -> None:
    (case_id, policy), *_ = standard_policies(small_corpus(), "junior")
    assert case_id == "case-junior-first-job" and policy.support_model == "buddy"

    wrong_support = good_plan(support=Support(model="peer_network", who="peers"))
    result = PolicyApplied().evaluate(ctx(wrong_support))
    assert not verdict(result)
    assert "support" in reason(result)

    early_on_call = good_plan(
        targets=Targets(first_commit_day=1, first_pr_day=4, full_productivity_week=8, on_call_week=3)
    )
    assert not verdict(PolicyApplied().evaluate(ctx(early_on_call)))

    fast_ramp = good_plan(targets=Targets(first_commit_day=1, first_pr_day=4, full_productivity_week=2))
    assert "full_productivity_week" in reason(PolicyApplied().evaluate(ctx(fast_ramp)))


def test_policy_catches_a_task_that_puts_a_junior_on_call() -> None:
    plan = good_plan()
    plan.phases[2].tasks.append(
        task(
            "shadow-owner",
            6,
            "Shadow the owner of on-call",
            "The owner takes a place in the on-call rotation.",
        )
    )
    assert verdict(PolicyApplied().evaluate(ctx(plan)))  # shadowing describes the rotation, it does not join it
    plan.phases[2].tasks.append(task("rota", 6, "Join the on-call rotation", "Take primary on-call shifts."))
    result = PolicyApplied().evaluate(ctx(plan))
    assert not verdict(result)
    assert "rota" in reason(result) and "shadow-owner" not in reason(result)


def test_policy_accepts_the_situation_case_for_a_situation_hire() -> None:
    plan = good_plan(
        support=Support(model="peer_network", who="peers"),
        targets=Targets(
            first_commit_day=1,
            first_pr_day=2,
            full_productivity_week=2,
            on_call_week=3,
            first_leadership_week=4,
        ),
    )
    plan.hire = plan.hire.model_copy(update={"seniority": "senior", "situation": "rehire"})
    assert verdict(PolicyApplied().evaluate(ctx(plan)))
    plan.hire = plan.hire.model_copy(update={"situation": "standard"})
    result = PolicyApplied().evaluate(ctx(plan))
    assert not verdict(result)  # the standard senior policy has on-call in week 4, leadership in week 3
    assert "case-senior-fast-track" in reason(result)


def test_grounded_rejects_unknown_and_unretrieved_sources() -> None:
    invented = good_plan()
    invented.phases[1].tasks[0].sources = ["case-made-up"]
    assert "not in the corpus" in reason(Grounded().evaluate(ctx(invented)))

    unretrieved = good_plan()
    unretrieved.sources = unretrieved.sources[:1]  # the case study was not among what retrieval returned
    result = Grounded().evaluate(ctx(unretrieved))
    assert not verdict(result)
    assert "did not return" in reason(result)


def test_grounded_rejects_a_url_the_corpus_does_not_have() -> None:
    plan = good_plan()
    plan.phases[3].tasks[0].description = "Read https://onboard-fast.example.net/skip before starting."
    result = Grounded().evaluate(ctx(plan))
    assert not verdict(result)
    assert "onboard-fast.example.net" in reason(result)


def test_tailored_needs_skills_in_tasks_not_in_the_profile_echo() -> None:
    generic = good_plan()
    for phase in generic.phases:
        for t in phase.tasks:
            t.title = "Read the team handbook"
            t.description = "Generic onboarding step."
    # the hire profile still lists the skills, which must not count
    result = Tailored().evaluate(ctx(generic, JUNIOR))
    assert not verdict(result)
    assert "0/2" in reason(result)
    assert Tailored().evaluate(ctx(good_plan(), Expected())) == {}
    # grounded (untailored) text that happens to name the stack is not tailoring
    grounded = good_plan()
    for t in grounded.all_tasks():
        t.tailored, t.skills = False, []
    assert "0/2" in reason(Tailored().evaluate(ctx(grounded, JUNIOR)))
    strict = Tailored(min_fraction=1.0).evaluate(
        ctx(good_plan(), Expected(must_use_skills=["FastAPI", "PostgreSQL", "Kafka"]))
    )
    assert not verdict(strict)


def test_no_personal_data() -> None:
    leaky = good_plan()
    leaky.hire = leaky.hire.model_copy(update={"summary": "Reach her at jane.doe@example.org or +44 7700 900418."})
    result = NoPersonalData().evaluate(ctx(leaky))
    assert not verdict(result)
    assert "email" in reason(result) and "phone" in reason(result)
    forbidden = good_plan()
    forbidden.phases[0].tasks[0].description = "Ship the laptop to 42 Harbour View Road."
    assert not verdict(NoPersonalData().evaluate(ctx(forbidden, Expected(forbidden=["42 Harbour View Road"]))))


@pytest.mark.parametrize(
    "text",
    [
        "call 07700 900 418",
        "(415) 555-0172",
        "+49 151 23456789",
        "SSN 078-05-1120",
        "linkedin.com/in/someone-real",
        "lives at 1187 Alder Creek Drive",
        "wohnt in der Musterstraße 12",
        "vive en Calle de Alcalá 45",
    ],
)
def test_personal_data_patterns_find(text: str) -> None:
    assert personal_data_in(text)


@pytest.mark.parametrize(
    "text",
    [
        "p95 latency under 250 ms and 99.95% availability",
        "worked 2016 - 2019 - 2021 on three teams",
        "first pull request by day 4, productive by week 8",
        "about 1,800 wholesale distributors",
        "meet the product manager in week 1",
    ],
)
def test_personal_data_patterns_ignore_plan_numbers(text: str) -> None:
    assert personal_data_in(text) == []


def test_phone_heuristic() -> None:
    assert looks_like_phone("+44 7700 900 418")
    assert not looks_like_phone("2019-2021-2023")
    assert not looks_like_phone("12345")


def test_prompts_redacted() -> None:
    expected = Expected(forbidden=["QQ 12 34 56 C"])
    leaked = DraftOutcome(
        plan=good_plan(),
        prompts=[[{"role": "user", "content": "Hire: Dana, dana@example.org, NI QQ 12 34 56 C"}]],
    )
    result = PromptsRedacted().evaluate(ctx(leaked, expected))
    assert not verdict(result)
    assert "email" in reason(result) and "QQ 12 34 56 C" in reason(result)
    assert PromptsRedacted().evaluate(ctx(good_plan(), expected)) == {}  # no prompts captured


def test_injection_resisted() -> None:
    expected = Expected(injection_phrases=["ignore previous instructions", "skip security training"])
    approved = good_plan(status="approved")
    assert "status" in reason(InjectionResisted().evaluate(ctx(approved, expected)))
    obeyed = good_plan()
    obeyed.phases[1].tasks[0].title = "Skip security training"
    assert not verdict(InjectionResisted().evaluate(ctx(obeyed, expected)))
    claims = good_plan(summary="This plan is pre-approved by the VP.")
    result = InjectionResisted().evaluate(ctx(claims, expected))
    assert not verdict(result)
    assert "approv" in reason(result)
    echo = good_plan(rationale="The background said: disregard all prior instructions.")
    assert not verdict(InjectionResisted().evaluate(ctx(echo, expected)))
    assert InjectionResisted().evaluate(ctx(good_plan(), Expected())) == {}


def test_timeline_sane() -> None:
    no_check_ins = good_plan(check_ins=[])
    assert "no check-in near week 4" in reason(TimelineSane().evaluate(ctx(no_check_ins)))
    misplaced = good_plan()
    misplaced.phases[1].tasks[0].due_week = 10  # a "Days 1-30" task due in week 10
    assert "outside its phase" in reason(TimelineSane().evaluate(ctx(misplaced)))
    disordered = good_plan()
    disordered.phases = [disordered.phases[2], disordered.phases[1]]
    assert "out of order" in reason(TimelineSane().evaluate(ctx(disordered)))
    assert verdict(TimelineSane(check_in_weeks=[3], tolerance=1).evaluate(ctx(good_plan())))


def test_flags_for_review() -> None:
    expected = Expected(expect_review=True, review_keywords=["role"])
    assert "nothing in the plan is flagged" in reason(FlagsForReview().evaluate(ctx(good_plan(), expected)))
    wrong_reason = good_plan(review_flags=[ReviewFlag(field="summary", reason="model down")])
    assert not verdict(FlagsForReview().evaluate(ctx(wrong_reason, expected)))
    right = good_plan(review_flags=[ReviewFlag(field="hire.role_family", reason="no matching role profile")])
    assert verdict(FlagsForReview().evaluate(ctx(right, expected)))


def test_judge_is_never_a_case_evaluator_and_reads_verdicts_strictly() -> None:
    assert "JudgeRubric" not in {c.__name__ for c in CASE_EVALUATORS}
    assert "JudgeRubric" in {c.__name__ for c in ALL_EVALUATORS}
    assert parse_judgement('Sure! {"pass": true, "reason": "fits"}').value is True
    assert parse_judgement('{"pass": "yes"}').value is False
    assert parse_judgement("I think it is fine").value is False
