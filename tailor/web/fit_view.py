"""The "Why this plan" block on the plan pages: the rationale, the team, strengths, gaps and skipped basics.

The words come from :mod:`tailor.exports.fit_text`, so the page says what the Markdown and the PDF
say. Every text goes through :func:`tailor.web.text.safe`; a resource becomes a link only when its
address is a plain http(s) URL (``fit_text.web_url``), with the escaped title as the link text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from tailor.exports.fit_text import GAPS, SKIPPED, STRENGTHS, TITLE, Detail, FitItem, why_this_plan
from tailor.web.text import safe

if TYPE_CHECKING:
    from tailor.schema import Plan


def _detail(d: Detail) -> str:
    # A link's text is escaped; its address passed web_url, so it cannot end the link early.
    text = f"[{safe(d.text)}]({d.url})" if d.url else safe(d.text)
    return f"    - {d.label}: {text}"


def _items(heading: str, items: tuple[FitItem, ...]) -> None:
    if not items:
        return
    lines = [f"**{heading}**", ""]
    for item in items:
        lines.append(f"- **{safe(item.name)}**" + (f": {safe(item.line)}" if item.line else ""))
        lines += [_detail(d) for d in item.details]
    st.markdown("\n".join(lines))


def render_why_this_plan(plan: Plan) -> None:
    """Draw the block where it is called (a tab, a column, an expander); parts the plan lacks are left out."""
    why = why_this_plan(plan)
    st.markdown(f"**{TITLE}**")
    st.markdown(safe(why.rationale))
    if why.team:
        st.markdown(f":material/groups: **Team:** {safe(why.team)}")
    if why.note:
        st.caption(safe(why.note))
    _items(STRENGTHS, why.strengths)
    _items(GAPS, why.gaps)
    _items(SKIPPED, why.skipped)
