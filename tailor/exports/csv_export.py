"""CSV: one row per task, for a Jira or Linear import (named so it does not shadow the stdlib ``csv``).

The named owner (a team member from the team profile) has its own column, "Owner Name", next to
"Assignee Role", and a line in the description. It is not the importers' "Assignee" column: Jira
and Linear match an assignee to an account by user name or email, which a plan does not know, and
an unmatched assignee fails the row. A column of its own maps to a custom field or is skipped, and
the description line keeps the name on the issue either way.

Safety: cells that a spreadsheet would run as a formula are prefixed with ``'``.
"""

from __future__ import annotations

import csv
import io

from tailor.exports.common import (
    ExportContext,
    Format,
    ReviewNotes,
    phase_tasks,
    require_tasks,
    review_notes,
    sources_text,
    week_due_date,
)
from tailor.exports.fit_text import one_line, owner_text
from tailor.schema import Phase, Plan, Task
from tailor.text import slug

CSV_COLUMNS = ("Summary", "Description", "Assignee Role", "Owner Name", "Due Date", "Labels")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")  # OWASP's list for CSV injection


def _cell(value: str) -> str:
    # A leading quote stops spreadsheets from running a cell as a formula (CSV injection).
    return "'" + value if value.startswith(_FORMULA_START) else value


def task_labels(phase: Phase, task: Task, notes: ReviewNotes) -> list[str]:
    """Jira labels cannot contain spaces, so each label is a slug. An approved plan's tasks are not "needs-review"."""
    labels = ["onboarding", f"phase-{slug(phase.name, fallback='unnamed')}", f"owner-{task.owner}"]
    if notes.task(task):
        labels.append("needs-review")
    if task.tailored:
        labels.append("tailored")
    return labels


def _description(plan: Plan, ctx: ExportContext, task: Task, notes: ReviewNotes) -> str:
    """The issue body: the task, how to tell it is done, when, why (sources) and where it came from."""
    parts = [" ".join(task.description.split()), "", f"Success criteria: {' '.join(task.success_criteria.split())}"]
    if task.owner_name:  # the role is in "Assignee Role"; the line keeps the name on the issue after import
        parts.append(f"Owner: {owner_text(task)}")
    if note := notes.task(task):
        parts.append(f"To check: {note}")
    parts += [
        f"Due: {'before day 1' if task.due_week == 0 else f'week {task.due_week}'}",
        f"Sources: {sources_text(plan, task.sources)}",
        f"Plan #{ctx.plan_id} revision {ctx.revision}, task {task.id}",
    ]
    return "\n".join(parts)


def to_csv(plan: Plan, ctx: ExportContext) -> str:
    """One row per task, with the column names Jira's and Linear's CSV importers map by default
    (and "Owner Name", which the person importing maps or skips; see the module docstring).

    Labels are space-separated (Jira labels cannot contain spaces, so each is a slug).
    """
    require_tasks(plan, ctx)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    start = plan.hire.start_date
    notes = review_notes(plan, ctx)
    for phase in plan.phases:
        for task in phase_tasks(phase):
            writer.writerow(
                [
                    _cell(" ".join(task.title.split())),
                    _cell(_description(plan, ctx, task, notes)),
                    task.owner,
                    _cell(one_line(task.owner_name or "")),
                    week_due_date(start, task.due_week).isoformat() if start else "",
                    " ".join(task_labels(phase, task, notes)),
                ]
            )
    return buffer.getvalue()


FORMAT = Format(
    name="csv",
    label="CSV",
    description="Tasks for a Jira or Linear import.",
    ext="csv",
    mime="text/csv; charset=utf-8",
    # A BOM so Excel opens UTF-8 names correctly; Jira and Linear ignore it.
    render=lambda plan, ctx: ("\ufeff" + to_csv(plan, ctx)).encode("utf-8"),
)
