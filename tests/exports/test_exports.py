"""Exports: the registry, file names, date rules, and every format parsed back by a real reader."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, date, datetime

import pytest
from icalendar import Calendar
from pypdf import PdfReader

from tailor import exports
from tailor.errors import BadInput
from tailor.exports import FORMATS, ExportContext, Format, filename, render
from tailor.exports.common import business_day, week_due_date, week_start_date
from tailor.exports.pdf import transliterate, unicode_fonts
from tailor.review.auth import UserOut
from tailor.review.service import ReviewService
from tailor.schema import Plan
from tests.fixtures.db import make_plan

MONDAY = date(2025, 10, 6)


def _ctx(status: str = "approved", revision: int = 3) -> ExportContext:
    return ExportContext(
        plan_id=12,
        status=status,
        revision=revision,
        current_revision=3,
        manager="Maria Manager",
        reviewer="Hana HR",
        approved_by="Harry HR" if status == "approved" else None,
        approved_at=datetime(2025, 9, 30, 12, tzinfo=UTC) if status == "approved" else None,
        generated_at=datetime(2025, 10, 1, 9, tzinfo=UTC),
    )


def _no_tasks(plan: Plan) -> Plan:
    empty = plan.model_copy(deep=True)
    for phase in empty.phases:
        phase.tasks = []
    return empty


# --------------------------------------------------------------------------- registry and file names
def test_the_registry_names_every_format_in_the_export_page_order() -> None:
    assert list(FORMATS) == ["markdown", "json", "csv", "ics", "pdf"]
    assert [f.ext for f in FORMATS.values()] == ["md", "json", "csv", "ics", "pdf"]
    assert [f.name for f in FORMATS.values() if f.needs_start_date] == ["ics"]


def test_file_names_transliterate_the_hire_and_fall_back_to_the_role() -> None:
    plan = make_plan(name="Zoë Łukasiewicz")
    assert filename(plan, "csv", plan_id=12, revision=3) == "onboarding-plan-12-zoe-lukasiewicz-r3.csv"
    assert (
        filename(make_plan(name=None), "pdf", plan_id=1, revision=1)
        == "onboarding-plan-1-senior-backend-engineer-r1.pdf"
    )
    assert filename(make_plan(name="山田太郎"), "markdown", plan_id=2, revision=1) == (
        "onboarding-plan-2-senior-backend-engineer-r1.md"
    )
    long_name = make_plan(name="Maria-Bernadette Ñúñez de la Cruz y Łukasiewicz-Sørensen Østergaard")
    assert filename(long_name, "json", plan_id=3, revision=1) == (  # at most 60 characters, cut between words
        "onboarding-plan-3-maria-bernadette-nunez-de-la-cruz-y-lukasiewicz-sorensen-r1.json"
    )
    with pytest.raises(BadInput, match="unknown export format 'docx'"):
        filename(plan, "docx", plan_id=1, revision=1)


def test_a_new_format_is_one_module_and_one_registry_line(sample_plan: Plan, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the exports docstring promises: a registered Format renders and names its files."""
    text = Format(
        name="txt",
        label="Text",
        description="Plain task titles.",
        ext="txt",
        mime="text/plain; charset=utf-8",
        render=lambda plan, ctx: "\n".join(t.title for t in plan.all_tasks()).encode(),
    )
    monkeypatch.setitem(exports.FORMATS, "txt", text)
    result = render(sample_plan, _ctx(), "txt")
    assert result.filename == "onboarding-plan-12-zoe-lukasiewicz-r3.txt" and result.mime == text.mime
    assert result.content.decode().splitlines()[0] == sample_plan.all_tasks()[0].title


# --------------------------------------------------------------------------- dates
def test_week_n_is_due_on_the_friday_of_week_n() -> None:
    assert week_due_date(MONDAY, 1) == date(2025, 10, 10)
    assert week_due_date(MONDAY, 2) == date(2025, 10, 17)
    assert week_due_date(MONDAY, 13) == date(2026, 1, 2)
    assert week_start_date(MONDAY, 6) == date(2025, 11, 10)


def test_week_zero_is_the_business_day_before_the_start() -> None:
    assert week_due_date(MONDAY, 0) == date(2025, 10, 3)  # Friday before a Monday start
    assert week_due_date(date(2025, 10, 8), 0) == date(2025, 10, 7)  # Tuesday before a Wednesday start


def test_day_targets_count_business_days_from_day_one() -> None:
    assert business_day(MONDAY, 1) == MONDAY
    assert business_day(MONDAY, 5) == date(2025, 10, 10)
    assert business_day(MONDAY, 6) == date(2025, 10, 13)  # skips the weekend
    assert business_day(date(2025, 10, 9), 3) == date(2025, 10, 13)  # Thursday start: Thu, Fri, Mon


