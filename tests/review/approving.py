"""Approving in tests: a reviewer's choice for every open flag, as the review page sends it."""

from __future__ import annotations

from tailor.review.flags import FlagDecision, acknowledge_all, open_flags
from tailor.review.service import ReviewService
from tailor.review.users import UserOut


def checked(service: ReviewService, user: UserOut, plan_id: int) -> list[FlagDecision]:
    """Every open flag of the plan's current revision acknowledged, with the reason a reviewer would give."""
    return acknowledge_all(open_flags(service.get_plan(user, plan_id).plan), "Checked with the manager.")
