"""Webhook endpoints (admins register them) and their delivery log.

An endpoint is a URL, an event filter and a secret. The secret is shown once, when the
endpoint is made or its secret rotated; every delivery is signed with it, and during a
rotation's overlap with the old one too (:mod:`tailor.api.signing`). Events come
from the review service's own audit log (see :mod:`tailor.api.dispatch`), so nothing here
decides when a plan was drafted, submitted, sent back or approved.

Only admins manage endpoints and read deliveries: the same "admins only" check
:mod:`tailor.review.auth` makes for user management (the plan permission table in
:mod:`tailor.review.permissions` is about plans). Every change is audited.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any, Final, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from tailor.api.signing import new_secret
from tailor.errors import NotFound, PermissionDenied
from tailor.review.users import UserOut, load_actor
from tailor.store.api_records import WebhookDeliveryRecord, WebhookEndpointRecord
from tailor.store.db import Database
from tailor.store.records import AuditRecord, UserRecord, append_audit, utcnow

# The same names as ``tailor.store.api_records.WEBHOOK_EVENTS`` (a test checks they agree).
EventType = Literal["plan.drafted", "plan.submitted", "plan.changes_requested", "plan.approved"]
DeliveryStatus = Literal["pending", "delivered", "failed"]
MAX_LOG_ENTRIES: Final = 50
DEFAULT_OVERLAP_S: Final = 24 * 3600
"""How long a rotated-out secret keeps signing, unless the admin says otherwise: a day to deploy the new one."""
MAX_OVERLAP_S: Final = 7 * 24 * 3600


def _check_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an absolute http:// or https:// URL")
    if parts.username or parts.password:
        raise ValueError("must not carry a user or password; the signature authenticates tailor")
    return url


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=2000, description="Where to POST events (http or https).")
    events: list[EventType] = Field(min_length=1, max_length=4, description="The events this endpoint receives.")
    description: str = Field(default="", max_length=300)

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        return _check_url(v)


class WebhookPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, max_length=2000)
    events: list[EventType] | None = Field(default=None, min_length=1, max_length=4)
    description: str | None = Field(default=None, max_length=300)
    active: bool | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        return None if v is None else _check_url(v)


class WebhookOut(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    url: str
    events: list[EventType]
    description: str
    active: bool
    created_by: str
    created_at: datetime
    updated_at: datetime
    previous_secret_expires_at: datetime | None = Field(
        default=None, description="After a rotation: until then deliveries are signed with the old secret too."
    )


class RotateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    keep_previous_for_s: int = Field(
        default=DEFAULT_OVERLAP_S,
        ge=0,
        le=MAX_OVERLAP_S,
        description="How long deliveries also carry a signature with the old secret (0: stop at once).",
    )


class WebhookCreated(BaseModel):
    """The new endpoint and its signing secret, shown this once."""

    endpoint: WebhookOut
    secret: str = Field(description="Standard Webhooks secret (whsec_...): verify every delivery with it.")


class AttemptOut(BaseModel):
    at: datetime
    status_code: int | None = None
    error: str | None = None
    ms: int | None = None
    redelivered_by: str | None = None


class DeliveryOut(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    endpoint_id: int
    message_id: str = Field(description="The webhook-id header: the same on every attempt.")
    event_type: EventType
    status: DeliveryStatus
    attempts: int = Field(description="Attempts since the delivery was made or last redelivered.")
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    payload: dict[str, Any]
    log: list[AttemptOut] = Field(description="Every attempt, oldest first (the last 50).")


def signing_secrets(row: WebhookEndpointRecord, now: datetime) -> list[str]:
    """The secrets a delivery is signed with now: the current one, and a rotated-out one until it expires."""
    keys = [row.secret]
    if row.previous_secret and row.previous_secret_expires_at is not None and now < row.previous_secret_expires_at:
        keys.append(row.previous_secret)
    return keys


def endpoint_out(row: WebhookEndpointRecord, creator: str) -> WebhookOut:
    overlapping = len(signing_secrets(row, utcnow())) > 1
    return WebhookOut(
        id=row.id,
        url=row.url,
        events=list(row.events),
        description=row.description,
        active=row.active,
        created_by=creator,
        created_at=row.created_at,
        updated_at=row.updated_at,
        previous_secret_expires_at=row.previous_secret_expires_at if overlapping else None,
    )


def delivery_out(row: WebhookDeliveryRecord) -> DeliveryOut:
    return DeliveryOut(
        id=row.id,
        endpoint_id=row.endpoint_id,
        message_id=row.message_id,
        event_type=row.event_type,
        status=row.status,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_status_code=row.last_status_code,
        last_error=row.last_error,
        created_at=row.created_at,
        delivered_at=row.delivered_at,
        payload=json.loads(row.payload),
        log=[AttemptOut.model_validate(entry) for entry in row.attempt_log or []],
    )


def _state(row: WebhookEndpointRecord) -> dict[str, object]:
    return {"url": row.url, "events": sorted(row.events), "description": row.description, "active": row.active}


class WebhookService:
    """Register, change and remove endpoints; read and redeliver deliveries. Admins only."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def create(self, actor: UserOut, spec: WebhookIn) -> WebhookCreated:
        with self.db.write() as s:
            acting = _admin(s, actor)
            now = utcnow()
            row = WebhookEndpointRecord(
                url=spec.url,
                description=spec.description.strip(),
                secret=new_secret(),
                events=sorted(set(spec.events)),
                active=True,
                created_by_id=acting.id,
                # Events before the endpoint existed are never sent to it.
                scanned_audit_id=int(s.scalar(select(func.max(AuditRecord.id))) or 0),
                created_at=now,
                updated_at=now,
            )
            s.add(row)
            s.flush()
            append_audit(
                s,
                actor=acting,
                action="webhook.create",
                entity_type="webhook",
                entity_id=row.id,
                after=_state(row),
                detail=_state(row),
            )
            return WebhookCreated(endpoint=endpoint_out(row, acting.username), secret=row.secret)

    def list_endpoints(self, actor: UserOut) -> list[WebhookOut]:
        with self.db.read() as s:
            _admin(s, actor)
            names = _usernames(s)
            rows = s.scalars(select(WebhookEndpointRecord).order_by(WebhookEndpointRecord.id))
            return [endpoint_out(r, names.get(r.created_by_id, "?")) for r in rows]

    def get(self, actor: UserOut, endpoint_id: int) -> WebhookOut:
        with self.db.read() as s:
            _admin(s, actor)
            row = _endpoint(s, endpoint_id)
            return _out(s, row)

    def update(self, actor: UserOut, endpoint_id: int, patch: WebhookPatch) -> WebhookOut:
        with self.db.write() as s:
            acting = _admin(s, actor)
            row = _endpoint(s, endpoint_id)
            before = _state(row)
            if patch.url is not None:
                row.url = patch.url
            if patch.events is not None:
                row.events = sorted(set(patch.events))
            if patch.description is not None:
                row.description = patch.description.strip()
            if patch.active is not None:
                row.active = patch.active
            row.updated_at = utcnow()
            s.flush()
            append_audit(
                s,
                actor=acting,
                action="webhook.update",
                entity_type="webhook",
                entity_id=row.id,
                before=before,
                after=_state(row),
                detail=_state(row),
            )
            return _out(s, row)

    def rotate_secret(self, actor: UserOut, endpoint_id: int, spec: RotateIn) -> WebhookCreated:
        """A new secret, shown this once; the old one keeps signing beside it for ``keep_previous_for_s``.

        Rotating again during an overlap drops the oldest secret: only the one being replaced overlaps.
        """
        with self.db.write() as s:
            acting = _admin(s, actor)
            row = _endpoint(s, endpoint_id)
            now = utcnow()
            row.previous_secret = row.secret if spec.keep_previous_for_s else None
            row.previous_secret_expires_at = (
                now + timedelta(seconds=spec.keep_previous_for_s) if spec.keep_previous_for_s else None
            )
            row.secret = new_secret()
            row.updated_at = now
            s.flush()
            detail = {"keep_previous_for_s": spec.keep_previous_for_s}  # never a secret in the audit log
            append_audit(
                s,
                actor=acting,
                action="webhook.rotate_secret",
                entity_type="webhook",
                entity_id=row.id,
                detail=detail,
            )
            return WebhookCreated(endpoint=_out(s, row), secret=row.secret)

    def delete(self, actor: UserOut, endpoint_id: int) -> None:
        """Remove the endpoint and its delivery log (the audit log keeps the removal)."""
        with self.db.write() as s:
            acting = _admin(s, actor)
            row = _endpoint(s, endpoint_id)
            before = _state(row)
            s.execute(delete(WebhookDeliveryRecord).where(WebhookDeliveryRecord.endpoint_id == row.id))
            s.delete(row)
            append_audit(
                s,
                actor=acting,
                action="webhook.delete",
                entity_type="webhook",
                entity_id=endpoint_id,
                before=before,
                detail=before,
            )

    def deliveries(
        self, actor: UserOut, endpoint_id: int, *, status: DeliveryStatus | None = None, limit: int = 100
    ) -> list[DeliveryOut]:
        """The endpoint's deliveries, newest first."""
        with self.db.read() as s:
            _admin(s, actor)
            _endpoint(s, endpoint_id)
            query = select(WebhookDeliveryRecord).where(WebhookDeliveryRecord.endpoint_id == endpoint_id)
            if status is not None:
                query = query.where(WebhookDeliveryRecord.status == status)
            rows = s.scalars(query.order_by(WebhookDeliveryRecord.id.desc()).limit(limit))
            return [delivery_out(r) for r in rows]

    def redeliver(self, actor: UserOut, endpoint_id: int, delivery_id: int) -> DeliveryOut:
        """Send a delivery again now, with a fresh round of retries (same id, same body)."""
        with self.db.write() as s:
            acting = _admin(s, actor)
            row = s.get(WebhookDeliveryRecord, delivery_id)
            if row is None or row.endpoint_id != endpoint_id:
                raise NotFound(f"endpoint {endpoint_id} has no delivery {delivery_id}")
            now = utcnow()
            row.status = "pending"
            row.attempts = 0
            row.next_attempt_at = now
            entry = {"at": now.isoformat(), "redelivered_by": acting.username}
            row.attempt_log = [*(row.attempt_log or []), entry][-MAX_LOG_ENTRIES:]
            s.flush()
            detail = {"endpoint": endpoint_id, "message_id": row.message_id}
            append_audit(
                s,
                actor=acting,
                action="webhook.redeliver",
                entity_type="webhook_delivery",
                entity_id=row.id,
                detail=detail,
            )
            return delivery_out(row)


def _admin(s: Session, actor: UserOut) -> UserRecord:
    acting = load_actor(s, actor)
    if acting.role != "admin":
        raise PermissionDenied(f"only an admin can manage webhooks (you are {acting.username}, {acting.role})")
    return acting


def _endpoint(s: Session, endpoint_id: int) -> WebhookEndpointRecord:
    row = s.get(WebhookEndpointRecord, endpoint_id)
    if row is None:
        raise NotFound(f"no webhook endpoint with id {endpoint_id}")
    return row


def _out(s: Session, row: WebhookEndpointRecord) -> WebhookOut:
    creator = s.get(UserRecord, row.created_by_id)
    return endpoint_out(row, creator.username if creator is not None else "?")


def _usernames(s: Session) -> dict[int, str]:
    return {user_id: name for user_id, name in s.execute(select(UserRecord.id, UserRecord.username))}
