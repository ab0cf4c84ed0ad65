"""The status machine: submit, approve, request changes, and who reviews.

::

    draft --submit--> in_review --approve--> approved
                          |  ^                   |
          request_changes |  | submit            | any edit (new revision)
                          v  |                   v
                   changes_requested          in_review

Which status each move may start from and where it leads are columns of the table in
:mod:`tailor.review.permissions` (so the pages show only the moves that can succeed);
this module makes the moves, records each HR decision, and says in words why a move
from the wrong status is refused (:class:`tailor.errors.IllegalTransition`). Approving a
revision that still has open review flags needs a choice for each one, resolved or
acknowledged with a reason (:func:`tailor.review.flags.settle`); the audit entry keeps them.
Edits are in :mod:`tailor.review.plans`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from tailor.errors import BadInput, IllegalTransition, NotFound
from tailor.review.acting import Part, cas, require_revision
from tailor.review.flags import FlagDecision, open_flags, settle
from tailor.review.permissions import TABLE, Action, next_status, status_allows
from tailor.review.results import DecisionKind, DecisionOut, PlanSummary
from tailor.review.rows import clean_text, load_revision, plan_state, plan_target, summary
from tailor.review.users import UserOut
from tailor.schema import Plan
from tailor.store.records import DecisionRecord, RevisionRecord, UserRecord, utcnow

MAX_REASON_CHARS: Final = 4000


class Lifecycle(Part):
    """Status moves and reviewer assignment; each move is one compare-and-set plus its audit entry."""

    def submit(self, user: UserOut, plan_id: int, expected_revision: int) -> PlanSummary:
        """The manager hands the plan to HR: draft or changes_requested -> in_review."""
        with self._writing(user) as op:
            row = op.plan(plan_id, Action.SUBMIT, for_update=True)
            require_revision(row, expected_revision)
            if not status_allows(Action.SUBMIT, row.status):
                raise IllegalTransition(_cannot_submit(plan_id, row.status))
            if row.task_count == 0:
                raise BadInput(f"plan {plan_id} has no tasks; add at least one before submitting")
            before = plan_state(row)
            new_status = next_status(Action.SUBMIT, row.status)
            cas(op.s, row, expected_revision, status=new_status, updated_at=utcnow())
            moved = {"revision": row.current_revision, "from": before["status"], "to": new_status}
            op.audit_plan(row, "plan.submit", before=before, detail=moved)
            return summary(op.s, row)

    def approve(
        self,
        user: UserOut,
        plan_id: int,
        expected_revision: int,
        reason: str,
        flags: Sequence[FlagDecision] = (),
    ) -> PlanSummary:
        """HR approves the exact revision they reviewed. Nobody approves their own revision.

        A revision with open review flags (:func:`tailor.review.flags.open_flags`) is approved only
        with a choice for each one in ``flags``: resolved (checked, nothing left to do), or
        acknowledged with a reason (it goes out as it is). Without them the approval is refused
        with ``BadInput`` naming the open flags; the audit entry records every choice.
        """
        return self._decide(user, plan_id, expected_revision, reason, "approve", flags)

    def request_changes(self, user: UserOut, plan_id: int, expected_revision: int, reason: str) -> PlanSummary:
        """HR sends the plan back to its manager with a reason."""
        return self._decide(user, plan_id, expected_revision, reason, "request_changes")

    def _decide(
        self,
        user: UserOut,
        plan_id: int,
        expected: int,
        reason: str,
        decision: DecisionKind,
        flags: Sequence[FlagDecision] = (),
    ) -> PlanSummary:
        """Record an HR decision on revision ``expected`` and move the plan accordingly."""
        action = Action(decision)
        text = clean_text(reason, "reason", MAX_REASON_CHARS)
        with self._writing(user) as op:
            op.require(action)  # the role first, before anything is loaded or locked
            row = op.plan(plan_id, action, for_update=True)
            require_revision(row, expected)
            if not status_allows(action, row.status):
                raise IllegalTransition(_not_in_review(plan_id, row.status, decision))
            latest = load_revision(op.s, plan_id, row.current_revision)
            if TABLE[action].four_eyes:
                op.require(action, plan_target(row, latest_author=latest.author.username))
            # After the permission checks: who may not approve hears that first, whatever the flags.
            settled = _settle_flags(plan_id, latest, flags) if decision == "approve" else []
            before = plan_state(row)
            new_status = next_status(action, row.status)
            # The reviewer is whoever decided last: the Plans list names the HR user who acted.
            values: dict[str, object] = {"status": new_status, "updated_at": utcnow(), "reviewer_id": op.actor.id}
            cas(op.s, row, expected, **values)
            op.s.add(
                DecisionRecord(
                    plan_id=row.id,
                    decision=decision,
                    reason=text,
                    reviewer_id=op.actor.id,
                    revision=row.current_revision,
                    created_at=utcnow(),
                )
            )
            decided: dict[str, object] = {"revision": row.current_revision, "reason": text, "to": new_status}
            if settled:
                decided["flags"] = settled
            op.audit_plan(row, f"plan.{decision}", before=before, detail=decided)
            op.s.flush()
            return summary(op.s, row)

    def assign_reviewer(self, user: UserOut, plan_id: int, reviewer: str | None) -> PlanSummary:
        """Assign (or with ``None`` clear) the HR reviewer of a plan. HR and admins."""
        with self._writing(user) as op:
            op.require(Action.ASSIGN_REVIEWER)
            row = op.plan(plan_id, Action.ASSIGN_REVIEWER, for_update=True)
            reviewer_row = None
            if reviewer is not None:
                name = reviewer.strip().lower()
                reviewer_row = op.s.scalar(select(UserRecord).where(UserRecord.username == name))
                if reviewer_row is None:
                    raise NotFound(f"no user named {reviewer!r}")
                if reviewer_row.role != "hr" or not reviewer_row.active:
                    raise BadInput(f"{reviewer_row.username} is not an active HR user; only HR can review")
            before = plan_state(row)
            row.reviewer_id = reviewer_row.id if reviewer_row else None
            row.updated_at = utcnow()
            op.s.flush()
            assigned = {"reviewer": reviewer_row.username if reviewer_row else None}
            op.audit_plan(row, "plan.assign_reviewer", before=before, detail=assigned)
            return summary(op.s, row)

    def list_decisions(self, user: UserOut, plan_id: int) -> list[DecisionOut]:
        with self._reading(user) as op:
            op.plan(plan_id, Action.READ)
            return decisions_of(op.s, plan_id)


def decisions_of(s: Session, plan_id: int) -> list[DecisionOut]:
    """Every decision on the plan, oldest first."""
    rows = s.scalars(select(DecisionRecord).where(DecisionRecord.plan_id == plan_id).order_by(DecisionRecord.id))
    return [
        DecisionOut(
            id=d.id,
            plan_id=d.plan_id,
            decision=d.decision,
            reason=d.reason,
            reviewer=d.reviewer.username,
            reviewer_name=d.reviewer.display_name,
            revision=d.revision,
            created_at=d.created_at,
        )
        for d in rows
    ]


def _settle_flags(
    plan_id: int, revision: RevisionRecord, decisions: Sequence[FlagDecision]
) -> list[dict[str, str | None]]:
    """The audit record of the reviewer's choice for each open flag of the revision; BadInput if one is missing."""
    items = open_flags(Plan.model_validate_json(revision.plan_json))
    try:
        return settle(items, decisions)
    except BadInput as exc:
        raise BadInput(f"plan {plan_id} revision {revision.number}: {exc.message}") from None


def _cannot_submit(plan_id: int, status: str) -> str:
    if status == "in_review":
        return f"plan {plan_id} is already in review"
    if status == "approved":
        return f"plan {plan_id} is approved; only an edit can reopen it"
    return f"plan {plan_id} is {status}; it cannot be submitted"


def _not_in_review(plan_id: int, status: str, decision: DecisionKind) -> str:
    verb = "approved" if decision == "approve" else "sent back"
    if status == "draft":
        return f"plan {plan_id} is a draft; its manager must submit it before it can be {verb}"
    if status == "changes_requested":
        return f"plan {plan_id} is waiting for changes from its manager; it must be resubmitted first"
    if status == "approved":
        if decision == "approve":
            return f"plan {plan_id} is already approved"
        return f"plan {plan_id} is approved; only an edit can reopen it"
    return f"plan {plan_id} is {status}; it cannot be {verb}"
