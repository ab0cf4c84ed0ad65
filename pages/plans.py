"""Plans: everything the user may see, filtered by status, manager and role, searchable by name."""

from __future__ import annotations

from typing import get_args

import streamlit as st

from tailor.corpus.documents import RoleFamily
from tailor.web.errors import guard
from tailor.web.services import services
from tailor.web.session import require_user
from tailor.web.tables import plans_frame
from tailor.web.text import STATUS_LABELS, status_label

user = require_user("manager", "hr", "admin")
svc = services()

st.title("Plans")
st.caption("Your hires' plans." if user.role == "manager" else "Every onboarding plan. Filter, search, then open one.")

ALL = "All"
c1, c2, c3, c4 = st.columns([1, 1, 1, 2])
status = c1.selectbox(
    "Status",
    [ALL, *STATUS_LABELS],
    format_func=lambda s: s if s == ALL else status_label(s),
    key="pl_status",
)
role = c2.selectbox("Role family", [ALL, *get_args(RoleFamily)], key="pl_role")
manager = ALL
if user.role != "manager":
    managers: list[str] = []
    with guard("listing managers"):
        managers = sorted({p.manager for p in svc.review.list_plans(user)})
    manager = c3.selectbox("Manager", [ALL, *managers], key="pl_manager")
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

if out.ok and not plans:
    st.info(
        "No plans match." + (" Start one on the New plan page." if user.role == "manager" else ""),
        icon=":material/search_off:",
    )
elif plans:
    st.caption(f"{len(plans)} plan(s). Select a row to open it; 'to check' counts items flagged for review.")
    event = st.dataframe(
        plans_frame(plans),
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        key="pl_table",
        column_config={
            "id": st.column_config.NumberColumn("#", format="%d", width="small"),
            "to check": st.column_config.NumberColumn(help="Tasks, risks and plan notes flagged needs_review"),
            "updated": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
        },
    )
    rows = event.selection.rows if event is not None and hasattr(event, "selection") else []
    labels = {p.id: f"#{p.id} · {p.hire_name or p.role} · {status_label(p.status)}" for p in plans}
    default = plans[rows[0]].id if rows else plans[0].id
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    chosen = c1.selectbox(
        "Plan",
        list(labels),
        index=list(labels).index(default),
        format_func=labels.__getitem__,
        key=f"pl_pick_{default}",
    )
    if c2.button("Open plan", type="primary", icon=":material/open_in_new:", key="pl_open"):
        st.session_state["plan_id"] = chosen
        st.switch_page("pages/plan.py", query_params={"id": str(chosen)})
