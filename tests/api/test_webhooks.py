"""Webhooks against a real local receiver: signatures, retries with backoff, redelivery, restarts.

Events are made by the review service itself (as the app or the CLI would make them), so these
tests also show that the API hears about moves it did not make: the audit log is the outbox.
"""

from __future__ import annotations

import itertools
import json
import time
from collections import defaultdict
from datetime import timedelta
from typing import get_args

import pytest
from sqlalchemy import select
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from tailor.api.dispatch import retry_delay_s
from tailor.api.signing import signature
from tailor.api.webhooks import EventType, signing_secrets
from tailor.config import Settings
from tailor.store.api_records import WEBHOOK_EVENTS, WebhookEndpointRecord
from tailor.store.records import AuditRecord, utcnow
from tests.api.conftest import Api, ApiFactory, approve
from tests.api.helpers import Receiver
from tests.fixtures.db import make_plan


def register(api: Api, url: str, events: list[str] | None = None) -> tuple[int, str]:
    with api.client("admin") as admin:
        made = admin.post("/v1/webhooks", json={"url": url, "events": events or list(WEBHOOK_EVENTS)})
    assert made.status_code == 201, made.text
    return made.json()["endpoint"]["id"], made.json()["secret"]


def approved_plan(api: Api) -> int:
    """A plan drafted, submitted and approved through the review service (three events)."""
    manager = api.users["manager"]
    plan_id = api.service.import_plan(manager, make_plan()).id
    api.service.submit(manager, plan_id, 1)
    approve(api.service, api.users["hr"], plan_id, 1)
    api.ctx.dispatcher.wake()
    return plan_id


def deliveries(api: Api, endpoint_id: int) -> list[dict[str, object]]:
    with api.client("admin") as admin:
        got = admin.get(f"/v1/webhooks/{endpoint_id}/deliveries")
    assert got.status_code == 200, got.text
    return list(got.json())


