"""How the pages show text: user text made literal, long text shortened, codes turned into labels.

Pure functions with no Streamlit import, so tests call them directly. Everything a person
typed (a name, a comment, a model's answer) goes through :func:`safe` before it reaches
``st.markdown``, because Streamlit renders Markdown, links and LaTeX.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

if TYPE_CHECKING:
    from tailor.review.results import PlanSummary
    from tailor.schema import Plan

ROLE_LABELS: dict[str, str] = {"manager": "Manager", "hr": "HR", "admin": "Admin"}
STATUS_LABELS: dict[str, str] = {
    "draft": "Draft",
    "in_review": "In review",
    "changes_requested": "Changes requested",
    "approved": "Approved",
}

FAMILY_LABELS: dict[str, str] = {
    "backend": "Backend",
    "frontend": "Frontend",
    "fullstack": "Full-stack",
    "mobile": "Mobile",
    "data": "Data",
    "ml": "Machine learning",
    "platform": "Platform",
    "qa": "QA",
    "security": "Security",
    "management": "Management",
}
# What the inbox says about each event; {actor}, {plan} and {hire} are filled in, then made safe.
INBOX_SENTENCES: dict[str, str] = {
    "submitted": "{actor} submitted plan #{plan} ({hire}) for review",
    "changes_requested": "{actor} asked for changes to plan #{plan} ({hire})",
    "approved": "{actor} approved plan #{plan} ({hire})",
}
INBOX_ICONS: dict[str, str] = {
    "submitted": ":material/rate_review:",
    "changes_requested": ":material/undo:",
    "approved": ":material/verified:",
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


def code_label(code: str | None) -> str:
    """A stored code as people say it: a status or role family by its label, else its words; nothing as a dash."""
    if not code:
        return "—"
    if code in STATUS_LABELS:
        return STATUS_LABELS[code]
    if code in FAMILY_LABELS:
        return FAMILY_LABELS[code]
    words = code.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def viewer_zone(name: str | None) -> tzinfo:
    """The viewer's time zone by its IANA name (``st.context.timezone``); UTC when unknown."""
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return UTC


def when(moment: datetime, zone_name: str | None = None, now: datetime | None = None) -> str:
    """A time as people read it, in the viewer's zone: "today 14:05", "yesterday 09:12", "3 Dec 14:05", "3 Dec 2025".

    Never an offset like "+00:00"; when the viewer's zone is unknown the time says "UTC".
    """
    zone = viewer_zone(zone_name)
    local = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(zone)
    today = (now or datetime.now(UTC)).astimezone(zone).date()
    clock = f"{local:%H:%M}" + (" UTC" if zone is UTC else "")
    days = (today - local.date()).days
    if days == 0:
        return f"today {clock}"
    if days == 1:
        return f"yesterday {clock}"
    if local.year == today.year:
        return f"{local.day} {local:%b} {clock}"
    return f"{local.day} {local:%b %Y}"


def inbox_sentence(kind: str, actor: str, plan_id: int, hire: str) -> str:
    """One inbox line as plain text (the caller makes it safe for Markdown)."""
    template = INBOX_SENTENCES.get(kind, "{actor} changed plan #{plan} ({hire})")
    return template.format(actor=actor, plan=plan_id, hire=hire)


def plan_byline(plan: Plan, summary: PlanSummary, zone: str | None) -> str:
    """The line under a plan's title (Plan and Review pages): job title, level and family in words, who, when."""
    hire = plan.hire
    return (
        f"{safe(hire.role)} · {code_label(hire.seniority)}, {code_label(hire.role_family)} · "
        f"manager {safe(summary.manager_name)} · reviewer {safe(summary.reviewer_name or 'not assigned')} · "
        f"last change {when(summary.updated_at, zone)}"
    )
