"""The review flags block on the plan and review pages: one line per cause, what to do, the details folded away.

The words are :mod:`tailor.review.flags`' (the exports use the same): a headline whose count the
lines add up to, a line per cause with its suggested action, and a collapsed "Details" block with
which items each line covers and the technical detail (the error as the model layer gave it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from tailor.review.flags import FlagGroup, group_flags, headline, open_flags
from tailor.web.text import safe

if TYPE_CHECKING:
    from tailor.schema import Plan


def render_flags(plan: Plan) -> list[FlagGroup]:
    """Draw the block where it is called (nothing when no flag is open); return the groups drawn."""
    items = open_flags(plan)
    if not items:
        return []
    groups = group_flags(items)
    with st.container(border=True):
        st.markdown(f":material/warning: **{safe(headline(items))}**")
        st.markdown("\n".join(f"- {safe(g.line)}  \n  :gray[{safe(g.action)}]" for g in groups))
        with st.expander("Details", icon=":material/info:"):
            for g in groups:
                st.markdown(f"**{safe(g.line)}**\n\n{_covered(g)}")
                for detail in g.details:
                    # Verbatim and inert: an error message is shown as text, never as Markdown.
                    st.code(detail, language=None, wrap_lines=True)
    return groups


def _covered(group: FlagGroup) -> str:
    """Which items a line covers (when it covers several), with each one's own sentence where they differ."""
    if group.count == 1:
        return ""
    own = len({i.sentence for i in group.items}) > 1  # e.g. which check each task's sentence failed
    return "\n".join(f"- {safe(i.about)}" + (f": {safe(i.sentence)}" if own else "") for i in group.items)
