"""ICS: the check-ins, introductions and milestones as all-day calendar events (needs the hire's start date).

Named people go into each event's summary and description ("check-in with manager (Aylin Demir)",
"meets Diego Salazar (Backend Engineer)"), not into ATTENDEE lines. An attendee is a calendar
address (``mailto:``), which a plan does not have, and calendar tools send invitations to
attendees on import; these events are the hire's own reminders and invite nobody.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from tailor.errors import BadInput
from tailor.exports.common import ExportContext, Format, milestones, require_tasks, week_due_date
from tailor.exports.fit_text import check_in_with, one_line, person_text
from tailor.schema import Plan

if TYPE_CHECKING:
    from icalendar import Calendar


def _event(
    cal: Calendar, ctx: ExportContext, uid: str, day: date, summary: str, description: str, category: str
) -> None:
    from icalendar import Event

    ev = Event()
    ev.add("uid", f"tailor-plan-{ctx.plan_id}-{uid}@tailor")
    ev.add("dtstamp", ctx.generated_at)
    ev.add("dtstart", day)
    ev.add("dtend", day + timedelta(days=1))
    ev.add("summary", summary)
    ev.add("description", description)
    ev.add("categories", [category])
    ev.add("transp", "TRANSPARENT")  # reminders, not meetings: they do not block the calendar
    cal.add_component(ev)


def to_ics(plan: Plan, ctx: ExportContext) -> bytes:
    """All-day events for the check-ins, the people to meet and the milestones."""
    # Imported here: the other formats do not pay for icalendar's import.
    from icalendar import Calendar

    require_tasks(plan, ctx)
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
    for i, check in enumerate(sorted(plan.check_ins, key=lambda c: c.week), start=1):
        summary = f"Onboarding check-in (week {check.week}): {who} with {check_in_with(plan, check)}"
        _event(cal, ctx, f"checkin-{i}", week_due_date(start, check.week), summary, check.focus, "Check-in")
    for i, rel in enumerate(sorted(plan.relationships, key=lambda r: r.meet_by_week), start=1):
        summary = f"Onboarding introduction (week {rel.meet_by_week}): {who} meets {person_text(rel.role, rel.name)}"
        description = f"{one_line(rel.purpose)}\nMeet by this day; after that: {one_line(rel.cadence)}."
        _event(cal, ctx, f"intro-{i}", week_due_date(start, rel.meet_by_week), summary, description, "Introduction")
    for m in milestones(plan):
        if m.day is not None:
            description = f"Target: {m.when} of the onboarding plan."
            _event(cal, ctx, m.key, m.day, f"{m.title}: {who}", description, "Milestone")
    return cal.to_ical()


FORMAT = Format(
    name="ics",
    label="Calendar (ICS)",
    description="Check-ins, people to meet and milestones as all-day events.",
    ext="ics",
    mime="text/calendar; charset=utf-8",
    render=to_ics,
    needs_start_date=True,
)
