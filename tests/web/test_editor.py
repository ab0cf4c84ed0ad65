"""The Plan page's Edit tab through ``AppTest``, against a real SQLite database: the task editor,
the hire's details after drafting (start date → calendar export), and a History that is current.
"""

from __future__ import annotations

from datetime import date

from streamlit.testing.v1 import AppTest

from tailor.schema import Plan
from tests.web.test_app_pages import World, app_as, composed_plan, draft, open_page, texts
from tests.web.test_app_pages import world as world  # the fixture: a database with a user per role

REASON = "Check that the ledger service is in scope."


def flagged_plan() -> tuple[Plan, str]:
    """A grounded plan from the real corpus with one task flagged for review, and that task's id."""
    plan = composed_plan(start=None)
    task = plan.phases[1].tasks[0]
    task.review_reason, task.needs_review = REASON, True
    return plan, task.id


def plan_page(world: World, username: str, plan_id: int) -> AppTest:
    at = app_as(world, username, plan_id=plan_id)
    return open_page(at, "pages/plan.py")


def widget_keys(at: AppTest) -> set[str]:
    kinds = (at.text_input, at.text_area, at.selectbox, at.number_input, at.multiselect, at.checkbox, at.date_input)
    return {w.key for kind in kinds for w in kind if w.key}


def test_a_task_is_edited_in_one_form_and_its_flag_cleared(world: World) -> None:
    manager = world.users["maria"]
    plan, task_id = flagged_plan()
    plan_id = draft(world, plan=plan)
    at = plan_page(world, "maria", plan_id)
    at.toggle(key=f"pv_task_flagged_{plan_id}").set_value(True).run()
    assert at.selectbox(key=f"pv_task_{plan_id}").value == task_id  # the only task to check
    key = f"{plan_id}_1_{task_id}"
    task = plan.phases[1].tasks[0]

    # Every field that matters is in the one form, and the id is not editable anywhere.
    assert at.text_input(key=f"pv_t_title_{key}").value == task.title
    assert at.selectbox(key=f"pv_t_owner_{key}").value == task.owner
    assert at.text_input(key=f"pv_t_owner_name_{key}").value == (task.owner_name or "")
    assert at.number_input(key=f"pv_t_week_{key}").value == task.due_week
    assert at.text_area(key=f"pv_t_description_{key}").value == task.description
    assert at.text_area(key=f"pv_t_criteria_{key}").value == task.success_criteria
    assert task_id not in [w.value for w in at.text_input]
    assert f"To check: {REASON}" in texts(at.warning)

    # Unchanged text: the flag stays unless the person says otherwise.
    assert at.checkbox(key=f"pv_t_clear_{key}_0").value is False
    at.text_area(key=f"pv_t_description_{key}").input("Read the ledger service's runbook, then pair on a fix.").run()
    assert not at.exception, at.exception
    assert at.checkbox(key=f"pv_t_clear_{key}_1").value is True  # the text changed: clearing is the default
    at.text_input(key=f"pv_t_owner_name_{key}").input("Kenji Watanabe")
    at.number_input(key=f"pv_t_week_{key}").set_value(task.due_week + 1)
    at.button(key="pv_task_save").click().run()
    assert not at.exception, at.exception

    detail = world.review.get_plan(manager, plan_id)
    saved = next(t for t in detail.plan.all_tasks() if t.id == task_id)
    assert detail.revision == 2 and saved.id == task_id
    assert saved.description == "Read the ledger service's runbook, then pair on a fix."
    assert (saved.owner_name, saved.due_week) == ("Kenji Watanabe", task.due_week + 1)
    assert (saved.needs_review, saved.review_reason) == (False, None)
    assert saved.sources == task.sources and saved.skills == task.skills
    assert detail.revisions[-1].note == f"edited the task “{task.title}” and cleared its review flag"


