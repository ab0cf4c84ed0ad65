"""One plan: read it, edit the hire's details, tasks and text, see the timeline and citations, comment, submit."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from tailor.review.diff import diff_choices
from tailor.review.permissions import Action, allowed_actions
from tailor.schema import Plan, TeamRef
from tailor.web import plan_edit
from tailor.web.charts import timeline_chart
from tailor.web.editing import LABELS
from tailor.web.errors import guard
from tailor.web.fit_view import render_why_this_plan
from tailor.web.flags_view import render_flags
from tailor.web.history import pick_revisions, since_last_look
from tailor.web.plan_view import cited_passage, review_items
from tailor.web.services import current_corpus, services
from tailor.web.session import flash, require_user
from tailor.web.tables import diff_frame, revisions_frame, sources_frame, tasks_frame
from tailor.web.text import plan_byline, safe, status_label

user = require_user("manager", "hr", "admin")
svc = services()
S = st.session_state

# --------------------------------------------------------------------------- which plan
raw_id = st.query_params.get("id") or S.get("plan_id")
try:
    plan_id = int(str(raw_id).lstrip("#")) if raw_id is not None else None
except ValueError:
    plan_id = None
if plan_id is None:
    st.title("Plan")
    st.info("Open a plan from the Plans page.", icon=":material/list_alt:")
    st.page_link("pages/plans.py", label="Go to Plans", icon=":material/list_alt:")
    st.stop()
assert plan_id is not None
S["plan_id"] = plan_id
if st.query_params.get("id") != str(plan_id):
    st.query_params["id"] = str(plan_id)

with guard("opening the plan") as out:
    detail = svc.review.get_plan(user, plan_id)
if not out.ok:
    st.page_link("pages/plans.py", label="Back to Plans", icon=":material/list_alt:")
    st.stop()

summary = detail.summary
opened_key = f"pv_opened_{plan_id}"
# A revision link (?id=N&rev=R) opens that revision once; "Reload" then goes to the latest.
rev_link = str(st.query_params.get("rev") or "")
if rev_link.isdigit() and S.get(f"pv_rev_link_{plan_id}") != rev_link:
    S[f"pv_rev_link_{plan_id}"] = rev_link
    S[opened_key] = max(1, min(int(rev_link), detail.revision))
opened: int = S.setdefault(opened_key, detail.revision)
if opened > detail.revision:  # a stale key from another database (tests) or a restored revision
    opened = S[opened_key] = detail.revision
stale = opened != detail.revision
plan: Plan = detail.plan
if stale:
    with guard("loading the revision you opened"):
        plan = svc.review.get_revision(user, plan_id, opened).plan

# What this user may do to this plan now: the review service's own table (tailor/review/permissions.py).
actions = allowed_actions(user, detail)
can_edit = Action.EDIT in actions
can_submit = Action.SUBMIT in actions
can_comment = Action.COMMENT in actions


def reload() -> None:
    S.pop(opened_key, None)
    st.query_params.pop("rev", None)


def saved(revision: int) -> None:
    S[opened_key] = revision


# What this viewer had seen before now (read and recorded by the review service, once per revision shown).
last_seen: int | None = None
with guard("recording that you opened the plan"):
    last_seen = since_last_look(svc.review, user, plan_id, opened)


# --------------------------------------------------------------------------- header
st.title(f"Plan #{plan_id}: {safe(plan.hire.name or plan.hire.role)}")
st.caption(plan_byline(plan, summary, st.context.timezone))
m1, m2, m3, m4, m5 = st.columns(5)
m1.metric("Status", status_label(summary.status))
m2.metric("Revision", opened if stale else summary.revision)
m3.metric("Tasks", len(plan.all_tasks()))
m4.metric("To check", summary.needs_review)
m5.metric("Start", f"{plan.hire.start_date:%Y-%m-%d}" if plan.hire.start_date else "not set")

if last_seen is not None and last_seen < opened:
    st.info(
        f"Changed since you last looked (revision {last_seen}; now {opened}): the History tab shows what changed.",
        icon=":material/difference:",
    )
if stale:
    st.warning(
        f"You are looking at revision {opened}; the plan is now at revision {detail.revision}. "
        "Reload to see the latest before editing.",
        icon=":material/sync_problem:",
    )
    st.button("Reload", icon=":material/refresh:", on_click=reload, key="pv_reload_top")

if summary.status == "changes_requested":
    with guard("reading the review decision"):
        decisions = svc.review.list_decisions(user, plan_id)
        if decisions:
            last = decisions[-1]
            st.warning(
                f"{safe(last.reviewer_name)} asked for changes: {safe(last.reason)}",
                icon=":material/rate_review:",
            )

items = review_items(plan)
if items:
    # One line per cause with a count, as on the Review page (tailor.review.flags has the words).
    need = "1 item needs" if len(items) == 1 else f"{len(items)} items need"
    with st.expander(f"{need} review", expanded=True, icon=":material/warning:"):
        st.caption("Fix them in the Edit tab, where saving a flagged task offers to clear its flag.")
        render_flags(plan)

# --------------------------------------------------------------------------- actions
if can_submit:
    c1, c2 = st.columns([1, 4], vertical_alignment="center")
    if c1.button("Submit for review", type="primary", icon=":material/send:", key="pv_submit"):
        with guard("submitting the plan") as sub:
            svc.review.submit(user, plan_id, expected_revision=opened)
        if sub.ok:
            flash(f"Plan #{plan_id} submitted for review")
            st.rerun()
    c2.caption("HR reviews it next; you can keep editing while it is in review.")

tab_names = ["Overview", "Tasks", "Timeline", "Citations", "Comments", "History"]
if can_edit:
    tab_names.insert(1, "Edit")
tabs = dict(zip(tab_names, st.tabs(tab_names), strict=True))

# --------------------------------------------------------------------------- overview
with tabs["Overview"]:
    st.subheader("Summary")
    st.markdown(safe(plan.summary))
    render_why_this_plan(plan)
    if plan.focus_areas:
        st.markdown("**Focus areas:** " + ", ".join(safe(f) for f in plan.focus_areas))
    c1, c2 = st.columns(2)
    with c1:
        st.markdown("**Support**")
        st.markdown(f"{plan.support.model.replace('_', ' ')}: {safe(plan.support.who)}")
        if plan.support.note:
            st.caption(safe(plan.support.note))
        st.markdown("**Targets**")
        t = plan.targets
        lines = [
            f"First commit: day {t.first_commit_day}",
            f"First PR: day {t.first_pr_day}",
            f"Full productivity: week {t.full_productivity_week}",
        ]
        if t.on_call_week:
            lines.append(f"On-call: week {t.on_call_week}")
        if t.first_leadership_week:
            lines.append(f"First leadership work: week {t.first_leadership_week}")
        st.markdown("\n".join(f"- {line}" for line in lines))
    with c2:
        st.markdown("**The hire**")
        st.markdown(safe(plan.hire.summary))
        if plan.hire.skills:
            st.caption("Skills: " + ", ".join(safe(s) for s in plan.hire.skills))
    if plan.relationships:
        st.markdown("**People to meet**")
        st.dataframe(pd.DataFrame([r.model_dump() for r in plan.relationships]), hide_index=True)
    if plan.check_ins:
        st.markdown("**Check-ins**")
        st.dataframe(pd.DataFrame([c.model_dump(by_alias=True) for c in plan.check_ins]), hide_index=True)
    if plan.risks:
        st.markdown("**Risks**")
        st.dataframe(pd.DataFrame([r.model_dump() for r in plan.risks]), hide_index=True)
    if Action.READ_BACKGROUND in actions:
        with st.expander("The hire's background text", icon=":material/lock:"):
            st.caption("Only the manager and HR can read it; every read is recorded in the audit log.")
            if st.button("Show it", key="pv_bg"):
                with guard("reading the background"):
                    text = svc.review.get_background(user, plan_id)
                    st.text(text or "(no background stored)")


# --------------------------------------------------------------------------- edit
def drafted_for() -> TeamRef | None:
    """The team the plan's latest draft was written for (its tasks and people come from that team)."""
    number = max((r.number for r in detail.revisions if r.reason in ("generated", "regenerated")), default=1)
    if number == opened:
        return plan.fit.team
    key = f"pv_drafted_team_{detail.id}_{number}"
    if key not in S:
        S[key] = svc.review.get_revision(user, detail.id, number).plan.fit.team
    team: TeamRef | None = S[key]
    return team


