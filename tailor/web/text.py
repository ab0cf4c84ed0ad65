"""How the pages show text: user text made literal, long text shortened, codes turned into labels.

Pure functions with no Streamlit import, so tests call them directly. Everything a person
typed (a name, a comment, a model's answer) goes through :func:`safe` before it reaches
``st.markdown``, because Streamlit renders Markdown, links and LaTeX.
"""

from __future__ import annotations

import re

ROLE_LABELS: dict[str, str] = {"manager": "Manager", "hr": "HR", "admin": "Admin"}
STATUS_LABELS: dict[str, str] = {
    "draft": "Draft",
    "in_review": "In review",
    "changes_requested": "Changes requested",
    "approved": "Approved",
}

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+!|~$])")
# A leading "-" or "=" would start a list or a heading underline, "1." a numbered list. A
# backslash escapes punctuation only, so a number keeps its digits and loses its dot's meaning.
_BLOCK_START = re.compile(r"^(\s*)(?:([-=])|(\d+)\.)")


def _escape_block_start(m: re.Match[str]) -> str:
    indent, mark, number = m.groups()
    return f"{indent}\\{mark}" if mark else f"{indent}{number}\\."


def safe(text: object) -> str:
    """User text as literal Markdown: no links, images, HTML or LaTeX can be smuggled in.

    A bare URL is still shown as a link by Streamlit's autolinker, but its target is the text
    the reader sees; what is escaped is every way to hide a target behind other text.
    """
    lines = str(text).replace("\r\n", "\n").split("\n")
    out = []
    for line in lines:
        escaped = _MD_SPECIAL.sub(r"\\\1", line)
        escaped = _BLOCK_START.sub(_escape_block_start, escaped)
        out.append(escaped)
    return "  \n".join(out)


def shorten(text: str, limit: int = 240) -> str:
    """One line of at most ``limit`` characters (model errors can be long)."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def status_label(status: str) -> str:
    """A plan status as people say it ("in_review" is "In review"); an unknown code as it is."""
    return STATUS_LABELS.get(status, status)
