"""The Streamlit pages through ``streamlit.testing.v1.AppTest``, against a real SQLite database.

Every page runs for real: sign-in through ``tailor.review.auth``, plans through ``tailor.review.service``,
the New plan page through the real engine with the model unreachable (connection refused
on 127.0.0.1:9), which is the model-down path a manager meets when the model server is off.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tailor.config import PROJECT_ROOT, get_settings, reset_settings
from tailor.corpus.documents import CorpusError, load_corpus, load_document
from tailor.corpus.promote import case_study_from_plan
from tailor.errors import BadInput
from tailor.models import llm
from tailor.pipeline.compose import compose
from tailor.review.auth import AuthService, UserOut
from tailor.review.service import ReviewService
from tailor.schema import HireProfile, Plan
from tailor.web.session import TOKEN_KEY
from tailor.web.text import safe
from tests.fixtures.db import PASSWORD
from tests.fixtures.model import SMALL_LOCAL_MODEL, wait_for_generation

APP = str(PROJECT_ROOT / "app.py")
PAGE_TITLES = {
    "pages/review.py": "Review",
    "pages/corpus.py": "Corpus",
    "pages/new_plan.py": "New plan",
    "pages/evals.py": "Evals",
}
TIMEOUT = 90


@dataclass
class World:
    auth: AuthService
    review: ReviewService
    users: dict[str, UserOut]

    def token(self, username: str) -> str:
        return self.auth.authenticate(username, PASSWORD).token


@pytest.fixture
def world(isolated_settings: Path, fast_hashing: None) -> Iterator[World]:
    """A migrated SQLite database in the test's data dir with one user per role (two HR users)."""
    settings = get_settings()
    auth_service = AuthService(settings)
    review = ReviewService(settings, db=auth_service.db)
    admin = auth_service.bootstrap_admin("admin", PASSWORD, "Ada Admin")
    users = {"admin": admin}
    for name, role, display in (
        ("maria", "manager", "Maria Manager"),
        ("mo", "manager", "Mo Manager"),
        ("hana", "hr", "Hana HR"),
        ("harry", "hr", "Harry HR"),
    ):
        users[name] = auth_service.add_user(admin, name, role, PASSWORD, display)
    yield World(auth_service, review, users)


def composed_plan(name: str | None = "Zoë Quast", start: date | None = date(2026, 1, 5)) -> Plan:
    """A grounded plan from the real corpus, composed without a model."""
    hire = HireProfile(
        name=name,
        role="Senior Backend Engineer",
        role_family="backend",
        seniority="senior",
        years_experience=8,
        skills=["Python", "PostgreSQL"],
        summary="A backend engineer with eight years of payments work in Python and PostgreSQL.",
        start_date=start,
    )
    return compose(load_corpus(get_settings().corpus_dir), hire, model="test", prompt_version="t")


def draft(world: World, manager: str = "maria", plan: Plan | None = None) -> int:
    user = world.users[manager]
    intake = world.review.save_intake(user, "Senior backend engineer, eight years of Python and PostgreSQL.")
    return world.review.create_plan_from_draft(user, intake, plan or composed_plan()).id


