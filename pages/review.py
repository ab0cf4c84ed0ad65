"""Review (HR): the queue of submitted plans, a side-by-side diff, comments per task, the decision."""

from __future__ import annotations

import streamlit as st

from tailor.review.diff import diff_choices, seen_through
from tailor.review.flags import FlagChoice, FlagDecision
from tailor.review.service import CommentOut
from tailor.schema import Plan
from tailor.web.errors import guard
from tailor.web.fit_view import render_why_this_plan
from tailor.web.flags_view import render_flags
from tailor.web.history import pick_revisions, since_last_look
from tailor.web.services import services
from tailor.web.session import flash, pick_plan, require_user
from tailor.web.tables import diff_frame, plan_column_config, plans_frame
from tailor.web.text import plan_byline, safe

user = require_user("hr")
svc = services()
S = st.session_state
FLAG_CHOICES: list[FlagChoice] = ["resolved", "acknowledged"]

st.title("Review")
st.caption(
    "Plans their managers submitted. Compare revisions, comment on tasks, then approve or send the plan back "
    "with a reason. You cannot approve a revision you wrote yourself (four-eyes rule)."
)

queue = []
with guard("loading the review queue") as out:
    queue = svc.review.list_plans(user, status="in_review")
if not out.ok:
    st.stop()
if not queue:
    st.success("Nothing is waiting for review.", icon=":material/done_all:")
    st.stop()

st.dataframe(
    plans_frame(queue),
    hide_index=True,
    # All are in review; the job title already says the role family and level.
    column_order=("id", "hire", "role", "manager", "reviewer", "revision", "to check", "start", "updated"),
    column_config=plan_column_config(st.context.timezone),
)
labels = {p.id: f"#{p.id} · {p.hire_name or p.role} · {p.manager_name} · revision {p.revision}" for p in queue}
plan_id = pick_plan("Plan to review", labels, key="rv_pick")

with guard("opening the plan") as out:
    detail = svc.review.get_plan(user, plan_id)
if not out.ok:
    st.stop()

opened_key = f"rv_opened_{plan_id}"
opened: int = S.setdefault(opened_key, detail.revision)
if opened > detail.revision:
    opened = S[opened_key] = detail.revision
# The reviewer's own edits since they opened the plan are not "changes while you were reviewing".
opened = S[opened_key] = seen_through(opened, detail.revisions, user.username)


def reload() -> None:
    S.pop(opened_key, None)


plan: Plan = detail.plan
if opened != detail.revision:
    st.warning(
        f"The plan changed while you were reviewing it (revision {opened} → {detail.revision}). "
        "Reload to review the latest revision.",
        icon=":material/sync_problem:",
    )
    st.button("Reload", icon=":material/refresh:", on_click=reload, key="rv_reload")
    with guard("loading the revision you opened"):
        plan = svc.review.get_revision(user, plan_id, opened).plan

summary = detail.summary
st.subheader(f"#{plan_id}: {safe(plan.hire.name or plan.hire.role)}")
st.caption(plan_byline(plan, summary, st.context.timezone))
c1, c2, c3 = st.columns([1, 1, 3])
if summary.reviewer is None and c1.button("Assign to me", icon=":material/person_add:", key="rv_assign"):
    with guard("assigning the plan") as assigned:
        svc.review.assign_reviewer(user, plan_id, user.username)
    if assigned.ok:
        flash("Assigned to you")
        st.rerun()
if c2.button("Open in editor", icon=":material/edit:", key="rv_edit"):
    st.switch_page("pages/plan.py", query_params={"id": str(plan_id)})

groups = render_flags(plan)
with st.expander("Why this plan", expanded=True, icon=":material/lightbulb:"):
    render_why_this_plan(plan)

# --------------------------------------------------------------------------- diff
st.markdown("#### Compare revisions")
numbers = [r.number for r in detail.revisions if r.number <= opened]
if len(numbers) < 2:
    st.caption("Only one revision so far: the plan as it was generated.")
