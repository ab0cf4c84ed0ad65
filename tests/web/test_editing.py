"""The task editor's rows back into a plan: one test per column rule, then the rules across rows."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tailor.errors import BadInput
from tailor.schema import Phase, Plan
from tailor.web.editing import OWNERS, EditedRow, edited_plan, plan_from_rows, row_is_empty, table_rows
from tailor.web.tables import TASK_COLUMNS, tasks_frame
from tests.fixtures.db import make_plan

KNOWN = {"backend-engineer", "case-payments-migration"}


@pytest.fixture
def plan() -> Plan:
    return make_plan()


def rows_of(plan: Plan) -> list[dict[str, Any]]:
    return tasks_frame(plan).to_dict("records")  # type: ignore[return-value]


def new_row(plan: Plan, **cells: Any) -> dict[str, Any]:
    """A row as the editor adds it: every column present, the unset ones None."""
    row: dict[str, Any] = {
        "phase": plan.phases[-1].name,
        "id": None,
        "title": "Present the ledger design",
        "description": "Walk the team through the ledger design.",
        "owner": "hire",
        "due_week": 12.0,
        "success_criteria": "The team agrees on next steps.",
        "sources": "backend-engineer",
        "needs_review": False,
        "review_reason": None,
    }
    return row | cells


def edit(plan: Plan, **cells: Any) -> Plan:
    """The plan with the first task's cells replaced."""
    rows = rows_of(plan)
    rows[0].update(cells)
    return plan_from_rows(plan, rows, known_sources=KNOWN)


def first(plan: Plan) -> Any:
    return plan.phases[0].tasks[0]


# --------------------------------------------------------------------------- the table of column rules
def test_the_row_model_reads_exactly_the_editor_columns() -> None:
    assert tuple(EditedRow.model_fields) == TASK_COLUMNS


def test_unchanged_rows_give_back_the_same_plan(plan: Plan) -> None:
    assert plan_from_rows(plan, rows_of(plan), known_sources=KNOWN) == plan


@pytest.mark.parametrize("blank", [None, float("nan"), "", "   ", pd.NA, np.nan])
def test_a_blank_cell_reads_as_empty(blank: object) -> None:
    row = EditedRow.model_validate(dict.fromkeys(TASK_COLUMNS, blank))
    assert row == EditedRow()
    assert (row.phase, row.id, row.title, row.description, row.owner) == ("", "", "", "", "")
    assert (row.due_week, row.sources, row.needs_review, row.review_reason) == (None, [], False, None)


def test_phase_must_be_one_of_the_plan_phases(plan: Plan) -> None:
    with pytest.raises(BadInput, match=r"row 1 \(Laptop and access ready\): choose a phase \(Days 1-30"):
        edit(plan, phase="Days 91-120")
    with pytest.raises(BadInput, match=r"row 1.*choose a phase"):
        edit(plan, phase=None)


def test_a_task_moves_to_the_phase_its_row_names(plan: Plan) -> None:
    moved = edit(plan, phase=plan.phases[2].name, due_week=11)
    assert "laptop-and-access" in [t.id for t in moved.phases[2].tasks]
    assert "laptop-and-access" not in [t.id for t in moved.phases[0].tasks]


def test_id_is_trimmed_and_keeps_the_hidden_fields_of_its_task(plan: Plan) -> None:
    rows = rows_of(plan)
    index = next(i for i, r in enumerate(rows) if r["id"] == "first-pr")
    rows[index]["id"] = "  first-pr "
    rows[index]["title"] = "Ship a first small change"
    edited = plan_from_rows(plan, rows, known_sources=KNOWN)
    task = next(t for t in edited.all_tasks() if t.id == "first-pr")
    assert task.title == "Ship a first small change"
    assert task.skills == ["Python"] and task.tailored is True  # not columns, kept by id