def app_as(world: World, username: str | None, **state: object) -> AppTest:
    """The app signed in (with a real session token) as ``username``, run once."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    if username is not None:
        at.session_state[TOKEN_KEY] = world.token(username)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def texts(elements: object) -> str:
    """The elements' text as a person reads it (without ``safe``'s Markdown escapes)."""
    joined = " | ".join(str(e.value) for e in elements)  # type: ignore[attr-defined]
    return re.sub(r"\\(.)", r"\1", joined)


def open_page(at: AppTest, page: str) -> AppTest:
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


# =========================================================================== sign-in and roles
def test_sign_in_page_rejects_a_wrong_password_then_signs_in(world: World) -> None:
    at = app_as(world, None)
    assert [t.value for t in at.title] == ["tailor"]

    at.text_input[0].input("maria")
    at.text_input[1].input("not the password")
    at.button[0].click().run()
    assert "wrong username or password" in texts(at.error)
    assert TOKEN_KEY not in at.session_state

    at.text_input[1].input(PASSWORD)
    at.button[0].click().run()
    assert not at.exception
    assert at.title[0].value == "New plan"
    assert at.session_state[TOKEN_KEY]
    # Signing out revokes the token server-side and returns to the sign-in page.
    token = at.session_state[TOKEN_KEY]
    at.sidebar.button(key="sign_out").click().run()
    assert at.title[0].value == "tailor"
    assert "signed out" in texts(at.info)
    with pytest.raises(Exception, match="signed out"):
        world.auth.user_for_token(token)


def test_an_expired_session_goes_back_to_sign_in(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAILOR_SESSION_TTL_MINUTES", "0")
    reset_settings()
    expired = AuthService(get_settings(), db=world.auth.db).authenticate("maria", PASSWORD).token
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state[TOKEN_KEY] = expired
    at.run()
    assert at.title[0].value == "tailor"
    assert "expired" in texts(at.info)
    assert TOKEN_KEY not in at.session_state


@pytest.mark.parametrize(
    ("username", "landing", "allowed", "refused"),
    [
        ("maria", "New plan", ["pages/plans.py", "pages/export.py"], ["pages/review.py", "pages/corpus.py"]),
        ("hana", "Review", ["pages/plans.py"], ["pages/new_plan.py", "pages/corpus.py", "pages/evals.py"]),
        ("admin", "Plans", ["pages/corpus.py", "pages/evals.py"], ["pages/new_plan.py", "pages/review.py"]),
    ],
)
def test_each_role_gets_only_its_pages(
    world: World, username: str, landing: str, allowed: list[str], refused: list[str]
) -> None:
    at = app_as(world, username)
    assert at.title[0].value == landing
    for page in allowed:
        open_page(at, page)
    for page in refused:
        # Not in this role's navigation: Streamlit renders none of the page.
        at.switch_page(page).run()
        assert PAGE_TITLES[page] not in [t.value for t in at.title]
        assert not at.button and not at.text_area


# =========================================================================== new plan
def fill_background(at: AppTest, text: str) -> None:
    at.text_area(key="np_text").input(text)
    at.button(key="np_read").click().run()
    assert not at.exception, at.exception


BACKGROUND = (
    "Senior Backend Engineer\n"
    "Eight years building payment APIs in Python, Django, PostgreSQL and Kafka. "
    "Led the move of the ledger service to Kubernetes; mentors two junior engineers. "
    "Reach her at zoe.quast@example.com."
)


def test_new_plan_with_the_model_down_saves_the_grounded_plan_with_flags(
    world: World, ingested_index: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nothing listens on port 9: every model call fails at once with connection refused.
    monkeypatch.setenv("TAILOR_MODEL", "openai/none")
    monkeypatch.setenv("TAILOR_API_BASE", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("TAILOR_API_KEY", "unused")  # so the client gets as far as connecting
    monkeypatch.setenv("TAILOR_MODEL_RETRIES", "0")
    reset_settings()
    manager = world.users["maria"]
    at = app_as(world, "maria")
    at.text_input(key="np_name").input("Zoë Quast")
    fill_background(at, BACKGROUND)

    # The background is saved before anything else (and before any model call).
    intakes = world.review.list_intakes(manager)
    assert [i.background for i in intakes] == [BACKGROUND]
    assert intakes[0].name == "Zoë Quast"

    # Step 2: the profile read by rules, as a form to confirm or correct.
    assert "2. Confirm the profile" in texts(at.subheader)
    assert "Senior Backend Engineer" in [t.value for t in at.text_input]  # the job title, read from line 1
    boxes = {box.label: box.value for box in at.selectbox}
    assert boxes["Role family"] == "backend" and boxes["Seniority"] == "senior"
    at.number_input[0].set_value(9.0)
    at.button[[b.label for b in at.button].index("Confirm profile")].click().run()
    assert not at.exception, at.exception
    assert "Confirmed: senior backend · 9 years" in texts(at.success)

    # Step 3: the retrieved role profiles and case studies, with scores and passages.
    assert "3. What the plan is grounded in" in texts(at.subheader)
    labels = [e.label for e in at.expander]
    assert any("Backend Engineer" in label and "score" in label for label in labels), labels

    # Step 4: generate. The model is down, so the grounded plan is saved, flagged.
    at.button(key="np_generate").click().run()
    assert not at.exception, at.exception
    assert "could not tailor this plan" in texts(at.warning)
    assert "Saved plan #" in texts(at.success)

    plans = world.review.list_plans(manager)
    assert len(plans) == 1 and plans[0].status == "draft"
    assert plans[0].needs_review > 0
    detail = world.review.get_plan(manager, plans[0].id)
    assert detail.plan.hire.years_experience == 9  # the manager's correction won
    assert detail.plan.hire.name == "Zoë Quast"
    assert detail.plan.review_flags, "the model failure must be flagged for review"
    assert world.review.get_background(manager, plans[0].id) == BACKGROUND
    assert world.review.list_intakes(manager) == []  # the intake is used, not left dangling

    # Generating again from the same input is a choice, never a silent duplicate: keep both here.
    assert "np_generate" not in [b.key for b in at.button]
    at.radio(key="np_again_choice").set_value("keep_both").run()
    at.button(key="np_draft_again").click().run()
    assert not at.exception, at.exception
    newest = world.review.list_plans(manager)
    assert len(newest) == 2

    # The result offers to open the plan, and the plan page shows what needs review.
    at.button(key="np_open").click().run()
    assert not at.exception, at.exception
    assert at.title[0].value.startswith(f"Plan #{newest[0].id}")
    assert any("need review" in e.label for e in at.expander)


def test_new_plan_keeps_text_it_cannot_read(world: World) -> None:
    at = app_as(world, "maria")
    fill_background(at, "hi there ok")
    assert "too short" in texts(at.error)
    assert "Correct the input" in texts(at.error)
    failed = world.review.list_intakes(world.users["maria"])
    assert [(i.background, i.status) for i in failed] == [("hi there ok", "failed")]
    # The unfinished draft can be resumed: its text comes back into the form.
    at = app_as(world, "maria")
    at.button(key="np_resume").click().run()
    assert at.text_area(key="np_text").value == "hi there ok"


# =========================================================================== plans list
def test_plans_page_filters_by_status_manager_and_search(world: World) -> None:
    first = draft(world, "maria")
    second = draft(world, "mo", composed_plan(name="Ola Nordmann"))
    world.review.submit(world.users["mo"], second, 1)

    at = app_as(world, "hana")
    open_page(at, "pages/plans.py")
    assert set(at.dataframe[0].value["id"]) == {first, second}
    at.selectbox(key="pl_status").set_value("in_review").run()
    assert list(at.dataframe[0].value["id"]) == [second]
    at.selectbox(key="pl_status").set_value("All").run()
    at.selectbox(key="pl_manager").set_value("maria").run()
    assert list(at.dataframe[0].value["id"]) == [first]
    at.selectbox(key="pl_manager").set_value("All").run()
    at.text_input(key="pl_search").input("nordmann").run()
    assert list(at.dataframe[0].value["id"]) == [second]
    at.text_input(key="pl_search").input("nobody by this name").run()
    assert "No plans match" in texts(at.info)

    # A manager sees only their own plans, and has no manager filter.
    at = app_as(world, "maria")
    open_page(at, "pages/plans.py")
    assert list(at.dataframe[0].value["id"]) == [first]
    assert "pl_manager" not in [s.key for s in at.selectbox]


# =========================================================================== plan view and edit
def test_plan_page_saves_an_edit_and_refuses_a_stale_one(world: World) -> None:
    manager = world.users["maria"]
    plan_id = draft(world)
    at = app_as(world, "maria", plan_id=plan_id)
    open_page(at, "pages/plan.py")
    assert at.title[0].value.startswith(f"Plan #{plan_id}")

    at.text_area(key=f"pv_summary_{plan_id}_1").input("A tighter first month, then ownership of the ledger API.")
    at.button(key="pv_save").click().run()
    assert not at.exception, at.exception
    detail = world.review.get_plan(manager, plan_id)
    assert detail.revision == 2
    assert detail.plan.summary == "A tighter first month, then ownership of the ledger API."

    # Someone else saves revision 3 while this page still shows revision 2.
    other = detail.plan.model_copy(deep=True)
    other.rationale = "Changed elsewhere."
    world.review.save_revision(manager, plan_id, other, expected_revision=2)
    at.text_area(key=f"pv_summary_{plan_id}_2").input("My edit, made on a stale revision.")
    at.button(key="pv_save").click().run()
    assert not at.exception, at.exception
    assert "changed since you opened it" in texts(at.error)
    assert world.review.get_plan(manager, plan_id).revision == 3  # nothing overwritten
    assert world.review.get_plan(manager, plan_id).plan.rationale == "Changed elsewhere."
    at.button(key="pv_reload").click().run()
    assert f"pv_summary_{plan_id}_3" in [t.key for t in at.text_area]


def test_plan_page_shows_citations_review_warnings_and_submits(world: World) -> None:
    plan = composed_plan()
    plan.phases[1].tasks[0].review_reason = "Check that the ledger service is in scope."
    plan.phases[1].tasks[0].needs_review = True
    plan_id = draft(world, plan=plan)
    at = app_as(world, "maria", plan_id=plan_id)
    open_page(at, "pages/plan.py")

    warnings = next(e for e in at.expander if e.label == "1 item needs review")
    assert "ledger service is in scope" in texts(warnings.markdown)
    # Each task cites corpus documents; its expander shows the cited document and passage.
    task = plan.phases[1].tasks[0]
    citation = next(e for e in at.expander if e.label.startswith(safe(task.title)))
    doc = load_corpus(get_settings().corpus_dir).by_id()[task.sources[0]]
    assert doc.meta.title.split(":")[0] in texts(citation.markdown)

    at.button(key="pv_submit").click().run()
    assert not at.exception, at.exception
    assert world.review.get_plan(world.users["maria"], plan_id).status == "in_review"
    assert "pv_submit" not in [b.key for b in at.button]

    # An admin may read the plan but gets neither the editor nor the submit button.
    at = app_as(world, "admin", plan_id=plan_id)
    open_page(at, "pages/plan.py")
    assert "pv_save" not in [b.key for b in at.button]
    assert "pv_submit" not in [b.key for b in at.button]


# =========================================================================== review
def test_review_page_enforces_four_eyes_and_records_decisions(world: World) -> None:
    plan_id = draft(world)
    world.review.submit(world.users["maria"], plan_id, 1)
    # Hana edits the plan (revision 2), so she may not approve it herself.
    hana = world.users["hana"]
    edited = world.review.get_plan(hana, plan_id).plan.model_copy(deep=True)
    edited.summary = "Edited by HR."
    world.review.save_revision(hana, plan_id, edited, expected_revision=1)

    at = app_as(world, "hana")
    assert at.title[0].value == "Review"
    assert list(at.dataframe[0].value["id"]) == [plan_id]
    queue = json.loads(at.dataframe[0].proto.columns)  # the same human labels as the Plans list
    assert queue["hire"]["label"] == "Hire" and queue["role"]["label"] == "Job title"
    byline = next(str(c.value) for c in at.caption if "· manager " in str(c.value))
    assert "Senior, Backend · manager" in byline and "last change today" in byline and "+00:00" not in byline
    assert "changed plan" in set(at.dataframe[1].value["change"])  # the summary edit shows in the diff

    task = edited.all_tasks()[0]
    form_select = next(s for s in at.selectbox if s.options and s.options[0] == "the whole plan")
    form_select.set_value(task.id)
    next(t for t in at.text_area if t.label == "Comment").input("Move this to week 2.")
    next(b for b in at.button if b.label == "Add comment").click().run()
    assert not at.exception, at.exception
    comments = world.review.list_comments(hana, plan_id)
    assert [(c.task_id, c.text) for c in comments] == [(task.id, "Move this to week 2.")]

    at.text_area(key=f"rv_reason_{plan_id}").input("Looks right to me.")
    at.button(key="rv_approve").click().run()
    assert "four-eyes" in texts(at.error)
    assert world.review.get_plan(hana, plan_id).status == "in_review"

    at = app_as(world, "harry")
    at.text_area(key=f"rv_reason_{plan_id}").input("Grounded and complete.")
    at.button(key="rv_approve").click().run()
    assert not at.exception, at.exception
    assert world.review.get_plan(hana, plan_id).status == "approved"
    assert "Nothing is waiting for review" in texts(at.success)


def test_review_page_sends_a_plan_back_with_a_reason(world: World) -> None:
    plan_id = draft(world)
    world.review.submit(world.users["maria"], plan_id, 1)
    at = app_as(world, "hana")
    at.button(key="rv_changes").click().run()
    assert "reason is empty" in texts(at.error)
    at.text_area(key=f"rv_reason_{plan_id}").input("The first week is too full.")
    at.button(key="rv_changes").click().run()
    assert world.review.get_plan(world.users["hana"], plan_id).status == "changes_requested"
    # The manager sees why, on the plan page.
    at = app_as(world, "maria", plan_id=plan_id)
    open_page(at, "pages/plan.py")
    assert "The first week is too full." in texts(at.warning)


# =========================================================================== export
def test_export_page_offers_every_format(world: World) -> None:
    with_date = draft(world)
    without_date = draft(world, plan=composed_plan(name=None, start=None))
    at = app_as(world, "maria", plan_id=with_date)
    open_page(at, "pages/export.py")
    buttons = at.get("download_button")
    assert [b.proto.label for b in buttons] == [
        "Download Markdown",
        "Download JSON",
        "Download CSV",
        "Download Calendar (ICS)",
        "Download PDF",
    ]
    assert not any(b.proto.disabled for b in buttons)
    assert "not approved" in texts(at.warning)

    at.selectbox(key="ex_pick").set_value(without_date).run()
    disabled = {b.proto.label: b.proto.disabled for b in at.get("download_button")}
    assert disabled["Download Calendar (ICS)"] and not disabled["Download Markdown"]
    assert "start date" in texts(at.caption)


# =========================================================================== corpus and promotion
@pytest.fixture
def corpus_copy(isolated_settings: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A writable copy of the real corpus, so saving never touches ./corpus."""
    target = isolated_settings / "corpus"
    shutil.copytree(PROJECT_ROOT / "corpus", target)
    monkeypatch.setenv("TAILOR_CORPUS_DIR", str(target))
    reset_settings()
    return target


