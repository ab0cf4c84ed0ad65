"""tailor's Streamlit entry point: `scripts/run` serves it on http://127.0.0.1:8501.

This file is read twice. `streamlit run app.py` first imports it to find the server: the
``st.App`` at the bottom, which serves Streamlit plus the session-cookie endpoints of
``tailor.web.cookies``. Then every page view runs it as a script (``__name__`` is
``"__main__"``), which is :func:`main`.

Every page is registered for everyone, so any address answers: signed out, each page shows
the sign-in form and, once signed in, itself (a shared link to ``/plan?id=12`` works); signed
in, the menu lists the pages the user's role may use, and any other page says whose it is.
The services check every action again, so the menu is a convenience, not the security boundary.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Literal

import streamlit as st

if TYPE_CHECKING:
    from tailor.review.auth import UserOut

# name -> (script, title, icon, url path)
PAGES: dict[str, tuple[str, str, str, str]] = {
    "new_plan": ("pages/new_plan.py", "New plan", ":material/add_circle:", "new"),
    "plans": ("pages/plans.py", "Plans", ":material/list_alt:", "plans"),
    "plan": ("pages/plan.py", "Plan", ":material/description:", "plan"),
    "review": ("pages/review.py", "Review", ":material/rate_review:", "review"),
    "export": ("pages/export.py", "Export", ":material/download:", "export"),
    "corpus": ("pages/corpus.py", "Corpus", ":material/library_books:", "corpus"),
    "evals": ("pages/evals.py", "Evals", ":material/monitoring:", "evals"),
    "tokens": ("pages/tokens.py", "API tokens", ":material/key:", "tokens"),
}
SIGN_IN = ("pages/sign_in.py", "Sign in", ":material/login:", "signin")
# The first page of each list is where the role lands after signing in.
ROLE_PAGES: dict[str, list[str]] = {
    "manager": ["new_plan", "plans", "plan", "export", "tokens"],
    "hr": ["review", "plans", "plan", "export", "tokens"],
    "admin": ["plans", "plan", "export", "corpus", "evals", "tokens"],
}
# Opening one of these pages with ?id=N marks that plan's inbox items read.
OPENS_A_PLAN = ("plan", "review")


def page(spec: tuple[str, str, str, str], *, default: bool = False, hidden: bool = False) -> st.Page:
    script, title, icon, url_path = spec
    visibility: Literal["hidden", "visible"] = "hidden" if hidden else "visible"
    return st.Page(script, title=title, icon=icon, url_path=url_path, default=default, visibility=visibility)


def model_status(admin: bool) -> None:
    """One sidebar line from the last `tailor model check` (a file read, no model load); details for admins."""
    from tailor.config import get_settings
    from tailor.models import modelcheck
    from tailor.web.text import safe

    settings = get_settings()
    if not settings.is_local_model:
        return
    check = modelcheck.last_check(settings)
    if check is None:
        st.caption(":material/memory: Local model not checked yet" + (" (run the check below)" if admin else ""))
    elif check.ok:
        # The model's id and speed are for admins; everyone else only needs to know it works.
        speed = f", {check.tokens_per_s:.1f} tokens/s" if check.tokens_per_s is not None else ""
        shown = f": {safe(check.model)}{speed}" if admin else ""
        st.caption(f":material/memory: Local model OK{shown}")
    elif admin:
        st.caption(f":material/error: :red[Local model check failed:] {safe(check.cause)}")
    else:
        st.caption(":material/error: The local model is not working; plans keep their grounded text. Admins see why.")
    if admin:
        with st.expander("Model runtime"):
            if check is not None:
                st.caption(f"Checked {check.checked_at:%Y-%m-%d %H:%M} UTC")
                st.json(check.model_dump(mode="json"), expanded=False)
            # The check runs in a child process: a crashing build cannot take this server down.
            if st.button("Run the check", key="model_check_run", icon=":material/play_arrow:"):
                with st.spinner("One tiny generation in a child process…"):
                    modelcheck.run_check(settings)
                st.rerun()


def signed_out() -> st.Page:
    """Sign in at the root; every other address runs its page, which asks for a password first."""
    from tailor.web.services import warm_up_services

    warm_up_services()
    pages = [page(SIGN_IN, default=True), *(page(spec, hidden=True) for spec in PAGES.values())]
    return st.navigation(pages, position="hidden")


def signed_in(user: UserOut) -> st.Page:
    """The role's menu, the inbox count and sign-out in the sidebar; then, once, where a fresh sign-in lands."""
    from tailor.errors import TailorError
    from tailor.review.inbox import has_inbox
    from tailor.web.services import services
    from tailor.web.session import JUST_SIGNED_IN_KEY, flash, linked_plan_id, sign_out, sync_cookie
    from tailor.web.text import ROLE_LABELS, safe

    mine = ROLE_PAGES[user.role]
    pages = {name: page(PAGES[name], default=name == mine[0], hidden=name not in mine) for name in PAGES}
    sign_in_page = page(SIGN_IN, hidden=True)  # a bookmarked /signin still answers
    ordered = [pages[n] for n in mine] + [p for n, p in pages.items() if n not in mine] + [sign_in_page]
    nav = st.navigation(ordered)

    review = services().review
    plan_id = linked_plan_id()
    if plan_id is not None and any(nav is pages[n] for n in OPENS_A_PLAN):
        with contextlib.suppress(TailorError):  # a plan this user may not read: the page says so
            review.mark_inbox_read(user, plan_id)
    unread = 0
    inbox = has_inbox(user) and "plans" in mine  # the inbox is on the Plans page
    if inbox:
        with contextlib.suppress(TailorError):
            unread = review.inbox(user, limit=0).unread

    with st.sidebar:
        st.markdown(f"**{safe(user.display_name)}**  \n{ROLE_LABELS[user.role]}")
        if inbox:
            label = f"Inbox · {unread} new" if unread else "Inbox"
            st.page_link(pages["plans"], label=label, icon=":material/inbox:")
        if st.button("Sign out", icon=":material/logout:", key="sign_out"):
            sign_out()
            st.switch_page(sign_in_page)
        model_status(admin=user.role == "admin")
        sync_cookie()

    # Where a sign-in lands: a link's page stays; the root goes to the inbox when something is new.
    just_signed_in = st.session_state.pop(JUST_SIGNED_IN_KEY, False)
    if just_signed_in and unread:
        flash(f"{unread} new in your inbox", icon=":material/inbox:")
    if nav is sign_in_page:
        st.switch_page(pages["plans"] if just_signed_in and unread else pages[mine[0]])
    if just_signed_in and all(nav is not pages[n] for n in mine):
        st.switch_page(pages[mine[0]])  # a link to a page this role does not use
    return nav


def main() -> None:
    from tailor.web.session import current_user, show_flashes

    st.set_page_config(page_title="tailor", page_icon="🧵", layout="wide")
    user = current_user()
    nav = signed_out() if user is None else signed_in(user)
    show_flashes()
    nav.run()


if __name__ == "__main__":
    main()
else:
    from streamlit.runtime.pages_manager import PagesManager

    from tailor.web.cookies import routes

    # The pages live in `pages/`, the folder name of Streamlit's older multipage mode. Until the
    # first st.navigation call the server would run that mode, so a link opened first thing after
    # a start would run its page bare (no menu, no cookie). Say up front what st.navigation says.
    PagesManager.uses_pages_directory = False
    app = st.App(__file__, routes=routes())