def test_a_new_row_gets_an_id_from_its_title_and_no_hidden_fields(plan: Plan) -> None:
    edited = plan_from_rows(plan, [*rows_of(plan), new_row(plan)], known_sources=KNOWN)
    added = next(t for t in edited.all_tasks() if t.title == "Present the ledger design")
    assert added.id == "present-the-ledger-design"
    assert added.skills == [] and added.tailored is False
    assert len(edited.all_tasks()) == len(plan.all_tasks()) + 1


def test_a_new_id_never_takes_one_already_used(plan: Plan) -> None:
    rows = [*rows_of(plan), new_row(plan, title="First PR"), new_row(plan, title="First PR")]
    edited = plan_from_rows(plan, rows, known_sources=KNOWN)
    ids = [t.id for t in edited.all_tasks() if t.title == "First PR"]
    assert ids == ["first-pr-2", "first-pr-3"]  # "first-pr" is an existing task's id


def test_a_new_id_is_spelled_by_the_one_slug_rule(plan: Plan) -> None:
    edited = plan_from_rows(plan, [*rows_of(plan), new_row(plan, title="Łódź office tour")], known_sources=KNOWN)
    assert "lodz-office-tour" in {t.id for t in edited.all_tasks()}


def test_two_rows_cannot_share_an_id(plan: Plan) -> None:
    rows = rows_of(plan)
    rows[1]["id"] = rows[0]["id"]
    with pytest.raises(BadInput, match=r"row 2 .*the id 'laptop-and-access' is used by another row"):
        plan_from_rows(plan, rows, known_sources=KNOWN)


def test_an_id_the_schema_refuses_names_the_row_and_field(plan: Plan) -> None:
    with pytest.raises(BadInput, match=r"row 1 .*: id: String should match pattern"):
        edit(plan, id="Not An Id")


def test_title_is_trimmed_and_required(plan: Plan) -> None:
    assert first(edit(plan, title="  Laptop ready  ")).title == "Laptop ready"
    with pytest.raises(BadInput, match=r"^row 1: title: String should have at least 1 character"):
        edit(plan, title="  ")


def test_a_long_title_is_cut_in_the_row_label(plan: Plan) -> None:
    with pytest.raises(BadInput, match=r"^row 1 \(" + "x" * 40 + r"\): owner"):
        edit(plan, title="x" * 50, owner="ceo")


@pytest.mark.parametrize("column", ["description", "success_criteria"])
def test_text_columns_are_required(plan: Plan, column: str) -> None:
    with pytest.raises(BadInput, match=rf"row 1 .*: {column}: String should have at least 1 character"):
        edit(plan, **{column: float("nan")})


def test_owner_must_be_a_known_owner(plan: Plan) -> None:
    assert OWNERS == ("hire", "manager", "buddy", "mentor", "hr", "it", "team")  # the editor's choices
    assert first(edit(plan, owner="manager")).owner == "manager"
    with pytest.raises(BadInput, match=r"row 1 .*: owner: Input should be 'hire'"):
        edit(plan, owner="ceo")


@pytest.mark.parametrize(("cell", "week"), [(3.0, 3), (np.float64(4.0), 4), (np.int64(5), 5), ("6", 6), (0, 0)])
def test_due_week_reads_what_the_number_column_hands_over(plan: Plan, cell: object, week: int) -> None:
    assert next(t for t in edit(plan, due_week=cell).all_tasks() if t.id == "laptop-and-access").due_week == week


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        (40, r"due_week: Input should be less than or equal to 13"),
        (-1, r"due_week: Input should be greater than or equal to 0"),
        (None, r"due_week: Input should be a valid integer"),
        ("soon", r"due_week: Value error, 'soon' is not a week number"),
    ],
)
def test_due_week_outside_the_90_days_is_refused(plan: Plan, cell: object, message: str) -> None:
    with pytest.raises(BadInput, match=r"row 1 .*" + message):
        edit(plan, due_week=cell)


def test_sources_are_comma_separated_ids(plan: Plan) -> None:
    task = first(edit(plan, sources=" backend-engineer, , case-payments-migration ,"))
    assert task.sources == ["backend-engineer", "case-payments-migration"]