else:
    since = since_last_look(svc.review, user, plan_id, opened)
    a, b = pick_revisions(diff_choices(opened, since), numbers, key=f"rv_diff_{plan_id}_{opened}")
    with guard("comparing revisions"):
        diff = svc.review.diff_revisions(user, plan_id, a, b)
        plan_a = svc.review.get_revision(user, plan_id, a).plan
        plan_b = svc.review.get_revision(user, plan_id, b).plan
        if diff.is_empty:
            st.caption("The two revisions are identical.")
        else:
            added = {t.id for t in diff.added}
            removed = {t.id for t in diff.removed}
            changed = {c.task_id for c in diff.changed}
            left, right = st.columns(2)
            for column, shown, rev, marks in (
                (
                    left,
                    plan_a,
                    a,
                    {
                        **dict.fromkeys(removed, ":red[− removed]"),
                        **dict.fromkeys(changed, ":orange[~ changed]"),
                    },
                ),
                (
                    right,
                    plan_b,
                    b,
                    {
                        **dict.fromkeys(added, ":green[+ added]"),
                        **dict.fromkeys(changed, ":orange[~ changed]"),
                    },
                ),
            ):
                with column, st.container(border=True):
                    st.markdown(f"**Revision {rev}**")
                    for phase in shown.phases:
                        st.caption(safe(phase.name))
                        for task in phase.tasks:
                            mark = marks.get(task.id, "")
                            st.markdown(f"- {safe(task.title)} · wk {task.due_week} · {task.owner} {mark}")
            st.dataframe(diff_frame(diff), hide_index=True)

# --------------------------------------------------------------------------- comments
st.markdown("#### Comments")
titles = {t.id: t.title for t in plan.all_tasks()}
comments = []
with guard("loading comments"):
    comments = svc.review.list_comments(user, plan_id)
by_task: dict[str | None, list[CommentOut]] = {}
for comment in comments:
    by_task.setdefault(comment.task_id, []).append(comment)
for task_id, thread in by_task.items():
    about = titles.get(task_id, task_id) if task_id else "The whole plan"
    with st.expander(f"{safe(about)} ({len(thread)})"):
        for c in thread:
            st.markdown(
                f"**{safe(c.author_name)}** ({c.author_role}) · revision {c.revision} · "
                f"{c.created_at:%Y-%m-%d %H:%M}  \n{safe(c.text)}"
            )
with st.form(f"rv_comment_{plan_id}", clear_on_submit=True):
    task_choice = st.selectbox("About", ["", *titles], format_func=lambda i: "the whole plan" if not i else titles[i])
    text = st.text_area("Comment", max_chars=4000, placeholder="What should change, and why?")
    if st.form_submit_button("Add comment", icon=":material/add_comment:"):
        with guard("adding the comment") as added_ok:
            svc.review.comment(user, plan_id, text, task_id=task_choice or None)
        if added_ok.ok:
            flash("Comment added")
            st.rerun()

# --------------------------------------------------------------------------- decision
st.markdown("#### Decision")
with st.container(border=True):
    st.caption(f"You are deciding on revision {opened}. A reason is required either way; the manager sees it.")
    reason = st.text_area(
        "Reason",
        key=f"rv_reason_{plan_id}",
        max_chars=4000,
        placeholder="Approved: grounded in the role profile, check-ins agreed. / Please …",
    )
    # Each open flag needs a choice before approval; the service refuses an approval without them.
    flag_choices: list[FlagDecision] = []
    if groups:
        open_count = sum(g.count for g in groups)
        st.markdown(
            f"**To approve, settle the {open_count} open item{'s' if open_count != 1 else ''}:** mark each line "
            "*resolved* (you checked it and nothing is left to do) or *acknowledge* it with a reason "
            "(the plan goes out as it is). Requesting changes needs neither."
        )
        for n, group in enumerate(groups):
            choice: FlagChoice | None = st.radio(
                safe(group.line),
                FLAG_CHOICES,
                format_func=lambda c: "Resolved" if c == "resolved" else "Acknowledge, with a reason",
                index=None,
                horizontal=True,
                key=f"rv_flag_{plan_id}_{opened}_{n}",
            )
            why = None
            if choice == "acknowledged":
                why = st.text_input(
                    "Why the plan can go out with it",
                    key=f"rv_flag_why_{plan_id}_{opened}_{n}",
                    max_chars=1000,
                    placeholder="The standard wording is right for this hire.",
                )
            if choice is not None:
                flag_choices += group.decide(choice, why)
    b1, b2, _ = st.columns([1, 1, 3])
    approve = b1.button(
        "Approve",
        type="primary",
        icon=":material/verified:",
        key="rv_approve",
        disabled=opened != detail.revision,
    )
    send_back = b2.button(
        "Request changes", icon=":material/undo:", key="rv_changes", disabled=opened != detail.revision
    )
    if approve or send_back:
        with guard("recording the decision") as decided:
            if approve:
                svc.review.approve(user, plan_id, expected_revision=opened, reason=reason, flags=flag_choices)
            else:
                svc.review.request_changes(user, plan_id, expected_revision=opened, reason=reason)
        if decided.ok:
            reload()
            S.pop(f"rv_reason_{plan_id}", None)
            flash(f"Plan #{plan_id} approved" if approve else f"Plan #{plan_id} sent back to its manager")
            st.rerun()
