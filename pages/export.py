"""Export: download a plan as Markdown, JSON, CSV (Jira/Linear), ICS (calendar) or PDF."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from tailor.review.auth import UserOut
from tailor.review.service import ReviewService
from tailor.web import ui

user = ui.require_user("manager", "hr", "admin")
svc = ui.services()
S = st.session_state

FORMATS: list[tuple[str, str, str, str]] = [
    # fmt, label, icon, what it is for
    ("markdown", "Markdown", ":material/article:", "A checklist to paste into a wiki or send as is."),
    ("json", "JSON", ":material/data_object:", "The plan exactly as stored, for other tools."),
    ("csv", "CSV", ":material/table:", "Tasks for a Jira or Linear import."),
    ("ics", "Calendar (ICS)", ":material/calendar_month:", "Check-ins and milestones as all-day events."),
    ("pdf", "PDF", ":material/picture_as_pdf:", "A printable plan with sign-off lines."),
]
EXT = {"markdown": "md", "json": "json", "csv": "csv", "ics": "ics", "pdf": "pdf"}
MIME = {
    "markdown": "text/markdown",
    "json": "application/json",
    "csv": "text/csv",
    "ics": "text/calendar",
    "pdf": "application/pdf",
}

st.title("Export")
st.caption(
    "Each download renders the plan's current revision, with its review status printed on it. "
    "Every export is recorded in the audit log."
)

plans = []
with ui.guard("listing plans") as out:
    plans = svc.review.list_plans(user)
if not out.ok:
    st.stop()
if not plans:
    st.info("There are no plans to export yet.", icon=":material/inbox:")
    st.stop()

labels = {
    p.id: f"#{p.id} · {p.hire_name or p.role} · {ui.status_label(p.status)} · revision {p.revision}" for p in plans
}
plan_id = ui.pick_plan("Plan", labels, key="ex_pick")
with ui.guard("opening the plan") as out:
    detail = svc.review.get_plan(user, plan_id)
if not out.ok:
    st.stop()

plan = detail.plan
if detail.status != "approved":
    st.warning(
        f"This plan is {ui.status_label(detail.status).lower()}, not approved: the files say so on every page.",
        icon=":material/pending:",
    )
else:
    st.success("Approved plan.", icon=":material/verified:")


def renderer(review: ReviewService, who: UserOut, pid: int, fmt: str) -> Callable[[], bytes]:
    """Rendered only on click (on Streamlit's download thread), so viewing the page is not exporting."""

    def render() -> bytes:
        try:
            return review.export(who, pid, fmt).content
        except Exception as exc:  # no page to show it on: the file says what went wrong instead
            if not isinstance(exc, ui.TailorError):
                ui.log.error("export failed", exc_info=exc)
            return f"Export failed: {ui.error_text(exc, 'exporting')}\n".encode()

    return render


slug = ui.file_slug(plan.hire.name or plan.hire.role)
for fmt, label, icon, what in FORMATS:
    c1, c2 = st.columns([1, 3], vertical_alignment="center")
    blocked = None
    if not plan.all_tasks():
        blocked = "The plan has no tasks."
    elif fmt == "ics" and plan.hire.start_date is None:
        blocked = "Set the hire's start date (Plan → Edit) to export a calendar."
    c1.download_button(
        f"Download {label}",
        data=renderer(svc.review, user, plan_id, fmt),
        file_name=f"onboarding-plan-{plan_id}-{slug}-r{detail.revision}.{EXT[fmt]}",
        mime=MIME[fmt],
        icon=icon,
        key=f"ex_{fmt}",
        disabled=blocked is not None,
        on_click="ignore",
        width="stretch",
    )
    c2.caption(blocked or what)
