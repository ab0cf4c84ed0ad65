"""Comments on a plan, or on one task of the revision they were written on.

A comment names the revision it was written on, so a later edit never makes it point at
a task that changed under it. Admins read comments but never write them (``comment``
in :mod:`tailor.review.permissions`).
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from tailor.errors import BadInput
from tailor.review.acting import Part
from tailor.review.permissions import Action
from tailor.review.results import CommentOut
from tailor.review.rows import clean_text, revision_plan
from tailor.review.users import UserOut
from tailor.store.records import CommentRecord, utcnow

MAX_COMMENT_CHARS: Final = 4000


class Comments(Part):
    """Write and list comments."""

    def comment(self, user: UserOut, plan_id: int, text: str, task_id: str | None = None) -> CommentOut:
        """Comment on a plan, or on one task of its current revision."""
        body = clean_text(text, "comment", MAX_COMMENT_CHARS)
        with self._writing(user) as op:
            row = op.plan(plan_id, Action.COMMENT)
            if task_id is not None:
                task_id = task_id.strip()
                current = revision_plan(op.s, plan_id, row.current_revision)
                if task_id not in {t.id for t in current.all_tasks()}:
                    raise BadInput(f"plan {plan_id} has no task {task_id!r} in revision {row.current_revision}")
            comment = CommentRecord(
                plan_id=row.id,
                task_id=task_id or None,
                revision=row.current_revision,
                author_id=op.actor.id,
                text=body,
                created_at=utcnow(),
            )
            op.s.add(comment)
            op.s.flush()
            op.audit(
                "plan.comment",
                "comment",
                comment.id,
                plan_id=row.id,
                after={"text": body, "task_id": comment.task_id, "revision": comment.revision},
                detail={"task_id": comment.task_id},
            )
            return comment_out(comment)

    def list_comments(self, user: UserOut, plan_id: int, task_id: str | None = None) -> list[CommentOut]:
        with self._reading(user) as op:
            op.plan(plan_id, Action.READ)
            return comments_of(op.s, plan_id, task_id)


def comments_of(s: Session, plan_id: int, task_id: str | None = None) -> list[CommentOut]:
    """The plan's comments (only those on ``task_id`` if given), oldest first."""
    query = select(CommentRecord).where(CommentRecord.plan_id == plan_id)
    if task_id is not None:
        query = query.where(CommentRecord.task_id == task_id)
    return [comment_out(c) for c in s.scalars(query.order_by(CommentRecord.id))]


def comment_out(c: CommentRecord) -> CommentOut:
    return CommentOut(
        id=c.id,
        plan_id=c.plan_id,
        task_id=c.task_id,
        revision=c.revision,
        author=c.author.username,
        author_name=c.author.display_name,
        author_role=c.author.role,
        text=c.text,
        created_at=c.created_at,
    )
