"""Webhook fan-out and delivery: review events become signed POSTs, retried until they land.

Where events come from: the review service writes an audit entry in the same transaction as
every change (:meth:`tailor.review.acting.Operation.audit`), and the audit log is append-only.
So it is already a transactional outbox: a plan move is in the log if and only if it
committed, whichever process made it (the API, the Streamlit app, the CLI). The dispatcher
reads it; the review service needed no change, and no rule about what counts as "approved"
lives here:

=====================  ========================
audit action           webhook event
=====================  ========================
plan.create            plan.drafted
plan.submit            plan.submitted
plan.request_changes   plan.changes_requested
plan.approve           plan.approved
=====================  ========================

Each endpoint keeps a cursor (the last audit id it has seen). Every pass looks back
:data:`LOOKBACK` ids behind it, because on PostgreSQL ids are handed out before commit, and
an entry with a lower id can commit after a higher one; a unique constraint on (endpoint,
audit entry) makes seeing an entry twice harmless. An endpoint only gets events from after
it was made.

Delivery: each due row is claimed by moving its ``next_attempt_at`` past the send timeout
(a lease), then POSTed with Standard Webhooks headers. 2xx is delivered; anything else (or
no answer) is retried after ``webhook_retry_base_s`` doubling per attempt, capped at
``webhook_retry_max_s``, until ``webhook_max_attempts``, then it is ``failed`` and an admin
can redeliver it. A process that dies mid-send leaves the lease, which runs out, and the
next process sends it again: delivery is at least once, and receivers deduplicate on
``webhook-id``.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any, Final

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tailor import __version__
from tailor.api.signing import signed_headers
from tailor.api.webhooks import MAX_LOG_ENTRIES, signing_secrets
from tailor.config import Settings
from tailor.review.rows import summary_from_row, summary_query
from tailor.store.api_records import WebhookDeliveryRecord, WebhookEndpointRecord
from tailor.store.db import Database
from tailor.store.records import AuditRecord, PlanRecord, utcnow

log = logging.getLogger("tailor.api.webhooks")

ACTION_EVENTS: Final[dict[str, str]] = {
    "plan.create": "plan.drafted",
    "plan.submit": "plan.submitted",
    "plan.request_changes": "plan.changes_requested",
    "plan.approve": "plan.approved",
}
LOOKBACK: Final = 200
CURSOR_SLACK: Final = 100  # move an idle cursor only when it falls this far behind (saves writes)
BATCH: Final = 32
SENDERS: Final = 4
LEASE_SLACK_S: Final = 30.0


def retry_delay_s(settings: Settings, attempts: int) -> float:
    """The wait after the ``attempts``-th failed attempt: base, 2 x base, 4 x base ... capped."""
    return float(min(settings.webhook_retry_base_s * 2 ** max(0, attempts - 1), settings.webhook_retry_max_s))


def payload_of(s: Session, entry: AuditRecord) -> dict[str, Any]:
    """The event's JSON: what happened, to which plan, by whom; the plan as it is now."""
    event = ACTION_EVENTS[entry.action]
    detail = entry.detail or {}
    data: dict[str, Any] = {
        "plan_id": entry.plan_id,
        "revision": detail.get("revision"),
        "status": detail.get("to", "draft" if event == "plan.drafted" else None),
        "actor": entry.actor_username,
    }
    if event in ("plan.approved", "plan.changes_requested"):
        data["reason"] = detail.get("reason")
    row = s.execute(summary_query().where(PlanRecord.id == entry.plan_id)).first() if entry.plan_id else None
    if row is not None:
        plan = summary_from_row(*row)
        data["plan"] = plan.model_dump(
            mode="json",
            include={
                "hire_name",
                "role",
                "role_family",
                "seniority",
                "start_date",
                "manager",
                "reviewer",
                "status",
                "revision",
            },
        )
        data["links"] = {"plan": f"/v1/plans/{plan.id}", "export": f"/v1/plans/{plan.id}/export/json"}
    return {"type": event, "timestamp": entry.at.isoformat(), "data": data}