def wait_until(predicate: object, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_the_event_names_agree() -> None:
    assert set(get_args(EventType)) == set(WEBHOOK_EVENTS)


def test_signatures_follow_standard_webhooks_and_a_changed_byte_fails(api: Api, receiver: Receiver) -> None:
    _, secret = register(api, receiver.url, ["plan.approved"])
    plan_id = approved_plan(api)
    (got,) = receiver.wait_for(lambda seen: len(seen) == 1)
    assert set(got.headers) >= {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert got.headers["content-type"] == "application/json"
    assert abs(int(got.headers["webhook-timestamp"]) - time.time()) < 60
    event = Webhook(secret).verify(got.body, got.headers)
    assert event["type"] == "plan.approved" and event["data"]["plan_id"] == plan_id
    assert event["data"]["plan"]["hire_name"] == "Zoë Łukasiewicz"  # UTF-8 body, signed as sent
    tampered = got.body.replace(b"approved", b"APPROVED", 1)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(tampered, got.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=").verify(got.body, got.headers)
    # The same scheme, computed independently of the library:
    assert got.headers["webhook-signature"] == signature(
        secret, got.headers["webhook-id"], int(got.headers["webhook-timestamp"]), got.body
    )


def test_a_failing_receiver_is_retried_with_growing_waits_under_one_id(api: Api) -> None:
    failing = Receiver(Receiver.failing_first(3, status=503))
    try:
        endpoint_id, secret = register(api, failing.url, ["plan.submitted"])
        manager = api.users["manager"]
        plan_id = api.service.import_plan(manager, make_plan()).id
        api.service.submit(manager, plan_id, 1)
        seen = failing.wait_for(lambda got: len(got) == 4)
    finally:
        failing.close()
    assert [r.status for r in seen] == [503, 503, 503, 200]
    assert len({r.headers["webhook-id"] for r in seen}) == 1, "one message id across retries"
    assert len({r.body for r in seen}) == 1, "the same body on every attempt"
    for r in seen:
        Webhook(secret).verify(r.body, r.headers)
    gaps = [b.at - a.at for a, b in itertools.pairwise(seen)]
    base = api.settings.webhook_retry_base_s
    assert gaps[0] >= base * 0.9 and gaps[1] >= 2 * base * 0.9 and gaps[2] >= 4 * base * 0.9, gaps
    wait_until(lambda: deliveries(api, endpoint_id)[0]["status"] == "delivered")
    (delivery,) = deliveries(api, endpoint_id)
    assert delivery["attempts"] == 4 and delivery["last_status_code"] == 200
    assert [a["status_code"] for a in delivery["log"]] == [503, 503, 503, 200]  # type: ignore[index, union-attr]


def test_a_delivery_that_never_lands_fails_and_an_admin_redelivers_it(start_api: ApiFactory) -> None:
    api = start_api(webhook_max_attempts=2)
    dead = Receiver(lambda n: 500)
    try:
        endpoint_id, secret = register(api, dead.url, ["plan.drafted"])
        api.service.import_plan(api.users["manager"], make_plan())
        api.ctx.dispatcher.wake()
        wait_until(lambda: bool(deliveries(api, endpoint_id)) and deliveries(api, endpoint_id)[0]["status"] == "failed")
        (failed,) = deliveries(api, endpoint_id)
        assert failed["attempts"] == 2 and failed["last_status_code"] == 500
        assert "HTTP 500" in str(failed["last_error"])
        dead.answer = lambda n: 200  # the receiver is fixed
        with api.client("manager") as manager:
            refused = manager.post(f"/v1/webhooks/{endpoint_id}/deliveries/{failed['id']}/redeliver")
        assert refused.status_code == 403
        with api.client("admin") as admin:
            again = admin.post(f"/v1/webhooks/{endpoint_id}/deliveries/{failed['id']}/redeliver")
        assert again.status_code == 202 and again.json()["status"] == "pending"
        seen = dead.wait_for(lambda got: len(got) == 3)
    finally:
        dead.close()
    assert seen[-1].status == 200 and seen[-1].headers["webhook-id"] == failed["message_id"]
    Webhook(secret).verify(seen[-1].body, seen[-1].headers)
    wait_until(lambda: deliveries(api, endpoint_id)[0]["status"] == "delivered")
    log = deliveries(api, endpoint_id)[0]["log"]
    assert [entry.get("redelivered_by") for entry in log] == [None, None, "admin", None]  # type: ignore[union-attr]


def test_deliveries_and_events_survive_a_restart(start_api: ApiFactory) -> None:
    first = start_api()
    flaky = Receiver(lambda n: 503)
    try:
        endpoint_id, secret = register(first, flaky.url, ["plan.approved", "plan.submitted"])
        plan_id = approved_plan(first)
        flaky.wait_for(lambda got: len(got) >= 2)  # both events tried, both refused
        first.server.stop()
        # While no API runs, the app approves another plan: its event is in the audit log.
        manager, hr = first.users["manager"], first.users["hr"]
        other = first.service.import_plan(manager, make_plan()).id
        first.service.submit(manager, other, 1)
        approve(first.service, hr, other, 1)
        flaky.answer = lambda n: 200
        second = start_api()
        expected = {
            (plan_id, "plan.approved"),
            (plan_id, "plan.submitted"),
            (other, "plan.approved"),
            (other, "plan.submitted"),
        }
        # Wait for every event, not every plan: a plan's two events may land in either order.
        seen = flaky.wait_for(
            lambda got: {(r.json()["data"]["plan_id"], r.json()["type"]) for r in got if r.status == 200} == expected
        )
    finally:
        flaky.close()
    delivered = [(r.headers["webhook-id"], Webhook(secret).verify(r.body, r.headers)) for r in seen if r.status == 200]
    assert {(e["data"]["plan_id"], e["type"]) for _, e in delivered} == expected
    # At least once, and a repeat is the same message: one id per event.
    ids: defaultdict[tuple[int, str], set[str]] = defaultdict(set)
    for message_id, e in delivered:
        ids[(e["data"]["plan_id"], e["type"])].add(message_id)
    assert all(len(v) == 1 for v in ids.values()), ids
    wait_until(lambda: all(d["status"] == "delivered" for d in deliveries(second, endpoint_id)))


def test_an_endpoint_hears_only_its_events_and_nothing_from_before_it_existed(api: Api, receiver: Receiver) -> None:
    approved_plan(api)  # before the endpoint: never sent
    endpoint_id, _ = register(api, receiver.url, ["plan.changes_requested"])
    manager = api.users["manager"]
    plan_id = api.service.import_plan(manager, make_plan()).id
    api.service.submit(manager, plan_id, 1)
    api.service.request_changes(api.users["hr"], plan_id, 1, "Add the team's rituals.")
    (got,) = receiver.wait_for(lambda seen: len(seen) == 1)
    event = got.json()
    assert event["type"] == "plan.changes_requested" and event["data"]["reason"] == "Add the team's rituals."
    time.sleep(1.5)  # another pass or two of the dispatcher: still nothing else
    assert len(receiver.received) == 1
    with api.client("admin") as admin:
        assert admin.patch(f"/v1/webhooks/{endpoint_id}", json={"active": False}).json()["active"] is False
        assert admin.delete(f"/v1/webhooks/{endpoint_id}").status_code == 204
        assert admin.get(f"/v1/webhooks/{endpoint_id}").status_code == 404


def submitted_plan(api: Api) -> int:
    manager = api.users["manager"]
    plan_id = api.service.import_plan(manager, make_plan()).id
    api.service.submit(manager, plan_id, 1)
    api.ctx.dispatcher.wake()
    return plan_id


def test_a_rotated_secret_signs_beside_the_new_one_until_it_expires(api: Api, receiver: Receiver) -> None:
    endpoint_id, first = register(api, receiver.url, ["plan.submitted"])
    with api.client("manager") as manager:
        refused = manager.post(f"/v1/webhooks/{endpoint_id}/rotate-secret")
    assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"
    with api.client("admin") as admin:
        rotated = admin.post(f"/v1/webhooks/{endpoint_id}/rotate-secret", json={"keep_previous_for_s": 3600})
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()["secret"]
    assert second != first and second.startswith("whsec_")
    assert rotated.json()["endpoint"]["previous_secret_expires_at"] is not None

    # During the overlap a receiver holding either secret accepts the delivery.
    submitted_plan(api)
    (got,) = receiver.wait_for(lambda seen: len(seen) == 1)
    assert len(got.headers["webhook-signature"].split()) == 2
    for secret in (first, second):
        Webhook(secret).verify(got.body, got.headers)

    # Rotating with no overlap: only the newest secret signs from now on.
    with api.client("admin") as admin:
        again = admin.post(f"/v1/webhooks/{endpoint_id}/rotate-secret", json={"keep_previous_for_s": 0})
    third = again.json()["secret"]
    assert again.json()["endpoint"]["previous_secret_expires_at"] is None
    submitted_plan(api)
    _, latest = receiver.wait_for(lambda seen: len(seen) == 2)
    Webhook(third).verify(latest.body, latest.headers)
    for stale in (first, second):
        with pytest.raises(WebhookVerificationError):
            Webhook(stale).verify(latest.body, latest.headers)

    with api.service.db.read() as s:
        audited = list(s.scalars(select(AuditRecord).where(AuditRecord.action == "webhook.rotate_secret")))
    assert [a.detail for a in audited] == [{"keep_previous_for_s": 3600}, {"keep_previous_for_s": 0}]
    assert all("whsec_" not in json.dumps(a.detail) for a in audited), "no secret in the audit log"


def test_an_expired_overlap_stops_signing_with_the_old_secret() -> None:
    now = utcnow()
    row = WebhookEndpointRecord(secret="whsec_new", previous_secret="whsec_old", previous_secret_expires_at=now)
    assert signing_secrets(row, now - timedelta(seconds=1)) == ["whsec_new", "whsec_old"]
    assert signing_secrets(row, now) == ["whsec_new"]


@pytest.mark.parametrize("url", ["ftp://example.com/x", "not a url", "http://user:pw@example.com/x", "/relative"])
def test_an_endpoint_needs_an_absolute_http_url(api: Api, url: str) -> None:
    with api.client("admin") as admin:
        refused = admin.post("/v1/webhooks", json={"url": url, "events": ["plan.approved"]})
    assert refused.status_code == 422 and refused.headers["content-type"] == "application/problem+json"


def test_the_retry_schedule_doubles_up_to_its_cap() -> None:
    settings = Settings(webhook_retry_base_s=10, webhook_retry_max_s=3600)
    assert [retry_delay_s(settings, n) for n in range(1, 11)] == [10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600]
