"""Export: download a plan in every format ``tailor.exports`` registers (Markdown, JSON, CSV, ICS, PDF).

The formats, their labels, file names and MIME types come from the package's registry, so a
new format appears here without a change to this page (it gets a generic icon until one is
added to ``ICONS``), and the app names files exactly as ``tailor plans export`` does.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from tailor import exports
from tailor.errors import TailorError
from tailor.review.auth import UserOut
from tailor.review.service import ReviewService
from tailor.web.errors import error_text, guard, log
from tailor.web.services import services
from tailor.web.session import pick_plan, require_user
from tailor.web.text import status_label

user = require_user("manager", "hr", "admin")
svc = services()

ICONS = {
    "markdown": ":material/article:",
    "json": ":material/data_object:",
    "csv": ":material/table:",
    "ics": ":material/calendar_month:",
    "pdf": ":material/picture_as_pdf:",
}

st.title("Export")
st.caption(
    "Each download renders the plan's current revision, with its review status printed on it. "
    "Every export is recorded in the audit log."
)

plans = []
with guard("listing plans") as out:
    plans = svc.review.list_plans(user)
if not out.ok:
    st.stop()
if not plans:
    st.info("There are no plans to export yet.", icon=":material/inbox:")
    st.stop()

labels = {p.id: f"#{p.id} · {p.hire_name or p.role} · {status_label(p.status)} · revision {p.revision}" for p in plans}
plan_id = pick_plan("Plan", labels, key="ex_pick")
with guard("opening the plan") as out:
    detail = svc.review.get_plan(user, plan_id)
if not out.ok:
    st.stop()

plan = detail.plan
if detail.status != "approved":
    st.warning(
        f"This plan is {status_label(detail.status).lower()}, not approved: the files say so on every page.",
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
            if not isinstance(exc, TailorError):
                log.error("export failed", exc_info=exc)
            return f"Export failed: {error_text(exc, 'exporting')}\n".encode()

    return render


for fmt in exports.FORMATS.values():
    c1, c2 = st.columns([1, 3], vertical_alignment="center")
    blocked = None
    if not plan.all_tasks():
        blocked = "The plan has no tasks."
    elif fmt.needs_start_date and plan.hire.start_date is None:
        blocked = f"Set the hire's start date (Plan → Edit) to export the {fmt.label} file."
    c1.download_button(
        f"Download {fmt.label}",
        data=renderer(svc.review, user, plan_id, fmt.name),
        file_name=exports.filename(plan, fmt.name, plan_id=plan_id, revision=detail.revision),
        mime=fmt.mime,
        icon=ICONS.get(fmt.name, ":material/download:"),
        key=f"ex_{fmt.name}",
        disabled=blocked is not None,
        on_click="ignore",
        width="stretch",
    )
    c2.caption(blocked or fmt.description)
