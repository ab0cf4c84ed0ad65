"""How every review operation starts, and the optimistic lock every change goes through.

Each operation opens exactly one transaction, re-reads the acting user from the database
(so a caller cannot claim a role it does not have, and a deactivated account stops
working at once), and asks :mod:`tailor.review.permissions` before it touches a plan.
That preamble lives here once, as :meth:`Part._reading` / :meth:`Part._writing` and
:meth:`Operation.plan`, instead of at the top of every method.

Optimistic locking: every change names the revision it was based on
(``expected_revision``). The plan row is locked (``SELECT ... FOR UPDATE`` on
PostgreSQL; ``BEGIN IMMEDIATE`` on SQLite, see :mod:`tailor.store.db`), checked, then
moved with ``UPDATE ... WHERE current_revision = :expected AND status = :seen``;
a unique constraint on ``(plan_id, number)`` backs that up. A stale
``expected_revision`` raises :class:`tailor.errors.Conflict` and writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from tailor.config import Settings
from tailor.errors import Conflict
from tailor.review.permissions import Action, Target, require
from tailor.review.rows import load_plan, plan_state, plan_target
from tailor.review.users import UserOut, load_actor
from tailor.store.db import Database
from tailor.store.records import PlanRecord, UserRecord, append_audit


@dataclass(frozen=True)
class Operation:
    """One service call in progress: its transaction and the acting user as stored now."""

    s: Session
    actor: UserRecord

    def require(self, action: Action, target: Target | None = None) -> None:
        """PermissionDenied unless the actor may do ``action`` (to ``target``); see permissions.py."""
        require(self.actor, action, target)

    def plan(self, plan_id: int, action: Action, *, for_update: bool = False) -> PlanRecord:
        """Load the plan (NotFound first, so a missing plan is never a permission error) and check ``action``."""
        row = load_plan(self.s, plan_id, for_update=for_update)
        self.require(action, plan_target(row))
        return row

    def audit(self, action: str, entity_type: str, entity_id: object, **fields: Any) -> None:
        """Add the audit entry to this transaction, so it commits or rolls back with the change."""
        append_audit(self.s, actor=self.actor, action=action, entity_type=entity_type, entity_id=entity_id, **fields)

    def audit_plan(
        self, row: PlanRecord, action: str, *, before: dict[str, object] | None, detail: dict[str, Any]
    ) -> None:
        """Audit a change of the plan row: its state before and after (as hashes) and what happened."""
        self.audit(action, "plan", row.id, plan_id=row.id, before=before, after=plan_state(row), detail=detail)


class Part:
    """A part of the review service (intakes, plans, lifecycle, ...): the database, settings and the preamble."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings

    @contextmanager
    def _reading(self, user: UserOut) -> Iterator[Operation]:
        """A read-only transaction acting as ``user`` (never takes SQLite's write lock)."""
        with self.db.read() as s:
            yield Operation(s, load_actor(s, user))

    @contextmanager
    def _writing(self, user: UserOut) -> Iterator[Operation]:
        """A read-write transaction acting as ``user``: committed on success, rolled back on any error."""
        with self.db.write() as s:
            yield Operation(s, load_actor(s, user))


# --------------------------------------------------------------------------- the optimistic lock
def require_revision(row: PlanRecord, expected: int) -> None:
    """Conflict unless the plan is still at the revision the caller based the change on."""
    if row.current_revision != expected:
        raise conflict(row.id, expected, row.current_revision)


def conflict(plan_id: int, expected: int, now: int) -> Conflict:
    return Conflict(
        f"plan {plan_id} changed since you opened it (revision {expected} is now {now}); reload and reapply your edit"
    )


def cas(s: Session, row: PlanRecord, expected: int, **values: object) -> None:
    """Compare-and-set the plan row on (revision, status) as seen under the lock."""
    seen_status = row.status
    result = s.execute(
        update(PlanRecord)
        .where(
            PlanRecord.id == row.id,
            PlanRecord.current_revision == expected,
            PlanRecord.status == seen_status,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]  # CursorResult at runtime
        s.expire(row)
        raise conflict(row.id, expected, row.current_revision)
    s.expire(row)
