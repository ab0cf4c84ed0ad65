"""SQLAlchemy 2 ORM models: the durable shape of users, hires, plans and their history.

Nothing outside ``tailor.store.db``, ``tailor.review.auth``, ``tailor.review.service`` and the migrations
imports these: the rest of the package sees the pydantic models the services return.
Changing a model means adding an Alembic migration (``tests/store/test_db.py`` checks the
two agree).

Immutable by design: plan revisions (snapshots), decisions and the audit log have
no update path in the services; revisions and audit rows are also guarded by
database triggers (see the initial migration).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

ROLES = ("manager", "hr", "admin")
PLAN_STATUSES = ("draft", "in_review", "changes_requested", "approved")
REVISION_REASONS = ("generated", "edited", "regenerated", "restored")
DECISIONS = ("approve", "request_changes")
INTAKE_STATUSES = ("pending", "failed", "used", "discarded")

# Stable constraint names so migrations on SQLite (batch mode) and PostgreSQL agree.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on both backends (SQLite has no time zones, so store naive UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use datetime.now(UTC)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONType = JSON().with_variant(JSONB(), "postgresql")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UserRecord(Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint(_in("role", ROLES), name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    # NULL for accounts that cannot sign in (the CLI operator).
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class SessionRecord(Base):
    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Only a hash is stored: a copy of the database does not let anyone sign in.
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    user: Mapped[UserRecord] = relationship()


class IntakeRecord(Base):
    """What a manager typed, saved before any model call so a failed draft loses nothing."""

    __tablename__ = "intakes"
    __table_args__ = (CheckConstraint(_in("status", INTAKE_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    manager_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str | None] = mapped_column(String(300), nullable=True)
    start_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    background_text: Mapped[str] = mapped_column(Text)
    overrides: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    manager: Mapped[UserRecord] = relationship()


class HireRecord(Base):
    """The person a plan is for. ``background_text`` is readable by their manager and HR only."""

    __tablename__ = "hires"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    manager_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # Denormalised from the latest revision's ``plan.hire`` so listing needs no JSON parsing.
    name: Mapped[str | None] = mapped_column(String(300), nullable=True)
    role_title: Mapped[str] = mapped_column(String(300))
    role_family: Mapped[str] = mapped_column(String(32))
    seniority: Mapped[str] = mapped_column(String(32))
    start_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    profile: Mapped[dict[str, Any]] = mapped_column(JSONType)
    background_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class PlanRecord(Base):
    __tablename__ = "plans"
    __table_args__ = (
        CheckConstraint(_in("status", PLAN_STATUSES), name="status"),
        CheckConstraint("current_revision >= 1", name="revision_positive"),
        Index("ix_plans_status_updated", "status", "updated_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hire_id: Mapped[int] = mapped_column(ForeignKey("hires.id"), unique=True)
    manager_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    status: Mapped[str] = mapped_column(String(32), default="draft")
    # The optimistic lock: every save is UPDATE ... WHERE current_revision = expected.
    current_revision: Mapped[int] = mapped_column(Integer, default=1)
    task_count: Mapped[int] = mapped_column(Integer, default=0)
    needs_review_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    hire: Mapped[HireRecord] = relationship()
    manager: Mapped[UserRecord] = relationship(foreign_keys=[manager_id])
    reviewer: Mapped[UserRecord | None] = relationship(foreign_keys=[reviewer_id])


class RevisionRecord(Base):
    """An immutable snapshot of the plan JSON."""

    __tablename__ = "plan_revisions"
    __table_args__ = (
        # The second half of the optimistic lock: two writers can never both add revision N.
        UniqueConstraint("plan_id", "number", name="uq_plan_revisions_plan_id_number"),
        CheckConstraint(_in("reason", REVISION_REASONS), name="reason"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"))
    number: Mapped[int] = mapped_column(Integer)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reason: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Text, not JSON: the exact bytes that were hashed are the bytes kept.
    plan_json: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))

    author: Mapped[UserRecord] = relationship()


class CommentRecord(Base):
    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    task_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    revision: Mapped[int] = mapped_column(Integer)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    author: Mapped[UserRecord] = relationship()


class DecisionRecord(Base):
    __tablename__ = "decisions"
    __table_args__ = (CheckConstraint(_in("decision", DECISIONS), name="decision"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    decision: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    revision: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    reviewer: Mapped[UserRecord] = relationship()


class AuditRecord(Base):
    """Append-only: who did what to which entity, with hashes of its state before and after."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    # Kept as text too, so the log reads on its own.
    actor_username: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    entity_type: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(64))
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id"), nullable=True, index=True)
    before_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    after_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


APPEND_ONLY_TABLES = ("audit_log", "plan_revisions")


# --------------------------------------------------------------------------- audit helpers
def canonical_json(value: Any) -> str:
    """One spelling per value, so equal states hash equally."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def sha256_json(value: Any) -> str | None:
    if value is None:
        return None
    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()


def append_audit(
    session: Any,
    *,
    actor: UserRecord | None,
    action: str,
    entity_type: str,
    entity_id: object,
    plan_id: int | None = None,
    before: Any = None,
    after: Any = None,
    detail: dict[str, Any] | None = None,
    actor_username: str | None = None,
) -> AuditRecord:
    """Add an audit row to the caller's transaction (it commits or rolls back with the change)."""
    row = AuditRecord(
        at=utcnow(),
        actor_id=actor.id if actor is not None else None,
        actor_username=actor.username if actor is not None else (actor_username or "anonymous"),
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        plan_id=plan_id,
        before_sha256=sha256_json(before),
        after_sha256=sha256_json(after),
        detail=detail or {},
    )
    session.add(row)
    return row


# The HTTP API's tables live in their own module on the same Base; importing it here means
# everyone who sees this schema (migrations, the schema test) sees them too.
from tailor.store import api_records as _api_records  # noqa: E402, F401