class Dispatcher:
    """One background thread that fans events out and hands due deliveries to a few senders."""

    def __init__(self, db: Database, settings: Settings, *, poll_s: float = 1.0) -> None:
        self.db = db
        self.settings = settings
        self.poll_s = poll_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._client = httpx.Client(
            timeout=settings.webhook_timeout_s,
            follow_redirects=False,
            headers={"user-agent": f"tailor-webhooks/{__version__}", "content-type": "application/json"},
        )
        self._inflight: set[int] = set()
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        self._pool = ThreadPoolExecutor(SENDERS, thread_name_prefix="tailor-webhook-send")
        self._thread = threading.Thread(target=self._loop, name="tailor-webhooks", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 15.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        self._client.close()

    def wake(self) -> None:
        """Look for events now (the API calls this after each plan move it makes)."""
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.fan_out()
                self.send_due()
            except Exception:  # a bad pass must not end delivery; the next pass tries again
                log.exception("webhook pass failed")
            self._wake.wait(self.poll_s)
            self._wake.clear()

    # ------------------------------------------------------------------ fan-out
    def fan_out(self) -> int:
        """Make a delivery for each new event and endpoint that wants it. Returns how many."""
        with self.db.read() as s:
            endpoints = list(s.scalars(select(WebhookEndpointRecord).where(WebhookEndpointRecord.active.is_(True))))
            if not endpoints:
                return 0
            top = int(s.scalar(select(func.max(AuditRecord.id))) or 0)
            floor = max(0, min(e.scanned_audit_id for e in endpoints) - LOOKBACK)
            entries = list(
                s.scalars(
                    select(AuditRecord)
                    .where(AuditRecord.id > floor, AuditRecord.action.in_(list(ACTION_EVENTS)))
                    .order_by(AuditRecord.id)
                )
            )
            made = {
                (endpoint_id, audit_id)
                for endpoint_id, audit_id in s.execute(
                    select(WebhookDeliveryRecord.endpoint_id, WebhookDeliveryRecord.audit_id).where(
                        WebhookDeliveryRecord.audit_id > floor
                    )
                )
            }
            todo = [
                (endpoint.id, entry)
                for entry in entries
                for endpoint in endpoints
                if ACTION_EVENTS[entry.action] in endpoint.events
                and entry.id > endpoint.scanned_audit_id - LOOKBACK
                and entry.at >= endpoint.created_at
                and (endpoint.id, entry.id) not in made
            ]
            bodies = {
                entry.id: json.dumps(payload_of(s, entry), separators=(",", ":"), ensure_ascii=False)
                for _, entry in todo
            }
            behind = [e.id for e in endpoints if todo or top - e.scanned_audit_id > CURSOR_SLACK]
        if not todo and not behind:
            return 0
        count = 0
        now = utcnow()
        with self.db.write() as s:
            for endpoint_id, entry in todo:
                try:
                    with s.begin_nested():  # another process may have made it meanwhile
                        s.add(
                            WebhookDeliveryRecord(
                                endpoint_id=endpoint_id,
                                audit_id=entry.id,
                                message_id=f"msg_{secrets.token_hex(12)}",
                                event_type=ACTION_EVENTS[entry.action],
                                payload=bodies[entry.id],
                                status="pending",
                                attempts=0,
                                next_attempt_at=now,
                                attempt_log=[],
                                created_at=now,
                                updated_at=now,
                            )
                        )
                    count += 1
                except IntegrityError:
                    continue
            if behind:
                s.execute(
                    update(WebhookEndpointRecord)
                    .where(WebhookEndpointRecord.id.in_(behind), WebhookEndpointRecord.scanned_audit_id < top)
                    .values(scanned_audit_id=top)
                )
        if count:
            log.info("webhooks: %d new deliveries", count)
        return count

    # ------------------------------------------------------------------ delivery
    def send_due(self) -> int:
        """Claim the deliveries that are due and hand them to the senders. Returns how many."""
        now = utcnow()
        with self.db.read() as s:
            due = list(
                s.scalars(
                    select(WebhookDeliveryRecord.id)
                    .join(WebhookEndpointRecord, WebhookEndpointRecord.id == WebhookDeliveryRecord.endpoint_id)
                    .where(
                        WebhookDeliveryRecord.status == "pending",
                        WebhookDeliveryRecord.next_attempt_at <= now,
                        WebhookEndpointRecord.active.is_(True),
                    )
                    .order_by(WebhookDeliveryRecord.next_attempt_at, WebhookDeliveryRecord.id)
                    .limit(BATCH)
                )
            )
        with self._lock:
            due = [d for d in due if d not in self._inflight]
        if not due:
            return 0
        lease = now + timedelta(seconds=self.settings.webhook_timeout_s + LEASE_SLACK_S)
        claimed: list[int] = []
        with self.db.write() as s:
            for delivery_id in due:
                result = s.execute(
                    update(WebhookDeliveryRecord)
                    .where(
                        WebhookDeliveryRecord.id == delivery_id,
                        WebhookDeliveryRecord.status == "pending",
                        WebhookDeliveryRecord.next_attempt_at <= now,
                    )
                    .values(next_attempt_at=lease)
                    .execution_options(synchronize_session=False)
                )
                if result.rowcount == 1:  # type: ignore[attr-defined]  # CursorResult at runtime
                    claimed.append(delivery_id)
        for delivery_id in claimed:
            with self._lock:
                self._inflight.add(delivery_id)
            assert self._pool is not None, "start() the dispatcher first"
            self._pool.submit(self._attempt, delivery_id)
        return len(claimed)

    def _attempt(self, delivery_id: int) -> None:
        try:
            self._send(delivery_id)
        except Exception:
            log.exception("webhook delivery %s: attempt failed unexpectedly", delivery_id)
        finally:
            with self._lock:
                self._inflight.discard(delivery_id)

    def _send(self, delivery_id: int) -> None:
        with self.db.read() as s:
            row = s.get(WebhookDeliveryRecord, delivery_id)
            endpoint = s.get(WebhookEndpointRecord, row.endpoint_id) if row is not None else None
            if row is None or endpoint is None or row.status != "pending":
                return
            url, message_id, body = endpoint.url, row.message_id, row.payload.encode("utf-8")
            keys = signing_secrets(endpoint, utcnow())
        headers = signed_headers(keys, message_id, int(time.time()), body)
        started = time.perf_counter()
        status_code: int | None = None
        try:
            response = self._client.post(url, content=body, headers=headers)
            status_code = response.status_code
            ok = 200 <= status_code < 300
            error = None if ok else f"HTTP {status_code}: {response.text.strip()[:200]}"
        except httpx.HTTPError as exc:
            ok, error = False, f"{type(exc).__name__}: {exc}"[:300]
        self._record(delivery_id, ok, status_code, error, int((time.perf_counter() - started) * 1000))

    def _record(self, delivery_id: int, ok: bool, status_code: int | None, error: str | None, ms: int) -> None:
        now = utcnow()
        with self.db.write() as s:
            row = s.get(WebhookDeliveryRecord, delivery_id)
            if row is None or row.status != "pending":
                return
            row.attempts += 1
            entry = {"at": now.isoformat(), "status_code": status_code, "error": error, "ms": ms}
            row.attempt_log = [*(row.attempt_log or []), entry][-MAX_LOG_ENTRIES:]
            row.last_status_code = status_code
            row.last_error = error
            row.updated_at = now
            if ok:
                row.status, row.delivered_at, row.next_attempt_at = "delivered", now, None
            elif row.attempts >= self.settings.webhook_max_attempts:
                row.status, row.next_attempt_at = "failed", None
                log.warning(
                    "webhook delivery %s failed for good after %d attempts: %s", delivery_id, row.attempts, error
                )
            else:
                row.next_attempt_at = now + timedelta(seconds=retry_delay_s(self.settings, row.attempts))
