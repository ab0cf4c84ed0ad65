"""What one browser session holds: who is signed in, toasts waiting for the next run, the plan last opened.

The token is the only proof of identity kept in ``st.session_state``; the user it names is
re-read from the database on every run, so an expired session or a deactivated account
takes effect on the next click, not the next sign-in. A new browser session (a reload, a
new tab, a link opened) finds the same token in the session cookie instead
(:mod:`tailor.web.cookies`: ``HttpOnly``, ``SameSite=Strict``, as long-lived as the session).

Signed out, every page answers with the sign-in form (:func:`require_user`), so a link to
a plan (``/plan?id=12``) asks for a password first and then shows that plan, at the same
address. Links carry plan ids, never a token.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import streamlit as st

from tailor.errors import PermissionDenied, TailorError
from tailor.web import cookies
from tailor.web.errors import guard
from tailor.web.services import services
from tailor.web.text import ROLE_LABELS, safe

if TYPE_CHECKING:
    from tailor.review.auth import Role, UserOut

log = logging.getLogger("tailor.web")

TOKEN_KEY = "tailor_token"
USER_KEY = "tailor_user"
NOTICE_KEY = "tailor_notice"
FLASH_KEY = "tailor_flash"
PLAN_KEY = "plan_id"
JUST_SIGNED_IN_KEY = "tailor_just_signed_in"
_COOKIE_CODE_KEY = "tailor_cookie_code"  # a sign-in's handoff code, until the page has used it
_COOKIE_END_KEY = "tailor_cookie_end"  # the cookie is to be cleared on the next run
_COOKIE_TRIED_KEY = "tailor_cookie_tried"  # the cookie token this session already tried


def _cookie_token() -> str | None:
    """The session cookie's token, as the browser sent it when this session's websocket opened."""
    value = st.context.cookies.get(cookies.COOKIE_NAME)
    return value if isinstance(value, str) and value else None  # only a real cookie's text counts


def current_user() -> UserOut | None:
    """The signed-in user, re-checked against the database on every run (expiry, deactivation).

    Without a token in this session, the session cookie's is tried once: a reload stays signed
    in. A refused cookie is cleared and its reason shown, unless a notice is already waiting.
    """
    token = st.session_state.get(TOKEN_KEY)
    from_cookie = False
    if not token:
        token = _cookie_token()
        if not token or token == st.session_state.get(_COOKIE_TRIED_KEY):
            return None
        st.session_state[_COOKIE_TRIED_KEY] = token
        from_cookie = True
    try:
        user = services().auth.user_for_token(token)
    except PermissionDenied as exc:
        if from_cookie:
            st.session_state.setdefault(NOTICE_KEY, exc.message)
        else:
            sign_out_locally(notice=exc.message)
        if _cookie_token() == token:  # a dead cookie: tried once, then cleared
            st.session_state[_COOKIE_TRIED_KEY] = token
            st.session_state[_COOKIE_END_KEY] = True
        return None
    st.session_state[TOKEN_KEY] = token
    st.session_state[USER_KEY] = user
    return user


def sign_in(username: str, password: str) -> UserOut:
    """Check the password, keep the token, and hand it to the cookie; a wrong one raises ``PermissionDenied``."""
    session = services().auth.authenticate(username, password)
    for key in (NOTICE_KEY, _COOKIE_END_KEY):
        st.session_state.pop(key, None)
    st.session_state[TOKEN_KEY] = session.token
    st.session_state[USER_KEY] = session.user
    st.session_state[_COOKIE_CODE_KEY] = cookies.HANDOFFS.issue(session.token, session.expires_at)
    st.session_state[JUST_SIGNED_IN_KEY] = True
    return session.user


def sign_out_locally(notice: str | None = None) -> None:
    """Forget everything this browser session held: the token and every page's state."""
    for key in list(st.session_state.keys()):
        del st.session_state[key]
    if notice:
        st.session_state[NOTICE_KEY] = notice


def sign_out() -> None:
    """End the session in the database too, so the token is dead even if it was copied, and clear the cookie."""
    token = st.session_state.get(TOKEN_KEY)
    if token:
        try:
            services().auth.sign_out(token)
        except TailorError:
            log.warning("sign-out could not be recorded", exc_info=True)
    sign_out_locally(notice="You are signed out.")
    st.session_state[_COOKIE_END_KEY] = True
    # This session's websocket still carries the old cookie; it is revoked, so do not try it.
    st.session_state[_COOKIE_TRIED_KEY] = token