def test_corpus_page_validates_saves_and_reingests(world: World, corpus_copy: Path, ingested_index: object) -> None:
    at = app_as(world, "admin")
    open_page(at, "pages/corpus.py")
    assert len(at.dataframe[0].value) == len(load_corpus(corpus_copy).docs)

    at.selectbox(key="co_edit_pick").set_value("(new case study)").run()
    box = at.text_area(key="co_text_(new case study)")
    template = str(box.value)
    assert "id: case-new-story" in template
    # An invalid front matter is refused with the field named.
    box.input(template.replace("situation:", "situation_typo:", 1))
    at.button(key="co_validate").click().run()
    assert "situation_typo" in texts(at.error)
    # A path outside the corpus is refused.
    at.text_area(key="co_text_(new case study)").input(template)
    at.text_input(key="co_name_(new case study)").input("../case-new-story.md")
    at.button(key="co_save").click().run()
    assert "not a plain file name" in texts(at.error)
    assert not (corpus_copy.parent / "case-new-story.md").exists()
    # A valid one is saved into case-studies/.
    at.text_input(key="co_name_(new case study)").input("case-new-story.md")
    at.button(key="co_save").click().run()
    assert not at.exception, at.exception
    saved = corpus_copy / "case-studies" / "case-new-story.md"
    assert saved.is_file() and not isinstance(load_document(saved), CorpusError)
    # Re-ingest embeds only the new document (the rest is already in this test's index).
    at.button(key="co_ingest").click().run()
    assert not at.exception, at.exception
    assert "1 added, 0 updated" in texts(at.success)
    from tailor.corpus.index import CorpusIndex

    hits = CorpusIndex.open(get_settings()).search_docs("case-new-story", k=30, kind="case_study")
    assert "case-new-story" in [h.doc_id for h in hits]


