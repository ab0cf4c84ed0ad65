"""Drafting again from one input, and what each viewer has seen of a plan: the review service's rules.

Generate is idempotent per intake: a repeat is refused with the plan it made (``AlreadyDrafted``),
and a second draft is saved only as the manager chose, replacing that plan (a ``regenerated``
revision) or kept beside it. "Since you last looked" starts at the latest revision a user opened
(``mark_seen``, recorded in the audit log), wrote or decided on; their own edits count as seen.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from tailor.errors import BadInput, Conflict, IllegalTransition, PermissionDenied
from tailor.review.auth import UserOut
from tailor.review.diff import diff_choices, seen_through
from tailor.review.intakes import AlreadyDrafted
from tailor.review.service import ReviewService
from tailor.schema import Plan
from tailor.store.records import AuditRecord, PlanRecord

BACKGROUND = "Eight years of payments work in Python and PostgreSQL; prefers pairing."


def _intake(service: ReviewService, manager: UserOut) -> int:
    return service.save_intake(manager, BACKGROUND, "Zoë", date(2025, 10, 6))


def _counts(service: ReviewService) -> tuple[int, int]:
    with service.db.read() as s:
        plans = s.scalar(select(func.count()).select_from(PlanRecord))
        audits = s.scalar(select(func.count()).select_from(AuditRecord))
    return int(plans or 0), int(audits or 0)


def _redrafted(plan: Plan, summary: str = "The second draft's summary.") -> Plan:
    copy = plan.model_copy(deep=True)
    copy.summary = summary
    copy.hire.name = None
    copy.hire.start_date = None
    return copy


# --------------------------------------------------------------------------- drafting again
def test_a_second_draft_from_the_same_input_is_refused_without_a_choice(
    service: ReviewService, manager: UserOut, sample_plan: Plan
) -> None:
    intake = _intake(service, manager)
    first = service.create_plan_from_draft(manager, intake, sample_plan)
    before = _counts(service)
    with pytest.raises(AlreadyDrafted) as refused:
        service.create_plan_from_draft(manager, intake, sample_plan)
    assert refused.value.plan_id == first.id and refused.value.intake_id == intake
    assert isinstance(refused.value, IllegalTransition)  # exit code 7 for the CLI and the API
    assert "replace that plan or to keep both" in refused.value.message
    assert _counts(service) == before  # no plan, no audit entry


def test_keep_both_saves_a_second_plan_and_the_input_points_at_it(
    service: ReviewService, manager: UserOut, sample_plan: Plan
) -> None:
    intake = _intake(service, manager)
    first = service.create_plan_from_draft(manager, intake, sample_plan)
    second = service.create_plan_from_draft(manager, intake, _redrafted(sample_plan), keep_existing=True)
    assert second.id != first.id and second.revision == 1
    assert second.plan.hire.name == "Zoë" and second.plan.hire.start_date == date(2025, 10, 6)  # from the input
    assert {p.id for p in service.list_plans(manager)} == {first.id, second.id}
    assert service.get_intake(manager, intake).plan_id == second.id
    created = [e for e in service.audit_log(manager, second.id) if e.action == "plan.create"]
    assert created[0].detail["intake"] == intake and created[0].detail["kept_beside"] == first.id


def test_keep_both_on_a_fresh_input_is_just_a_first_draft(
    service: ReviewService, manager: UserOut, sample_plan: Plan
) -> None:
    intake = _intake(service, manager)
    detail = service.create_plan_from_draft(manager, intake, sample_plan, keep_existing=True)
    created = [e for e in service.audit_log(manager, detail.id) if e.action == "plan.create"]
    assert "kept_beside" not in created[0].detail


def test_replace_makes_the_new_draft_the_next_revision_and_keeps_hand_set_details(
    service: ReviewService, manager: UserOut, sample_plan: Plan
) -> None:
    intake = _intake(service, manager)
    first = service.create_plan_from_draft(manager, intake, sample_plan)
    by_hand = first.plan.model_copy(deep=True)
    by_hand.hire.start_date = date(2026, 2, 2)  # set on the Plan page after drafting
    service.save_revision(manager, first.id, by_hand, expected_revision=1)

    replaced = service.replace_draft(manager, intake, _redrafted(sample_plan), expected_revision=2)
    assert (replaced.id, replaced.revision, replaced.status) == (first.id, 3, "draft")
    assert replaced.plan.summary == "The second draft's summary."
    assert replaced.plan.hire.start_date == date(2026, 2, 2) and replaced.plan.hire.name == first.plan.hire.name
    latest = replaced.revisions[-1]
    assert latest.reason == "regenerated" and f"input {intake}" in (latest.note or "")
    assert len(service.list_plans(manager)) == 1  # replaced, not duplicated
    assert service.get_revision(manager, first.id, 1).plan.summary == sample_plan.summary  # history kept


def test_replace_respects_the_lock_the_owner_and_the_order(
    service: ReviewService, manager: UserOut, manager2: UserOut, sample_plan: Plan
) -> None:
    intake = _intake(service, manager)
    with pytest.raises(IllegalTransition, match="generate one first"):
        service.replace_draft(manager, intake, sample_plan, expected_revision=1)
    first = service.create_plan_from_draft(manager, intake, sample_plan)
    service.save_revision(manager, first.id, _redrafted(first.plan, "Edited meanwhile."), expected_revision=1)
    before = _counts(service)
    with pytest.raises(Conflict):
        service.replace_draft(manager, intake, _redrafted(sample_plan), expected_revision=1)
    with pytest.raises(PermissionDenied):
        service.replace_draft(manager2, intake, _redrafted(sample_plan), expected_revision=2)
    assert _counts(service) == before
    assert service.get_plan(manager, first.id).plan.summary == "Edited meanwhile."


def test_a_replaced_approved_plan_goes_back_to_review(
    service: ReviewService, manager: UserOut, hr: UserOut, sample_plan: Plan
) -> None:
    unflagged = sample_plan.model_copy(deep=True)  # nothing left to check, so approval needs no flag choices
    for task in unflagged.all_tasks():
        task.needs_review, task.review_reason = False, None
    unflagged.review_flags = []
    for risk in unflagged.risks:
        risk.needs_review, risk.review_reason = False, None
    intake = _intake(service, manager)
    first = service.create_plan_from_draft(manager, intake, unflagged)
    service.submit(manager, first.id, 1)
    service.approve(hr, first.id, 1, "Fine.")
    assert service.replace_draft(manager, intake, _redrafted(sample_plan), expected_revision=1).status == "in_review"


def test_a_discarded_input_drafts_nothing(service: ReviewService, manager: UserOut, sample_plan: Plan) -> None:
    intake = _intake(service, manager)
    service.discard_intake(manager, intake)
    with pytest.raises(IllegalTransition, match="already discarded"):
        service.create_plan_from_draft(manager, intake, sample_plan, keep_existing=True)


# --------------------------------------------------------------------------- what a viewer has seen
def _views(service: ReviewService) -> int:
    with service.db.read() as s:
        return int(s.scalar(select(func.count()).where(AuditRecord.action == "plan.view")) or 0)


def test_mark_seen_returns_what_was_seen_before_and_records_only_news(
    service: ReviewService, manager: UserOut, hr: UserOut, sample_plan: Plan
) -> None:
    plan_id = service.create_plan_from_draft(manager, _intake(service, manager), sample_plan).id
    assert service.mark_seen(hr, plan_id, 1) is None  # a first look
    assert service.mark_seen(hr, plan_id, 1) == 1
    assert _views(service) == 1  # reopening writes nothing

    service.submit(manager, plan_id, 1)
    service.save_revision(manager, plan_id, _redrafted(sample_plan, "Second."), expected_revision=1)
    service.save_revision(manager, plan_id, _redrafted(sample_plan, "Third."), expected_revision=2)
    assert service.mark_seen(hr, plan_id, 3) == 1  # "since you last looked": 1 -> 3
    assert service.mark_seen(hr, plan_id, 3) == 3
    with service.db.read() as s:
        views = s.execute(select(AuditRecord.entity_id, AuditRecord.detail).where(AuditRecord.action == "plan.view"))
        assert [(entity, detail["revision"]) for entity, detail in views] == [(str(plan_id), 1), (str(plan_id), 3)]
    assert "plan.view" not in {e.action for e in service.audit_log(hr, plan_id)}  # not in the plan's own history


def test_what_a_user_wrote_or_decided_on_counts_as_seen(
    service: ReviewService, manager: UserOut, hr: UserOut, sample_plan: Plan
) -> None:
    plan_id = service.create_plan_from_draft(manager, _intake(service, manager), sample_plan).id
    assert service.mark_seen(manager, plan_id, 1) == 1  # the manager wrote revision 1
    service.submit(manager, plan_id, 1)
    service.save_revision(hr, plan_id, _redrafted(sample_plan, "HR's edit."), expected_revision=1)
    assert service.mark_seen(hr, plan_id, 2) == 2  # a reviewer's own edit is not news to them
    service.request_changes(hr, plan_id, 2, "Shorter first week.")
    service.save_revision(manager, plan_id, _redrafted(sample_plan, "Manager's answer."), expected_revision=2)
    assert service.mark_seen(hr, plan_id, 3) == 2  # decided on 2; 3 is new


def test_mark_seen_checks_the_revision_and_who_may_read(
    service: ReviewService, manager: UserOut, manager2: UserOut, admin: UserOut, sample_plan: Plan
) -> None:
    plan_id = service.create_plan_from_draft(manager, _intake(service, manager), sample_plan).id
    with pytest.raises(BadInput, match="revisions 1 to 1, not 2"):
        service.mark_seen(manager, plan_id, 2)
    with pytest.raises(PermissionDenied):
        service.mark_seen(manager2, plan_id, 1)
    assert _views(service) == 0
    assert service.mark_seen(admin, plan_id, 1) is None  # admins read plans, so they may look


# --------------------------------------------------------------------------- the diff default
def test_the_default_comparison_is_since_you_last_looked_then_generated_to_now() -> None:
    since = diff_choices(current=5, last_seen=3)
    assert [(c.kind, c.a, c.b) for c in since] == [("since_last_look", 3, 5), ("generated", 1, 5), ("pick", None, None)]
    assert since[0].label == "Since you last looked (revision 3 → 5)"
    assert [c.kind for c in diff_choices(current=5, last_seen=None)] == ["generated", "pick"]  # a first look
    assert [c.kind for c in diff_choices(current=5, last_seen=5)] == ["generated", "pick"]  # nothing new
    assert diff_choices(current=1, last_seen=None) == []  # nothing to compare


def test_the_default_follows_the_service_record(
    service: ReviewService, manager: UserOut, hr: UserOut, sample_plan: Plan
) -> None:
    plan_id = service.create_plan_from_draft(manager, _intake(service, manager), sample_plan).id
    service.submit(manager, plan_id, 1)
    service.mark_seen(hr, plan_id, 1)
    service.save_revision(manager, plan_id, _redrafted(sample_plan, "Second."), expected_revision=1)
    default = diff_choices(2, service.mark_seen(hr, plan_id, 2))[0]
    diff = service.diff_revisions(hr, plan_id, default.a or 0, default.b or 0)
    assert (default.kind, diff.a, diff.b) == ("since_last_look", 1, 2)
    assert "summary" in {c.path for c in diff.plan_changes}


def test_seen_through_walks_past_the_viewers_own_revisions_only(
    service: ReviewService, manager: UserOut, hr: UserOut, hr2: UserOut, sample_plan: Plan
) -> None:
    plan_id = service.create_plan_from_draft(manager, _intake(service, manager), sample_plan).id
    service.submit(manager, plan_id, 1)
    service.save_revision(hr, plan_id, _redrafted(sample_plan, "HR's edit."), expected_revision=1)
    service.save_revision(hr, plan_id, _redrafted(sample_plan, "HR again."), expected_revision=2)
    service.save_revision(hr2, plan_id, _redrafted(sample_plan, "Someone else."), expected_revision=3)
    revisions = service.get_plan(hr, plan_id).revisions
    assert seen_through(1, revisions, "hr") == 3  # the reviewer's own two edits
    assert seen_through(3, revisions, "hr") == 3  # hr2's revision 4 is news
    assert seen_through(1, revisions, "hr2") == 1
    assert seen_through(3, revisions, "hr2") == 4


# --------------------------------------------------------------------------- who may
@pytest.mark.parametrize(("who", "allowed"), [("manager", True), ("manager2", False), ("hr", False), ("admin", False)])
def test_only_the_inputs_manager_may_draft_again(
    service: ReviewService, users: dict[str, UserOut], sample_plan: Plan, who: str, allowed: bool
) -> None:
    intake = _intake(service, users["manager"])
    service.create_plan_from_draft(users["manager"], intake, sample_plan)
    before = _counts(service)
    for again in (
        lambda: service.replace_draft(users[who], intake, _redrafted(sample_plan), expected_revision=1),
        lambda: service.create_plan_from_draft(users[who], intake, _redrafted(sample_plan), keep_existing=True),
    ):
        if allowed:
            again()
        else:
            with pytest.raises(PermissionDenied):
                again()
            assert _counts(service) == before  # a refusal writes nothing, not even an audit entry