def sync_cookie() -> None:
    """Set or clear the session cookie through its endpoint, from a few lines of JavaScript in the page.

    The handoff is offered on every run until the endpoint has used it or it expired; a
    browser that never runs it stays signed in until it reloads.
    """
    code = st.session_state.get(_COOKIE_CODE_KEY)
    if code and cookies.HANDOFFS.waiting(code):
        st.html(cookies.script("set", code), unsafe_allow_javascript=True)
    elif code:
        del st.session_state[_COOKIE_CODE_KEY]
    if st.session_state.pop(_COOKIE_END_KEY, False):
        st.html(cookies.script("end"), unsafe_allow_javascript=True)


def sign_in_form(*, linked: bool = False) -> None:
    """The sign-in page; on any other page (``linked``) it says the page opens after signing in."""
    st.title("tailor")
    st.caption("Onboarding plans for new hires, grounded in your team's own documents. Sign in to continue.")
    notice = st.session_state.pop(NOTICE_KEY, None)
    if notice:
        st.info(safe(notice), icon=":material/info:")
    elif linked:
        st.info("Sign in to open this page. You will land on it once you are signed in.", icon=":material/link:")

    left, _ = st.columns([1, 1])
    with left, st.form("sign_in", border=True):
        username = st.text_input("Username", autocomplete="username")
        password = st.text_input("Password", type="password", autocomplete="current-password")
        submitted = st.form_submit_button("Sign in", type="primary", icon=":material/login:")

    if submitted:
        if not username.strip() or not password:
            st.error("Enter your username and password.")
        else:
            with guard("signing in") as outcome:
                user = sign_in(username, password)
            if outcome.ok:
                flash(f"Signed in as {user.display_name}")
                st.rerun()
    st.caption("No account yet? Ask an admin to create one for you.")
    sync_cookie()


def require_user(*roles: Role) -> UserOut:
    """The signed-in user; signed out, the sign-in form instead of the page; the wrong role, a message.

    The menu already hides pages a role may not use; this covers a typed URL. The services
    check every action again, so this is a courtesy, not the security boundary.
    """
    from tailor.review.auth import UserOut

    user = st.session_state.get(USER_KEY)
    if not isinstance(user, UserOut):
        user = current_user()
    if user is None:
        sign_in_form(linked=True)
        st.stop()
    if roles and user.role not in roles:
        allowed = ", ".join(ROLE_LABELS[r] for r in roles)
        st.warning(f"This page is for {allowed} users; you are signed in as {ROLE_LABELS[user.role]}.")
        st.stop()
    return user


def flash(message: str, icon: str = ":material/check_circle:") -> None:
    """A toast that survives the ``st.rerun`` that usually follows a save."""
    st.session_state.setdefault(FLASH_KEY, []).append((message, icon))


def show_flashes() -> None:
    """Show, once, the toasts the previous run left (``app.py`` calls it on every run)."""
    for message, icon in st.session_state.pop(FLASH_KEY, []):
        st.toast(message, icon=icon)


def linked_plan_id() -> int | None:
    """The plan named in the address (``?id=12`` or ``?id=#12``), or None."""
    raw = st.query_params.get("id")
    if raw is None:
        return None
    text = str(raw).strip().lstrip("#")
    return int(text) if text.isdigit() else None


def pick_plan(label: str, labels: dict[int, str], key: str) -> int:
    """A plan selector: a link's ``?id=`` first, else the plan last worked on; the address follows the choice.

    A link is applied once (when it differs from what this selector last showed), so picking
    another plan afterwards is not undone by the address still naming the old one.
    """
    ids = list(labels)
    state = st.session_state
    link, shown_key = linked_plan_id(), f"{key}__shown"
    if link in ids and state.get(shown_key) != link:
        state[key] = link
    if state.get(key) not in ids:
        preferred = state.get(PLAN_KEY)
        state[key] = preferred if preferred in ids else ids[0]
    plan_id: int = st.selectbox(label, ids, format_func=labels.__getitem__, key=key)
    state[PLAN_KEY] = state[shown_key] = plan_id
    if st.query_params.get("id") != str(plan_id):
        st.query_params["id"] = str(plan_id)
    return plan_id
