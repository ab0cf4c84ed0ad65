"""tailor's Streamlit entry point: `scripts/run` serves it on http://127.0.0.1:8501.

Signed out, the only page is Sign in. Signed in, the navigation lists the pages the
user's role may use; the services check every action again, so the menu is a
convenience, not the security boundary.
"""

from __future__ import annotations

import streamlit as st

from tailor.config import get_settings
from tailor.models import modelcheck
from tailor.web.services import warm_up_services
from tailor.web.session import current_user, show_flashes, sign_out
from tailor.web.text import ROLE_LABELS, safe

st.set_page_config(page_title="tailor", page_icon="🧵", layout="wide")

# name -> (script, title, icon, url path)
PAGES: dict[str, tuple[str, str, str, str]] = {
    "new_plan": ("pages/new_plan.py", "New plan", ":material/add_circle:", "new"),
    "plans": ("pages/plans.py", "Plans", ":material/list_alt:", "plans"),
    "plan": ("pages/plan.py", "Plan", ":material/description:", "plan"),
    "review": ("pages/review.py", "Review", ":material/rate_review:", "review"),
    "export": ("pages/export.py", "Export", ":material/download:", "export"),
    "corpus": ("pages/corpus.py", "Corpus", ":material/library_books:", "corpus"),
    "evals": ("pages/evals.py", "Evals", ":material/monitoring:", "evals"),
}
# The first page of each list is where the role lands after signing in.
ROLE_PAGES: dict[str, list[str]] = {
    "manager": ["new_plan", "plans", "plan", "export"],
    "hr": ["review", "plans", "plan", "export", "evals"],
    "admin": ["plans", "plan", "export", "corpus", "evals"],
}


def page(name: str, default: bool = False) -> st.Page:
    script, title, icon, url_path = PAGES[name]
    return st.Page(script, title=title, icon=icon, url_path=url_path, default=default)


def model_status(admin: bool) -> None:
    """One sidebar line from the last `tailor model check` (a file read, no model load); details for admins."""
    settings = get_settings()
    if not settings.is_local_model:
        return
    check = modelcheck.last_check(settings)
    if check is None:
        st.caption(":material/memory: Local model not checked yet (`tailor model check`)")
    elif check.ok:
        speed = f", {check.tokens_per_s:.1f} tokens/s" if check.tokens_per_s is not None else ""
        st.caption(f":material/memory: Local model OK: {safe(check.model)}{speed}")
    else:
        st.caption(f":material/error: :red[Local model check failed:] {safe(check.cause)}")
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


user = current_user()
if user is None:
    warm_up_services()
    nav = st.navigation(
        [st.Page("pages/sign_in.py", title="Sign in", icon=":material/login:", url_path="signin", default=True)],
        position="hidden",
    )
else:
    nav = st.navigation([page(n, default=i == 0) for i, n in enumerate(ROLE_PAGES[user.role])])
    with st.sidebar:
        st.markdown(f"**{safe(user.display_name)}**  \n{ROLE_LABELS[user.role]}")
        if st.button("Sign out", icon=":material/logout:", key="sign_out"):
            sign_out()
            st.rerun()
        model_status(admin=user.role == "admin")
show_flashes()
nav.run()
