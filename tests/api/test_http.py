"""HTTP behaviour: problem+json for every error, tokens, size and rate limits, OpenAPI and readiness."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import update

from tailor.review.tokens import TOKEN_PREFIX, TokenService
from tailor.store.api_records import ApiTokenRecord
from tailor.store.records import utcnow
from tests.api.conftest import Api, ApiFactory
from tests.fixtures.db import make_plan

PROBLEM = "application/problem+json"


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = dict(response.json())
    assert body["status"] == status and body["code"] == code and body["type"] == "about:blank"
    assert body["title"] and body["detail"] and "Traceback" not in response.text
    return body


def test_framework_errors_are_problems_too(api: Api) -> None:
    with api.client("manager") as client:
        assert_problem(client.get("/v1/nothing-here"), 404, "not_found")
        assert_problem(client.delete("/v1/plans"), 405, "method_not_allowed")
        bad = assert_problem(client.get("/v1/plans/not-a-number"), 422, "validation_error")
        assert bad["errors"] == [{"loc": ["path", "plan_id"], "msg": bad["errors"][0]["msg"], "type": "int_parsing"}]  # type: ignore[index]
        secret = "Priya Raman, priya@example.com"
        echoed = client.post("/v1/drafts", json={"background": secret, "years_experience": "lots"})
        assert_problem(echoed, 422, "validation_error")
        assert "priya" not in echoed.text.lower(), "a validation error never echoes what was sent"
        assert_problem(client.get("/v1/plans/12345"), 404, "not_found")


def test_a_bug_is_a_500_problem_without_a_traceback(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("internal detail: /srv/tailor/secret.py line 12")

    monkeypatch.setattr(api.ctx.review, "list_plans", broken)
    with api.client("hr") as client:
        response = client.get("/v1/plans")
    body = assert_problem(response, 500, "internal_error")
    assert "secret.py" not in response.text and "RuntimeError" not in response.text
    assert body["detail"] == "an unexpected error; it was logged on the server"


def test_tokens_are_checked_every_time(api: Api) -> None:
    tokens = TokenService(api.settings, db=api.service.db)
    maria = api.users["manager"]
    fresh = tokens.create_token(maria, "ci")
    assert fresh.token.startswith(TOKEN_PREFIX) and fresh.info.prefix == fresh.token[: len(TOKEN_PREFIX) + 4]
    with httpx.Client(base_url=api.url) as anonymous:
        missing = assert_problem(anonymous.get("/v1/plans"), 401, "unauthorized")
        assert "Bearer" in anonymous.get("/v1/plans").headers["www-authenticate"]
        assert "Authorization: Bearer" in str(missing["detail"])
        basic = anonymous.get("/v1/plans", headers={"Authorization": "Basic bWFyaWE6cHc="})
        assert_problem(basic, 401, "unauthorized")
        me = anonymous.get("/v1/me", headers={"Authorization": f"Bearer {fresh.token}"})
        assert me.status_code == 200 and me.json()["user"]["username"] == "manager"
        assert me.json()["token"]["name"] == "ci" and "token_sha256" not in me.text and fresh.token not in me.text

        with api.ctx.db.write() as s:  # expired an hour ago
            s.execute(
                update(ApiTokenRecord)
                .where(ApiTokenRecord.id == fresh.info.id)
                .values(expires_at=utcnow() - timedelta(hours=1))
            )
        expired = anonymous.get("/v1/me", headers={"Authorization": f"Bearer {fresh.token}"})
        assert "expired" in str(assert_problem(expired, 401, "unauthorized")["detail"])

        other = tokens.create_token(maria, "to revoke")
        with api.client("manager") as owner:
            assert owner.delete(f"/v1/tokens/{other.info.id}").json()["revoked_at"]
        revoked = anonymous.get("/v1/me", headers={"Authorization": f"Bearer {other.token}"})
        assert "revoked" in str(assert_problem(revoked, 401, "unauthorized")["detail"])

        hugo = tokens.create_token(api.users["hr2"], "role change")
        api.ctx.auth.set_role(api.users["admin"], "hr2", "manager")
        changed = anonymous.get("/v1/me", headers={"Authorization": f"Bearer {hugo.token}"})
        assert "role changed" in str(assert_problem(changed, 401, "unauthorized")["detail"])

        api.ctx.auth.set_active(api.users["admin"], "manager2", False)
        gone = anonymous.get("/v1/me", headers={"Authorization": f"Bearer {api.tokens['manager2']}"})
        assert "deactivated" in str(assert_problem(gone, 401, "unauthorized")["detail"])


def test_who_may_make_list_and_revoke_tokens(api: Api) -> None:
    tokens = TokenService(api.settings, db=api.service.db)
    admin, maria, hana = api.users["admin"], api.users["manager"], api.users["hr"]
    with pytest.raises(Exception, match="only hr can make their own"):
        tokens.create_token(admin, "impersonate", username="hr")
    operator = api.ctx.auth.operator_user()
    made = tokens.create_token(operator, "ats", username="manager", expires_days=30)
    assert made.info.username == "manager" and made.info.created_by == "cli-operator"
    assert {t.name for t in tokens.list_tokens(maria)} == {"tests", "ats"}
    with pytest.raises(Exception, match="only an admin"):
        tokens.list_tokens(hana, username="manager")
    with pytest.raises(Exception, match="no API token"):
        tokens.revoke_token(hana, made.info.id)  # someone else's token is not found, not refused
    assert tokens.revoke_token(admin, made.info.id).revoked_at is not None
    assert "token.create" in [a.action for a in api.service.audit_log(admin)]
    assert "token.revoke" in [a.action for a in api.service.audit_log(admin)]


def test_bodies_over_the_limit_are_refused_before_they_are_read(start_api: ApiFactory) -> None:
    api = start_api(max_upload_bytes=10_000)
    limit = 10_000 + 64 * 1024
    with api.client("manager") as client:
        declared = client.post(
            "/v1/drafts", content=b"{" + b" " * limit + b"}", headers={"Content-Type": "application/json"}
        )
        assert_problem(declared, 413, "too_large")

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
            yield b'{"background": "'
            for _ in range(limit // 1000 + 2):
                yield b"a" * 1000
            yield b'"}'

        streamed = client.post("/v1/drafts", content=chunks(), headers={"Content-Type": "application/json"})
        assert_problem(streamed, 413, "too_large")


def test_each_token_has_a_rate_limit(start_api: ApiFactory) -> None:
    api = start_api(api_rate_limit_per_minute=60)  # one a second, bursts of 6
    with api.client("hr") as hr, api.client("admin") as admin:
        codes = [hr.get("/v1/me").status_code for _ in range(8)]
        assert codes[:6] == [200] * 6 and 429 in codes[6:]
        limited = hr.get("/v1/me")
        body = assert_problem(limited, 429, "rate_limited")
        assert int(limited.headers["retry-after"]) >= 1 and body["retry_after"] == int(limited.headers["retry-after"])
        assert admin.get("/v1/me").status_code == 200, "another token has its own budget"


def test_openapi_docs_and_readiness(api: Api) -> None:
    with httpx.Client(base_url=api.url) as client:
        schema = client.get("/openapi.json").json()
        assert schema["info"]["title"] == "tailor" and all(p.startswith("/v1/") for p in schema["paths"])
        approve = schema["paths"]["/v1/plans/{plan_id}/approve"]["post"]["responses"]
        assert {"403", "412", "428", "429"} <= set(approve)
        assert approve["403"]["content"] == {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}
        assert "swagger-ui" in client.get("/docs").text
        assert client.get("/v1/health").json()["status"] == "ok"
        ready = client.get("/v1/ready").json()
        assert ready["database"]["ok"] is True and ready["index"]["ok"] is True, ready
        assert ready["status"] in ("ready", "degraded")


def test_a_merge_patch_that_breaks_the_plan_is_a_422_and_writes_nothing(api: Api) -> None:
    plan_id = api.service.import_plan(api.users["manager"], make_plan()).id
    with api.client("manager") as client:
        broken = client.patch(
            f"/v1/plans/{plan_id}", json={"targets": {"first_pr_day": 400}}, headers={"If-Match": '"1"'}
        )
        body = assert_problem(broken, 422, "validation_error")
        assert body["errors"][0]["loc"][:3] == ["body", "targets", "first_pr_day"]  # type: ignore[index]
        assert client.get(f"/v1/plans/{plan_id}").headers["etag"] == '"1"'


def test_nul_characters_are_refused_before_they_reach_the_database(api: Api) -> None:
    """PostgreSQL cannot store NUL in text: found by Schemathesis as a 500 (``GET /v1/plans?role=%00``)."""
    plan_id = api.service.import_plan(api.users["manager"], make_plan()).id
    with api.client("manager") as client:
        assert_problem(client.get("/v1/plans", params={"role": "a\x00b"}), 400, "bad_input")
        assert_problem(client.post(f"/v1/plans/{plan_id}/comments", json={"text": "a\x00b"}), 400, "bad_input")
        form = client.post(
            "/v1/drafts/upload",
            files={"file": ("cv.txt", b"Senior Go engineer", "text/plain")},
            data={"name": "a\x00b"},
        )
        assert_problem(form, 400, "bad_input")
        literal = client.post(f"/v1/plans/{plan_id}/comments", json={"text": "a literal \\u0000 is fine"})
        assert literal.status_code == 201 and literal.json()["text"] == "a literal \\u0000 is fine"
    assert api.service.list_intakes(api.users["manager"]) == []


def test_readiness_says_degraded_without_the_index_and_names_no_host(start_api: ApiFactory) -> None:
    from tests.fixtures.drafting import closed_url

    where = closed_url()
    api = start_api(chroma_url=where)
    with httpx.Client(base_url=api.url) as client:
        ready = client.get("/v1/ready")
    assert ready.status_code == 200, ready.text
    body = ready.json()
    assert body["status"] == "degraded" and body["database"]["ok"] is True and body["index"]["ok"] is False
    assert where.split("//")[1] not in ready.text