def test_sources_must_be_known_documents(plan: Plan) -> None:
    with pytest.raises(BadInput, match=r"row 1 .*unknown source not-a-document, nor-this; cite corpus document ids"):
        edit(plan, sources="backend-engineer, not-a-document, nor-this")


def test_any_source_is_accepted_when_none_are_known(plan: Plan) -> None:
    rows = rows_of(plan)
    rows[0]["sources"] = "anything"
    assert first(plan_from_rows(plan, rows)).sources == ["anything"]


def test_a_task_cites_at_least_one_source(plan: Plan) -> None:
    with pytest.raises(BadInput, match=r"row 1 .*: sources: List should have at least 1 item"):
        edit(plan, sources=" , ")


@pytest.mark.parametrize(("cell", "flagged"), [(True, True), (np.bool_(True), True), (False, False), (None, False)])
def test_needs_review_reads_a_checkbox(plan: Plan, cell: object, flagged: bool) -> None:
    task = first(edit(plan, needs_review=cell, review_reason="Check the laptop model."))
    assert task.needs_review is flagged
    assert task.review_reason == ("Check the laptop model." if flagged else None)  # no reason without a flag


def test_a_flagged_task_must_say_why(plan: Plan) -> None:
    with pytest.raises(BadInput, match=r"row 1 .*must say why"):
        edit(plan, needs_review=True, review_reason="  ")


def test_review_reason_is_trimmed(plan: Plan) -> None:
    assert first(edit(plan, needs_review=True, review_reason="  why not  ")).review_reason == "why not"


# --------------------------------------------------------------------------- rows as a whole
def test_an_empty_row_the_editor_added_is_skipped(plan: Plan) -> None:
    empty = dict.fromkeys(TASK_COLUMNS) | {"needs_review": False}
    assert row_is_empty(empty) and row_is_empty({}) and not row_is_empty({"title": "x"})
    assert plan_from_rows(plan, [*rows_of(plan), empty], known_sources=KNOWN) == plan


def test_a_plan_keeps_at_least_one_task(plan: Plan) -> None:
    with pytest.raises(BadInput, match="no tasks left"):
        plan_from_rows(plan, [], known_sources=KNOWN)


def test_tasks_are_sorted_by_due_week_within_their_phase(plan: Plan) -> None:
    edited = edit(plan, due_week=3)
    assert [t.due_week for t in edited.phases[0].tasks] == [1, 1, 2, 3]


def test_the_whole_plan_is_validated_after_the_rows(plan: Plan) -> None:
    """Rows that are valid tasks still go through the Plan schema (here a phase that ends before it starts)."""
    broken = plan.model_copy(deep=True)
    phase = broken.phases[1]
    broken.phases[1] = Phase.model_construct(**{**dict(phase), "end_week": 2})  # built without validation
    with pytest.raises(BadInput, match=r"^the edited plan is not valid: phases.1: Value error, phase .* ends"):
        plan_from_rows(broken, rows_of(broken), known_sources=KNOWN)


# --------------------------------------------------------------------------- the Edit tab's save
def test_edited_plan_sets_the_text_and_refuses_no_change(plan: Plan) -> None:
    rows = rows_of(plan)
    with pytest.raises(BadInput, match="nothing changed"):
        edited_plan(plan, rows, plan.summary, plan.rationale, KNOWN)
    with pytest.raises(BadInput, match="must not be empty"):
        edited_plan(plan, rows, "  ", plan.rationale, KNOWN)
    updated = edited_plan(plan, rows, "A new summary.", plan.rationale, KNOWN)
    assert updated.summary == "A new summary." and updated.all_tasks() == plan.all_tasks()


def test_table_rows_accepts_a_frame_or_a_list(plan: Plan) -> None:
    frame = tasks_frame(plan)
    rows = table_rows(frame)
    assert rows == frame.to_dict("records") and table_rows(rows) == rows
    assert not any(isinstance(v, float) and math.isnan(v) for r in rows for v in r.values())
