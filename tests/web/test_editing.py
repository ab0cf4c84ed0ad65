"""The Edit tab's rules: one task, a new task, a removed task, the text and the hire's details, each to a plan.

Every edit comes back as the whole plan validated by the schema, with a note for its revision;
every refusal names the field by the label the form shows.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from tailor.errors import BadInput
from tailor.schema import Phase, Plan, TeamRef
from tailor.web.editing import (
    LABELS,
    OWNERS,
    TaskFields,
    add_task,
    edit_hire,
    edit_task,
    edit_text,
    remove_task,
    task_label,
    text_changed,
)
from tests.fixtures.db import make_plan

KNOWN = {"backend-engineer", "case-payments-migration"}
ORDERS = TeamRef(id="team-orders", name="Orders squad", manager="Aylin Demir", timezone="Europe/Amsterdam")


@pytest.fixture
def plan() -> Plan:
    return make_plan()


def fields(plan: Plan, task_id: str = "laptop-and-access", **changes: Any) -> TaskFields:
    """The task's form as it opens, with ``changes`` typed into it."""
    return TaskFields.of(plan, task_id).model_copy(update=changes)


def edit(plan: Plan, task_id: str = "laptop-and-access", *, clear: bool = False, **changes: Any) -> Plan:
    return edit_task(plan, task_id, fields(plan, task_id, **changes), clear_flag=clear, known_sources=KNOWN).plan


def task(plan: Plan, task_id: str) -> Any:
    return next(t for t in plan.all_tasks() if t.id == task_id)


def flagged(plan: Plan, task_id: str = "first-pr", reason: str = "Check the first PR's scope.") -> Plan:
    copy = plan.model_copy(deep=True)
    t = task(copy, task_id)
    t.review_reason, t.needs_review = reason, True
    return copy


# --------------------------------------------------------------------------- one task
def test_the_form_opens_with_the_task_and_never_its_id(plan: Plan) -> None:
    form = TaskFields.of(plan, "first-pr")
    assert "id" not in TaskFields.model_fields
    assert form.title == task(plan, "first-pr").title and form.phase == plan.phases[0].name
    assert set(TaskFields.model_fields) - {"phase"} <= set(LABELS)


def test_an_edit_keeps_the_id_the_place_and_the_hidden_fields(plan: Plan) -> None:
    edited = edit(plan, "first-pr", title="  Ship a first small change ", owner_name=" Kenji Watanabe ")
    changed = task(edited, "first-pr")
    assert changed.title == "Ship a first small change" and changed.owner_name == "Kenji Watanabe"
    assert changed.skills == ["Python"] and changed.tailored is True  # not on the form, kept
    assert [t.id for t in edited.phases[0].tasks] == [t.id for t in plan.phases[0].tasks]


def test_the_owner_name_can_be_cleared(plan: Plan) -> None:
    named = edit(plan, "first-pr", owner_name="Kenji Watanabe")
    assert task(edit(named, "first-pr", owner_name="  "), "first-pr").owner_name is None


def test_an_edit_that_changes_nothing_is_refused(plan: Plan) -> None:
    with pytest.raises(BadInput, match="nothing changed"):
        edit(plan)


def test_the_note_says_what_was_edited(plan: Plan) -> None:
    result = edit_task(plan, "first-pr", fields(plan, "first-pr", due_week=2), clear_flag=False, known_sources=KNOWN)
    assert result.note == f"edited the task “{task(plan, 'first-pr').title}”"


def test_a_task_moves_to_the_phase_the_form_names(plan: Plan) -> None:
    moved = edit(plan, phase=plan.phases[2].name, due_week=11)
    assert "laptop-and-access" in [t.id for t in moved.phases[2].tasks]
    assert "laptop-and-access" not in [t.id for t in moved.phases[0].tasks]


def test_phase_must_be_one_of_the_plan_phases(plan: Plan) -> None:
    with pytest.raises(BadInput, match=r"^Phase: choose one of Days 1-30"):
        edit(plan, phase="Days 91-120")


