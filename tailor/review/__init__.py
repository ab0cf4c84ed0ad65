"""Review and approval: users and sessions, the review service and its permission rules."""

from tailor.review.service import ReviewService

__all__ = ["ReviewService"]
