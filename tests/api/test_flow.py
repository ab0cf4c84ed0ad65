"""The manager -> HR -> approved flow through the API alone, as the browser test walks it in the app.

A manager's token drafts a plan (the real engine, its model scripted with valid answers),
follows the job's progress over SSE, submits with the plan's ETag; an HR token approves it;
a real receiver gets ``plan.drafted``, ``plan.submitted`` and ``plan.approved``, each verified
with the reference Standard Webhooks library. Along the way: If-Match (412 stale, 428
missing), four-eyes through the API, and every export format.
"""

from __future__ import annotations

import json

import pytest
from standardwebhooks import Webhook

from tailor.exports import FORMATS
from tailor.schema import DraftRequest
from tests.api.conftest import Api
from tests.api.helpers import Receiver
from tests.api.sse import parse_sse
from tests.fixtures.drafting import BACKGROUND, CONFIRMED, valid_answers

PROBLEM = "application/problem+json"


def draft(api: Api, who: str = "manager") -> dict[str, object]:
    """Draft through the API with valid model answers; the finished job (from the SSE ``end`` event)."""
    api.model.load(valid_answers(api.settings, DraftRequest(background=BACKGROUND, **CONFIRMED)))
    with api.client(who) as client:
        accepted = client.post(
            "/v1/drafts",
            json={"background": BACKGROUND, "name": "Priya Raman", "start_date": "2026-03-02", **CONFIRMED},
        )
        assert accepted.status_code == 202, accepted.text
        job = accepted.json()
        assert accepted.headers["location"] == f"/v1/drafts/{job['id']}"
        assert job["status"] in ("queued", "running")
        with client.stream("GET", f"/v1/drafts/{job['id']}/events") as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            events = parse_sse(stream.iter_lines())
    kinds = [data["kind"] for name, _, data in events if name == "progress"]
    assert kinds[0] == "redacted" and "skeleton" in kinds and kinds[-1] == "done", kinds
    assert [ident for name, ident, _ in events if name == "progress"] == [str(i) for i in range(1, len(kinds) + 1)]
    name, _, end = events[-1]
    assert name == "end"
    return dict(end)


def test_manager_drafts_hr_approves_and_a_receiver_verifies_every_event(api: Api, receiver: Receiver) -> None:
    with api.client("admin") as admin:
        made = admin.post(
            "/v1/webhooks", json={"url": receiver.url, "events": ["plan.drafted", "plan.submitted", "plan.approved"]}
        )
    assert made.status_code == 201, made.text
    secret = made.json()["secret"]
    assert secret.startswith("whsec_")

    job = draft(api)
    assert job["status"] == "succeeded" and job["model_available"] is True, job
    plan_id = job["plan_id"]
    manager, hr = api.client("manager"), api.client("hr")

    got = manager.get(f"/v1/plans/{plan_id}")
    assert got.status_code == 200 and got.headers["etag"] == '"1"' and got.headers["cache-control"] == "no-store"
    plan = got.json()
    assert plan["summary"]["status"] == "draft" and plan["summary"]["manager"] == "manager"
    assert plan["plan"]["hire"]["seniority"] == "senior" and plan["plan"]["hire"]["name"] == "Priya Raman"
    assert manager.get(f"/v1/drafts/{job['id']}").json()["plan_id"] == plan_id

    missing = manager.post(f"/v1/plans/{plan_id}/submit")
    assert missing.status_code == 428 and missing.headers["content-type"] == PROBLEM
    assert missing.json()["code"] == "if_match_required"
    stale = manager.post(f"/v1/plans/{plan_id}/submit", headers={"If-Match": '"7"'})
    assert stale.status_code == 412 and stale.json()["code"] == "stale_revision"
    submitted = manager.post(f"/v1/plans/{plan_id}/submit", headers={"If-Match": '"1"'})
    assert submitted.status_code == 200 and submitted.json()["status"] == "in_review", submitted.text

    flags = hr.get(f"/v1/plans/{plan_id}/flags")
    assert flags.status_code == 200 and flags.headers["etag"] == '"1"'
    unsettled = hr.post(
        f"/v1/plans/{plan_id}/approve", json={"reason": "Checked every task."}, headers={"If-Match": '"1"'}
    )
    if flags.json():  # open flags need a choice each, as in the app
        assert unsettled.status_code == 400 and "open flag" in unsettled.json()["detail"]
        choices = [{"key": f["key"], "choice": "acknowledged", "reason": "Fine for this hire."} for f in flags.json()]
        approved = hr.post(
            f"/v1/plans/{plan_id}/approve",
            json={"reason": "Checked every task.", "flags": choices},
            headers={"If-Match": '"1"'},
        )
    else:
        approved = unsettled
    assert approved.status_code == 200 and approved.json()["status"] == "approved", approved.text
    history = hr.get(f"/v1/plans/{plan_id}/history").json()
    assert [d["decision"] for d in history["decisions"]] == ["approve"] and history["decisions"][0]["reviewer"] == "hr"

    for fmt, spec in FORMATS.items():
        exported = hr.get(f"/v1/plans/{plan_id}/export/{fmt}")
        assert exported.status_code == 200, (fmt, exported.text)
        assert exported.headers["content-type"].split(";")[0] == spec.mime.split(";")[0]
        assert f"-r1.{spec.ext}" in exported.headers["content-disposition"] and exported.content

    # Four senders: wait for all three events, as any one may land last.
    seen = receiver.wait_for(
        lambda got: {r.json()["type"] for r in got} == {"plan.drafted", "plan.submitted", "plan.approved"}
    )
    verifier = Webhook(secret)
    # Verified with the reference library (it raises on a bad signature); delivery order is not
    # guaranteed (four senders, retries), so receivers order by the event's timestamp.
    events = sorted((verifier.verify(r.body, r.headers) for r in seen), key=lambda e: e["timestamp"])
    assert [e["type"] for e in events] == ["plan.drafted", "plan.submitted", "plan.approved"]
    approved_event = events[-1]["data"]
    assert approved_event["plan_id"] == plan_id and approved_event["actor"] == "hr"
    assert approved_event["reason"] == "Checked every task." and approved_event["plan"]["status"] == "approved"
    assert len({r.headers["webhook-id"] for r in seen}) == 3