def test_tasks_are_sorted_by_due_week_within_their_phase(plan: Plan) -> None:
    edited = edit(plan, due_week=3)
    assert [t.due_week for t in edited.phases[0].tasks] == [1, 1, 2, 3]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"title": "  "}, r"^Title: write something here"),
        ({"description": ""}, r"^What to do: write something here"),
        ({"success_criteria": " "}, r"^Done when: write something here"),
        ({"owner": "ceo"}, r"^Owner: Input should be 'hire'"),
        ({"due_week": 40}, r"^Week: Input should be less than or equal to 13"),
        ({"due_week": -1}, r"^Week: Input should be greater than or equal to 0"),
        ({"sources": []}, r"^Sources: cite at least one corpus document"),
        ({"sources": ["backend-engineer", "not-a-document"]}, r"^Sources: not-a-document is not a corpus document"),
        ({"owner_name": "x" * 301}, r"^Owner's name: String should have at most 300 characters"),
    ],
)
def test_a_refusal_names_the_field_by_its_label(plan: Plan, change: dict[str, Any], message: str) -> None:
    with pytest.raises(BadInput, match=message):
        edit(plan, **change)


def test_the_owners_offered_are_the_schema_owners() -> None:
    assert OWNERS == ("hire", "manager", "buddy", "mentor", "hr", "it", "team")


def test_the_whole_plan_is_validated_after_the_edit(plan: Plan) -> None:
    """A valid task still goes through the Plan schema (here a phase that ends before it starts)."""
    broken = plan.model_copy(deep=True)
    phase = broken.phases[1]
    broken.phases[1] = Phase.model_construct(**{**dict(phase), "end_week": 2})  # built without validation
    with pytest.raises(BadInput, match=r"^the edited plan is not valid: phases.1: Value error, phase .* ends"):
        edit(broken, due_week=2)


def test_a_task_the_plan_no_longer_has_says_to_reload(plan: Plan) -> None:
    with pytest.raises(BadInput, match="no task 'gone' any more; reload"):
        TaskFields.of(plan, "gone")


# --------------------------------------------------------------------------- the review flag
def test_the_flag_is_cleared_only_when_asked(plan: Plan) -> None:
    plan = flagged(plan)
    kept = edit(plan, "first-pr", description="Ship the ledger fix as the first PR.")
    assert task(kept, "first-pr").needs_review and task(kept, "first-pr").review_reason == "Check the first PR's scope."
    cleared = edit_task(
        plan,
        "first-pr",
        fields(plan, "first-pr", description="Ship the ledger fix as the first PR."),
        clear_flag=True,
        known_sources=KNOWN,
    )
    settled = task(cleared.plan, "first-pr")
    assert (settled.needs_review, settled.review_reason) == (False, None)
    assert cleared.note.endswith("and cleared its review flag")


def test_clearing_the_flag_alone_is_an_edit(plan: Plan) -> None:
    plan = flagged(plan)
    result = edit_task(plan, "first-pr", fields(plan, "first-pr"), clear_flag=True, known_sources=KNOWN)
    assert not task(result.plan, "first-pr").needs_review
    assert result.note == f"cleared the review flag of “{task(plan, 'first-pr').title}”"


def test_text_changed_is_about_what_the_task_says_not_spaces_or_owners(plan: Plan) -> None:
    assert not text_changed(plan, "first-pr", fields(plan, "first-pr"))
    assert not text_changed(plan, "first-pr", fields(plan, "first-pr", owner="buddy", due_week=3))
    description = task(plan, "first-pr").description
    assert not text_changed(plan, "first-pr", fields(plan, "first-pr", description=f"  {description}\n"))
    assert text_changed(plan, "first-pr", fields(plan, "first-pr", description=description + " Pair on it."))
    assert text_changed(plan, "first-pr", fields(plan, "first-pr", title="Another title"))
    assert text_changed(plan, "first-pr", fields(plan, "first-pr", success_criteria="Merged."))


def test_the_picker_label_says_week_title_owner_and_flag(plan: Plan) -> None:
    plan = flagged(edit(plan, "first-pr", owner_name="Kenji"))
    t = task(plan, "first-pr")
    assert task_label(plan, "first-pr") == f"Week {t.due_week} · {t.title} · hire (Kenji) · to check"
    assert task_label(plan, "laptop-and-access").endswith("· it")