# --------------------------------------------------------------------------- markdown
def test_markdown_has_the_checklist_shape(sample_plan: Plan) -> None:
    text = render(sample_plan, _ctx(), "markdown").content.decode()
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings[:5] == [
        "## Overview",
        "## Why this plan",
        "## Days 1-30: Foundation (weeks 0-4)",
        "## Days 31-60: Integration (weeks 5-8)",
        "## Days 61-90: Ownership (weeks 9-13)",
    ]
    for section in ("Relationship Building", "Capability Development", "Check-ins & Reviews"):
        assert f"## {section}" in headings
    assert headings[-2:] == ["## Resources & Sources", "## Notes & Feedback"]
    assert text.startswith("# Onboarding plan: Zoë Łukasiewicz - Senior Backend Engineer\n")
    assert "Approved by Harry HR on 2025-09-30 (revision 3)" in text
    for task in sample_plan.all_tasks():
        [line] = [x for x in text.splitlines() if x.startswith(f"- [ ] **{task.title}**")]
        assert _fmt(week_due_date(MONDAY, task.due_week)) in line
    assert "Sources: Backend Engineer role profile (backend-engineer), Payments migration case study" in text
    assert "  - Meet within: Fri 10 Oct 2025 (week 1)" in text
    assert "  - Frequency going forward: daily" in text
    assert "- [ ] **Fri 31 Oct 2025 (week 4)** with Manager: 30-day review" in text
    assert "- [ ] **First commit**: Wed 8 Oct 2025 (day 3)" in text
    # Approved: the file goes to the hire and the team, without review notes.
    assert "Check that the billing database is in scope" not in text and "To check" not in text


def test_markdown_of_a_plan_in_review_says_what_is_still_to_check(sample_plan: Plan) -> None:
    text = render(sample_plan, _ctx(status="in_review"), "markdown").content.decode()
    assert "  - **To check**: Check that the billing database is in scope for a new hire." in text
    assert "## To check before approval" in text and "*1 item to check*" in text


