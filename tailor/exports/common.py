"""What every export format shares: the export context, the format description, the date rules.

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
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict

from tailor.errors import BadInput
from tailor.schema import Phase, Plan, Risk, Task

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

    @property
    def final(self) -> bool:
        """An approved revision: the file goes to the hire and the team, so it carries no review notes."""
        return self.approved_by is not None or (self.status == "approved" and not self.superseded)

    def status_line(self) -> str:
        """The review status printed on every export, so an unapproved file says so."""
        if self.superseded:
            return f"Revision {self.revision} (superseded by revision {self.current_revision})"
        if self.status == "approved" and self.approved_by and self.approved_at:
            return f"Approved by {self.approved_by} on {self.approved_at:%Y-%m-%d} (revision {self.revision})"
        return f"{_STATUS_LABEL.get(self.status, self.status)} (revision {self.revision})"


class ExportFile(NamedTuple):
    filename: str
    content: bytes
    mime: str


@dataclass(frozen=True)
class Format:
    """One export format, as its module declares it (``FORMAT = Format(...)``) for the registry."""

    name: str
    """What users ask for: ``tailor plans export --format NAME``, the review service's ``fmt``."""
    label: str
    """What the Export page's download button says after "Download"."""
    description: str
    """What the file is for, shown next to the button."""
    ext: str
    mime: str
    render: Callable[[Plan, ExportContext], bytes]
    needs_start_date: bool = False
    """The format is nothing but dates: the page disables it, and ``render`` refuses, without a start date."""


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
    """The plan's targets as dated milestones (undated without a start date)."""
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


def fmt_day(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"


def due_text(plan: Plan, week: int) -> str:
    """ "Fri 10 Oct 2025 (week 1)" with a start date, "week 1" (or "before day 1") without."""
    start = plan.hire.start_date
    label = "before day 1" if week == 0 else f"week {week}"
    if start is None:
        return label
    return f"{fmt_day(week_due_date(start, week))} ({label})"


def notes_date(plan: Plan, week: int, blank: str) -> str:
    """The date of a review in the "Notes & Feedback" section, or a blank line to write it on."""
    start = plan.hire.start_date
    return f"{week_due_date(start, week):%Y-%m-%d}" if start else blank


# =========================================================================== plan text shared by formats
def require_tasks(plan: Plan, ctx: ExportContext) -> None:
    if not plan.all_tasks():
        raise BadInput(f"plan {ctx.plan_id} has no tasks; there is nothing to export")


def plan_title(plan: Plan) -> str:
    hire = plan.hire
    return f"Onboarding plan: {hire.name} - {hire.role}" if hire.name else f"Onboarding plan: {hire.role}"


def sources_text(plan: Plan, ids: list[str]) -> str:
    """Cited source ids with their titles: "Backend Engineer role profile (backend-engineer)"."""
    titles = {s.id: s.title for s in plan.sources}
    return ", ".join(f"{titles[i]} ({i})" if i in titles else i for i in ids)


def phase_tasks(phase: Phase) -> list[Task]:
    return sorted(phase.tasks, key=lambda t: t.due_week)


# =========================================================================== review notes
@dataclass(frozen=True)
class ReviewNotes:
    """What a file of an unapproved plan says is still to check, in words for people."""

    headline: str = ""
    """ "13 items to check (10 tasks)"."""
    lines: tuple[tuple[str, str], ...] = ()
    """(what, what to do): one line per cause, with its count, and the suggested action."""
    sentences: dict[str, str] = field(default_factory=dict)
    """Each open flag's own sentence, by its key (``task:<id>``, ``risk:<n>``)."""

    def task(self, task: Task) -> str | None:
        return self.sentences.get(f"task:{task.id}")

    def risk(self, index: int) -> str | None:
        return self.sentences.get(f"risk:{index}")


def review_notes(plan: Plan, ctx: ExportContext) -> ReviewNotes:
    """The plan's open flags as :mod:`tailor.review.flags` words them; none in the file of an approved revision.

    Only the sentences for people are used: a flag's technical detail (the error, the model)
    never reaches a file.
    """
    if ctx.final:
        return ReviewNotes()
    # Imported here: tailor.review imports the exports (review/exporting.py) when its package loads.
    from tailor.review.flags import group_flags, headline, open_flags

    items = open_flags(plan)
    if not items:
        return ReviewNotes()
    return ReviewNotes(
        headline=headline(items),
        lines=tuple((g.line, g.action) for g in group_flags(items)),
        sentences={i.key: i.sentence for i in items},
    )


def plan_risks(plan: Plan) -> list[tuple[int, Risk]]:
    """The risks a file lists, with their index in ``plan.risks``: real ones, not the copies of
    profile flags that older engines listed as risks."""
    from tailor.review.flags import is_flag_echo  # see review_notes

    return [(i, r) for i, r in enumerate(plan.risks) if not is_flag_echo(r)]