# --------------------------------------------------------------------------- adding and removing
def new(plan: Plan, **changes: Any) -> TaskFields:
    base = {
        "phase": plan.phases[-1].name,
        "title": "Present the ledger design",
        "description": "Walk the team through the ledger design.",
        "owner": "hire",
        "due_week": 12,
        "success_criteria": "The team agrees on next steps.",
        "sources": ["backend-engineer"],
    }
    return TaskFields.model_validate(base | changes)


def test_a_new_task_gets_an_id_from_its_title_and_no_hidden_fields(plan: Plan) -> None:
    result = add_task(plan, new(plan), KNOWN)
    added = task(result.plan, "present-the-ledger-design")
    assert added.skills == [] and added.tailored is False and not added.needs_review
    assert len(result.plan.all_tasks()) == len(plan.all_tasks()) + 1
    assert result.note == "added the task “Present the ledger design”"


def test_a_new_id_never_takes_one_already_used(plan: Plan) -> None:
    once = add_task(plan, new(plan, title="First PR"), KNOWN).plan
    twice = add_task(once, new(once, title="First PR"), KNOWN).plan
    assert [t.id for t in twice.all_tasks() if t.title == "First PR"] == ["first-pr-2", "first-pr-3"]


def test_a_new_id_is_spelled_by_the_one_slug_rule(plan: Plan) -> None:
    assert "lodz-office-tour" in {
        t.id for t in add_task(plan, new(plan, title="Łódź office tour"), KNOWN).plan.all_tasks()
    }


def test_a_new_task_is_checked_like_an_edited_one(plan: Plan) -> None:
    with pytest.raises(BadInput, match=r"^Title: write something here"):
        add_task(plan, new(plan, title=" "), KNOWN)
    with pytest.raises(BadInput, match=r"^Sources: nowhere is not a corpus document"):
        add_task(plan, new(plan, sources=["nowhere"]), KNOWN)


def test_a_task_is_removed_but_never_the_last_one(plan: Plan) -> None:
    result = remove_task(plan, "first-pr")
    assert "first-pr" not in {t.id for t in result.plan.all_tasks()}
    assert result.note == f"removed the task “{task(plan, 'first-pr').title}”"
    only = plan.model_copy(deep=True)
    for phase in only.phases:
        phase.tasks = [t for t in phase.tasks if t.id == "first-pr"]
    with pytest.raises(BadInput, match="only task"):
        remove_task(only, "first-pr")


# --------------------------------------------------------------------------- the text and the hire
def test_the_text_is_set_and_no_change_is_refused(plan: Plan) -> None:
    with pytest.raises(BadInput, match="nothing changed"):
        edit_text(plan, plan.summary, f" {plan.rationale} ")
    with pytest.raises(BadInput, match="must not be empty"):
        edit_text(plan, "  ", plan.rationale)
    result = edit_text(plan, "A new summary.", plan.rationale)
    assert result.plan.summary == "A new summary." and result.plan.all_tasks() == plan.all_tasks()
    assert result.note == "edited the summary"
    assert edit_text(plan, "A new summary.", "New reasons.").note == "edited the summary and the rationale"


def test_the_hire_details_are_set_after_drafting(plan: Plan) -> None:
    undated = plan.model_copy(deep=True)
    undated.hire.start_date = None
    result = edit_hire(undated, "  Zoë Quast ", date(2026, 1, 5), ORDERS)
    hire = result.plan.hire
    assert (hire.name, hire.start_date, result.plan.fit.team) == ("Zoë Quast", date(2026, 1, 5), ORDERS)
    assert (
        result.note == "set the name to Zoë Quast; set the start date to 2026-01-05; changed the team to Orders squad"
    )
    assert result.plan.all_tasks() == plan.all_tasks()  # a new team is recorded, the plan is not redrafted


def test_the_hire_details_can_be_removed_and_no_change_is_refused(plan: Plan) -> None:
    with pytest.raises(BadInput, match="nothing changed"):
        edit_hire(plan, plan.hire.name, plan.hire.start_date, plan.fit.team)
    cleared = edit_hire(plan, " ", None, None)
    assert (cleared.plan.hire.name, cleared.plan.hire.start_date) == (None, None)
    assert cleared.note == "removed the name; removed the start date"
    with pytest.raises(BadInput, match=r"^Name: at most 300 characters"):
        edit_hire(plan, "x" * 301, None, None)