def test_unticking_clear_keeps_the_flag(world: World) -> None:
    plan, task_id = flagged_plan()
    plan_id = draft(world, plan=plan)
    at = plan_page(world, "maria", plan_id)
    at.selectbox(key=f"pv_task_{plan_id}").set_value(task_id).run()
    key = f"{plan_id}_1_{task_id}"
    at.text_input(key=f"pv_t_title_{key}").input("Agree the ledger scope with the manager").run()
    at.checkbox(key=f"pv_t_clear_{key}_1").uncheck()
    at.button(key="pv_task_save").click().run()
    assert not at.exception, at.exception
    saved = next(t for t in world.review.get_plan(world.users["maria"], plan_id).plan.all_tasks() if t.id == task_id)
    assert saved.title == "Agree the ledger scope with the manager"
    assert (saved.needs_review, saved.review_reason) == (True, REASON)


def test_a_task_is_added_and_one_removed(world: World) -> None:
    manager = world.users["maria"]
    plan = composed_plan()
    plan_id = draft(world, plan=plan)
    at = plan_page(world, "maria", plan_id)
    key = f"{plan_id}_1"
    at.text_input(key=f"pv_n_title_{key}").input("Present the ledger design")
    at.number_input(key=f"pv_n_week_{key}").set_value(10)
    at.selectbox(key=f"pv_n_phase_{key}").set_value(plan.phases[2].name)
    at.text_input(key=f"pv_n_owner_name_{key}").input("Aylin Demir")
    at.text_area(key=f"pv_n_description_{key}").input("Walk the team through the ledger design.")
    at.text_area(key=f"pv_n_criteria_{key}").input("The team agrees on next steps.")
    at.button(key="pv_add_task").click().run()
    assert not at.exception, at.exception
    added = next(
        t for t in world.review.get_plan(manager, plan_id).plan.phases[2].tasks if t.id == "present-the-ledger-design"
    )
    assert (added.due_week, added.owner_name, added.owner) == (10, "Aylin Demir", "hire")
    assert added.sources == [next(s.id for s in plan.sources if s.kind == "role_profile")]  # cited by default

    gone = plan.phases[0].tasks[0]
    at.selectbox(key=f"pv_task_{plan_id}").set_value(gone.id).run()
    at.button(key="pv_task_remove").click().run()
    assert "The History keeps it" in texts(at.warning)
    at.button(key="pv_task_remove_yes").click().run()
    assert not at.exception, at.exception
    detail = world.review.get_plan(manager, plan_id)
    assert detail.revision == 3 and gone.id not in {t.id for t in detail.plan.all_tasks()}
    assert detail.revisions[-1].note == f"removed the task “{gone.title}”"


def test_the_start_date_name_and_team_are_set_after_drafting_and_the_calendar_exports(world: World) -> None:
    manager = world.users["maria"]
    plan = composed_plan(name=None, start=None)
    plan_id = draft(world, plan=plan)
    with_no_date = app_as(world, "maria", plan_id=plan_id)
    open_page(with_no_date, "pages/export.py")
    assert "Set the hire's start date (Plan → Edit)" in texts(with_no_date.caption) + texts(with_no_date.info)

    at = plan_page(world, "maria", plan_id)
    key = f"{plan_id}_1"
    assert {f"pv_name_{key}", f"pv_start_{key}", f"pv_team_{key}"} <= widget_keys(at)  # the fields the hint names
    at.text_input(key=f"pv_name_{key}").input("Zoë Quast")
    at.date_input(key=f"pv_start_{key}").set_value(date(2026, 1, 5))
    at.selectbox(key=f"pv_team_{key}").set_value("team-orders")
    at.button(key="pv_save_hire").click().run()
    assert not at.exception, at.exception
    detail = world.review.get_plan(manager, plan_id)
    assert (detail.plan.hire.name, detail.plan.hire.start_date) == ("Zoë Quast", date(2026, 1, 5))
    assert detail.plan.fit.team is not None and detail.plan.fit.team.name == "Orders squad"
    assert detail.plan.all_tasks() == plan.all_tasks()  # recorded, not redrafted from the page
    assert detail.summary.start_date == date(2026, 1, 5)  # the plans list sees it too
    assert at.title[0].value == f"Plan #{plan_id}: Zoë Quast"
    assert "draft again from the New plan page" in texts(at.info)  # drafted for no team, now Orders squad

    calendar = world.review.export(manager, plan_id, "ics")
    assert b"BEGIN:VCALENDAR" in calendar.content and b"DTSTART;VALUE=DATE:2026" in calendar.content


