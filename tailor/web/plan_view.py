"""What the plan pages show beside the tables: the items flagged for a human, the passage a task cites,
and the people to meet by name.

Pure functions over the plan and the corpus, so tests call them without Streamlit.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from tailor.exports.fit_text import one_line, person_text

if TYPE_CHECKING:
    from tailor.corpus.documents import CorpusDoc, Section
    from tailor.schema import Plan, Task

_WORD = re.compile(r"[a-z0-9]{4,}")


def review_items(plan: Plan) -> list[tuple[str, str]]:
    """Everything flagged for a human, as (what, why): plan notes, then tasks, then risks."""
    items = [(f"Plan: {f.field}", f.reason) for f in plan.review_flags]
    items += [(f"Task: {t.title}", t.review_reason or "flagged") for t in plan.all_tasks() if t.needs_review]
    items += [(f"Risk: {r.risk[:60]}", r.review_reason or "flagged") for r in plan.risks if r.needs_review]
    return items


def people_to_meet(plan: Plan) -> list[dict[str, object]]:
    """The relationships as table rows for people: who (the name with the role, or the role), why, when, how often."""
    return [
        {
            "who": person_text(r.role, r.name) if r.name else one_line(r.role),
            "why": r.purpose,
            "meet by week": r.meet_by_week,
            "then": r.cadence,
        }
        for r in sorted(plan.relationships, key=lambda r: r.meet_by_week)
    ]


def cited_passage(doc: CorpusDoc, task: Task) -> Section | None:
    """The section of ``doc`` a task most likely came from: the one naming its title, else by word overlap.

    Tasks cite documents, not sections; a reviewer checking a citation wants the passage,
    so the likeliest one is shown rather than the whole document.
    """
    sections = doc.sections()
    if not sections:
        return None
    title = task.title.lower()
    for section in sections:
        if title in section.text.lower():
            return section
    words = set(_WORD.findall(f"{task.title} {task.description}".lower()))
    return max(sections, key=lambda s: len(words & set(_WORD.findall(s.text.lower()))))
