"""Markdown: a checklist HR can send as is, in the shape of the seed checklists.

Safety: user and model text is never trusted. :func:`md` collapses line breaks (so text
cannot start new headings or list items) and escapes what could open raw HTML or a link
(or, at the start of a line, a heading, list, quote or fence). No export produces HTML.
"""

from __future__ import annotations

import re

from tailor.exports.common import (
    ExportContext,
    Format,
    ReviewNotes,
    due_text,
    fmt_day,
    milestones,
    notes_date,
    phase_tasks,
    plan_risks,
    plan_title,
    require_tasks,
    review_notes,
    sources_text,
    week_due_date,
)
from tailor.exports.fit_text import (
    GAPS,
    SKIPPED,
    STRENGTHS,
    TITLE,
    FitItem,
    check_in_with,
    owner_text,
    relationship_title,
    why_this_plan,
)
from tailor.schema import Phase, Plan

_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")
# What makes a line a heading, quote, list item, fence, rule or link definition.
_BLOCK_START = re.compile(r"^(?:#{1,6}(?=\s|$)|>|[-+*](?=\s|$)|\[|`{3}|~{3}|(?:[-*_=+]\s*)+$|\d{1,9}(?=[.)](?:\s|$)))")
_NOTES = ((1, "Week 1 Notes"), (4, "Week 4 Review"), (8, "Week 8 Review"), (12, "Week 12 Review"))


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


# Each section returns its lines, ending with the blank line that separates it from the next.
def _header(plan: Plan, ctx: ExportContext) -> list[str]:
    hire = plan.hire
    start = f"{fmt_day(hire.start_date)}" if hire.start_date else "not set"
    return [
        f"# {md(plan_title(plan))}",
        f"- {md(hire.seniority.title())} level, {md(hire.role_family)} -",
        "",
        f"*Start date: {start} · Manager: {md(ctx.manager)}*  ",
        f"*Status: {md(ctx.status_line())}*  ",
        f"*Prepared on: {ctx.generated_at:%Y-%m-%d} · Plan #{ctx.plan_id}*",
        "",
    ]


def _overview(plan: Plan) -> list[str]:
    out = ["## Overview", "", md(plan.summary), ""]
    if plan.focus_areas:
        out += [f"**Focus areas**: {', '.join(md(f) for f in plan.focus_areas)}", ""]
    support = f"**Support**: {md(plan.support.model.replace('_', ' '))} - {md(plan.support.who)}"
    out += [support + (f" ({md(plan.support.note)})" if plan.support.note else ""), ""]
    out.append("### Milestones")
    for m in milestones(plan):
        when = f"{fmt_day(m.day)} ({m.when})" if m.day else m.when
        out.append(f"- [ ] **{m.title}**: {when}")
    return [*out, ""]


def _fit_items(heading: str, items: tuple[FitItem, ...]) -> list[str]:
    if not items:
        return []
    out = [f"### {heading}", ""]
    for item in items:
        out.append(f"- **{md(item.name)}**" + (f": {md(item.line)}" if item.line else ""))
        out += [f"  - {d.label}: {md(d.plain)}" for d in item.details]
    return [*out, ""]


def _why_this_plan(plan: Plan) -> list[str]:
    """The rationale, then the team and the fit: why the plan has (and lacks) what it has."""
    why = why_this_plan(plan)
    out = [f"## {TITLE}", "", md(why.rationale), ""]
    if why.team:
        out += [f"**Team**: {md(why.team)}", ""]
    if why.note:
        out += [f"*{md(why.note)}*", ""]
    out += _fit_items(STRENGTHS, why.strengths)
    out += _fit_items(GAPS, why.gaps)
    out += _fit_items(SKIPPED, why.skipped)
    return out


def _phase(plan: Plan, phase: Phase, notes: ReviewNotes) -> list[str]:
    """A phase's goals, then its tasks under one heading per due week."""
    start = plan.hire.start_date
    out = [f"## {md(phase.name)} (weeks {phase.start_week}-{phase.end_week})", ""]
    if phase.goals:
        out += ["### Goals", *(f"- {md(goal)}" for goal in phase.goals), ""]
    current_week: int | None = None
    for task in phase_tasks(phase):
        if task.due_week != current_week:
            current_week = task.due_week
            heading = "Before day 1" if current_week == 0 else f"Week {current_week}"
            due = f" - due {fmt_day(week_due_date(start, current_week))}" if start else ""
            out.append(f"### {heading}{due}")
        out.append(f"- [ ] **{md(task.title)}** (owner: {md(owner_text(task))}; due {due_text(plan, task.due_week)})")
        out.append(f"  - {md(task.description)}")
        out.append(f"  - Success criteria: {md(task.success_criteria)}")
        if task.skills:
            out.append(f"  - Uses: {', '.join(md(s) for s in task.skills)}")
        out.append(f"  - Sources: {md(sources_text(plan, task.sources))}")
        if note := notes.task(task):
            out.append(f"  - **To check**: {md(note)}")
    return [*out, ""]


