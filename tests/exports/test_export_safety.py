"""Hostile text in every export: nothing a user or model writes changes a document's structure,
runs in a spreadsheet, injects a calendar line, or puts an action or link into a PDF."""

from __future__ import annotations

import csv
import io
import re

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from icalendar import Calendar
from pydantic import ValidationError
from pypdf import PdfReader

from tailor.exports import FORMATS, filename, render
from tailor.exports.csv_export import CSV_COLUMNS
from tailor.schema import Plan
from tests.fixtures.db import make_plan
from tests.fixtures.drafting import export_context

HOSTILE = [
    # spreadsheet formulas (CSV injection), in every shape a spreadsheet runs
    '=HYPERLINK("http://evil.example/x","open me")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    # HTML and links in Markdown
    "<script>alert(1)</script><img src=x onerror=alert(2)> [click](javascript:alert(3))",
    "![track](http://tracker.example/p.png) <a href='javascript:alert(4)'>x</a>",
    # Markdown blocks at the start of a line
    "# Approved by HR",
    "[x]: javascript:alert(5)",
    "```",
    "1. forged list item",
    "> quoted",
    # calendar and CSV line injection
    "ok\r\nBEGIN:VEVENT\r\nSUMMARY:injected\r\nEND:VEVENT\r\nX-EVIL:1",
    "ok\n- [x] injected checked item\n# Injected heading",
    # bidi override and zero-width characters
    "\u202egnp.exe\u200b",
]
TEXT_FIELDS = (
    ("hire", "name"),
    ("hire", "role"),
    ("hire", "summary"),
    ("summary",),
    ("rationale",),
    ("support", "who"),
    ("support", "note"),
)


def hostile_plan(payload: str) -> Plan:
    """The sample plan with ``payload`` at the start of every free-text field."""
    data = make_plan().model_dump(mode="json", by_alias=True)
    for path in TEXT_FIELDS:
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = f"{payload} {path[-1]}"
    for phase in data["phases"]:
        phase["name"] = f"{payload} phase"
        phase["goals"] = [f"{payload} goal"]
        for task in phase["tasks"]:
            for key in ("title", "description", "success_criteria", "owner_name"):
                task[key] = f"{payload} {key}"
            if task["needs_review"]:
                task["review_reason"] = f"{payload} reason"
    for item in data["relationships"]:
        item.update(
            role=f"{payload} role", name=f"{payload} name", purpose=f"{payload} purpose", cadence=f"{payload} cadence"
        )
    for item in data["capabilities"]:
        item.update(name=f"{payload} capability", plan=f"{payload} plan")
    for item in data["check_ins"]:
        item.update({"with": f"{payload} with", "focus": f"{payload} focus"})
    for item in data["risks"]:
        item.update(risk=f"{payload} risk", mitigation=f"{payload} mitigation")
    for item in data["sources"]:
        item["title"] = f"{payload} source"
    data["review_flags"] = [{"field": f"{payload} field", "reason": f"{payload} flag"}]
    data["fit"] = hostile_fit(payload, data["phases"][0]["tasks"][0]["id"], data["sources"][0]["id"])
    return Plan.model_validate(data)


def hostile_fit(payload: str, task_id: str, source: str) -> dict[str, object]:
    """A fit section with ``payload`` in every text, and in a resource address that looks like a link."""
    return {
        "team": {"id": "team-orders", "name": f"{payload} team", "manager": f"{payload} manager",
                 "timezone": f"{payload} zone"},
        "strengths": [{"skill": f"{payload} strength", "needed_for": [f"{payload} service", f"{payload} project"]}],
        "gaps": [
            {"skill": f"{payload} gap", "needed_for": [f"{payload} need"], "resource": f"{payload} resource",
             "resource_url": f"https://handbook.northwind.example/{payload}", "contact": f"{payload} contact",
             "contact_role": f"{payload} contact role", "task_id": task_id, "source": source},
            {"skill": f"{payload} gap 2", "resource_url": payload, "source": source},
        ],
        "skipped": [{"title": f"{payload} skipped", "reason": f"{payload} reason", "source": source}],
    }  # fmt: skip


_LINE_KINDS = (
    ("heading", re.compile(r"^ {0,3}#{1,6}(\s|$)")),
    ("fence", re.compile(r"^ {0,3}(`{3,}|~{3,})")),
    ("quote", re.compile(r"^ {0,3}>")),
    ("linkdef", re.compile(r"^ {0,3}\[[^\]]+\]:")),
    ("rule", re.compile(r"^ {0,3}([-*_=])(\s*\1){2,}\s*$")),
    ("item", re.compile(r"^\s*([-+*]|\d{1,9}[.)])(\s|$)")),
    ("blank", re.compile(r"^\s*$")),
)