def _fmt(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"


def test_markdown_neutralises_hostile_text(sample_plan: Plan) -> None:
    plan = sample_plan.model_copy(deep=True)
    task = plan.phases[0].tasks[1]
    task.title = "Read <script>alert(1)</script> docs"
    task.description = "First line\n# Injected heading\n- [x] injected item [click](javascript:alert(1))"
    text = render(plan, _ctx(), "markdown").content.decode()
    assert re.search(r"(?<!\\)<(script|/script)", text) is None  # every tag start is escaped
    assert "# Injected heading" not in text.splitlines()
    assert all(not line.startswith("- [x]") for line in text.splitlines())
    assert "](javascript:" not in text
    assert "Read \\<script>alert(1)\\</script> docs" in text


def test_markdown_without_a_start_date_gives_weeks() -> None:
    text = render(make_plan(start=None), _ctx(status="draft"), "markdown").content.decode()
    assert "Start date: not set" in text and "Draft - not yet reviewed" in text
    assert "(owner: hire; due week 1)" in text
    assert "(owner: it; due before day 1)" in text


# --------------------------------------------------------------------------- json
def test_json_is_the_plan_schema(sample_plan: Plan) -> None:
    result = render(sample_plan, _ctx(), "json")
    assert result.mime == "application/json"
    assert Plan.model_validate_json(result.content) == sample_plan
    assert json.loads(result.content)["check_ins"][0]["with"] == "Manager"


# --------------------------------------------------------------------------- csv
def test_csv_imports_as_tasks(sample_plan: Plan) -> None:
    result = render(sample_plan, _ctx(), "csv")
    reader = csv.DictReader(io.StringIO(result.content.decode("utf-8-sig")))
    rows = list(reader)
    assert tuple(reader.fieldnames or ()) == (
        "Summary",
        "Description",
        "Assignee Role",
        "Owner Name",
        "Due Date",
        "Labels",
    )
    assert len(rows) == len(sample_plan.all_tasks())
    by_title = {r["Summary"]: r for r in rows}
    flagged = by_title["Review slow queries on the billing database"]
    assert flagged["Due Date"] == "2025-11-14"
    assert flagged["Assignee Role"] == "hire" and flagged["Owner Name"] == ""
    assert flagged["Labels"].split() == ["onboarding", "phase-days-31-60-integration", "owner-hire"]
    assert (
        "Success criteria:" in flagged["Description"]
        and "Sources: Backend Engineer role profile" in flagged["Description"]
    )
    assert "billing database is in scope" not in flagged["Description"], "an approved plan has no review notes"
    assert by_title["Laptop and access ready"]["Due Date"] == "2025-10-03"
    assert "owner-it" in by_title["Laptop and access ready"]["Labels"].split()
    assert result.filename == "onboarding-plan-12-zoe-lukasiewicz-r3.csv"


def test_csv_of_a_plan_in_review_labels_and_explains_flagged_tasks(sample_plan: Plan) -> None:
    rows = list(
        csv.DictReader(io.StringIO(render(sample_plan, _ctx(status="in_review"), "csv").content.decode("utf-8-sig")))
    )
    flagged = next(r for r in rows if r["Summary"] == "Review slow queries on the billing database")
    assert flagged["Labels"].split()[-1] == "needs-review"
    assert "To check: Check that the billing database is in scope for a new hire." in flagged["Description"]
    assert all("needs-review" not in r["Labels"] for r in rows if r is not flagged)


def test_csv_defuses_spreadsheet_formulas(sample_plan: Plan) -> None:
    plan = sample_plan.model_copy(deep=True)
    plan.phases[0].tasks[0].title = '=HYPERLINK("http://evil","x")'
    rows = list(csv.DictReader(io.StringIO(render(plan, _ctx(), "csv").content.decode("utf-8-sig"))))
    assert rows[0]["Summary"] == '\'=HYPERLINK("http://evil","x")'


# --------------------------------------------------------------------------- ics
def test_ics_parses_with_check_ins_and_milestones(sample_plan: Plan) -> None:
    result = render(sample_plan, _ctx(), "ics")
    cal = Calendar.from_ical(result.content)
    events = {str(e["uid"]): e for e in cal.walk("VEVENT")}
    assert len(events) == len(sample_plan.check_ins) + len(sample_plan.relationships) + 5
    starts = {uid.split("-plan-12-")[1].split("@")[0]: e.decoded("dtstart") for uid, e in events.items()}
    assert starts == {
        "checkin-1": date(2025, 10, 10),
        "checkin-2": date(2025, 10, 31),
        "checkin-3": date(2025, 11, 28),
        "checkin-4": date(2025, 12, 26),
        "intro-1": date(2025, 10, 10),
        "first-commit": date(2025, 10, 8),
        "first-pr": date(2025, 10, 10),
        "full-productivity": date(2025, 11, 28),
        "on-call": date(2025, 11, 10),
        "leadership": date(2025, 12, 8),
    }
    summaries = {str(e["summary"]) for e in events.values()}
    assert "Onboarding check-in (week 4): Zoë Łukasiewicz with Manager" in summaries
    assert "Onboarding introduction (week 1): Zoë Łukasiewicz meets the Frontend Engineer" in summaries
    assert str(cal["prodid"]) == "-//tailor//onboarding plan//EN"


def test_ics_needs_a_start_date() -> None:
    with pytest.raises(BadInput, match="no start date"):
        render(make_plan(start=None), _ctx(), "ics")


# --------------------------------------------------------------------------- pdf
def test_pdf_renders_unicode_text(sample_plan: Plan) -> None:
    plan = sample_plan.model_copy(deep=True)
    plan.summary = "Работа с API, ελληνικά, and 日本語 text that DejaVu cannot draw."
    result = render(plan, _ctx(), "pdf")
    assert result.content.startswith(b"%PDF") and result.mime == "application/pdf"
    reader = PdfReader(io.BytesIO(result.content))
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    assert len(reader.pages) >= 2
    if unicode_fonts() is not None:
        assert "Zoë Łukasiewicz" in text and "Работа" in text and "ελληνικά" in text
    else:
        assert "Zoe Lukasiewicz" in text
    assert "Ship a first small pull request" in text


def test_transliteration_fallback_is_latin_1() -> None:
    assert transliterate("Zoë Łukasiewicz – 日本 · ok") == "Zoë Lukasiewicz - ?? · ok"
    transliterate("Zoë Łukasiewicz").encode("latin-1")


# --------------------------------------------------------------------------- refusals
@pytest.mark.parametrize("fmt", list(FORMATS))
def test_a_plan_without_tasks_is_not_exported(sample_plan: Plan, fmt: str) -> None:
    with pytest.raises(BadInput, match="plan 12 has no tasks"):
        render(_no_tasks(sample_plan), _ctx(), fmt)


def test_service_refuses_unknown_formats_and_exports_old_revisions(
    service: ReviewService, manager: UserOut, hr: UserOut, sample_plan: Plan
) -> None:
    plan_id = service.import_plan(manager, sample_plan).id
    edited = sample_plan.model_copy(deep=True)
    edited.summary = "Second version."
    service.save_revision(manager, plan_id, edited, 1)
    with pytest.raises(BadInput, match="unknown export format 'docx'"):
        service.export(hr, plan_id, "docx")
    old = service.export(hr, plan_id, "markdown", revision=1).content.decode()
    assert "Revision 1 (superseded by revision 2)" in old
    assert "Second version." not in old
    empty = service.import_plan(manager, _no_tasks(sample_plan)).id
    with pytest.raises(BadInput, match="no tasks"):
        service.export(hr, empty, "csv")
