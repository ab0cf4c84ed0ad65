"""What the plan pages show beside the tables: the items flagged for a human (in the words of
:mod:`tailor.review.flags`), the passage a task cites, and the people to meet by name.

Pure functions over the plan and the corpus, so tests call them without Streamlit.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from tailor.exports.fit_text import one_line, person_text
from tailor.review.flags import open_flags

if TYPE_CHECKING:
    from tailor.corpus.documents import CorpusDoc, Section
    from tailor.schema import Plan, Task

_WORD = re.compile(r"[a-z0-9]{4,}")


def review_items(plan: Plan) -> list[tuple[str, str]]:
    """Every open flag, as (what it is about, the sentence for people): plan notes, then tasks, then risks.

    One entry per item a reviewer works through (``tailor.review.flags.open_flags``), so a count of
    these is the count the flags block's headline gives. ``tailor.web.flags_view.render_flags`` draws
    them grouped by cause, with the suggested actions and the technical details.
    """
    return [(item.about, item.sentence) for item in open_flags(plan)]


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
