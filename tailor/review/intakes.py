"""Drafts in progress: what a manager typed, saved before any model call.

An intake is committed first, so a draft that fails (model down, process killed) loses
nothing: it stays listed as ``failed`` and the manager can retry it. Only its manager
ever sees it (``use_draft`` in :mod:`tailor.review.permissions`). Turning an intake into
a plan is :meth:`tailor.review.plans.Plans.create_plan_from_draft`.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Final

from pydantic import ValidationError
from sqlalchemy import select

from tailor.errors import BadInput, IllegalTransition, NotFound
from tailor.review.acting import Operation, Part
from tailor.review.permissions import Action, Target
from tailor.review.results import IntakeOut
from tailor.review.rows import clean_text
from tailor.review.users import UserOut
from tailor.schema import DraftRequest
from tailor.store.records import IntakeRecord, UserRecord

# ``team`` is the team profile the hire joins; the engine refuses an id the corpus does not have.
OVERRIDE_FIELDS: Final = frozenset({"role", "role_family", "seniority", "years_experience", "skills", "team", "model"})
OPEN: Final = ("pending", "failed")  # the intakes still waiting for a plan


class AlreadyDrafted(IllegalTransition):
    """A plan was drafted from this intake already: drafting again must say whether it replaces that plan.

    Generate is idempotent per intake. A second plan from the same input is never made by a
    repeated click: the caller chooses ``replace_draft`` (a new revision of the plan) or
    ``create_plan_from_draft(..., keep_existing=True)`` (a second plan), and the page offers both.
    """

    def __init__(self, intake_id: int, plan_id: int) -> None:
        super().__init__(
            f"intake {intake_id} is already used (plan {plan_id}): draft again to replace that plan or to keep both"
        )
        self.intake_id = intake_id
        self.plan_id = plan_id


class Intakes(Part):
    """Save, list, fail and discard a manager's draft inputs."""

    def save_intake(
        self,
        user: UserOut,
        background_text: str,
        name: str | None = None,
        start_date: date | None = None,
        overrides: dict[str, Any] | None = None,
    ) -> int:
        """Save what the manager typed, committed before any model call. Returns the intake id."""
        text = clean_text(background_text, "background text", self.settings.max_background_chars)
        request, stored = _checked(text, name or None, start_date, overrides or {})
        with self._writing(user) as op:
            op.require(Action.START_DRAFT)
            row = IntakeRecord(
                manager_id=op.actor.id,
                name=request.name,
                start_date=request.start_date,
                background_text=text,
                overrides=stored,
                status="pending",
            )
            op.s.add(row)
            op.s.flush()
            after = {"background": text, "name": row.name, "start_date": row.start_date, "overrides": stored}
            op.audit("intake.save", "intake", row.id, after=after, detail={"chars": len(text)})
            return row.id

    def list_intakes(self, user: UserOut, *, include_closed: bool = False) -> list[IntakeOut]:
        """The manager's own intakes not yet turned into a plan (pending or failed), newest first."""
        with self._reading(user) as op:
            op.require(Action.LIST_DRAFTS)
            query = select(IntakeRecord).where(IntakeRecord.manager_id == op.actor.id)
            if not include_closed:
                query = query.where(IntakeRecord.status.in_(OPEN))
            rows = op.s.scalars(query.order_by(IntakeRecord.id.desc()))
            return [intake_out(r, op.actor) for r in rows]

    def get_intake(self, user: UserOut, intake_id: int) -> IntakeOut:
        with self._reading(user) as op:
            return intake_out(own_intake(op, intake_id), op.actor)

    def update_intake(self, user: UserOut, intake_id: int, overrides: dict[str, Any]) -> IntakeOut:
        """Change an open intake's overrides before a draft: a key set to None is removed.

        The New plan page saves what the manager chooses after the background was saved (the
        confirmed profile, the team the hire joins) here, before any model call, so resuming
        the intake drafts the same hire for the same team.
        """
        with self._writing(user) as op:
            row = own_intake(op, intake_id)
            if row.status not in OPEN:
                raise IllegalTransition(f"intake {intake_id} is {row.status}; only open drafts can be changed")
            before = dict(row.overrides or {})
            _, stored = _checked(row.background_text, row.name, row.start_date, {**before, **overrides})
            row.overrides = stored
            op.audit("intake.update", "intake", row.id, before={"overrides": before}, after={"overrides": stored})
            return intake_out(row, op.actor)

    def record_intake_failure(self, user: UserOut, intake_id: int, error: str) -> IntakeOut:
        """Mark a generation attempt as failed; the intake stays listed so the manager can retry."""
        with self._writing(user) as op:
            row = own_intake(op, intake_id)
            if row.status not in OPEN:
                raise IllegalTransition(f"intake {intake_id} is {row.status}; it cannot fail now")
            row.status = "failed"
            row.error = (error or "unknown error").strip()[:2000]
            op.audit("intake.fail", "intake", row.id, detail={"error": row.error})
            return intake_out(row, op.actor)

    def discard_intake(self, user: UserOut, intake_id: int) -> None:
        with self._writing(user) as op:
            row = own_intake(op, intake_id)
            if row.status not in OPEN:
                raise IllegalTransition(f"intake {intake_id} is {row.status}; only open drafts can be discarded")
            row.status = "discarded"
            op.audit("intake.discard", "intake", row.id)


def own_intake(op: Operation, intake_id: int) -> IntakeRecord:
    """The intake, if the acting user is its manager (NotFound first, then PermissionDenied)."""
    row = op.s.get(IntakeRecord, intake_id)
    if row is None:
        raise NotFound(f"no draft input with id {intake_id}")
    op.require(Action.USE_DRAFT, Target(row.id, row.manager.username))
    return row


def intake_out(row: IntakeRecord, manager: UserRecord) -> IntakeOut:
    return IntakeOut(
        id=row.id,
        manager=manager.username,
        name=row.name,
        start_date=row.start_date,
        background=row.background_text,
        overrides=dict(row.overrides or {}),
        status=row.status,
        error=row.error,
        plan_id=row.plan_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _checked(
    text: str, name: str | None, start_date: date | None, overrides: dict[str, Any]
) -> tuple[DraftRequest, dict[str, Any]]:
    """The draft request these inputs make and the overrides to store (JSON), or BadInput naming the field."""
    extra = {k: v for k, v in overrides.items() if v is not None}
    unknown = sorted(set(extra) - OVERRIDE_FIELDS)
    if unknown:
        raise BadInput(f"unknown override(s): {', '.join(unknown)}")
    try:
        request = DraftRequest(background=text, name=name, start_date=start_date, **extra)
    except ValidationError as exc:
        raise BadInput(f"invalid draft input: {_first_error(exc)}") from None
    return request, request.model_dump(mode="json", include=set(extra))


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err.get("loc", ())) or "input"
    return f"{where}: {err.get('msg', 'invalid')}"
