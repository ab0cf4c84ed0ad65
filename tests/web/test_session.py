"""Sessions and links through the whole app (AppTest, real SQLite): the cookie, deep links, the inbox.

AppTest cannot send cookies, so the cookie tests hand the app a client context carrying one:
``st.context.cookies`` then reads it exactly as it reads a browser's. The cookie's endpoints
themselves are tested in ``test_session_cookie.py``; the browser test covers a real reload.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from streamlit.runtime import context as st_context
from streamlit.testing.v1 import AppTest

from tailor.config import PROJECT_ROOT
from tailor.review.auth import AuthService, UserOut
from tailor.review.service import ReviewService
from tailor.web import cookies
from tailor.web.session import TOKEN_KEY
from tests.fixtures.db import PASSWORD, make_plan

APP = str(PROJECT_ROOT / "app.py")
TIMEOUT = 60


@pytest.fixture
def browser_cookies(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """The cookies the simulated browser sends when its session opens (empty until a test sets one)."""
    jar: dict[str, str] = {}
    monkeypatch.setattr(st_context, "_get_client_context", lambda: SimpleNamespace(cookies=jar, headers={}))
    yield jar


def texts(elements: object) -> str:
    joined = " | ".join(str(e.value) for e in elements)  # type: ignore[attr-defined]
    return re.sub(r"\\(.)", r"\1", joined)


def run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, at.exception
    return at


def sign_in(at: AppTest, username: str) -> AppTest:
    at.text_input[0].input(username)
    at.text_input[1].input(PASSWORD)
    at.button[0].click()
    return run(at)


def submitted_plan(service: ReviewService, manager: UserOut) -> int:
    intake = service.save_intake(manager, "Senior backend engineer, eight years of Python and PostgreSQL.")
    plan_id = service.create_plan_from_draft(manager, intake, make_plan()).id
    service.submit(manager, plan_id, 1)
    return plan_id


# =========================================================================== the cookie
def test_a_new_session_with_the_cookie_is_signed_in(
    browser_cookies: dict[str, str], auth_service: AuthService, users: dict[str, UserOut]
) -> None:
    browser_cookies[cookies.COOKIE_NAME] = auth_service.authenticate("hr", PASSWORD).token
    at = run(AppTest.from_file(APP, default_timeout=TIMEOUT))
    assert at.title[0].value == "Review"  # HR's landing page, no password asked
    assert at.session_state[TOKEN_KEY] == browser_cookies[cookies.COOKIE_NAME]


def test_a_revoked_or_unknown_cookie_shows_sign_in_and_is_cleared(
    browser_cookies: dict[str, str], auth_service: AuthService, users: dict[str, UserOut]
) -> None:
    token = auth_service.authenticate("hr", PASSWORD).token
    auth_service.sign_out(token)
    browser_cookies[cookies.COOKIE_NAME] = token
    at = run(AppTest.from_file(APP, default_timeout=TIMEOUT))
    assert at.title[0].value == "tailor"
    assert "signed out" in texts(at.info)
    assert TOKEN_KEY not in at.session_state
    clearing = [h.proto.body for h in at.get("html")]
    assert any(cookies.endpoint("end") in body for body in clearing), clearing


def test_signing_in_hands_the_cookie_a_one_time_code_never_the_token(
    browser_cookies: dict[str, str], users: dict[str, UserOut]
) -> None:
    at = sign_in(run(AppTest.from_file(APP, default_timeout=TIMEOUT)), "manager")
    assert at.title[0].value == "New plan"
    token = at.session_state[TOKEN_KEY]
    bodies = [h.proto.body for h in at.get("html")]
    offered = [b for b in bodies if cookies.endpoint("set") in b]
    assert offered and all(token not in b for b in bodies)
    code = re.search(r'\\"code\\": \\"([^\\"]+)\\"', offered[0])
    assert code is not None
    handoff = cookies.HANDOFFS.redeem(code.group(1))
    assert handoff is not None and handoff.token == token
    run(at)  # used: the page stops offering it
    assert not [h for h in at.get("html") if cookies.endpoint("set") in h.proto.body]

    # Signing out revokes the token and asks the page to clear the cookie.
    at.sidebar.button(key="sign_out").click()
    run(at)
    assert at.title[0].value == "tailor" and "signed out" in texts(at.info)
    assert any(cookies.endpoint("end") in h.proto.body for h in at.get("html"))


# =========================================================================== deep links
def test_a_link_signed_out_asks_for_a_password_then_opens_the_plan(
    service: ReviewService, users: dict[str, UserOut]
) -> None:
    plan_id = submitted_plan(service, users["manager"])
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["id"] = str(plan_id)
    run(at)
    at.switch_page("pages/plan.py")  # what opening /plan?id=N does
    run(at)
    assert at.title[0].value == "tailor"
    assert "Sign in to open this page" in texts(at.info)
    at = sign_in(at, "hr")
    assert at.title[0].value.startswith(f"Plan #{plan_id}")
    assert at.query_params["id"] == str(plan_id)


def test_a_link_to_a_plan_the_user_may_not_see_says_so(service: ReviewService, users: dict[str, UserOut]) -> None:
    plan_id = submitted_plan(service, users["manager"])
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["id"] = str(plan_id)
    run(at)
    at.switch_page("pages/plan.py")
    at = sign_in(run(at), "manager2")
    assert "belongs to another manager" in texts(at.error)  # the review service's own refusal
    assert not [t for t in at.title if t.value.startswith("Plan #")]


def test_a_link_to_a_page_of_another_role_says_whose_it_is(users: dict[str, UserOut], service: ReviewService) -> None:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state[TOKEN_KEY] = AuthService(service.settings, db=service.db).authenticate("manager", PASSWORD).token
    run(at)
    at.switch_page("pages/review.py")
    run(at)
    assert "This page is for HR users" in texts(at.warning)


def test_a_review_link_opens_that_plan_in_the_queue(service: ReviewService, users: dict[str, UserOut]) -> None:
    first = submitted_plan(service, users["manager"])
    second = submitted_plan(service, users["manager"])
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["id"] = str(first)
    at.session_state[TOKEN_KEY] = AuthService(service.settings, db=service.db).authenticate("hr", PASSWORD).token
    run(at)
    assert at.selectbox(key="rv_pick").value == first
    at.selectbox(key="rv_pick").set_value(second)
    run(at)  # picking another plan is not undone by the old link, and the address follows
    assert at.selectbox(key="rv_pick").value == second
    assert at.query_params["id"] == str(second)


# =========================================================================== the inbox
def test_a_manager_whose_plan_was_sent_back_lands_on_the_inbox(
    service: ReviewService, users: dict[str, UserOut]
) -> None:
    plan_id = submitted_plan(service, users["manager"])
    service.request_changes(users["hr"], plan_id, 1, "Add a security onboarding task.")

    at = sign_in(run(AppTest.from_file(APP, default_timeout=TIMEOUT)), "manager")
    assert at.title[0].value == "Plans"
    shown = texts(at.markdown)
    assert f"Hana HR asked for changes to plan #{plan_id}" in shown and "New" in shown
    assert "Add a security onboarding task." in texts(at.caption)
    assert "Inbox · 1 new" in [s.value for s in at.subheader]

    # Selecting its row opens the plan, by its address. (Opening a plan marks its items read in
    # app.py, which AppTest skips after the first page; the browser test checks that part.)
    at.session_state["pl_table_0"] = {"selection": {"rows": [0], "columns": []}}
    run(at)
    assert at.title[0].value.startswith(f"Plan #{plan_id}")
    assert at.query_params["id"] == str(plan_id)


def test_the_plans_list_has_human_labels(service: ReviewService, users: dict[str, UserOut]) -> None:
    submitted_plan(service, users["manager"])
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state[TOKEN_KEY] = AuthService(service.settings, db=service.db).authenticate("admin", PASSWORD).token
    run(at)
    frame = at.dataframe[0].value
    assert list(frame["family"]) == ["Backend"] and list(frame["seniority"]) == ["Senior"]
    assert "None" not in frame.astype(str).to_numpy().ravel().tolist()
    assert "Select a row to open the plan" in texts(at.caption)
    assert not [s for s in at.subheader if s.value.startswith("Inbox")]  # admins have no inbox