def _relationships(plan: Plan) -> list[str]:
    if not plan.relationships:
        return []
    out = ["## Relationship Building", ""]
    for rel in plan.relationships:
        out += [
            f"- [ ] **{md(relationship_title(rel))}**",
            f"  - Meet within: {due_text(plan, rel.meet_by_week)}",
            f"  - Focus: {md(rel.purpose)}",
            f"  - Frequency going forward: {md(rel.cadence)}",
            f"  - Source: {md(sources_text(plan, [rel.source]))}",
        ]
    return [*out, ""]


def _capabilities(plan: Plan) -> list[str]:
    if not plan.capabilities:
        return []
    out = ["## Capability Development", ""]
    for cap in plan.capabilities:
        out += [
            f"- [ ] **{md(cap.name)}** - Target: {cap.target_level.title()}",
            "  - Current assessment: ___________",
            f"  - Development plan: {md(cap.plan)}",
            f"  - Source: {md(sources_text(plan, [cap.source]))}",
        ]
    return [*out, ""]


def _check_ins(plan: Plan) -> list[str]:
    out = ["## Check-ins & Reviews", ""]
    for check in sorted(plan.check_ins, key=lambda c: c.week):
        out.append(f"- [ ] **{due_text(plan, check.week)}** with {md(check_in_with(plan, check))}: {md(check.focus)}")
    if not plan.check_ins:
        out.append("- [ ] Agree check-in dates with the manager in week 1")
    return [*out, ""]


def _risks_and_questions(plan: Plan, notes: ReviewNotes) -> list[str]:
    out: list[str] = []
    risks = plan_risks(plan)
    if risks:
        out += ["## Risks & Mitigations", ""]
        for i, risk in risks:
            flag = f" **To check**: {md(note)}" if (note := notes.risk(i)) else ""
            out.append(f"- **Risk**: {md(risk.risk)} - **Mitigation**: {md(risk.mitigation)}{flag}")
        out.append("")
    if notes.lines:
        out += ["## To check before approval", "", f"*{md(notes.headline)}*", ""]
        out += [f"- {md(line)} *{md(action)}*" for line, action in notes.lines]
        out.append("")
    return out


def _sources(plan: Plan) -> list[str]:
    out = ["## Resources & Sources", ""]
    for src in plan.sources:
        kind = src.kind.replace("_", " ")
        sections = f" - sections: {', '.join(md(x) for x in src.sections)}" if src.sections else ""
        out.append(f"- **{md(src.title)}** ({md(src.id)}, {kind}){sections}")
    if not plan.sources:  # a hand-made plan may cite ids without listing them
        out += [f"- {md(source_id)}" for source_id in sorted({i for t in plan.all_tasks() for i in t.sources})]
    return [*out, ""]


def _notes(plan: Plan) -> list[str]:
    out = [
        "## Notes & Feedback",
        "",
        "*Use this space to track progress, questions, and feedback throughout onboarding.*",
        "",
    ]
    for week, label in _NOTES:
        out += [f"### {label}", f"_Date: {notes_date(plan, week, '_______')} Reviewer: _________________", ""]
    out += [
        "---",
        "*This plan was drafted by tailor from the documents listed above and reviewed by people. "
        "Customise as needed for your team.*",
    ]
    return out


def to_markdown(plan: Plan, ctx: ExportContext) -> str:
    """A checklist HR can send as is, in the shape of the seed checklists."""
    require_tasks(plan, ctx)
    notes = review_notes(plan, ctx)
    lines = [*_header(plan, ctx), *_overview(plan), *_why_this_plan(plan)]
    for phase in plan.phases:
        lines += _phase(plan, phase, notes)
    lines += [
        *_relationships(plan),
        *_capabilities(plan),
        *_check_ins(plan),
        *_risks_and_questions(plan, notes),
        *_sources(plan),
        *_notes(plan),
    ]
    return "\n".join(lines) + "\n"


FORMAT = Format(
    name="markdown",
    label="Markdown",
    description="A checklist to paste into a wiki or send as is.",
    ext="md",
    mime="text/markdown; charset=utf-8",
    render=lambda plan, ctx: to_markdown(plan, ctx).encode("utf-8"),
)
