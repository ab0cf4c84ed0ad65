"""The plan schema's own rules: valid tasks and phases, unique ids, flags with reasons, exact JSON round trips."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from tailor.schema import Phase, Plan, Task
from tests.fixtures.db import make_plan

free_text = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), min_size=1, max_size=80
)


task_fields = st.fixed_dictionaries(
    {
        "id": st.text(max_size=90),
        "due_week": st.integers(min_value=-3, max_value=20),
        "needs_review": st.booleans(),
        "review_reason": st.one_of(st.none(), st.just(""), st.just("check the scope")),
    }
)


@settings(max_examples=200, deadline=None)
@given(task_fields)
def test_task_validators_accept_exactly_the_valid_tasks(fields: dict[str, Any]) -> None:
    valid = (
        re.fullmatch(r"[a-z0-9][a-z0-9-]{0,80}", fields["id"]) is not None
        and 0 <= fields["due_week"] <= 13
        and (not fields["needs_review"] or bool(fields["review_reason"]))
    )
    data = {
        "title": "T",
        "description": "D",
        "owner": "hire",
        "success_criteria": "S",
        "sources": ["x"],
        **fields,
    }
    try:
        Task.model_validate(data)
    except ValidationError:
        assert not valid
    else:
        assert valid


@settings(max_examples=100, deadline=None)
@given(start=st.integers(min_value=-2, max_value=15), end=st.integers(min_value=-2, max_value=15))
def test_a_phase_accepts_exactly_the_ordered_weeks_of_the_90_days(start: int, end: int) -> None:
    valid = 0 <= start <= end <= 13
    try:
        Phase(name="Days 1-30", start_week=start, end_week=end)
    except ValidationError:
        assert not valid
    else:
        assert valid


def test_duplicate_task_ids_and_unflagged_reviews_are_refused() -> None:
    data = make_plan().model_dump(mode="json", by_alias=True)
    data["phases"][1]["tasks"][0]["id"] = data["phases"][0]["tasks"][0]["id"]
    with pytest.raises(ValidationError, match="task ids must be unique"):
        Plan.model_validate(data)
    plan = make_plan()
    with pytest.raises(ValidationError, match="must say why"):
        plan.phases[0].tasks[0].needs_review = True  # validate_assignment: no flag without a reason


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(summary=free_text, skills=st.lists(free_text, max_size=5))
def test_plans_round_trip_through_json_exactly(summary: str, skills: list[str]) -> None:
    data = make_plan().model_dump(mode="json", by_alias=True)
    data["summary"], data["hire"]["skills"] = summary, skills
    try:
        plan = Plan.model_validate(data)
    except ValidationError:
        assume(False)
        return
    assert Plan.model_validate_json(plan.model_dump_json(by_alias=True)) == plan
