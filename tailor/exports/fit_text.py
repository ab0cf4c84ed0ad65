"""The plan's "Why this plan" block and its named people, in words, for every export and the web view.

One home for how the fit section and the named owners read, so the Markdown, the PDF, the CSV,
the calendar and the plan pages say the same thing. Everything here is plain text: each format
adds its own emphasis and escaping (``markdown.md``, ``tailor.web.text.safe``), and a part the
plan does not have is left out rather than printed as "None".
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from tailor.exports.common import due_text, sources_text
from tailor.schema import CheckIn, FitGap, Plan, PlanRelationship, Task
from tailor.text import join_and

TITLE = "Why this plan"
STRENGTHS = "Strengths to use"
GAPS = "Gaps to close"
SKIPPED = "Basics skipped"
NO_TEAM = "No team was chosen for this plan."
NO_TEAM_ROLE_ONLY = "No team was chosen for this plan, so it compares the hire with the role profile only."
NO_CLOSING_TASK = "No task in the plan closes this gap yet."

# A link a reader may follow: http(s), printable ASCII, and nothing that could end a Markdown link
# target early (brackets, quotes, spaces) or hide what it says (bidi and zero-width characters).
_WEB_URL = re.compile(r"^https?://[A-Za-z0-9\-._~:/?#@!$&*+,;=%]+$")


class Detail(BaseModel):
    """One labelled line under an item: ("Learn from", "Invoicing runbook", "https://…")."""

    model_config = ConfigDict(frozen=True)

    label: str
    text: str
    url: str | None = None
    """The address of the resource ``text`` names, when it is one a reader can follow (see :func:`web_url`)."""

    @property
    def plain(self) -> str:
        """The line's text with its address, for formats without links: "Invoicing runbook - https://…"."""
        return f"{self.text} - {self.url}" if self.url and self.url != self.text else self.text


class FitItem(BaseModel):
    """A strength, a gap or a skipped basic: its name, one line about it, and labelled details."""

    model_config = ConfigDict(frozen=True)

    name: str
    line: str = ""
    details: tuple[Detail, ...] = ()


class WhyThisPlan(BaseModel):
    """The "Why this plan" block as people read it; empty parts are empty, never placeholders."""

    model_config = ConfigDict(frozen=True)

    rationale: str
    team: str | None = None
    note: str | None = None
    """One sentence when no team was chosen."""
    strengths: tuple[FitItem, ...] = ()
    gaps: tuple[FitItem, ...] = ()
    skipped: tuple[FitItem, ...] = ()


# =========================================================================== named people
def one_line(text: str) -> str:
    return " ".join(text.split())


def person_text(role: str, name: str | None) -> str:
    """ "Diego Salazar (Backend Engineer)" when the plan names the person, "the Product Manager" otherwise.

    A role with its own brackets ("Staff Backend Engineer (peer)") follows a comma instead, so the
    brackets do not nest.
    """
    role = one_line(role)
    if not name:
        return f"the {role}"
    return f"{one_line(name)}, {role}" if "(" in role else f"{one_line(name)} ({role})"


def owner_text(task: Task) -> str:
    """Who owns a task: "buddy (Diego Salazar)", "hire, with Kenji Watanabe", or just "hire".

    The hire owns most tasks; a name on one of those is the colleague who leads it with them,
    not the hire, so it reads "with" rather than in parentheses.
    """
    if not task.owner_name:
        return task.owner
    name = one_line(task.owner_name)
    return f"hire, with {name}" if task.owner == "hire" else f"{task.owner} ({name})"


def relationship_title(rel: PlanRelationship) -> str:
    """ "Meet Diego Salazar (Backend Engineer)", or "Meet the Product Manager" with no name."""
    return f"Meet {person_text(rel.role, rel.name)}"


def check_in_with(plan: Plan, check: CheckIn) -> str:
    """Who a check-in is with, naming the team's manager where it says "manager" and not already named."""
    who = one_line(check.with_)
    team = plan.fit.team
    if team is None or "manager" not in who.lower() or team.manager.lower() in who.lower():
        return who
    return f"{who} ({one_line(team.manager)})"


def web_url(url: str | None) -> str | None:
    """``url`` when it is an http(s) address safe to show as a link, else None (it is then not shown)."""
    if url is None:
        return None
    url = url.strip()
    return url if _WEB_URL.fullmatch(url) else None


# =========================================================================== the fit section
def join_words(items: Sequence[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    return join_and(one_line(i) for i in items if i.strip())


def _needed_for(items: Sequence[str]) -> str:
    return f"needed for {join_words(items)}" if items else ""


def _resource(gap: FitGap) -> Detail | None:
    url = web_url(gap.resource_url)
    if gap.resource and url:
        return Detail(label="Learn from", text=one_line(gap.resource), url=url)
    if gap.resource:
        return Detail(label="Learn from", text=one_line(gap.resource))
    if url:
        return Detail(label="Learn from", text=url, url=url)
    return None


def _contact(gap: FitGap) -> Detail | None:
    if gap.contact:
        who = one_line(gap.contact) + (f" ({one_line(gap.contact_role)})" if gap.contact_role else "")
        return Detail(label="Ask", text=who)
    if gap.contact_role:
        return Detail(label="Ask", text=f"the {one_line(gap.contact_role)}")
    return None


def _closing_task(plan: Plan, gap: FitGap) -> Detail:
    task = next((t for t in plan.all_tasks() if t.id == gap.task_id), None) if gap.task_id else None
    if task is None:  # never composed, or edited out since: say so, HR should see it
        return Detail(label="Closed by", text=NO_CLOSING_TASK)
    return Detail(label="Closed by", text=f"{one_line(task.title)}, due {due_text(plan, task.due_week)}")


def _gap(plan: Plan, gap: FitGap) -> FitItem:
    details = [d for d in (_resource(gap), _contact(gap)) if d is not None]
    details.append(_closing_task(plan, gap))
    details.append(Detail(label="Source", text=sources_text(plan, [gap.source])))
    return FitItem(name=one_line(gap.skill), line=_needed_for(gap.needed_for), details=tuple(details))


def why_this_plan(plan: Plan) -> WhyThisPlan:
    """The rationale, the team, strengths to use, gaps to close and basics skipped, in words."""
    fit = plan.fit
    team = None
    if fit.team is not None:
        t = fit.team
        team = f"{one_line(t.name)}, managed by {one_line(t.manager)}, in the {one_line(t.timezone)} time zone"
    note = None
    if fit.team is None:
        note = NO_TEAM_ROLE_ONLY if (fit.strengths or fit.gaps or fit.skipped) else NO_TEAM
    return WhyThisPlan(
        rationale=one_line(plan.rationale),
        team=team,
        note=note,
        strengths=tuple(FitItem(name=one_line(s.skill), line=_needed_for(s.needed_for)) for s in fit.strengths),
        gaps=tuple(_gap(plan, g) for g in fit.gaps),
        skipped=tuple(
            FitItem(
                name=one_line(s.title),
                line=one_line(s.reason),
                details=(Detail(label="Source", text=sources_text(plan, [s.source])),),
            )
            for s in fit.skipped
        ),
    )
