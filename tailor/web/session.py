"""What one browser session holds: who is signed in, toasts waiting for the next run, the plan last opened.

The token is the only proof of identity kept in ``st.session_state``; the user it names is
re-read from the database on every run, so an expired session or a deactivated account
takes effect on the next click, not the next sign-in.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import streamlit as st

from tailor.errors import PermissionDenied, TailorError
from tailor.web.services import services
from tailor.web.text import ROLE_LABELS

if TYPE_CHECKING:
    from tailor.review.auth import Role, UserOut

log = logging.getLogger("tailor.web")

TOKEN_KEY = "tailor_token"
USER_KEY = "tailor_user"
NOTICE_KEY = "tailor_notice"
FLASH_KEY = "tailor_flash"
PLAN_KEY = "plan_id"


def current_user() -> UserOut | None:
    """The signed-in user, re-checked against the database on every run (expiry, deactivation)."""
    token = st.session_state.get(TOKEN_KEY)
    if not token:
        return None
    try:
        user = services().auth.user_for_token(token)
    except PermissionDenied as exc:
        sign_out_locally(notice=exc.message)
        return None
    st.session_state[USER_KEY] = user
    return user


def sign_in(username: str, password: str) -> UserOut:
    """Check the password and keep the session's token; a wrong one raises ``PermissionDenied``."""
    session = services().auth.authenticate(username, password)
    st.session_state[TOKEN_KEY] = session.token
    st.session_state[USER_KEY] = session.user
    st.session_state.pop(NOTICE_KEY, None)
    return session.user


def sign_out_locally(notice: str | None = None) -> None:
    """Forget everything this browser session held: the token and every page's state."""
    for key in list(st.session_state.keys()):
        del st.session_state[key]
    if notice:
        st.session_state[NOTICE_KEY] = notice


def sign_out() -> None:
    """End the session in the database too, so the token is dead even if it was copied."""
    token = st.session_state.get(TOKEN_KEY)
    if token:
        try:
            services().auth.sign_out(token)
        except TailorError:
            log.warning("sign-out could not be recorded", exc_info=True)
    sign_out_locally(notice="You are signed out.")


def require_user(*roles: Role) -> UserOut:
    """The signed-in user; stops the page with a message when the role may not use it.

    The menu already hides pages a role may not use; this covers a typed URL. The services
    check every action again, so this is a courtesy, not the security boundary.
    """
    from tailor.review.auth import UserOut

    user = st.session_state.get(USER_KEY)
    if not isinstance(user, UserOut):
        user = current_user()
    if user is None:
        st.warning("Your session ended. Sign in again.")
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


def pick_plan(label: str, labels: dict[int, str], key: str) -> int:
    """A plan selector that opens on the plan last worked on and remembers the choice across pages."""
    ids = list(labels)
    preferred = st.session_state.get(PLAN_KEY)
    plan_id: int = st.selectbox(
        label,
        ids,
        index=ids.index(preferred) if preferred in ids else 0,
        format_func=labels.__getitem__,
        key=key,
    )
    st.session_state[PLAN_KEY] = plan_id
    return plan_id
