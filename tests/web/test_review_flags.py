"""The Review page with open flags, through ``streamlit.testing.v1.AppTest`` against a real SQLite database:
the flags grouped in words for people with their details folded away, and approval that asks HR to
resolve or acknowledge each open item (the review service refuses it otherwise)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tailor.config import PROJECT_ROOT, get_settings
from tailor.corpus.documents import load_corpus
from tailor.pipeline.compose import compose
from tailor.review.auth import AuthService, UserOut
from tailor.review.flags import flag, task_reason
from tailor.review.service import ReviewService
from tailor.schema import HireProfile, Plan
from tailor.web.session import TOKEN_KEY
from tests.fixtures.db import PASSWORD

APP = str(PROJECT_ROOT / "app.py")
People = tuple[AuthService, ReviewService, dict[str, UserOut]]
DETAIL = "model call to openai/none failed (connection): could not reach the model server: [Errno 111] refused"


@pytest.fixture
def people(isolated_settings: Path, fast_hashing: None) -> Iterator[People]:
    settings = get_settings()
    auth = AuthService(settings)
    review = ReviewService(settings, db=auth.db)
    admin = auth.bootstrap_admin("admin", PASSWORD, "Ada Admin")
    users = {
        name: auth.add_user(admin, name, role, PASSWORD, display)
        for name, role, display in (("maria", "manager", "Maria Manager"), ("hana", "hr", "Hana HR"))
    }
    yield auth, review, users


def flagged_plan() -> Plan:
    """A grounded plan from the real corpus, as a draft with the model down leaves it."""
    hire = HireProfile(
        name="Zoë Quast",
        role="Senior Backend Engineer",
        role_family="backend",
        seniority="senior",
        years_experience=8,
        skills=["Python", "PostgreSQL"],
        summary="A backend engineer with eight years of payments work in Python and PostgreSQL.",
        start_date=date(2026, 1, 5),
    )
    plan = compose(load_corpus(get_settings().corpus_dir), hire, model="test", prompt_version="t")
    hires = [t for t in plan.all_tasks() if t.owner == "hire" and t.due_week >= 1][:3]
    for task in hires:
        task.review_reason = task_reason("model_unavailable")
        task.needs_review = True
    plan.review_flags = [
        flag("summary", "model_unavailable", detail=DETAIL),
        flag("tasks", "model_unavailable", detail=DETAIL),
    ]
    return plan


def texts(elements: object) -> str:
    joined = " | ".join(str(e.value) for e in elements)  # type: ignore[attr-defined]
    return re.sub(r"\\(.)", r"\1", joined)


def review_page(auth: AuthService) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.session_state[TOKEN_KEY] = auth.authenticate("hana", PASSWORD).token
    at.run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Review"
    return at


def test_hr_sees_grouped_flags_and_settles_each_one_to_approve(
    people: People,
) -> None:
    auth, review, users = people
    maria, hana = users["maria"], users["hana"]
    intake = review.save_intake(maria, "Senior backend engineer, eight years of Python and PostgreSQL.")
    plan_id = review.create_plan_from_draft(maria, intake, flagged_plan()).id
    review.submit(maria, plan_id, 1)
    at = review_page(auth)

    # The flags: a headline whose count the lines add up to, one line per cause, no technical text.
    shown = texts(at.markdown)
    assert "4 items to check (3 tasks)" in shown
    assert "3 tasks keep the role profile's wording because the model was not reachable." in shown
    assert "The model was not reachable, so the plan summary keeps its standard wording." in shown
    assert "Errno" not in shown and "model call" not in shown
    assert "Details" in [e.label for e in at.expander]
    assert DETAIL in [c.value for c in at.code], "the technical detail is in the details block, verbatim"

    # Approving without a choice for the open items is refused by the service, with the reason.
    at.text_area(key=f"rv_reason_{plan_id}").input("Grounded and complete.")
    at.button(key="rv_approve").click().run()
    assert not at.exception, at.exception
    assert "4 open flags need a choice before the plan can be approved" in texts(at.error)
    assert review.get_plan(hana, plan_id).status == "in_review"

    # One line per cause to settle: the tasks acknowledged (a reason is required), the summary resolved.
    radios = {r.label.replace("\\", ""): r for r in at.radio}
    assert len(radios) == 2
    tasks_line = next(label for label in radios if label.startswith("3 tasks"))
    summary_line = next(label for label in radios if label.startswith("The model was not reachable"))
    radios[summary_line].set_value("resolved")
    radios[tasks_line].set_value("acknowledged")
    at.run()
    at.button(key="rv_approve").click().run()
    assert "needs a reason" in texts(at.error)
    assert review.get_plan(hana, plan_id).status == "in_review"

    at.text_input[0].input("The corpus wording is right for a first plan.")
    at.button(key="rv_approve").click().run()
    assert not at.exception, at.exception
    assert review.get_plan(hana, plan_id).status == "approved"
    assert "Nothing is waiting for review" in texts(at.success)

    [entry] = [e for e in review.audit_log(hana, plan_id) if e.action == "plan.approve"]
    choices = {(r["about"].split(":")[0], r["choice"], r["reason"]) for r in entry.detail["flags"]}
    assert choices == {
        ("Plan summary", "resolved", None),
        ("Task", "acknowledged", "The corpus wording is right for a first plan."),
    }
    assert len(entry.detail["flags"]) == 4