if can_edit:
    with tabs["Edit"]:
        st.caption(
            "Edit one thing and save it: each save is a new revision, with a note saying what changed. If "
            "someone else saved first you are told, and nothing is overwritten."
        )
        if summary.status == "approved":
            st.info("This plan is approved: saving an edit sends it back to review.", icon=":material/info:")
        corpus = current_corpus()
        save = plan_edit.Saver(svc.review, user, plan_id, opened, on_saved=saved, on_reload=reload)
        drafted_team = plan.fit.team
        with guard("reading the team the plan was drafted for"):
            drafted_team = drafted_for()
        plan_edit.hire_form(plan, corpus, drafted_team, save)
        with st.container(border=True):
            st.markdown("**Tasks**")
            plan_edit.task_editor(plan, corpus, save)
            plan_edit.add_task_form(plan, corpus, save)
        plan_edit.text_form(plan, save)

# --------------------------------------------------------------------------- tasks (read)
with tabs["Tasks"]:
    for phase in plan.phases:
        st.markdown(f"**{safe(phase.name)}** · weeks {phase.start_week}–{phase.end_week}")
        if phase.goals:
            st.caption("Goals: " + "; ".join(safe(g) for g in phase.goals))
        frame = tasks_frame(plan)
        st.dataframe(
            frame[frame["phase"] == phase.name].drop(columns=["phase"]),
            hide_index=True,
            column_config={
                **{column: label for column, label in LABELS.items() if column in frame.columns},
                "id": "Id",
                "needs_review": st.column_config.CheckboxColumn("To check"),
                "review_reason": "Why",
            },
        )