def test_an_approved_plan_becomes_an_anonymous_case_study(world: World, corpus_copy: Path) -> None:
    plan = composed_plan(name="Zoë Quast")
    plan.phases[1].tasks[0].description = "Pair with Zoë Quast's buddy; mail zoe.quast@example.com first."
    plan_id = draft(world, plan=plan)
    world.review.submit(world.users["maria"], plan_id, 1)
    world.review.approve(world.users["hana"], plan_id, 1, "Good plan.")
    approved = world.review.get_plan(world.users["admin"], plan_id).plan

    case = case_study_from_plan(approved, plan_id, taken_ids=load_corpus(corpus_copy).by_id())
    assert "Zoë" not in case.text and "Quast" not in case.text and "@example.com" not in case.text
    assert "[NAME]" in case.text and "[EMAIL]" in case.text
    assert case.meta.policy.first_pr_day == approved.targets.first_pr_day
    assert f"day {approved.targets.first_pr_day}" in case.body.lower()
    assert all(t.title in case.body for t in case.meta.tasks)
    draft_plan = approved.model_copy(deep=True)
    draft_plan.status = "draft"
    with pytest.raises(BadInput, match="only approved plans"):
        case_study_from_plan(draft_plan, plan_id)

    at = app_as(world, "admin")
    open_page(at, "pages/corpus.py")
    at.button(key="co_promote").click().run()
    assert not at.exception, at.exception
    written = corpus_copy / "case-studies" / case.filename
    doc = load_document(written)
    assert not isinstance(doc, CorpusError), doc
    assert doc.meta.kind == "case_study" and "Zoë" not in written.read_text(encoding="utf-8")


