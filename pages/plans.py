"""Plans: the user's inbox, then every plan they may see, filtered by status, manager and role, searchable by name."""

from __future__ import annotations

from typing import get_args

import streamlit as st

from tailor.corpus.documents import RoleFamily
from tailor.review.inbox import has_inbox
from tailor.review.service import InboxOut
from tailor.web.errors import guard
from tailor.web.services import services
from tailor.web.session import PLAN_KEY, require_user
from tailor.web.tables import plan_column_config, plans_frame
from tailor.web.text import INBOX_ICONS, STATUS_LABELS, code_label, inbox_sentence, safe, shorten, status_label, when

user = require_user("manager", "hr", "admin")
svc = services()
S = st.session_state
INBOX_SHOWN = 8
SHOWN = ("id", "hire", "role", "status", "manager", "reviewer", "revision", "to check", "start", "updated")

st.title("Plans")
st.caption("Your hires' plans." if user.role == "manager" else "Every onboarding plan. Filter, search, then open one.")

# --------------------------------------------------------------------------- inbox
if has_inbox(user):  # admins decide nothing, so nothing is sent to them
    box = InboxOut(items=[], unread=0)
    with guard("loading your inbox"):
        box = svc.review.inbox(user, limit=INBOX_SHOWN)
    with st.container(border=True):
        st.subheader(f"Inbox · {box.unread} new" if box.unread else "Inbox", anchor=False)
        if not box.items:
            st.caption(
                "Nothing yet. Plans submitted for review and HR's decisions on your plans appear here."
                if user.role == "manager"
                else "Nothing yet. Plans their managers submit for review appear here."
            )
        for item in box.items:
            text, link = st.columns([5, 1], vertical_alignment="center")
            line = safe(inbox_sentence(item.kind, item.actor_name, item.plan_id, item.hire))
            new = ":blue-badge[New] " if item.unread else ""
            text.markdown(f"{INBOX_ICONS[item.kind]} {new}{line} · {when(item.at, st.context.timezone)}")
            if item.reason:
                text.caption(f"“{safe(shorten(item.reason, 300))}”")
            link.page_link("pages/plan.py", label=f"Open plan #{item.plan_id}", query_params={"id": str(item.plan_id)})

# --------------------------------------------------------------------------- filters
ALL = "All"
c1, c2, c3, c4 = st.columns([1, 1, 1, 2])
status = c1.selectbox(
    "Status",
    [ALL, *STATUS_LABELS],
    format_func=lambda s: s if s == ALL else status_label(s),
    key="pl_status",
)
role = c2.selectbox("Role family", [ALL, *get_args(RoleFamily)], format_func=code_label, key="pl_role")
manager = ALL
if user.role != "manager":
    managers: dict[str, str] = {}
    with guard("listing managers"):
        managers = {p.manager: p.manager_name for p in svc.review.list_plans(user)}
    manager = c3.selectbox(
        "Manager",
        [ALL, *sorted(managers, key=managers.__getitem__)],
        format_func=lambda m: managers.get(m, m),
        key="pl_manager",
    )
search = c4.text_input("Search", placeholder="Hire name, job title or plan number", key="pl_search")

plans = []
with guard("listing plans") as out:
    plans = svc.review.list_plans(
        user,
        status=None if status == ALL else status,  # type: ignore[arg-type]  # a PlanStatus from the list
        manager=None if manager == ALL else manager,
        role=None if role == ALL else role,
        search=search or None,
    )

# --------------------------------------------------------------------------- the list
if out.ok and not plans:
    st.info(
        "No plans match." + (" Start one on the New plan page." if user.role == "manager" else ""),
        icon=":material/search_off:",
    )
elif plans:
    st.caption(f"{len(plans)} plan{'s' if len(plans) != 1 else ''}. Select a row to open the plan.")
    frame = plans_frame(plans)
    # A new key after each opening, so coming back to this page does not find the row still selected.
    opened = S.setdefault("pl_opened", 0)
    event = st.dataframe(
        frame,
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        key=f"pl_table_{opened}",
        # What fits on one screen; the job title already says the role family and level.
        column_order=[c for c in SHOWN if c != "manager" or user.role != "manager"],
        column_config=plan_column_config(st.context.timezone),
    )
    rows = event.selection.rows if event is not None and hasattr(event, "selection") else []
    if rows:
        chosen = int(frame.iloc[rows[0]]["id"])
        S["pl_opened"] = opened + 1
        S[PLAN_KEY] = chosen
        st.switch_page("pages/plan.py", query_params={"id": str(chosen)})