def markdown_shape(text: str) -> list[str]:
    """The block structure a Markdown renderer sees: one kind per line.

    A paragraph line that collapses to nothing (text of only whitespace) counts as text: it
    changes nothing a reader could be fooled by.
    """
    shape = []
    for line in text.splitlines():
        kind = next((k for k, rx in _LINE_KINDS if rx.match(line)), "text")
        kind = "text" if kind == "blank" else kind
        if kind in ("heading", "item"):
            kind += ":" + str(len(line) - len(line.lstrip()))
        shape.append(kind)
    return shape


def check_markdown(markdown: str, benign: str) -> None:
    assert markdown_shape(markdown) == markdown_shape(benign), "text changed the document's structure"
    assert re.search(r"(?<!\\)<[A-Za-z/!?]", markdown) is None, "raw HTML reached the Markdown"
    assert re.search(r"(?<!\\)\]\(", markdown) is None, "a link or image was smuggled in"


FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def check_csv(content: bytes, tasks: int) -> None:
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert len(rows) == tasks + 1 and all(len(r) == len(CSV_COLUMNS) for r in rows)
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(FORMULA_START), f"a spreadsheet would run {cell[:40]!r}"


CHECKED = {"markdown", "csv", "ics", "pdf", "json"}


def test_every_registered_format_is_checked_here() -> None:
    assert set(FORMATS) == CHECKED, "a new export format: add its hostile-text check to this module"


@pytest.mark.parametrize("payload", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_text_is_inert_in_every_export(payload: str) -> None:
    plan = hostile_plan(payload)
    benign = hostile_plan("Plain words")  # the same shape, harmless text
    ctx = export_context()

    check_markdown(render(plan, ctx, "markdown").content.decode(), render(benign, ctx, "markdown").content.decode())
    check_csv(render(plan, ctx, "csv").content, len(plan.all_tasks()))

    ics = render(plan, ctx, "ics").content
    calendar = Calendar.from_ical(ics)
    assert len(list(calendar.walk("VEVENT"))) == len(
        list(Calendar.from_ical(render(benign, ctx, "ics").content).walk("VEVENT"))
    )
    unfolded = ics.replace(b"\r\n ", b"")
    assert not re.search(rb"^(SUMMARY:injected|X-EVIL)", unfolded, re.M), "a calendar line was injected"

    pdf = render(plan, ctx, "pdf").content
    # No actions, links or scripts; fpdf2's own /OpenAction is a view destination ([page /FitH]).
    active = rb"/(JavaScript|JS|Launch|URI|SubmitForm|ImportData|AA|Annots)\b|/OpenAction\s*<<"
    assert re.search(active, pdf) is None, "the PDF carries an action, link or script"
    PdfReader(io.BytesIO(pdf))  # and it is a valid PDF

    assert Plan.model_validate_json(render(plan, ctx, "json").content) == plan  # data, unchanged
    for fmt, spec in FORMATS.items():
        name = filename(plan, fmt, plan_id=7, revision=2)
        assert re.fullmatch(rf"onboarding-plan-7-[a-z0-9]+(-[a-z0-9]+)*-r2\.{spec.ext}", name), name


free_text = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), min_size=1, max_size=80
)


def plan_with(title: str, description: str, summary: str, goal: str, name: str) -> Plan:
    data = make_plan().model_dump(mode="json", by_alias=True)
    data["summary"], data["hire"]["name"] = summary, name
    data["phases"][0]["goals"] = [goal]
    data["phases"][0]["tasks"][1].update(title=title, description=description)
    return Plan.model_validate(data)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(title=free_text, description=free_text, summary=free_text, goal=free_text, name=free_text)
def test_no_text_changes_the_markdown_structure_or_runs_in_a_spreadsheet(
    title: str, description: str, summary: str, goal: str, name: str
) -> None:
    try:
        plan = plan_with(title, description, summary, goal, name)
    except ValidationError:
        assume(False)
        return
    ctx = export_context()
    benign = render(plan_with("Title", "Description", "Summary", "Goal", "Name"), ctx, "markdown")
    check_markdown(render(plan, ctx, "markdown").content.decode(), benign.content.decode())
    check_csv(render(plan, ctx, "csv").content, len(plan.all_tasks()))
    Calendar.from_ical(render(plan, ctx, "ics").content)  # any text makes a valid calendar
    # Any name makes a file name with no path, quote or space in it (the role stands in for no name).
    assert re.fullmatch(
        r"onboarding-plan-7-[a-z0-9]+(-[a-z0-9]+)*-r2\.md", filename(plan, "markdown", plan_id=7, revision=2)
    )
