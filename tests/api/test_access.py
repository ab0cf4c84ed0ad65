"""The role x endpoint matrix: every caller on every endpoint, against what the permission table says.

Callers: each role's token (the plan's own manager, another manager, two HR users, an admin),
no token, and a token that is not one. Endpoints: every route that reads or changes something,
each on a fresh plan in the state where the action is legal (so a refusal can only be about who
asks). Expected: plan actions from ``tailor.review.permissions`` (``denial``: role, ownership,
four-eyes); webhooks for admins; the rest for anyone signed in. The API re-implements none of it:
it calls the review service, and this test checks the two agree.

Counted: unauthorised successes (must be 0), authorised refusals (must be 0), and that every
refusal is 401/403 ``application/problem+json``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from tailor.review.permissions import Action, Target, denial
from tailor.review.users import UserOut
from tests.api.conftest import Api, resolved
from tests.fixtures.db import make_plan

CALLERS = ("manager", "manager2", "hr", "hr2", "admin", "no token", "bad token")
PROBLEM = "application/problem+json"


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # {plan} and {job} are filled in per call
    action: Action | None = None  # a plan action: the permission table decides
    who: str = "signed in"  # without an action: "signed in" or "admin"
    state: str = "draft"  # the plan's state when called: draft or in_review
    body: Any = None
    if_match: bool = False

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}"


def plan_json(api: Api) -> dict[str, Any]:
    return make_plan().model_dump(mode="json", by_alias=True)


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("GET", "/v1/plans/{plan}", Action.READ),
    Endpoint("GET", "/v1/plans/{plan}/revisions", Action.READ),
    Endpoint("GET", "/v1/plans/{plan}/revisions/1", Action.READ),
    Endpoint("GET", "/v1/plans/{plan}/diff?a=1&b=1", Action.READ),
    Endpoint("GET", "/v1/plans/{plan}/history", Action.READ),
    Endpoint("GET", "/v1/plans/{plan}/comments", Action.READ),
    Endpoint("GET", "/v1/plans/{plan}/export/json", Action.READ),
    Endpoint("GET", "/v1/plans/{plan}/export/pdf", Action.READ),
    Endpoint("PUT", "/v1/plans/{plan}", Action.EDIT, state="in_review", body=plan_json, if_match=True),
    Endpoint("PATCH", "/v1/plans/{plan}", Action.EDIT, state="in_review", body={"summary": "Edited."}, if_match=True),
    Endpoint("POST", "/v1/plans/{plan}/submit", Action.SUBMIT, if_match=True),
    Endpoint(
        "POST",
        "/v1/plans/{plan}/approve",
        Action.APPROVE,
        state="in_review",
        body={"reason": "ok", "flags": [d.model_dump() for d in resolved(make_plan())]},
        if_match=True,
    ),
    Endpoint("GET", "/v1/plans/{plan}/flags", Action.READ),
    Endpoint(
        "POST",
        "/v1/plans/{plan}/request-changes",
        Action.REQUEST_CHANGES,
        state="in_review",
        body={"reason": "more"},
        if_match=True,
    ),
    Endpoint("POST", "/v1/plans/{plan}/comments", Action.COMMENT, body={"text": "A note."}),
    Endpoint("PUT", "/v1/plans/{plan}/reviewer", Action.ASSIGN_REVIEWER, body={"reviewer": "hr2"}),
    Endpoint("POST", "/v1/drafts", Action.START_DRAFT, body={"background": "Senior Backend Engineer, 9 years of Go."}),
    Endpoint("GET", "/v1/drafts/{job}", Action.USE_DRAFT),
    Endpoint("GET", "/v1/drafts/{job}/events", Action.USE_DRAFT),
    Endpoint("GET", "/v1/plans"),
    Endpoint("GET", "/v1/drafts"),
    Endpoint("GET", "/v1/corpus/teams"),
    Endpoint("GET", "/v1/corpus/roles"),
    Endpoint("GET", "/v1/me"),
    Endpoint("GET", "/v1/tokens"),
    Endpoint("GET", "/v1/webhooks", who="admin"),
    Endpoint("POST", "/v1/webhooks", who="admin", body={"url": "http://127.0.0.1:9/x", "events": ["plan.approved"]}),
)


def expected_allowed(endpoint: Endpoint, caller: str, user: UserOut | None, target: Target) -> bool:
    if user is None:
        return False
    if endpoint.action is None:
        return endpoint.who == "signed in" or user.role == "admin"
    on = None if endpoint.action is Action.START_DRAFT else target
    return denial(user, endpoint.action, on) is None


def fresh_plan(api: Api, state: str) -> Target:
    manager = api.users["manager"]
    plan_id = api.service.import_plan(manager, make_plan()).id
    if state == "in_review":
        api.service.submit(manager, plan_id, 1)
    return Target(plan_id, "manager", state, 1, "manager")  # type: ignore[arg-type]


def fresh_job(api: Api) -> int:
    manager = api.users["manager"]
    intake = api.service.save_intake(manager, "Senior Backend Engineer, 9 years of Go and PostgreSQL.")
    return api.ctx.jobs.create(manager, intake, None).id


def call(api: Api, caller: str, endpoint: Endpoint, plan_id: int, job_id: int) -> httpx.Response:
    headers = {"If-Match": '"1"'} if endpoint.if_match else {}
    if caller == "bad token":
        headers["Authorization"] = "Bearer tailor_pat_not-a-real-token-at-all"
    body = endpoint.body(api) if isinstance(endpoint.body, Callable) else endpoint.body  # type: ignore[arg-type]
    path = endpoint.path.format(plan=plan_id, job=job_id)
    with api.client(None if caller in ("no token", "bad token") else caller, **headers) as client:
        return client.request(endpoint.method, path, json=body)


def finished_job(api: Api) -> int:
    """A job of the manager's that has finished (its event stream ends at once)."""
    job_id = fresh_job(api)
    api.ctx.runner.wake()
    deadline = time.monotonic() + 60
    while api.ctx.jobs.get(api.users["manager"], job_id).status not in ("succeeded", "failed"):
        assert time.monotonic() < deadline, "the job never finished"
        time.sleep(0.1)
    return job_id