# =========================================================================== evals
def test_evals_page_without_runs_then_with_history(world: World) -> None:
    at = app_as(world, "admin")
    open_page(at, "pages/evals.py")
    assert "No eval runs yet" in texts(at.info)

    from tailor.evals.runner import CaseResult, EvalItem, RunResult, runs_dir, save_run

    for day, passed in ((1, False), (2, True)):
        started = datetime(2026, 1, day, 9, tzinfo=UTC)
        run = RunResult(
            run_id=f"2026010{day}-090000-test",
            started_at=started,
            finished_at=started,
            model="local/qwen2.5-coder-0.5b",
            prompt_version="p1",
            corpus_hash="abc",
            cases_path="evals/cases",
            cases=[
                CaseResult(name="senior-backend", results=[EvalItem(evaluator="Grounded", passed=True)]),
                CaseResult(name="intern", results=[EvalItem(evaluator="Grounded", passed=passed)]),
            ],
        )
        save_run(run, runs_dir(get_settings()))
    at.run()
    assert not at.exception, at.exception
    assert "Pass rate over time" in texts(at.subheader)
    assert len(at.dataframe[0].value) == 2  # the history table
    cases = at.dataframe[1].value
    assert list(cases["case"]) == ["senior-backend", "intern"] and list(cases["passed"]) == [True, True]


