"""What the plan pages show: frames with their columns, the timeline, flagged items, cited passages."""

from __future__ import annotations

from tailor.review.diff import diff_plans
from tailor.schema import ReviewFlag, Risk
from tailor.web.charts import timeline_chart
from tailor.web.plan_view import cited_passage, review_items
from tailor.web.tables import (
    TASK_COLUMNS,
    corpus_frame,
    diff_frame,
    plans_frame,
    preview_frame,
    sources_frame,
    tasks_frame,
)
from tests.conftest import CORPUS_DIR
from tests.fixtures.db import make_plan
from tests.fixtures.drafting import CORPUS


def test_empty_frames_still_have_their_columns() -> None:
    assert list(plans_frame([]).columns)[:3] == ["id", "hire", "role"]
    plan = make_plan()
    plan.sources = []
    assert list(sources_frame(plan).columns) == ["id", "title", "kind", "score", "sections"]


def test_tasks_frame_has_one_row_per_task_in_the_editor_columns() -> None:
    plan = make_plan()
    frame = tasks_frame(plan)
    assert tuple(frame.columns) == TASK_COLUMNS and len(frame) == len(plan.all_tasks())
    row = frame[frame["id"] == "on-call-shadow"].iloc[0]
    assert row["sources"] == "backend-engineer, case-payments-migration" and row["phase"] == plan.phases[1].name
    assert list(preview_frame(plan)["task"]) == [t.title for t in plan.all_tasks()]


def test_a_diff_reads_as_rows() -> None:
    before = make_plan()
    after = before.model_copy(deep=True)
    after.summary = "A different summary."
    after.phases[0].tasks[0].title = "Laptop, accounts and a first build"
    removed = after.phases[2].tasks.pop()
    frame = diff_frame(diff_plans(1, 1, 2, before, after))
    changes = {(r["change"], r["field"]) for r in frame.to_dict("records")}
    assert ("changed plan", "summary") in changes
    assert ("changed task", "title") in changes
    assert ("removed task", "") in changes
    removed_row = frame[frame["change"] == "removed task"].iloc[0]
    assert removed_row["task"] == removed.title and removed_row["before"] == removed.description


def test_the_corpus_frame_names_files_inside_the_corpus() -> None:
    frame = corpus_frame(CORPUS, CORPUS_DIR)
    assert len(frame) == len(CORPUS.docs)
    assert all(f.startswith(("roles/", "case-studies/", "teams/")) for f in frame["file"])
    assert set(frame["kind"]) == {"role profile", "case study", "team profile"}


def test_the_timeline_has_a_bar_per_task() -> None:
    plan = make_plan()
    chart = timeline_chart(plan).to_dict()
    assert chart["mark"]["type"] == "bar"
    values = next(iter(chart["datasets"].values()))
    assert len(values) == len(plan.all_tasks())
    assert {v["check"] for v in values} == {"", "needs review"}


def test_review_items_list_plan_notes_tasks_then_risks() -> None:
    plan = make_plan()
    plan.review_flags.append(ReviewFlag(field="summary", reason="not tailored"))
    plan.risks.append(Risk(risk="Unclear ownership", mitigation="Ask", needs_review=True))
    assert review_items(plan) == [
        ("Plan summary", "The model was not reachable, so the plan summary keeps its standard wording."),
        (
            "Task: Review slow queries on the billing database",
            "Check that the billing database is in scope for a new hire.",
        ),
        ("Risk: Unclear ownership", "This risk is marked for review."),
    ]


def test_a_citation_opens_on_the_passage_that_names_the_task() -> None:
    doc = next(d for d in CORPUS.docs if d.kind == "role_profile" and len(d.sections()) > 2)
    section = doc.sections()[2]
    phrase = section.text.split(".")[0][:60].strip()
    task = make_plan().all_tasks()[0].model_copy(update={"title": phrase, "description": "unrelated words"})
    assert cited_passage(doc, task) == section
    by_words = make_plan().all_tasks()[0].model_copy(update={"title": "zzz", "description": section.text[:400]})
    assert cited_passage(doc, by_words) == section


def test_diff_fields_and_revision_times_read_as_people_say_them() -> None:
    from datetime import UTC, datetime

    from tailor.web.tables import field_label
    from tailor.web.text import when

    assert field_label("hire.start_date") == "hire: start date"
    assert field_label("due_week") == "week"
    assert field_label("needs_review") == "to check"
    assert field_label("phases.1.goals") == "phase 2: goals"
    stamp = when(datetime(2026, 12, 1, 9, 30, tzinfo=UTC), "Europe/Amsterdam", now=datetime(2026, 12, 3, tzinfo=UTC))
    assert stamp == "1 Dec 10:30" and "+00:00" not in stamp