def test_four_eyes_and_optimistic_locking_hold_through_the_api(api: Api) -> None:
    plan_id = draft(api)["plan_id"]
    manager, hr, hr2 = api.client("manager"), api.client("hr"), api.client("hr2")
    assert manager.post(f"/v1/plans/{plan_id}/submit", headers={"If-Match": '"1"'}).status_code == 200

    # HR edits the plan (a merge patch): a new revision, a new ETag; a stale ETag writes nothing.
    patch = {"summary": "HR's wording of the summary."}
    edited = hr.patch(
        f"/v1/plans/{plan_id}", json=patch, headers={"If-Match": '"1"', "Content-Type": "application/merge-patch+json"}
    )
    assert edited.status_code == 200, edited.text
    assert edited.headers["etag"] == '"2"' and edited.json()["plan"]["summary"] == patch["summary"]
    again = manager.patch(f"/v1/plans/{plan_id}", json={"summary": "Mine."}, headers={"If-Match": '"1"'})
    assert again.status_code == 412 and again.headers["content-type"] == PROBLEM
    assert manager.get(f"/v1/plans/{plan_id}").json()["plan"]["summary"] == patch["summary"]

    # Whoever wrote the latest revision may not approve it; another HR user may.
    own = hr.post(f"/v1/plans/{plan_id}/approve", json={"reason": "fine"}, headers={"If-Match": '"2"'})
    assert own.status_code == 403 and own.headers["content-type"] == PROBLEM
    assert "four-eyes" in own.json()["detail"]
    choices = [{"key": f["key"], "choice": "resolved"} for f in hr2.get(f"/v1/plans/{plan_id}/flags").json()]
    other = hr2.post(
        f"/v1/plans/{plan_id}/approve", json={"reason": "fine", "flags": choices}, headers={"If-Match": '"2"'}
    )
    assert other.status_code == 200 and other.json()["status"] == "approved"

    # A PUT of the whole plan reopens the review (the edit rule of the permission table).
    full = manager.get(f"/v1/plans/{plan_id}").json()["plan"]
    full["summary"] = "The manager's final word."
    put = manager.put(f"/v1/plans/{plan_id}", json=full, params={"note": "final touches"}, headers={"If-Match": '"2"'})
    assert put.status_code == 200 and put.json()["summary"]["status"] == "in_review" and put.headers["etag"] == '"3"'
    revisions = manager.get(f"/v1/plans/{plan_id}/revisions").json()
    assert [(r["number"], r["author"], r["note"]) for r in revisions][-1] == (3, "manager", "final touches")
    diff = manager.get(f"/v1/plans/{plan_id}/diff", params={"a": 2, "b": 3}).json()
    assert any(c["path"] == "summary" for c in diff["plan_changes"])

    comment = hr.post(f"/v1/plans/{plan_id}/comments", json={"text": "Week 2 looks heavy."})
    assert comment.status_code == 201 and comment.json()["author"] == "hr"
    assert [c["text"] for c in manager.get(f"/v1/plans/{plan_id}/comments").json()] == ["Week 2 looks heavy."]


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_an_old_revision_exports_in_every_format(api: Api, fmt: str) -> None:
    from tests.fixtures.db import make_plan

    plan_id = api.service.import_plan(api.users["manager"], make_plan()).id
    with api.client("manager") as manager:
        current = manager.get(f"/v1/plans/{plan_id}").json()["plan"]
        current["summary"] = "A second revision."
        assert manager.put(f"/v1/plans/{plan_id}", json=current, headers={"If-Match": '"1"'}).status_code == 200
        old = manager.get(f"/v1/plans/{plan_id}/export/{fmt}", params={"revision": 1})
    assert old.status_code == 200 and "-r1." in old.headers["content-disposition"]
    if fmt == "json":
        assert json.loads(old.content)["summary"] != "A second revision."
