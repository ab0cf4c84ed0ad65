"""The Plan page's Edit tab: the hire's details, one task at a time, a new task, the summary.

A person edits one thing and saves it: each save is one revision through the review
service's optimistic lock, with a note saying what changed. The task editor shows one task's
fields together (title, phase, week, owner and owner's name, what to do, done when) so nothing
needs scrolling sideways, never its id, and offers to clear a flagged task's flag (ticked when
the text changed). The rules are in :mod:`tailor.web.editing`; this module only draws.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import streamlit as st

from tailor.errors import Conflict
from tailor.web import editing, profile
from tailor.web.editing import OWNERS, Edit, TaskFields
from tailor.web.errors import guard
from tailor.web.session import flash
from tailor.web.text import safe

if TYPE_CHECKING:
    from tailor.corpus.documents import Corpus
    from tailor.corpus.teams import TeamProfileMeta
    from tailor.review.service import ReviewService
    from tailor.review.users import UserOut
    from tailor.schema import Plan, TeamRef

S = st.session_state


@dataclass(frozen=True)
class Saver:
    """Saves an edit as the next revision of the plan on screen, or says why not.

    ``revision`` is the revision the person was looking at (the optimistic lock); after a save
    the page shows the new one, and after a conflict it offers to reload.
    """

    review: ReviewService
    user: UserOut
    plan_id: int
    revision: int
    on_saved: Callable[[int], None]
    on_reload: Callable[[], None]

    def __call__(self, make: Callable[[], Edit], after: Callable[[], None] | None = None) -> None:
        with guard("saving the plan") as out:
            edit = make()
            saved = self.review.save_revision(
                self.user, self.plan_id, edit.plan, expected_revision=self.revision, note=edit.note
            )
        if out.ok:
            self.on_saved(saved.revision)
            if after is not None:
                after()
            flash(f"Saved revision {saved.revision}: {edit.note}")
            st.rerun()
        elif isinstance(out.error, Conflict):
            st.button("Reload the latest revision", icon=":material/refresh:", on_click=self.on_reload, key="pv_reload")


# --------------------------------------------------------------------------- the hire
def hire_form(plan: Plan, corpus: Corpus, drafted_for: TeamRef | None, save: Saver) -> None:
    """Name, start date and team, editable after drafting (the calendar export needs the start date)."""
    key = f"{save.plan_id}_{save.revision}"
    current_team = plan.fit.team.id if plan.fit.team else profile.NO_TEAM
    labels = profile.team_labels(corpus)
    choices = profile.team_choices(corpus, plan.hire.role_family, current_team)
    with st.form(f"pv_hire_{key}", border=True):
        st.markdown("**The hire**")
        c1, c2, c3 = st.columns([2, 2, 3])
        name = c1.text_input("Name", value=plan.hire.name or "", key=f"pv_name_{key}", max_chars=300)
        start = c2.date_input(
            "Start date",
            value=plan.hire.start_date,
            key=f"pv_start_{key}",
            help="Turns weeks into dates in the exports; the calendar (ICS) export needs it.",
        )
        team = c3.selectbox(
            "Team",
            choices,
            index=choices.index(current_team),
            format_func=lambda choice: profile.label_for(labels, choice),
            key=f"pv_team_{key}",
        )
        saved = st.form_submit_button("Save hire details", icon=":material/save:", key="pv_save_hire")
    note = team_changed_note(drafted_for, plan.fit.team)
    if note:
        st.info(safe(note), icon=":material/groups:")
    if saved:
        meta = corpus.team(team) if team else None
        # A team no longer in the corpus stays as the plan names it until another is chosen.
        ref = plan.fit.team if (team and meta is None and team == current_team) else _team_ref(meta)
        start_date = start if isinstance(start, date) else None
        save(lambda: editing.edit_hire(plan, name, start_date, ref))


def team_changed_note(drafted_for: TeamRef | None, now: TeamRef | None) -> str | None:
    """What a team changed after drafting means: the plan still follows the old one until drafted again."""
    if (drafted_for.id if drafted_for else None) == (now.id if now else None):
        return None
    was = (
        f"for {drafted_for.name}: its people, starter tasks and rituals come from that team"
        if drafted_for
        else "without a team: its tasks follow the role profile alone"
    )
    joins = f"joins {now.name}" if now else "joins no team"
    return f"This plan was drafted {was}. The hire now {joins}; to plan for that, draft again from the New plan page."


def _team_ref(meta: TeamProfileMeta | None) -> TeamRef | None:
    from tailor.pipeline.fit import team_ref  # the plan names a team as the composer does

    return team_ref(meta) if meta is not None else None


# --------------------------------------------------------------------------- the text
def text_form(plan: Plan, save: Saver) -> None:
    """The summary and the rationale ("Why this plan")."""
    key = f"{save.plan_id}_{save.revision}"
    with st.form(f"pv_text_{key}", border=True):
        st.markdown("**Summary and why this plan**")
        summary = st.text_area("Summary", value=plan.summary, key=f"pv_summary_{key}", height=110)
        rationale = st.text_area("Why this plan", value=plan.rationale, key=f"pv_rationale_{key}", height=90)
        saved = st.form_submit_button("Save the text", icon=":material/save:", key="pv_save")
    if saved:
        save(lambda: editing.edit_text(plan, summary, rationale))


# --------------------------------------------------------------------------- tasks
def _doc_label(corpus: Corpus) -> Callable[[str], str]:
    docs = corpus.by_id()
    return lambda doc_id: f"{docs[doc_id].meta.title} ({doc_id})" if doc_id in docs else f"{doc_id} (not in the corpus)"


def task_editor(plan: Plan, corpus: Corpus, save: Saver) -> None:
    """Pick a task, edit its fields, save; or remove it. Flagged tasks can be listed alone."""
    ids = [t.id for t in plan.all_tasks()]
    flagged = [t.id for t in plan.all_tasks() if t.needs_review]
    pick_key, next_key = f"pv_task_{save.plan_id}", f"pv_task_next_{save.plan_id}"
    if next_key in S:  # set by the last save, before this run's picker exists
        S[pick_key] = S.pop(next_key)
    only_flagged = bool(flagged) and st.toggle(
        f"Only the tasks to check ({len(flagged)})", key=f"pv_task_flagged_{save.plan_id}"
    )
    shown = flagged if only_flagged else ids
    if S.get(pick_key) not in shown:
        S[pick_key] = shown[0]
    task_id: str = st.selectbox(
        "Task",
        shown,
        format_func=lambda tid: editing.task_label(plan, tid),
        key=pick_key,
        help="Tasks in plan order: phase by phase, by week.",
    )
    _one_task(plan, corpus, task_id, save, shown)


@st.fragment
def _one_task(plan: Plan, corpus: Corpus, task_id: str, save: Saver, order: list[str]) -> None:
    """One task's form. A fragment: typing in it reruns only the form, so the page stays quick."""
    start = TaskFields.of(plan, task_id)
    task = next(t for t in plan.all_tasks() if t.id == task_id)
    key = f"{save.plan_id}_{save.revision}_{task_id}"
    if task.needs_review:
        st.warning(f"To check: {safe(task.review_reason or 'flagged for review')}", icon=":material/flag:")
    title = st.text_input("Title", value=start.title, key=f"pv_t_title_{key}", max_chars=300)
    c1, c2, c3, c4 = st.columns([3, 1, 2, 2])
    phases = [p.name for p in plan.phases]
    phase = c1.selectbox("Phase", phases, index=phases.index(start.phase), key=f"pv_t_phase_{key}")
    week = c2.number_input(
        "Week", min_value=0, max_value=13, step=1, value=start.due_week, key=f"pv_t_week_{key}", help="0 = before day 1"
    )
    owner = c3.selectbox("Owner", OWNERS, index=OWNERS.index(start.owner), key=f"pv_t_owner_{key}")
    owner_name = c4.text_input(
        "Owner's name", value=start.owner_name or "", key=f"pv_t_owner_name_{key}", help="Who leads it, if named"
    )
    c5, c6 = st.columns(2)
    description = c5.text_area("What to do", value=start.description, key=f"pv_t_description_{key}", height=150)
    criteria = c6.text_area("Done when", value=start.success_criteria, key=f"pv_t_criteria_{key}", height=150)
    known = sorted(corpus.by_id())
    sources = st.multiselect(
        "Sources",
        list(dict.fromkeys([*start.sources, *known])),
        default=start.sources,
        format_func=_doc_label(corpus),
        key=f"pv_t_sources_{key}",
        help="The corpus documents this task rests on.",
    )
    fields = TaskFields(
        phase=phase,
        title=title,
        description=description,
        owner=owner,
        owner_name=owner_name,
        due_week=int(week),
        success_criteria=criteria,
        sources=list(sources),
    )
    clear = False
    if task.needs_review:
        # Ticked once the text differs from what was flagged; the key follows that, so the default
        # moves with it, while the person's own untick stands as long as the text stays changed.
        changed = editing.text_changed(plan, task_id, fields)
        clear = st.checkbox(
            "Clear the review flag",
            value=changed,
            key=f"pv_t_clear_{key}_{int(changed)}",
            help="Tick when the edit settles what was flagged.",
        )
    b1, b2, _ = st.columns([1, 1, 3])
    if b1.button("Save task", type="primary", icon=":material/save:", key="pv_task_save"):
        after = None
        if clear:
            after = _move_on(save.plan_id, task_id, order, [t.id for t in plan.all_tasks() if t.needs_review])
        save(
            lambda: editing.edit_task(plan, task_id, fields, clear_flag=clear, known_sources=set(known)),
            after,
        )
    confirm_key = f"pv_task_remove_{save.plan_id}"
    if b2.button("Remove task", icon=":material/delete:", key="pv_task_remove"):
        S[confirm_key] = task_id
    if S.get(confirm_key) == task_id:
        st.warning(f"Remove “{safe(task.title)}” from the plan? The History keeps it.", icon=":material/delete:")
        y, n, _ = st.columns([1, 1, 3])
        if y.button("Remove it", type="primary", key="pv_task_remove_yes"):
            S.pop(confirm_key, None)
            save(lambda: editing.remove_task(plan, task_id))
        if n.button("Keep it", key="pv_task_remove_no"):
            S.pop(confirm_key, None)
            st.rerun(scope="fragment")