def test_no_caller_does_what_the_permission_table_refuses(api: Api) -> None:
    unauthorised_successes: list[str] = []
    authorised_refusals: list[str] = []
    bad_refusals: list[str] = []
    calls = 0
    job_id = finished_job(api)
    shared = {state: fresh_plan(api, state) for state in ("draft", "in_review")}  # for calls that change nothing
    for endpoint in ENDPOINTS:
        for caller in CALLERS:
            target = shared[endpoint.state] if endpoint.method == "GET" else fresh_plan(api, endpoint.state)
            user = api.users.get(caller)
            allowed = expected_allowed(endpoint, caller, user, target)
            response = call(api, caller, endpoint, target.id, job_id)
            calls += 1
            where = f"{caller} {endpoint.name}: {response.status_code} {response.text[:160]}"
            if response.is_success and not allowed:
                unauthorised_successes.append(where)
            elif allowed and not response.is_success:
                authorised_refusals.append(where)
            elif not allowed:
                want = 401 if user is None else 403
                if response.status_code != want or response.headers["content-type"] != PROBLEM:
                    bad_refusals.append(where)
    print(f"\nrole x endpoint matrix: {calls} calls, {len(ENDPOINTS)} endpoints x {len(CALLERS)} callers")
    assert unauthorised_successes == [], "a caller did what the permission table refuses"
    assert authorised_refusals == [], "a caller was refused what the permission table allows"
    assert bad_refusals == [], "a refusal that is not 401/403 problem+json"


def test_lists_only_show_what_the_caller_may_read(api: Api) -> None:
    mine = fresh_plan(api, "draft").id
    theirs = api.service.import_plan(api.users["manager2"], make_plan()).id
    fresh_job(api)
    with api.client("manager2") as other:
        assert [p["id"] for p in other.get("/v1/plans").json()] == [theirs]
        assert other.get("/v1/drafts").json() == []
    with api.client("hr") as hr:
        assert {p["id"] for p in hr.get("/v1/plans").json()} == {mine, theirs}


def test_a_wrong_role_gets_403_problem_json(api: Api) -> None:
    """The issue's "done means": an HR token cannot draft, and is told why in problem+json."""
    with api.client("hr") as hr:
        refused = hr.post("/v1/drafts", json={"background": "Senior Backend Engineer, 9 years of Go."})
    assert refused.status_code == 403
    assert refused.headers["content-type"] == PROBLEM
    problem = refused.json()
    assert problem["status"] == 403 and problem["code"] == "forbidden" and problem["title"] == "Forbidden"
    assert problem["detail"] == "only manager users can start a draft (you are hr, hr)"
    assert problem["instance"] == "/v1/drafts"
    assert api.service.list_intakes(api.users["manager"]) == []  # nothing was saved
