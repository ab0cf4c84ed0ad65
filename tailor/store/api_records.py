"""Tables of the HTTP API (``tailor.api``): personal API tokens, draft jobs, webhook endpoints and deliveries.

Registered on the same :class:`tailor.store.records.Base` (``records`` imports this module at
its end), so migrations, ``ensure_schema`` and the test that compares the models with the
migrated database see one schema. Migrations: ``0002_api``, ``0003_webhook_secret_rotation``.

* ``api_tokens``: like sign-in sessions, only the SHA-256 of a token is stored; the token is
  shown once. ``role`` is the role the user had when the token was made: a token stops
  working when the role changes, as sign-in sessions end then.
* ``draft_jobs``: a draft accepted by the API, written after its intake and before anything
  runs, so a restart finds it and runs it (see ``tailor.api.jobs``).
* ``webhook_endpoints`` and ``webhook_deliveries``: a delivery is a row from the moment the
  event is seen until it is delivered or gives up, so retries survive a restart; its
  ``attempt_log`` is the delivery log (status code, error, time of each attempt).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tailor.store.records import Base, JSONType, UserRecord, UTCDateTime, _in, utcnow

JOB_STATUSES = ("queued", "running", "succeeded", "failed")
WEBHOOK_EVENTS = ("plan.drafted", "plan.submitted", "plan.changes_requested", "plan.approved")
DELIVERY_STATUSES = ("pending", "delivered", "failed")


class ApiTokenRecord(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    # The start of the token, so a person can tell their tokens apart; useless for signing in.
    prefix: Mapped[str] = mapped_column(String(24))
    role: Mapped[str] = mapped_column(String(16))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    user: Mapped[UserRecord] = relationship(foreign_keys=[user_id])


class DraftJobRecord(Base):
    """One draft accepted by the API: its intake (saved first), its state and what it produced."""

    __tablename__ = "draft_jobs"
    __table_args__ = (
        CheckConstraint(_in("status", JOB_STATUSES), name="status"),
        Index("ix_draft_jobs_status_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    intake_id: Mapped[int] = mapped_column(ForeignKey("intakes.id"), unique=True)
    token_id: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.id"), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id"), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    model_available: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    warnings: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # The progress events (without plans): what the SSE stream replays.
    events: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    user: Mapped[UserRecord] = relationship()


class WebhookEndpointRecord(Base):
    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(300))
    # Kept in the clear: every delivery is signed with it (Standard Webhooks, "whsec_<base64>").
    secret: Mapped[str] = mapped_column(String(100))
    # After a rotation the old secret still signs (beside the new one) until this time, so
    # receivers can switch without losing a delivery.
    previous_secret: Mapped[str | None] = mapped_column(String(100), nullable=True)
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    events: Mapped[list[str]] = mapped_column(JSONType)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # The fan-out cursor: audit entries up to here were turned into deliveries for this endpoint.
    scanned_audit_id: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class WebhookDeliveryRecord(Base):
    """One event for one endpoint, from the moment it is seen until it is delivered or gives up."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # One delivery per event and endpoint, however often the fan-out looks at the event.
        UniqueConstraint("endpoint_id", "audit_id", name="uq_webhook_deliveries_endpoint_id_audit_id"),
        CheckConstraint(_in("status", DELIVERY_STATUSES), name="status"),
        CheckConstraint(_in("event_type", WEBHOOK_EVENTS), name="event_type"),
        Index("ix_webhook_deliveries_status_next", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id"))
    audit_id: Mapped[int] = mapped_column(ForeignKey("audit_log.id"))
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    event_type: Mapped[str] = mapped_column(String(40))
    # The exact bytes sent (and signed) on every attempt.
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    attempt_log: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