def _move_on(plan_id: int, task_id: str, order: list[str], flagged: list[str]) -> Callable[[], None]:
    """After clearing a flag, open the next task still to check (in plan order), so review goes on."""

    def go() -> None:
        rest = [t for t in order[order.index(task_id) + 1 :] + order if t in flagged and t != task_id]
        if rest:
            S[f"pv_task_next_{plan_id}"] = rest[0]

    return go


def add_task_form(plan: Plan, corpus: Corpus, save: Saver) -> None:
    """A new task: the same fields as the editor; its id is made from the title."""
    key = f"{save.plan_id}_{save.revision}"
    known = sorted(corpus.by_id())
    cited = [s.id for s in plan.sources if s.kind == "role_profile" and s.id in known][:1]
    with st.expander("Add a task", icon=":material/add_task:"), st.form(f"pv_add_{key}", border=False):
        title = st.text_input("Title", key=f"pv_n_title_{key}", max_chars=300)
        c1, c2, c3, c4 = st.columns([3, 1, 2, 2])
        phase = c1.selectbox("Phase", [p.name for p in plan.phases], key=f"pv_n_phase_{key}")
        week = c2.number_input("Week", min_value=0, max_value=13, step=1, value=1, key=f"pv_n_week_{key}")
        owner = c3.selectbox("Owner", OWNERS, key=f"pv_n_owner_{key}")
        owner_name = c4.text_input("Owner's name", key=f"pv_n_owner_name_{key}")
        c5, c6 = st.columns(2)
        description = c5.text_area("What to do", key=f"pv_n_description_{key}", height=120)
        criteria = c6.text_area("Done when", key=f"pv_n_criteria_{key}", height=120)
        sources = st.multiselect(
            "Sources", known, default=cited, format_func=_doc_label(corpus), key=f"pv_n_sources_{key}"
        )
        added = st.form_submit_button("Add the task", icon=":material/add:", key="pv_add_task")
    if added:
        fields = TaskFields(
            phase=phase or "",
            title=title,
            description=description,
            owner=owner or "hire",
            owner_name=owner_name,
            due_week=int(week),
            success_criteria=criteria,
            sources=list(sources),
        )
        save(lambda: editing.add_task(plan, fields, set(known)))