def test_evals_page_runs_the_suite_in_the_background(world: World) -> None:
    from tailor.evals.runner import list_runs

    at = app_as(world, "hana")
    open_page(at, "pages/evals.py")
    assert "ev_run" not in [b.key for b in at.button] and "for Admin users" in texts(at.warning)  # the team's page

    at = app_as(world, "admin")
    open_page(at, "pages/evals.py")
    # Two real cases that the engine refuses before any model call: the run is quick and offline.
    at.text_input(key="ev_only").input("empty-background, whitespace-only")
    at.button(key="ev_run").click().run()
    assert not at.exception, at.exception
    assert "Run saved" in texts(at.success), texts(at.error)
    runs = list_runs(get_settings())
    assert [r.n_cases for r in runs] == [2]
    assert runs[0].gate_passed is True, "the page gates on the committed threshold, as `tailor eval` does"
    cases = at.dataframe[1].value  # [0] is the history, [1] the chosen run's cases
    assert set(cases["case"]) == {"empty-background", "whitespace-only"}


# =========================================================================== through the running app
@pytest.mark.slow
@pytest.mark.xdist_group("local_model")
def test_app_keeps_serving_and_saves_the_plan_when_the_worker_segfaults(
    local_model_available: Path, monkeypatch: pytest.MonkeyPatch, world: World, ingested_index: object
) -> None:
    """The local model runs in a worker, not in the Streamlit server: its crash costs one draft's tailoring."""
    monkeypatch.setenv("TAILOR_MODEL", f"local/{SMALL_LOCAL_MODEL}")
    reset_settings()
    settings = get_settings()
    worker = llm.local_worker(SMALL_LOCAL_MODEL, settings)
    worker.ensure_running()
    assert worker.log_path is not None
    pid = worker.pid
    assert pid is not None
    calls = worker.log_path.read_text().count("generate:") if worker.log_path.exists() else 0

    def segfault() -> None:
        wait_for_generation(worker.log_path, calls + 1)  # type: ignore[arg-type]
        os.kill(pid, signal.SIGSEGV)

    killer = threading.Thread(target=segfault)
    manager = world.users["maria"]
    at = AppTest.from_file(APP, default_timeout=600)
    at.session_state[TOKEN_KEY] = world.token("maria")
    at.run()
    fill_background(at, BACKGROUND)
    at.button[[b.label for b in at.button].index("Confirm profile")].click().run()
    killer.start()
    at.button(key="np_generate").click().run()
    killer.join(30)
    assert not at.exception, at.exception
    plans = world.review.list_plans(manager)
    assert len(plans) == 1, "the plan is saved although the model crashed"
    plan = world.review.get_plan(manager, plans[0].id).plan
    details = [f.detail or "" for f in plan.review_flags]
    assert any("local model crashed" in d and "SIGSEGV" in d for d in details), details
    assert plan.all_tasks() and all(t.review_reason for t in plan.all_tasks() if t.needs_review)

    # The server process is alive (this test is it) and the next draft restarts the worker.
    at.radio(key="np_again_choice").set_value("keep_both").run()
    at.button(key="np_draft_again").click().run()
    assert not at.exception, at.exception
    assert len(world.review.list_plans(manager)) == 2
    assert worker.pid not in (None, pid) and worker.restarts >= 1