# --------------------------------------------------------------------------- timeline
with tabs["Timeline"]:
    st.caption("Each task at its due week, coloured by owner. Hover a bar for details.")
    st.altair_chart(timeline_chart(plan), width="stretch")

# --------------------------------------------------------------------------- citations
with tabs["Citations"]:
    st.caption("Every task cites the corpus documents it came from; open one to read the passage it rests on.")
    if plan.sources:
        st.markdown("**Documents retrieved for this hire**")
        st.dataframe(sources_frame(plan), hide_index=True)
    docs = current_corpus().by_id()
    for task in plan.all_tasks():
        flag = " :material/warning:" if task.needs_review else ""
        with st.expander(f"{safe(task.title)} · week {task.due_week} · {task.owner}{flag}"):
            if task.needs_review:
                st.warning(safe(task.review_reason or "flagged for review"))
            st.markdown(safe(task.description))
            st.caption("Success: " + safe(task.success_criteria))
            for source_id in task.sources:
                doc = docs.get(source_id)
                if doc is None:
                    st.error(f"Cites `{safe(source_id)}`, which is not in the corpus any more.")
                    continue
                section = cited_passage(doc, task)
                with st.container(border=True):
                    where = f" › {section.title}" if section else ""
                    st.markdown(f":material/menu_book: **{safe(doc.meta.title)}**{safe(where)} · `{doc.id}`")
                    if section:
                        st.markdown(section.text[:2500])

# --------------------------------------------------------------------------- comments
with tabs["Comments"]:
    comments = []
    with guard("loading comments"):
        comments = svc.review.list_comments(user, plan_id)
    titles = {t.id: t.title for t in plan.all_tasks()}
    if not comments:
        st.caption("No comments yet.")
    for c in comments:
        about = f" on *{safe(titles.get(c.task_id, c.task_id))}*" if c.task_id else ""
        with st.chat_message(
            "user" if c.author_role == "manager" else "assistant",
            avatar=":material/person:" if c.author_role == "manager" else ":material/badge:",
        ):
            st.markdown(
                f"**{safe(c.author_name)}** ({c.author_role}){about} · revision {c.revision} · "
                f"{c.created_at:%Y-%m-%d %H:%M}"
            )
            st.markdown(safe(c.text))
    if can_comment:
        with st.form(f"pv_comment_{plan_id}", clear_on_submit=True):
            options = ["", *titles]
            task_choice = st.selectbox("About", options, format_func=lambda i: "the whole plan" if not i else titles[i])
            text = st.text_area("Comment", max_chars=4000)
            if st.form_submit_button("Add comment", icon=":material/add_comment:"):
                with guard("adding the comment") as added:
                    svc.review.comment(user, plan_id, text, task_id=task_choice or None)
                if added.ok:
                    flash("Comment added")
                    st.rerun()

# --------------------------------------------------------------------------- history
with tabs["History"]:
    st.markdown("**Revisions**")
    st.dataframe(revisions_frame(detail.revisions, st.context.timezone), hide_index=True)
    choices = diff_choices(detail.revision, last_seen)
    if choices:
        # Keyed by the current revision: after any save the comparison starts again at the default.
        a, b = pick_revisions(choices, [r.number for r in detail.revisions], key=f"pv_diff_{plan_id}_{detail.revision}")
        with guard("comparing revisions"):
            diff = svc.review.diff_revisions(user, plan_id, a, b)
            if diff.is_empty:
                st.caption("No differences.")
            else:
                st.dataframe(diff_frame(diff), hide_index=True)
