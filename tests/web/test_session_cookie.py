"""The session cookie's endpoints over real HTTP (Starlette's test client): what they set, and what they refuse."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from tailor.web import cookies

TOKEN = "a-session-token-from-auth-service"


@pytest.fixture
def client() -> TestClient:
    return TestClient(Starlette(routes=cookies.routes()), base_url="http://127.0.0.1:8501")


def _code(hours: float = 8) -> str:
    return cookies.HANDOFFS.issue(TOKEN, datetime.now(UTC) + timedelta(hours=hours))


def test_a_handoff_code_sets_an_http_only_strict_cookie_once(client: TestClient) -> None:
    code = _code()
    response = client.post(cookies.endpoint("set"), json={"code": code}, headers={"Origin": "http://127.0.0.1:8501"})
    assert response.status_code == 204
    header = response.headers["set-cookie"]
    assert header.startswith(f"{cookies.COOKIE_NAME}={TOKEN};")
    attributes = {part.strip().split("=")[0].lower(): part for part in header.split(";")[1:]}
    assert {"httponly", "samesite", "path", "max-age"} <= set(attributes)
    assert attributes["samesite"].strip().lower() == "samesite=strict"
    assert "secure" not in attributes  # plain http on 127.0.0.1
    assert 8 * 3600 - 60 < int(attributes["max-age"].split("=")[1]) <= 8 * 3600  # no longer than the session
    assert response.headers["cache-control"] == "no-store"

    again = client.post(cookies.endpoint("set"), json={"code": code})
    assert again.status_code == 400 and "set-cookie" not in again.headers
    assert not cookies.HANDOFFS.waiting(code)


@pytest.mark.parametrize("body", [{"code": "guessed"}, {"code": 12}, {}, "not json"])
def test_a_wrong_or_missing_code_sets_nothing(client: TestClient, body: object) -> None:
    if isinstance(body, str):
        response = client.post(cookies.endpoint("set"), content=body)
    else:
        response = client.post(cookies.endpoint("set"), json=body)
    assert response.status_code == 400 and "set-cookie" not in response.headers


def test_another_site_cannot_use_a_code_or_clear_the_cookie(client: TestClient) -> None:
    code = _code()
    evil = {"Origin": "https://evil.example"}
    assert client.post(cookies.endpoint("set"), json={"code": code}, headers=evil).status_code == 403
    assert client.post(cookies.endpoint("end"), headers=evil).status_code == 403
    assert cookies.HANDOFFS.waiting(code)  # refused before it was spent


def test_over_https_the_cookie_is_secure(client: TestClient) -> None:
    response = client.post(cookies.endpoint("set"), json={"code": _code()}, headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 204
    assert "secure" in response.headers["set-cookie"].lower()


def test_an_old_code_or_an_ended_session_sets_nothing(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    expired_session = _code(hours=-1)
    assert client.post(cookies.endpoint("set"), json={"code": expired_session}).status_code == 400

    code = _code()
    later = cookies.time.monotonic() + cookies.HANDOFF_SECONDS + 1
    monkeypatch.setattr(cookies.time, "monotonic", lambda: later)
    assert not cookies.HANDOFFS.waiting(code)
    assert client.post(cookies.endpoint("set"), json={"code": code}).status_code == 400


def test_signing_out_clears_the_cookie(client: TestClient) -> None:
    response = client.post(cookies.endpoint("end"), headers={"Origin": "http://127.0.0.1:8501"})
    assert response.status_code == 204
    header = response.headers["set-cookie"].lower()
    assert header.startswith(f'{cookies.COOKIE_NAME}="";') and "max-age=0" in header and "httponly" in header


def test_the_page_script_carries_the_code_and_the_endpoint_only() -> None:
    code = _code()
    text = cookies.script("set", code)
    assert code in text and cookies.endpoint("set") in text and TOKEN not in text
    assert "credentials: 'same-origin'" in text and "application/json" in text
    assert "code" not in cookies.script("end")
