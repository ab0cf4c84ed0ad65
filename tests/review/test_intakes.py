"""A draft input's overrides change before the draft: the team the hire joins, the confirmed profile."""

from __future__ import annotations

import pytest

from tailor.errors import BadInput, IllegalTransition
from tailor.review.auth import UserOut
from tailor.review.service import ReviewService
from tailor.schema import Plan


def test_the_team_is_saved_with_the_intake_and_changed_before_the_draft(
    service: ReviewService, manager: UserOut, hr: UserOut
) -> None:
    intake_id = service.save_intake(manager, "Senior backend engineer, 8 years.", overrides={"team": "team-orders"})
    assert service.get_intake(manager, intake_id).draft_request().team == "team-orders"

    changed = service.update_intake(manager, intake_id, {"team": "team-live-stock", "seniority": "senior"})
    assert changed.overrides == {"team": "team-live-stock", "seniority": "senior"}
    # A key set to None is removed; the others stay.
    cleared = service.update_intake(manager, intake_id, {"team": None})
    assert cleared.overrides == {"seniority": "senior"}
    assert service.get_intake(manager, intake_id).draft_request().team is None

    updates = [e for e in service.audit_log(hr) if e.action == "intake.update"]
    assert [(e.actor, e.entity_id) for e in updates] == [(manager.username, str(intake_id))] * 2
    assert all(e.before_sha256 != e.after_sha256 for e in updates)


def test_a_bad_change_is_refused_and_changes_nothing(service: ReviewService, manager: UserOut) -> None:
    intake_id = service.save_intake(manager, "Senior backend engineer, 8 years.", overrides={"team": "team-orders"})
    with pytest.raises(BadInput, match="unknown override"):
        service.update_intake(manager, intake_id, {"colour": "blue"})
    with pytest.raises(BadInput, match="seniority"):
        service.update_intake(manager, intake_id, {"seniority": "wizard"})
    assert service.get_intake(manager, intake_id).overrides == {"team": "team-orders"}


def test_a_used_intake_cannot_change(service: ReviewService, manager: UserOut, sample_plan: Plan) -> None:
    intake_id = service.save_intake(manager, "Senior backend engineer, 8 years.")
    service.create_plan_from_draft(manager, intake_id, sample_plan)
    with pytest.raises(IllegalTransition, match="only open drafts can be changed"):
        service.update_intake(manager, intake_id, {"team": "team-orders"})
