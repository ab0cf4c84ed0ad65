"""Reading the audit log and a plan's whole history.

Every change writes its audit entry in its own transaction (:meth:`Operation.audit` in
:mod:`tailor.review.acting`), so the log cannot miss a change or record one that was
rolled back; the database refuses to update or delete an entry (see
:mod:`tailor.store.db`). This module only reads it back.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tailor.review.acting import Part
from tailor.review.comments import comments_of
from tailor.review.lifecycle import decisions_of
from tailor.review.permissions import Action
from tailor.review.results import AuditEventOut, PlanHistory
from tailor.review.rows import revisions
from tailor.review.users import UserOut
from tailor.store.records import AuditRecord


class Audit(Part):
    """A plan's history, and the audit log of one plan or of everything."""

    def history(self, user: UserOut, plan_id: int) -> PlanHistory:
        """Everything that happened to a plan, oldest first."""
        with self._reading(user) as op:
            op.plan(plan_id, Action.READ)
            return PlanHistory(
                plan_id=plan_id,
                revisions=revisions(op.s, plan_id),
                decisions=decisions_of(op.s, plan_id),
                comments=comments_of(op.s, plan_id),
                audit=audit_events(op.s, plan_id, limit=None),
            )

    def audit_log(self, user: UserOut, plan_id: int | None = None, limit: int | None = 1000) -> list[AuditEventOut]:
        """Audit events of one plan (anyone who can read it) or of everything (HR and admins)."""
        with self._reading(user) as op:
            if plan_id is None:
                op.require(Action.READ_AUDIT_LOG)
            else:
                op.plan(plan_id, Action.READ)
            return audit_events(op.s, plan_id, limit=limit)


def audit_events(s: Session, plan_id: int | None, *, limit: int | None) -> list[AuditEventOut]:
    """One plan's events (all of them), or the newest ``limit`` of everything; oldest first either way."""
    query = select(AuditRecord).order_by(AuditRecord.id)
    if plan_id is not None:
        query = query.where(AuditRecord.plan_id == plan_id)
    elif limit is not None:
        newest = select(AuditRecord.id).order_by(AuditRecord.id.desc()).limit(limit).subquery()
        query = query.where(AuditRecord.id.in_(select(newest.c.id)))
    return [
        AuditEventOut(
            id=a.id,
            at=a.at,
            actor=a.actor_username,
            action=a.action,
            entity_type=a.entity_type,
            entity_id=a.entity_id,
            plan_id=a.plan_id,
            before_sha256=a.before_sha256,
            after_sha256=a.after_sha256,
            detail=a.detail or {},
        )
        for a in s.scalars(query)
    ]
