"""Exports of a plan: Markdown, JSON, CSV, ICS and PDF.

All renderers are pure functions of a :class:`tailor.schema.Plan` and an
:class:`ExportContext` (who, which revision, approved by whom); the review service
checks permissions and writes the audit entry.

Dates come from the hire's start date (``plan.hire.start_date``), by these rules:

* a task due in **week N** (1-13) is due ``start + (N-1) weeks + 4 days`` - the Friday
  of week N when the hire starts on a Monday;
* **week 0** ("before day 1") is the last business day before the start date;
* a check-in in week N is on the same day as that week's tasks;
* **day D** targets (first commit, first PR) count business days with the start
  date as day 1, skipping Saturdays and Sundays;
* "full productivity by week W" is the due day of week W; on-call and leadership
  start on the first day of their week (``start + (W-1) weeks``).

Without a start date the Markdown, CSV and PDF give weeks instead of dates, and the
calendar (which is nothing but dates) is refused with :class:`tailor.errors.BadInput`.
A plan with no tasks is refused in every format.

Safety: user and model text is never trusted. Markdown collapses line breaks (so
text cannot start new headings or list items) and escapes what could open raw HTML
or a link (or, at the start of a line, a heading, list, quote or fence); CSV cells
that a spreadsheet would run as a formula are prefixed with
``'``; no export produces HTML.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Literal, NamedTuple

from pydantic import BaseModel, ConfigDict

from tailor.errors import BadInput
from tailor.schema import Phase, Plan, Task

ExportFormat = Literal["markdown", "json", "csv", "ics", "pdf"]
CSV_COLUMNS = ("Summary", "Description", "Assignee Role", "Due Date", "Labels")
_MIME = {
    "markdown": "text/markdown; charset=utf-8",
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "ics": "text/calendar; charset=utf-8",
    "pdf": "application/pdf",
}
_EXT = {"markdown": "md", "json": "json", "csv": "csv", "ics": "ics", "pdf": "pdf"}
_FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"))
_STATUS_LABEL = {
    "draft": "Draft - not yet reviewed",
    "in_review": "In review - not yet approved",
    "changes_requested": "Changes requested - not yet approved",
    "approved": "Approved",
}


class ExportContext(BaseModel):
    """What an export needs to know beyond the plan itself."""

    model_config = ConfigDict(frozen=True)

    plan_id: int
    status: str
    revision: int
    current_revision: int
    manager: str
    reviewer: str | None = None
    approved_by: str | None = None
    approved_at: datetime | None = None
    generated_at: datetime

    @property
    def superseded(self) -> bool:
        return self.revision != self.current_revision

    def status_line(self) -> str:
        if self.superseded:
            return f"Revision {self.revision} (superseded by revision {self.current_revision})"
        if self.status == "approved" and self.approved_by and self.approved_at:
            return f"Approved by {self.approved_by} on {self.approved_at:%Y-%m-%d} (revision {self.revision})"
        return f"{_STATUS_LABEL.get(self.status, self.status)} (revision {self.revision})"


class ExportFile(NamedTuple):
    filename: str
    content: bytes
    mime: str


# =========================================================================== dates
def previous_business_day(day: date) -> date:
    day -= timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def week_due_date(start: date, week: int) -> date:
    """When a task due in ``week`` is due (see the module docstring)."""
    if week <= 0:
        return previous_business_day(start)
    return start + timedelta(weeks=week - 1, days=4)


def week_start_date(start: date, week: int) -> date:
    return start + timedelta(weeks=max(week, 1) - 1)


def business_day(start: date, n: int) -> date:
    """The ``n``-th working day counting ``start`` as day 1."""
    day, count = start, 1
    while count < n:
        day += timedelta(days=1)
        if day.weekday() < 5:
            count += 1
    return day


class Milestone(NamedTuple):
    key: str
    title: str
    when: str
    day: date | None


def milestones(plan: Plan) -> list[Milestone]:
    t, start = plan.targets, plan.hire.start_date
    items = [
        Milestone("first-commit", "First commit", f"day {t.first_commit_day}",
                  business_day(start, t.first_commit_day) if start else None),
        Milestone("first-pr", "First pull request", f"day {t.first_pr_day}",
                  business_day(start, t.first_pr_day) if start else None),
        Milestone("full-productivity", "Full productivity", f"end of week {t.full_productivity_week}",
                  week_due_date(start, t.full_productivity_week) if start else None),
    ]  # fmt: skip
    if t.on_call_week is not None:
        items.append(
            Milestone("on-call", "On-call starts", f"week {t.on_call_week}",
                      week_start_date(start, t.on_call_week) if start else None)
        )  # fmt: skip
    if t.first_leadership_week is not None:
        items.append(
            Milestone("leadership", "First leadership responsibility", f"week {t.first_leadership_week}",
                      week_start_date(start, t.first_leadership_week) if start else None)
        )  # fmt: skip
    # In date order when there are dates; the list order otherwise.
    return sorted(items, key=lambda m: m.day or date.max) if start else items


def _fmt_day(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"


def _due(plan: Plan, week: int) -> str:
    start = plan.hire.start_date
    label = "before day 1" if week == 0 else f"week {week}"
    if start is None:
        return label
    return f"{_fmt_day(week_due_date(start, week))} ({label})"


# =========================================================================== shared helpers
def _require_tasks(plan: Plan, ctx: ExportContext) -> None:
    if not plan.all_tasks():
        raise BadInput(f"plan {ctx.plan_id} has no tasks; there is nothing to export")


# Letters and punctuation that Unicode decomposition does not reduce to ASCII.
_ASCII_EXTRA = str.maketrans(
    {
        "Ł": "L", "ł": "l", "Ø": "O", "ø": "o", "Đ": "D", "đ": "d", "ß": "ss", "Æ": "AE", "æ": "ae",
        "Œ": "OE", "œ": "oe", "Þ": "Th", "þ": "th", "ı": "i", "–": "-", "—": "-", "‘": "'", "’": "'",
        "“": '"', "”": '"', "…": "...", "•": "*", "·": "-", "☐": "[ ]",
    }
)  # fmt: skip


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text.translate(_ASCII_EXTRA)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60]


def filename(plan: Plan, ctx: ExportContext, fmt: ExportFormat) -> str:
    who = _slug(plan.hire.name or "") or _slug(plan.hire.role) or "hire"
    return f"onboarding-plan-{ctx.plan_id}-{who}-r{ctx.revision}.{_EXT[fmt]}"


def _title(plan: Plan) -> str:
    hire = plan.hire
    return f"Onboarding plan: {hire.name} - {hire.role}" if hire.name else f"Onboarding plan: {hire.role}"


def _source_titles(plan: Plan) -> dict[str, str]:
    return {s.id: s.title for s in plan.sources}


def _sources_text(plan: Plan, ids: list[str]) -> str:
    titles = _source_titles(plan)
    return ", ".join(f"{titles[i]} ({i})" if i in titles else i for i in ids)


def _phase_tasks(phase: Phase) -> list[Task]:
    return sorted(phase.tasks, key=lambda t: t.due_week)


# =========================================================================== markdown
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")
# What makes a line a heading, quote, list item, fence, rule or link definition.
_BLOCK_START = re.compile(r"^(?:#{1,6}(?=\s|$)|>|[-+*](?=\s|$)|\[|`{3}|~{3}|(?:[-*_=+]\s*)+$|\d{1,9}(?=[.)](?:\s|$)))")


def md(text: object) -> str:
    """Inline-safe Markdown: one line, no raw HTML, no links smuggled in by text.

    A backslash also defuses a leading block marker, for the values that start a line
    (``# Approved`` must not become a heading, nor ``[x]: javascript:...`` a link target).
    """
    line = " ".join(str(text).split())
    line = _TAG_START.sub(r"\\<", line)
    line = line.replace("](", "]\\(")
    match = _BLOCK_START.match(line)
    if match is None:
        return line
    if match.group(0)[0].isdigit():  # "1. x" is a list; "1\. x" is text
        return f"{match.group(0)}\\{line[match.end() :]}"
    return "\\" + line


def to_markdown(plan: Plan, ctx: ExportContext) -> str:
    """A checklist HR can send as is, in the shape of the seed checklists."""
    _require_tasks(plan, ctx)
    hire = plan.hire
    out: list[str] = []
    add = out.append
    add(f"# {md(_title(plan))}")
    add(f"- {md(hire.seniority.title())} level, {md(hire.role_family)} -")
    add("")
    start = f"{_fmt_day(hire.start_date)}" if hire.start_date else "not set"
    add(f"*Start date: {start} · Manager: {md(ctx.manager)}*  ")
    add(f"*Status: {md(ctx.status_line())}*  ")
    add(f"*Prepared on: {ctx.generated_at:%Y-%m-%d} · Plan #{ctx.plan_id}*")
    add("")
    add("## Overview")
    add("")
    add(md(plan.summary))
    add("")
    add(f"**Why this plan**: {md(plan.rationale)}")
    add("")
    if plan.focus_areas:
        add(f"**Focus areas**: {', '.join(md(f) for f in plan.focus_areas)}")
        add("")
    support = f"**Support**: {md(plan.support.model.replace('_', ' '))} - {md(plan.support.who)}"
    add(support + (f" ({md(plan.support.note)})" if plan.support.note else ""))
    add("")
    add("### Milestones")
    for m in milestones(plan):
        when = f"{_fmt_day(m.day)} ({m.when})" if m.day else m.when
        add(f"- [ ] **{m.title}**: {when}")
    add("")

    for phase in plan.phases:
        add(f"## {md(phase.name)} (weeks {phase.start_week}-{phase.end_week})")
        add("")
        if phase.goals:
            add("### Goals")
            for goal in phase.goals:
                add(f"- {md(goal)}")
            add("")
        current_week: int | None = None
        for task in _phase_tasks(phase):
            if task.due_week != current_week:
                current_week = task.due_week
                heading = "Before day 1" if current_week == 0 else f"Week {current_week}"
                due = f" - due {_fmt_day(week_due_date(hire.start_date, current_week))}" if hire.start_date else ""
                add(f"### {heading}{due}")
            add(f"- [ ] **{md(task.title)}** (owner: {task.owner}; due {_due(plan, task.due_week)})")
            add(f"  - {md(task.description)}")
            add(f"  - Success criteria: {md(task.success_criteria)}")
            if task.skills:
                add(f"  - Uses: {', '.join(md(s) for s in task.skills)}")
            add(f"  - Sources: {md(_sources_text(plan, task.sources))}")
            if task.needs_review:
                add(f"  - **Needs review**: {md(task.review_reason or 'flagged for review')}")
        add("")

    if plan.relationships:
        add("## Relationship Building")
        add("")
        for rel in plan.relationships:
            add(f"- [ ] **Meet the {md(rel.role)}**")
            add(f"  - Meet within: {_due(plan, rel.meet_by_week)}")
            add(f"  - Focus: {md(rel.purpose)}")
            add(f"  - Frequency going forward: {md(rel.cadence)}")
            add(f"  - Source: {md(_sources_text(plan, [rel.source]))}")
        add("")

    if plan.capabilities:
        add("## Capability Development")
        add("")
        for cap in plan.capabilities:
            add(f"- [ ] **{md(cap.name)}** - Target: {cap.target_level.title()}")
            add("  - Current assessment: ___________")
            add(f"  - Development plan: {md(cap.plan)}")
            add(f"  - Source: {md(_sources_text(plan, [cap.source]))}")
        add("")

    add("## Check-ins & Reviews")
    add("")
    if plan.check_ins:
        for check in sorted(plan.check_ins, key=lambda c: c.week):
            add(f"- [ ] **{_due(plan, check.week)}** with {md(check.with_)}: {md(check.focus)}")
    else:
        add("- [ ] Agree check-in dates with the manager in week 1")
    add("")

    if plan.risks:
        add("## Risks & Mitigations")
        add("")
        for risk in plan.risks:
            flag = f" **Needs review**: {md(risk.review_reason)}" if risk.needs_review and risk.review_reason else ""
            add(f"- **Risk**: {md(risk.risk)} - **Mitigation**: {md(risk.mitigation)}{flag}")
        add("")

    if plan.review_flags:
        add("## Open Questions for the Reviewer")
        add("")
        for review_flag in plan.review_flags:
            add(f"- **{md(review_flag.field)}**: {md(review_flag.reason)}")
        add("")

    add("## Resources & Sources")
    add("")
    if plan.sources:
        for src in plan.sources:
            kind = "role profile" if src.kind == "role_profile" else "case study"
            sections = f" - sections: {', '.join(md(x) for x in src.sections)}" if src.sections else ""
            add(f"- **{md(src.title)}** ({md(src.id)}, {kind}){sections}")
    else:
        cited = sorted({i for t in plan.all_tasks() for i in t.sources})
        for source_id in cited:
            add(f"- {md(source_id)}")
    add("")

    add("## Notes & Feedback")
    add("")
    add("*Use this space to track progress, questions, and feedback throughout onboarding.*")
    add("")
    for week, label in (
        (1, "Week 1 Notes"),
        (4, "Week 4 Review"),
        (8, "Week 8 Review"),
        (12, "Week 12 Review"),
    ):
        day = f"{week_due_date(hire.start_date, week):%Y-%m-%d}" if hire.start_date else "_______"
        add(f"### {label}")
        add(f"_Date: {day} Reviewer: _________________")
        add("")
    add("---")
    add(
        f"*This plan was drafted by tailor from the role profiles and case studies listed above "
        f"({md(plan.provenance.model)}, prompt {md(plan.provenance.prompt_version)}) and reviewed by people. "
        "Customise as needed for your team.*"
    )
    return "\n".join(out) + "\n"


# =========================================================================== json
def to_json(plan: Plan, ctx: ExportContext) -> str:
    _require_tasks(plan, ctx)
    return plan.model_dump_json(by_alias=True, indent=2) + "\n"


# =========================================================================== csv
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")  # OWASP's list for CSV injection


def _cell(value: str) -> str:
    # A leading quote stops spreadsheets from running a cell as a formula (CSV injection).
    return "'" + value if value.startswith(_FORMULA_START) else value


def task_labels(phase: Phase, task: Task) -> list[str]:
    labels = ["onboarding", f"phase-{_slug(phase.name) or 'unnamed'}", f"owner-{task.owner}"]
    if task.needs_review:
        labels.append("needs-review")
    if task.tailored:
        labels.append("tailored")
    return labels


def to_csv(plan: Plan, ctx: ExportContext) -> str:
    """One row per task, with the column names Jira's and Linear's CSV importers map by default.

    Labels are space-separated (Jira labels cannot contain spaces, so each is a slug).
    """
    _require_tasks(plan, ctx)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    start = plan.hire.start_date
    for phase in plan.phases:
        for task in _phase_tasks(phase):
            parts = [
                " ".join(task.description.split()),
                "",
                f"Success criteria: {' '.join(task.success_criteria.split())}",
                f"Due: {'before day 1' if task.due_week == 0 else f'week {task.due_week}'}",
                f"Sources: {_sources_text(plan, task.sources)}",
                f"Plan #{ctx.plan_id} revision {ctx.revision}, task {task.id}",
            ]
            if task.needs_review:
                parts.insert(3, f"Needs review: {task.review_reason}")
            writer.writerow(
                [
                    _cell(" ".join(task.title.split())),
                    _cell("\n".join(parts)),
                    task.owner,
                    week_due_date(start, task.due_week).isoformat() if start else "",
                    " ".join(task_labels(phase, task)),
                ]
            )
    return buffer.getvalue()


# =========================================================================== ics
def to_ics(plan: Plan, ctx: ExportContext) -> bytes:
    """All-day events for the check-ins and the milestones."""
    from icalendar import Calendar, Event

    _require_tasks(plan, ctx)
    start = plan.hire.start_date
    if start is None:
        raise BadInput(f"plan {ctx.plan_id} has no start date; set the hire's start date to export a calendar")
    # One line: icalendar escapes line breaks in TEXT values but refuses them in X-WR-CALNAME.
    who = " ".join((plan.hire.name or plan.hire.role).split())
    cal = Calendar()
    cal.add("prodid", "-//tailor//onboarding plan//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"Onboarding: {who}")

    def event(uid: str, day: date, summary: str, description: str, category: str) -> None:
        ev = Event()
        ev.add("uid", f"tailor-plan-{ctx.plan_id}-{uid}@tailor")
        ev.add("dtstamp", ctx.generated_at)
        ev.add("dtstart", day)
        ev.add("dtend", day + timedelta(days=1))
        ev.add("summary", summary)
        ev.add("description", description)
        ev.add("categories", [category])
        ev.add("transp", "TRANSPARENT")
        cal.add_component(ev)

    for i, check in enumerate(sorted(plan.check_ins, key=lambda c: c.week), start=1):
        event(
            f"checkin-{i}",
            week_due_date(start, check.week),
            f"Onboarding check-in (week {check.week}): {who} with {check.with_}",
            check.focus,
            "Check-in",
        )
    for m in milestones(plan):
        if m.day is not None:
            event(m.key, m.day, f"{m.title}: {who}", f"Target: {m.when} of the onboarding plan.", "Milestone")
    return cal.to_ical()


# =========================================================================== pdf
@lru_cache(maxsize=1)
def unicode_fonts() -> tuple[Path, Path] | None:
    """DejaVu Sans (regular, bold) if installed (Debian: fonts-dejavu-core), else None."""
    for root in _FONT_DIRS:
        if not root.is_dir():
            continue
        regular = next(iter(sorted(root.rglob("DejaVuSans.ttf"))), None)
        bold = next(iter(sorted(root.rglob("DejaVuSans-Bold.ttf"))), None)
        if regular and bold:
            return regular, bold
    return None


def transliterate(text: str) -> str:
    """Latin-1 text for the PDF core fonts when no Unicode font is installed."""
    out = []
    for ch in text:
        try:
            ch.encode("latin-1")
            out.append(ch)
        except UnicodeEncodeError:
            plain = unicodedata.normalize("NFKD", ch.translate(_ASCII_EXTRA)).encode("ascii", "ignore").decode()
            out.append(plain or "?")
    return "".join(out)


class _PdfWriter:
    def __init__(self, title: str) -> None:
        from fpdf import FPDF

        self.pdf = FPDF(format="A4")
        self.pdf.set_title(title)
        self.pdf.set_creator("tailor")
        self.pdf.set_auto_page_break(auto=True, margin=15)
        fonts = unicode_fonts()
        self.cmap: set[int] | None = None
        if fonts:
            self.pdf.add_font("DejaVu", "", str(fonts[0]))
            self.pdf.add_font("DejaVu", "B", str(fonts[1]))
            self.family = "DejaVu"
            self.cmap = set(getattr(self.pdf.fonts["dejavu"], "cmap", {}))
        else:
            self.family = "Helvetica"
        self.box = "\u2610 " if self.cmap and 0x2610 in self.cmap else "[ ] "
        self.pdf.add_page()

    def text(self, value: str) -> str:
        value = " ".join(value.split())
        if self.cmap is None:
            return transliterate(value)
        # Glyphs the font lacks (e.g. CJK in DejaVu) degrade to a readable stand-in, not a blank box.
        return "".join(ch if ord(ch) in self.cmap else (transliterate(ch) or "?") for ch in value)

    def _write(self, value: str, size: float, bold: bool = False, indent: float = 0, gap: float = 1) -> None:
        pdf = self.pdf
        pdf.set_font(self.family, "B" if bold else "", size)
        pdf.set_x(pdf.l_margin + indent)
        pdf.multi_cell(pdf.epw - indent, size * 0.5, self.text(value), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(gap)

    def h1(self, value: str) -> None:
        self._write(value, 16, bold=True, gap=2)

    def h2(self, value: str) -> None:
        self.pdf.ln(2)
        self._write(value, 13, bold=True, gap=1.5)

    def h3(self, value: str) -> None:
        self._write(value, 11, bold=True)

    def para(self, value: str, indent: float = 0) -> None:
        self._write(value, 10, indent=indent)

    def check(self, value: str) -> None:
        self._write(self.box + value, 10, bold=True, indent=2, gap=0.5)

    def detail(self, value: str) -> None:
        self._write(value, 9, indent=8, gap=0.3)

    def output(self) -> bytes:
        return bytes(self.pdf.output())


def to_pdf(plan: Plan, ctx: ExportContext) -> bytes:
    """A printable version of the Markdown checklist."""
    _require_tasks(plan, ctx)
    hire = plan.hire
    w = _PdfWriter(_title(plan))
    w.h1(_title(plan))
    start = _fmt_day(hire.start_date) if hire.start_date else "not set"
    w.para(f"{hire.seniority.title()} · {hire.role_family} · Start date: {start} · Manager: {ctx.manager}")
    w.para(f"Status: {ctx.status_line()} · Plan #{ctx.plan_id} · Prepared {ctx.generated_at:%Y-%m-%d}")
    w.h2("Overview")
    w.para(plan.summary)
    w.para(f"Why this plan: {plan.rationale}")
    if plan.focus_areas:
        w.para(f"Focus areas: {', '.join(plan.focus_areas)}")
    w.para(f"Support: {plan.support.model.replace('_', ' ')} - {plan.support.who}")
    w.h3("Milestones")
    for m in milestones(plan):
        w.check(f"{m.title}: {_fmt_day(m.day)} ({m.when})" if m.day else f"{m.title}: {m.when}")
    for phase in plan.phases:
        w.h2(f"{phase.name} (weeks {phase.start_week}-{phase.end_week})")
        for goal in phase.goals:
            w.para(f"Goal: {goal}", indent=2)
        for task in _phase_tasks(phase):
            w.check(f"{task.title} - due {_due(plan, task.due_week)} - owner: {task.owner}")
            w.detail(task.description)
            w.detail(f"Success criteria: {task.success_criteria}")
            w.detail(f"Sources: {_sources_text(plan, task.sources)}")
            if task.needs_review:
                w.detail(f"Needs review: {task.review_reason}")
    if plan.relationships:
        w.h2("Relationship Building")
        for rel in plan.relationships:
            w.check(f"Meet the {rel.role} - within {_due(plan, rel.meet_by_week)}")
            w.detail(f"Focus: {rel.purpose} · Frequency going forward: {rel.cadence}")
    if plan.capabilities:
        w.h2("Capability Development")
        for cap in plan.capabilities:
            w.check(f"{cap.name} - target: {cap.target_level}")
            w.detail(f"Development plan: {cap.plan}")
            w.detail("Current assessment: ___________")
    w.h2("Check-ins & Reviews")
    for check in sorted(plan.check_ins, key=lambda c: c.week):
        w.check(f"{_due(plan, check.week)} with {check.with_}: {check.focus}")
    if plan.risks:
        w.h2("Risks & Mitigations")
        for risk in plan.risks:
            w.para(f"Risk: {risk.risk} - Mitigation: {risk.mitigation}", indent=2)
    w.h2("Resources & Sources")
    for src in plan.sources:
        w.para(f"{src.title} ({src.id})", indent=2)
    w.h2("Notes & Feedback")
    for week, label in (
        (1, "Week 1 notes"),
        (4, "Week 4 review"),
        (8, "Week 8 review"),
        (12, "Week 12 review"),
    ):
        day = f"{week_due_date(hire.start_date, week):%Y-%m-%d}" if hire.start_date else "________"
        w.para(f"{label} - date: {day}   reviewer: ____________________")
    return w.output()


# =========================================================================== dispatch
def render(plan: Plan, ctx: ExportContext, fmt: ExportFormat) -> ExportFile:
    name = filename(plan, ctx, fmt)
    if fmt == "markdown":
        return ExportFile(name, to_markdown(plan, ctx).encode("utf-8"), _MIME[fmt])
    if fmt == "json":
        return ExportFile(name, to_json(plan, ctx).encode("utf-8"), _MIME[fmt])
    if fmt == "csv":
        # A BOM so Excel opens UTF-8 names correctly; Jira and Linear ignore it.
        return ExportFile(name, ("\ufeff" + to_csv(plan, ctx)).encode("utf-8"), _MIME[fmt])
    if fmt == "ics":
        return ExportFile(name, to_ics(plan, ctx), _MIME[fmt])
    if fmt == "pdf":
        return ExportFile(name, to_pdf(plan, ctx), _MIME[fmt])
    raise BadInput(f"unknown export format {fmt!r}: use markdown, json, csv, ics or pdf")
