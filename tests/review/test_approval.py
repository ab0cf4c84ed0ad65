"""Approving a plan with open review flags: the service asks for a choice on each one, records it in the
audit log, and the four-eyes rule still comes first. On both backends (the ``service`` fixture)."""

from __future__ import annotations

from datetime import date

import pytest

from tailor.errors import BadInput, PermissionDenied
from tailor.review.auth import UserOut
from tailor.review.flags import FlagDecision, flag, open_flags, task_reason
from tailor.review.service import ReviewService
from tailor.schema import Plan
from tests.fixtures.db import make_plan


def flagged_plan() -> Plan:
    """The sample plan (one task a person flagged) after a draft whose model was down for two tasks."""
    plan = make_plan()
    for task in plan.all_tasks()[:2]:
        task.review_reason = task_reason("model_unavailable")
        task.needs_review = True
    plan.review_flags = [
        flag("summary", "model_unavailable", detail="model call to local/x failed (connection): [Errno 111] refused"),
        flag("hire.seniority", "profile_uncertain", reason="the title says senior; the text gives 3 years"),
    ]
    return plan


def in_review(service: ReviewService, manager: UserOut, plan: Plan) -> int:
    intake = service.save_intake(manager, "Eight years of payments work.", "Zoë", date(2025, 10, 6))
    plan_id = service.create_plan_from_draft(manager, intake, plan).id
    service.submit(manager, plan_id, 1)
    return plan_id


def choices(service: ReviewService, user: UserOut, plan_id: int) -> list[FlagDecision]:
    """The summary acknowledged with a reason, everything else resolved."""
    return [
        FlagDecision(key=i.key, choice="acknowledged", reason="The standard summary is accurate.")
        if i.about == "Plan summary"
        else FlagDecision(key=i.key, choice="resolved")
        for i in open_flags(service.get_plan(user, plan_id).plan)
    ]


def test_approval_with_open_flags_and_no_choices_is_refused(
    service: ReviewService, manager: UserOut, hr: UserOut
) -> None:
    plan_id = in_review(service, manager, flagged_plan())
    with pytest.raises(BadInput) as refused:
        service.approve(hr, plan_id, 1, "Looks fine")
    message = str(refused.value)
    assert message.startswith(f"plan {plan_id} revision 1: 5 open flags need a choice before the plan can be approved")
    assert "resolved, or acknowledge it with a reason" in message and "task:" in message
    assert service.get_plan(hr, plan_id).status == "in_review"
    assert service.list_decisions(hr, plan_id) == []
    assert "plan.approve" not in [e.action for e in service.audit_log(hr, plan_id)]


def test_approval_with_some_flags_left_open_or_unexplained_is_refused(
    service: ReviewService, manager: UserOut, hr: UserOut
) -> None:
    plan_id = in_review(service, manager, flagged_plan())
    every = choices(service, hr, plan_id)
    with pytest.raises(BadInput, match="1 open flag needs a choice"):
        service.approve(hr, plan_id, 1, "Looks fine", every[1:])
    unexplained = [FlagDecision(key=d.key, choice="acknowledged") for d in every]
    with pytest.raises(BadInput, match="needs a reason"):
        service.approve(hr, plan_id, 1, "Looks fine", unexplained)
    assert service.get_plan(hr, plan_id).status == "in_review"


def test_approval_with_a_choice_for_each_flag_is_recorded_in_the_audit_log(
    service: ReviewService, manager: UserOut, hr: UserOut
) -> None:
    plan_id = in_review(service, manager, flagged_plan())
    decided = choices(service, hr, plan_id)
    assert service.approve(hr, plan_id, 1, "Checked every flag", decided).status == "approved"

    [entry] = [e for e in service.audit_log(hr, plan_id) if e.action == "plan.approve"]
    recorded = entry.detail["flags"]
    assert [r["key"] for r in recorded] == [d.key for d in decided]
    by_about = {r["about"]: r for r in recorded}
    assert by_about["Plan summary"] == {
        "key": by_about["Plan summary"]["key"],
        "about": "Plan summary",
        "kind": "model_unavailable",
        "choice": "acknowledged",
        "reason": "The standard summary is accurate.",
    }
    assert by_about["Hire profile: level"]["choice"] == "resolved"
    assert {r["choice"] for r in recorded if r["about"].startswith("Task:")} == {"resolved"}
    assert entry.detail["reason"] == "Checked every flag"
    # The technical detail of a flag is not what HR decided on, and stays out of the decision record.
    assert "Errno" not in str(recorded)
    assert service.history(hr, plan_id).audit[-1].detail["flags"] == recorded


def test_a_flag_cleared_by_an_edit_needs_no_choice_and_a_stale_choice_is_refused(
    service: ReviewService, manager: UserOut, hr: UserOut
) -> None:
    plan_id = in_review(service, manager, flagged_plan())
    stale = choices(service, hr, plan_id)
    fixed = service.get_plan(manager, plan_id).plan
    for task in fixed.all_tasks():
        task.needs_review, task.review_reason = False, None
    fixed.review_flags = []
    service.save_revision(manager, plan_id, fixed, 1, note="flags checked and cleared")
    with pytest.raises(BadInput, match="there is no open flag plan:0 on this revision; reload the plan"):
        service.approve(hr, plan_id, 2, "ok", stale)
    # Nothing is open any more: an approval needs no choice, and records none.
    assert service.approve(hr, plan_id, 2, "All clear").status == "approved"
    [entry] = [e for e in service.audit_log(hr, plan_id) if e.action == "plan.approve"]
    assert "flags" not in entry.detail


def test_four_eyes_holds_whatever_the_flags(
    service: ReviewService, manager: UserOut, hr: UserOut, hr2: UserOut
) -> None:
    plan_id = in_review(service, manager, flagged_plan())
    edited = service.get_plan(hr, plan_id).plan
    edited.summary = "HR's own wording of the summary."
    service.save_revision(hr, plan_id, edited, 1)
    # The author of the revision is refused for four-eyes, with or without choices for the flags.
    with pytest.raises(PermissionDenied, match="four-eyes"):
        service.approve(hr, plan_id, 2, "my own edit")
    with pytest.raises(PermissionDenied, match="four-eyes"):
        service.approve(hr, plan_id, 2, "my own edit", choices(service, hr, plan_id))
    with pytest.raises(PermissionDenied):
        service.approve(manager, plan_id, 2, "managers never approve", choices(service, manager, plan_id))
    assert service.approve(hr2, plan_id, 2, "Second pair of eyes", choices(service, hr2, plan_id)).status == "approved"
    assert [d.reviewer for d in service.list_decisions(hr, plan_id)] == ["hr2"]


def test_requesting_changes_needs_no_choice_for_the_flags(
    service: ReviewService, manager: UserOut, hr: UserOut
) -> None:
    plan_id = in_review(service, manager, flagged_plan())
    assert service.request_changes(hr, plan_id, 1, "Please personalise the tasks").status == "changes_requested"


def test_the_reviewer_is_whoever_decided_last(
    service: ReviewService, manager: UserOut, hr: UserOut, hr2: UserOut
) -> None:
    plan_id = in_review(service, manager, flagged_plan())
    service.request_changes(hr, plan_id, 1, "Name the buddy")
    assert service.get_plan(manager, plan_id).summary.reviewer == "hr"
    service.submit(manager, plan_id, 1)
    service.approve(hr2, plan_id, 1, "Fine now", choices(service, hr2, plan_id))
    assert service.get_plan(manager, plan_id).summary.reviewer == "hr2"
