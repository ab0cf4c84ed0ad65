"""The two examples against the real API: the receiver verifies tailor's webhooks, the ATS bridge drafts."""

from __future__ import annotations

import hashlib
import hmac
import importlib.util
import json
import threading
from collections.abc import Iterator
from types import ModuleType

import httpx
import pytest

from tailor.config import PROJECT_ROOT
from tests.api.conftest import Api, approve
from tests.fixtures.db import make_plan
from tests.fixtures.drafting import BACKGROUND


def example(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}", PROJECT_ROOT / "examples" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def receiver_example(api: Api) -> Iterator[tuple[ModuleType, str, str]]:
    """The example receiver on a free port, registered for every event; (module, url, secret)."""
    module = example("webhook_receiver")
    with api.client("admin") as admin:
        made = admin.post("/v1/webhooks", json={"url": "http://127.0.0.1:9/placeholder", "events": ["plan.approved"]})
    secret = made.json()["secret"]
    server = module.make_server(secret, port=0)
    url = f"http://127.0.0.1:{server.server_address[1]}/tailor"
    with api.client("admin") as admin:
        admin.patch(f"/v1/webhooks/{made.json()['endpoint']['id']}", json={"url": url})
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield module, url, secret
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("library", [True, False], ids=["standardwebhooks", "stdlib"])
def test_the_example_receiver_logs_a_verified_approval_and_refuses_a_forgery(
    api: Api,
    receiver_example: tuple[ModuleType, str, str],
    library: bool,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    module, url, _ = receiver_example
    if not library:  # the receiver's own check, as on a machine without the library
        monkeypatch.setattr(module, "verify", module._verify_stdlib)
    plan_id = api.service.import_plan(api.users["manager"], make_plan()).id
    api.service.submit(api.users["manager"], plan_id, 1)
    approve(api.service, api.users["hr"], plan_id, 1)
    api.ctx.dispatcher.wake()
    with api.client("admin") as admin:
        endpoint = admin.get("/v1/webhooks").json()[0]["id"]
        for _ in range(300):
            log = admin.get(f"/v1/webhooks/{endpoint}/deliveries").json()
            if log and log[0]["status"] == "delivered":
                break
            threading.Event().wait(0.1)
    assert log[0]["status"] == "delivered" and log[0]["last_status_code"] == 204
    out = capsys.readouterr().out
    assert f"verified plan.approved: plan {plan_id} (Senior Backend Engineer), revision 1, by hr" in out

    forged = httpx.post(
        url,
        content=b'{"type": "plan.approved"}',
        headers={"webhook-id": "msg_x", "webhook-timestamp": "1", "webhook-signature": "v1,AAAA"},
    )
    assert forged.status_code == 401


def test_the_ats_bridge_turns_a_signed_hire_into_a_draft(api: Api) -> None:
    bridge = example("ats_hired_to_draft")
    secret = "ats-secret"
    server = bridge.make_server(secret, api.url, api.tokens["manager"], port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/ats/hired"
    event = {
        "action": "candidate_hired",
        "payload": {
            "application": {
                "jobs": [{"name": "Senior Backend Engineer - Berlin"}],
                "offer": {"starts_at": "2026-04-01"},
            },
            "candidate": {"first_name": "Priya", "last_name": "Raman", "title": BACKGROUND.splitlines()[2]},
        },
    }
    body = json.dumps(event).encode()
    try:
        forged = httpx.post(url, content=body, headers={"Signature": "sha256 0000"})
        signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        accepted = httpx.post(url, content=body, headers={"Signature": f"sha256 {signature}"})
    finally:
        server.shutdown()
        server.server_close()
    assert forged.status_code == 401
    assert accepted.status_code == 202, accepted.text
    job_url = accepted.json()["job"]
    job = httpx.get(job_url, headers={"Authorization": f"Bearer {api.tokens['manager']}"}).json()
    intake = api.service.get_intake(api.users["manager"], job["intake_id"])
    assert intake.name == "Priya Raman" and str(intake.start_date) == "2026-04-01"
    assert intake.overrides["role"] == "Senior Backend Engineer"
    assert "was hired as Senior Backend Engineer - Berlin" in intake.background