def test_an_admin_gets_no_editor(world: World) -> None:
    plan_id = draft(world)
    at = plan_page(world, "admin", plan_id)
    assert not {k for k in widget_keys(at) if k.startswith(("pv_t_", "pv_name_", "pv_summary_"))}
    assert "pv_task_save" not in [b.key for b in at.button]


# --------------------------------------------------------------------------- History
def compare_labels(at: AppTest, plan_id: int, revision: int) -> list[str]:
    radio = at.radio(key=f"pv_diff_{plan_id}_{revision}_kind")
    return [str(o) for o in radio.options]


def test_history_compares_since_you_last_looked_and_is_current_after_a_save(world: World) -> None:
    manager, hr = world.users["maria"], world.users["hana"]
    plan_id = draft(world)
    world.review.submit(manager, plan_id, 1)
    at = plan_page(world, "hana", plan_id)  # HR's first look: revision 1
    assert f"pv_diff_{plan_id}_1_kind" not in [r.key for r in at.radio]  # one revision, nothing to compare

    for number, text in ((1, "A tighter first month."), (2, "Ownership of the ledger API by day 60.")):
        edited = world.review.get_plan(manager, plan_id).plan.model_copy(deep=True)
        edited.summary = text
        world.review.save_revision(manager, plan_id, edited, expected_revision=number)

    at = plan_page(world, "hana", plan_id)  # a new visit, revision 3
    assert "Changed since you last looked (revision 1; now 3)" in texts(at.info)
    labels = compare_labels(at, plan_id, 3)
    assert labels[0] == "Since you last looked (revision 1 → 3)" and labels[1].startswith("Generated → now")
    assert at.radio(key=f"pv_diff_{plan_id}_3_kind").value == 0  # the default
    frame = at.dataframe[-1].value
    assert "Ownership of the ledger API by day 60." in set(frame["after"])

    # HR edits through the page: the History shows revision 4 at once, and nothing reads as news.
    at.text_area(key=f"pv_summary_{plan_id}_3").input("HR's own wording of the summary.")
    at.button(key="pv_save").click().run()
    assert not at.exception, at.exception
    assert world.review.get_plan(hr, plan_id).revision == 4
    assert compare_labels(at, plan_id, 4)[0] == "Generated → now (revision 1 → 4)"
    assert "HR's own wording of the summary." in set(at.dataframe[-1].value["after"])
    assert "Changed since you last looked" not in texts(at.info)
    assert "changed since you opened it" not in texts(at.warning)


def test_a_revision_link_opens_that_revision_until_reload(world: World) -> None:
    plan, _ = flagged_plan()
    plan_id = draft(world, plan=plan)
    maria = world.users["maria"]
    edited = world.review.get_plan(maria, plan_id).plan.model_copy(deep=True)
    edited.summary = "The second revision's summary."
    world.review.save_revision(maria, plan_id, edited, 1)

    at = app_as(world, "maria")
    at.query_params.update({"id": str(plan_id), "rev": "1"})
    open_page(at, "pages/plan.py")
    assert "You are looking at revision 1; the plan is now at revision 2" in texts(at.warning)
    at.button(key="pv_reload_top").click().run()
    assert not at.exception, at.exception
    assert "You are looking at revision" not in texts(at.warning)
