"""The in-app inbox: what happened to plans that the signed-in user should act on.

It is read from the audit log, which already records every submission and decision in the
transaction that made it, so the inbox cannot miss one or show one that was rolled back,
and it needs no table of its own. Who an event is for comes from the permission table:

=====================  ============================================  =======================
audit action           for                                           what they do next
=====================  ============================================  =======================
plan.submit            whoever may approve it (HR): the plan's       review it
                       reviewer if it has one, else every HR user
plan.request_changes   whoever may resubmit it (its manager)         change it, resubmit
plan.approve           whoever may resubmit it (its manager)         share it with the hire
=====================  ============================================  =======================

Nobody is told about what they did themselves; admins decide nothing and get nothing.

Read state: opening a plan marks every item about it read by appending an ``inbox.read``
entry (entity ``inbox``, entity id the plan id) to the audit log. The entry leaves
``plan_id`` empty, so the plan's own History does not fill up with who looked at it. An
item is unread while its audit id is above the newest such entry of the user for its plan.
Audit ids grow with each insert; on PostgreSQL two concurrent transactions can commit out of
id order, so an event committed in the same instant as a read may count as read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import ColumnElement, Select, String, and_, cast, false, func, or_, select
from sqlalchemy.orm import Session, aliased

from tailor.review.acting import Part
from tailor.review.permissions import Action, Actor, Grant, grant
from tailor.review.users import UserOut
from tailor.store.records import AuditRecord, HireRecord, PlanRecord, UserRecord

_ItemsQuery = Select[AuditRecord, HireRecord, UserRecord, bool]  # the acting user may be gone: None
InboxKind = Literal["submitted", "changes_requested", "approved"]
KINDS: Final[dict[str, InboxKind]] = {
    "plan.submit": "submitted",
    "plan.request_changes": "changes_requested",
    "plan.approve": "approved",
}
READ_ACTION: Final = "inbox.read"
_DECISIONS: Final = ("plan.request_changes", "plan.approve")


class InboxItem(BaseModel):
    """One thing that happened to a plan, for one reader."""

    model_config = ConfigDict(frozen=True)

    id: int  # the audit entry it comes from
    plan_id: int
    kind: InboxKind
    actor: str
    actor_name: str
    at: datetime
    hire: str  # the hire's name, or the job title when the plan has no name
    revision: int | None
    reason: str | None  # an HR decision's reason
    unread: bool


class InboxOut(BaseModel):
    """The newest items (unread or not) and how many of all the user's items are unread."""

    model_config = ConfigDict(frozen=True)

    items: list[InboxItem]
    unread: int


class Inbox(Part):
    """The signed-in user's inbox, and marking a plan's items read when it is opened."""

    def inbox(self, user: UserOut, *, limit: int = 20) -> InboxOut:
        """The user's newest ``limit`` items, newest first, and the count of unread ones."""
        with self._reading(user) as op:
            op.require(Action.READ)
            query = _items_query(op.actor)
            rows = op.s.execute(query.order_by(AuditRecord.id.desc()).limit(max(limit, 0))).all()
            unread = _count_unread(op.s, query)
            items = [_item(entry, hire, who, new) for entry, hire, who, new in rows]
            return InboxOut(items=items, unread=unread)

    def mark_inbox_read(self, user: UserOut, plan_id: int) -> int:
        """Mark the user's items about ``plan_id`` read (anyone who may read the plan); returns how many were unread.

        Checked in a read transaction first, so opening a plan with nothing new writes nothing.
        """
        with self._reading(user) as op:
            op.plan(plan_id, Action.READ)
            if not _count_unread(op.s, _items_query(op.actor).where(AuditRecord.plan_id == plan_id)):
                return 0
        with self._writing(user) as op:
            op.plan(plan_id, Action.READ)
            unread = _count_unread(op.s, _items_query(op.actor).where(AuditRecord.plan_id == plan_id))
            if unread:
                op.audit(READ_ACTION, "inbox", plan_id, detail={"items": unread})
            return unread


def has_inbox(user: Actor) -> bool:
    """Whether anything is ever sent to ``user``: only to those who may approve or resubmit plans."""
    return any(grant(user, action) is not Grant.NO for action in (Action.APPROVE, Action.SUBMIT))


def _for(actor: UserRecord) -> ColumnElement[bool]:
    """Which events are this user's, from the permission table (see the module docstring)."""
    conditions: list[ColumnElement[bool]] = []
    if grant(actor, Action.APPROVE) is not Grant.NO:
        assigned = or_(PlanRecord.reviewer_id.is_(None), PlanRecord.reviewer_id == actor.id)
        conditions.append(and_(AuditRecord.action == "plan.submit", assigned))
    resubmit = grant(actor, Action.SUBMIT)
    if resubmit is not Grant.NO:
        decided = AuditRecord.action.in_(_DECISIONS)
        conditions.append(and_(decided, PlanRecord.manager_id == actor.id) if resubmit is Grant.OWN else decided)
    return or_(*conditions) if conditions else false()


def _items_query(actor: UserRecord) -> _ItemsQuery:
    """Every event for ``actor`` with its hire, who acted, and whether it is unread."""
    marks = (
        select(AuditRecord.entity_id.label("plan"), func.max(AuditRecord.id).label("upto"))
        .where(AuditRecord.action == READ_ACTION, AuditRecord.actor_id == actor.id)
        .group_by(AuditRecord.entity_id)
        .subquery()
    )
    who = aliased(UserRecord)
    unread = (AuditRecord.id > func.coalesce(marks.c.upto, 0)).label("unread")
    return (
        select(AuditRecord, HireRecord, who, unread)
        .join(PlanRecord, PlanRecord.id == AuditRecord.plan_id)
        .join(HireRecord, HireRecord.id == PlanRecord.hire_id)
        .outerjoin(who, who.id == AuditRecord.actor_id)
        .outerjoin(marks, marks.c.plan == cast(AuditRecord.plan_id, String))
        .where(AuditRecord.action.in_(KINDS), AuditRecord.actor_id != actor.id, _for(actor))
    )


def _count_unread(s: Session, query: _ItemsQuery) -> int:
    unread = query.where(query.selected_columns.unread).subquery()
    return int(s.scalar(select(func.count()).select_from(unread)) or 0)


def _item(entry: AuditRecord, hire: HireRecord, who: UserRecord | None, unread: bool) -> InboxItem:
    detail = entry.detail or {}
    revision = detail.get("revision")
    reason = detail.get("reason")
    return InboxItem(
        id=entry.id,
        plan_id=entry.plan_id or 0,
        kind=KINDS[entry.action],
        actor=entry.actor_username,
        actor_name=who.display_name if who is not None else entry.actor_username,
        at=entry.at,
        hire=hire.name or hire.role_title,
        revision=revision if isinstance(revision, int) else None,
        reason=reason if isinstance(reason, str) else None,
        unread=bool(unread),
    )
