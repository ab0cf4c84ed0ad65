"""Plans, tasks, sources, revisions and diffs as pandas frames, for ``st.dataframe``.

Each frame names its columns even when empty, so a page shows headers rather than nothing.
pandas is imported inside each function: a cold server paints the sign-in page first.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tailor.web.text import code_label, status_label, when

if TYPE_CHECKING:
    import pandas as pd

    from tailor.corpus.documents import Corpus
    from tailor.review.results import PlanSummary, RevisionDiff, RevisionOut
    from tailor.schema import Plan

# The task table's columns (the Tasks tab), in order. The id stays visible: comments and diffs name it.
TASK_COLUMNS = (
    "phase",
    "id",
    "title",
    "description",
    "owner",
    "owner_name",
    "due_week",
    "success_criteria",
    "sources",
    "needs_review",
    "review_reason",
)
PLAN_COLUMNS = (
    "id",
    "hire",
    "role",
    "family",
    "seniority",
    "status",
    "manager",
    "reviewer",
    "revision",
    "tasks",
    "to check",
    "start",
    "updated",
)


def _frame(rows: list[dict[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(rows, columns=list(columns))


def plans_frame(plans: Sequence[PlanSummary]) -> pd.DataFrame:
    """One row per plan, labelled for people (a missing hire name or reviewer shows as a dash)."""
    rows = [
        {
            "id": p.id,
            "hire": p.hire_name or "—",
            "role": p.role,
            "family": code_label(p.role_family),
            "seniority": code_label(p.seniority),
            "status": status_label(p.status),
            "manager": p.manager_name,
            "reviewer": p.reviewer_name or "—",
            "revision": p.revision,
            "tasks": p.task_count,
            "to check": p.needs_review,
            "start": p.start_date.isoformat() if p.start_date else "",
            "updated": p.updated_at,
        }
        for p in plans
    ]
    return _frame(rows, PLAN_COLUMNS)


def plan_column_config(timezone: str | None) -> dict[str, Any]:
    """Labels for ``plans_frame``'s columns, the same on the Plans list and the Review queue;
    "Last change" in the viewer's own time zone and locale."""
    import streamlit as st

    count = st.column_config.NumberColumn
    return {
        "id": count("#", format="%d", width="small"),
        "hire": "Hire",
        "role": "Job title",
        "family": "Role family",
        "seniority": "Seniority",
        "status": "Status",
        "manager": "Manager",
        "reviewer": "Reviewer",
        "revision": count("Revision", format="%d"),
        "tasks": count("Tasks", format="%d"),
        "to check": count("To check", format="%d", help="Tasks, risks and plan notes a person should check"),
        "start": "Start date",
        "updated": st.column_config.DatetimeColumn("Last change", format="localized", timezone=timezone or "UTC"),
    }


def tasks_frame(plan: Plan) -> pd.DataFrame:
    """Every task with its phase; sources as one comma-separated cell."""
    rows = [
        {
            "phase": phase.name,
            "id": t.id,
            "title": t.title,
            "description": t.description,
            "owner": t.owner,
            "owner_name": t.owner_name or "",
            "due_week": t.due_week,
            "success_criteria": t.success_criteria,
            "sources": ", ".join(t.sources),
            "needs_review": t.needs_review,
            "review_reason": t.review_reason or "",
        }
        for phase in plan.phases
        for t in phase.tasks
    ]
    return _frame(rows, TASK_COLUMNS)


def preview_frame(plan: Plan) -> pd.DataFrame:
    """A compact view of a plan while it is being drafted."""
    rows = [
        {
            "phase": phase.name,
            "task": t.title,
            "owner": t.owner,
            "week": t.due_week,
            "tailored": t.tailored,
            "check": t.needs_review,
        }
        for phase in plan.phases
        for t in phase.tasks
    ]
    return _frame(rows, ("phase", "task", "owner", "week", "tailored", "check"))


def sources_frame(plan: Plan) -> pd.DataFrame:
    """The corpus documents retrieved for this hire, with the sections that matched."""
    rows = [
        {"id": s.id, "title": s.title, "kind": s.kind, "score": s.score, "sections": "; ".join(s.sections)}
        for s in plan.sources
    ]
    return _frame(rows, ("id", "title", "kind", "score", "sections"))


def revisions_frame(revisions: Sequence[RevisionOut], zone_name: str | None = None) -> pd.DataFrame:
    """Who wrote each revision, when (in the viewer's time zone), and why."""
    rows = [
        {
            "revision": r.number,
            "author": r.author_name,
            "role": r.author_role,
            "reason": r.reason,
            "note": r.note or "",
            "at": when(r.created_at, zone_name),
        }
        for r in revisions
    ]
    return _frame(rows, ("revision", "author", "role", "reason", "note", "at"))


def corpus_frame(corpus: Corpus, corpus_dir: Path) -> pd.DataFrame:
    """One row per valid document, with its file relative to the corpus folder (a team has no seniority)."""
    from tailor.corpus.documents import CaseStudyMeta, TeamProfileMeta

    rows = [
        {
            "id": d.id,
            "kind": d.kind.replace("_", " "),
            "title": d.meta.title,
            "roles": ", ".join(d.meta.roles),
            "seniority": "" if isinstance(d.meta, TeamProfileMeta) else ", ".join(d.meta.seniority),
            "situation": d.meta.situation if isinstance(d.meta, CaseStudyMeta) else "",
            "file": str(d.path.relative_to(corpus_dir)) if d.path.is_relative_to(corpus_dir) else d.path.name,
        }
        for d in corpus.docs
    ]
    return _frame(rows, ("id", "kind", "title", "roles", "seniority", "situation", "file"))


def _short(value: Any, limit: int = 300) -> str:
    """A diff cell: text as it is, anything else as JSON, cut at ``limit`` characters."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def diff_frame(diff: RevisionDiff) -> pd.DataFrame:
    """A revision diff as rows: what changed, where, before and after."""
    rows: list[dict[str, str]] = []
    for task in diff.added:
        rows.append({"change": "added task", "task": task.title, "field": "", "before": "", "after": task.description})
    for task in diff.removed:
        rows.append(
            {"change": "removed task", "task": task.title, "field": "", "before": task.description, "after": ""}
        )
    changed = [("changed task", c.title, f) for c in diff.changed for f in c.changes]
    changed += [("changed plan", "", f) for f in diff.plan_changes]
    for what, title, f in changed:
        rows.append(
            {
                "change": what,
                "task": title,
                "field": field_label(f.path),
                "before": _short(f.before),
                "after": _short(f.after),
            }
        )
    return _frame(rows, ("change", "task", "field", "before", "after"))


# The schema's names where people would not say them so ("due_week" is the week a task is due).
_FIELD_WORDS = {
    "due_week": "week",
    "needs_review": "to check",
    "review_reason": "why to check",
    "success_criteria": "done when",
    "owner_name": "owner's name",
    "start_date": "start date",
    "years_experience": "years of experience",
    "role_family": "role family",
    "focus_areas": "focus areas",
    "review_flags": "flags",
}


def field_label(path: str) -> str:
    """A changed field as people say it: "hire.start_date" is "hire: start date", "phases.1.goals"
    is "phase 2: goals"."""
    parts = [p for p in path.split(".") if p]
    words: list[str] = []
    for part in parts:
        if part.isdigit():
            if words:
                words[-1] = f"{words[-1].rstrip('s')} {int(part) + 1}"
            continue
        words.append(_FIELD_WORDS.get(part, part.replace("_", " ")))
    return ": ".join(words) if len(words) > 1 else (words[0] if words else path)
