"""The in-app inbox, against a real database: who is told what, and when it counts as read."""

from __future__ import annotations

import pytest

from tailor.errors import PermissionDenied
from tailor.review.auth import UserOut
from tailor.review.flags import acknowledge_all, open_flags
from tailor.review.inbox import has_inbox
from tailor.review.service import ReviewService
from tailor.schema import Plan


def _plan(service: ReviewService, manager: UserOut, plan: Plan) -> int:
    intake = service.save_intake(manager, "Senior backend engineer, eight years of Python.", "Zoë Quast")
    return service.create_plan_from_draft(manager, intake, plan).id


def test_hr_asks_for_changes_and_the_manager_is_told_with_a_link_to_the_plan(
    service: ReviewService, manager: UserOut, manager2: UserOut, hr: UserOut, hr2: UserOut, sample_plan: Plan
) -> None:
    plan_id = _plan(service, manager, sample_plan)
    assert service.inbox(manager).items == [] and service.inbox(hr).items == []

    service.submit(manager, plan_id, 1)
    # Every HR user may review it (nobody is assigned yet); the manager did it and is not told.
    for reviewer in (hr, hr2):
        box = service.inbox(reviewer)
        assert [(i.kind, i.plan_id, i.actor, i.unread) for i in box.items] == [
            ("submitted", plan_id, manager.username, True)
        ]
        assert box.unread == 1 and box.items[0].hire == sample_plan.hire.name
    assert service.inbox(manager).items == []

    service.request_changes(hr, plan_id, 1, "Add a security onboarding task.")
    box = service.inbox(manager)
    assert box.unread == 1
    item = box.items[0]
    assert (item.kind, item.plan_id, item.actor_name, item.reason, item.revision) == (
        "changes_requested",
        plan_id,
        hr.display_name,
        "Add a security onboarding task.",
        1,
    )
    # Another manager, and an admin, hear nothing of it.
    assert service.inbox(manager2).items == []


def test_opening_the_plan_marks_its_items_read_and_new_events_are_unread_again(
    service: ReviewService, manager: UserOut, hr: UserOut, hr2: UserOut, admin: UserOut, sample_plan: Plan
) -> None:
    plan_id = _plan(service, manager, sample_plan)
    other_id = _plan(service, manager, sample_plan)
    service.submit(manager, plan_id, 1)
    service.request_changes(hr, plan_id, 1, "Add a security onboarding task.")
    service.submit(manager, other_id, 1)
    service.approve(hr, other_id, 1, "Looks right.", acknowledge_all(open_flags(sample_plan), "checked"))
    assert service.inbox(manager).unread == 2

    assert service.mark_inbox_read(manager, plan_id) == 1
    box = service.inbox(manager)
    assert box.unread == 1
    assert {(i.plan_id, i.kind, i.unread) for i in box.items} == {
        (plan_id, "changes_requested", False),
        (other_id, "approved", True),
    }
    assert service.mark_inbox_read(manager, plan_id) == 0  # nothing new: nothing written
    reads = [e for e in service.audit_log(hr) if e.action == "inbox.read"]
    assert [(e.actor, e.entity_type, e.entity_id, e.plan_id) for e in reads] == [
        (manager.username, "inbox", str(plan_id), None)
    ]
    assert "inbox.read" not in {e.action for e in service.history(manager, plan_id).audit}

    # The manager resubmits: now it is HR's again, and hr (who decided before) is its reviewer.
    service.mark_inbox_read(hr, plan_id)  # hr had opened it to decide
    service.submit(manager, plan_id, 1)
    assert [i.kind for i in service.inbox(hr).items if i.unread and i.plan_id == plan_id] == ["submitted"]
    assert plan_id not in {i.plan_id for i in service.inbox(hr2).items if i.unread}
    service.approve(hr, plan_id, 1, "Done.", acknowledge_all(open_flags(sample_plan), "checked"))
    newest = service.inbox(manager).items[0]
    assert (newest.plan_id, newest.kind, newest.unread) == (plan_id, "approved", True)
    assert (service.inbox(admin).items, service.inbox(admin).unread) == ([], 0)  # admins decide nothing
    assert [has_inbox(u) for u in (manager, hr, admin)] == [True, True, False]


def test_only_someone_who_may_read_the_plan_can_mark_it_read(
    service: ReviewService, manager: UserOut, manager2: UserOut, hr: UserOut, sample_plan: Plan
) -> None:
    plan_id = _plan(service, manager, sample_plan)
    service.submit(manager, plan_id, 1)
    with pytest.raises(PermissionDenied):
        service.mark_inbox_read(manager2, plan_id)
    assert service.inbox(hr).unread == 1
    assert service.mark_inbox_read(hr, plan_id) == 1
    assert service.inbox(hr).unread == 0


def test_the_limit_keeps_the_newest_but_the_count_covers_all(
    service: ReviewService, manager: UserOut, hr: UserOut, sample_plan: Plan
) -> None:
    ids = [_plan(service, manager, sample_plan) for _ in range(3)]
    for plan_id in ids:
        service.submit(manager, plan_id, 1)
    box = service.inbox(hr, limit=2)
    assert [i.plan_id for i in box.items] == [ids[2], ids[1]]
    assert box.unread == 3
