"""PDF: a printable version of the Markdown checklist, with sign-off lines.

Text goes into the PDF as text, never as markup, so nothing a user or model wrote can add a
link, an action or a script. DejaVu Sans draws most scripts when it is installed; without it the
core Helvetica font draws Latin-1 and everything else is transliterated.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

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
from tailor.schema import Plan
from tailor.text import to_ascii

_FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"))
_NOTES = ((1, "Week 1 notes"), (4, "Week 4 review"), (8, "Week 8 review"), (12, "Week 12 review"))


@lru_cache(maxsize=1)
def unicode_fonts() -> tuple[Path, Path] | None:
    """DejaVu Sans (regular, bold) if installed (Debian: fonts-dejavu-core), else None."""
    for root in _FONT_DIRS:
        if not root.is_dir():
            continue
        regular = next(iter(sorted(root.rglob("DejaVuSans.ttf"))), None)
        bold = next(iter(sorted(root.rglob("DejaVuSans-Bold.ttf"))), None)
        if regular and bold:
            return regular, bold
    return None


def transliterate(text: str) -> str:
    """Latin-1 text for the PDF core fonts when no Unicode font is installed."""
    out = []
    for ch in text:
        try:
            ch.encode("latin-1")
            out.append(ch)
        except UnicodeEncodeError:
            # Character by character: Latin-1 letters such as "ë" stay; only the rest becomes ASCII.
            out.append(to_ascii(ch) or "?")
    return "".join(out)


class _PdfWriter:
    def __init__(self, title: str) -> None:
        from fpdf import FPDF

        self.pdf = FPDF(format="A4")
        self.pdf.set_title(title)
        self.pdf.set_creator("tailor")
        self.pdf.set_auto_page_break(auto=True, margin=15)
        fonts = unicode_fonts()
        self.cmap: set[int] | None = None
        if fonts:
            self.pdf.add_font("DejaVu", "", str(fonts[0]))
            self.pdf.add_font("DejaVu", "B", str(fonts[1]))
            self.family = "DejaVu"
            self.cmap = set(getattr(self.pdf.fonts["dejavu"], "cmap", {}))
        else:
            self.family = "Helvetica"
        self.box = "\u2610 " if self.cmap and 0x2610 in self.cmap else "[ ] "
        self.dot = "\u2022 " if self.cmap and 0x2022 in self.cmap else "- "
        self.pdf.add_page()

    def text(self, value: str) -> str:
        value = " ".join(value.split())
        if self.cmap is None:
            return transliterate(value)
        # Glyphs the font lacks (e.g. CJK in DejaVu) degrade to a readable stand-in, not a blank box.
        return "".join(ch if ord(ch) in self.cmap else (transliterate(ch) or "?") for ch in value)

    def _write(self, value: str, size: float, bold: bool = False, indent: float = 0, gap: float = 1) -> None:
        pdf = self.pdf
        pdf.set_font(self.family, "B" if bold else "", size)
        pdf.set_x(pdf.l_margin + indent)
        # Left-aligned: justified lines stretch around an unbreakable URL into wide gaps.
        pdf.multi_cell(pdf.epw - indent, size * 0.5, self.text(value), align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(gap)

    def h1(self, value: str) -> None:
        self._write(value, 16, bold=True, gap=2)

    def h2(self, value: str) -> None:
        self.pdf.ln(2)
        self._write(value, 13, bold=True, gap=1.5)

    def h3(self, value: str) -> None:
        self._write(value, 11, bold=True)

    def para(self, value: str, indent: float = 0) -> None:
        self._write(value, 10, indent=indent)

    def check(self, value: str) -> None:
        self._write(self.box + value, 10, bold=True, indent=2, gap=0.5)

    def bullet(self, value: str) -> None:
        """A list item that is not a checkbox: the fit section explains, it asks nothing to be done."""
        self._write(self.dot + value, 10, bold=True, indent=2, gap=0.5)

    def detail(self, value: str) -> None:
        self._write(value, 9, indent=8, gap=0.3)

    def output(self) -> bytes:
        return bytes(self.pdf.output())


def _overview(w: _PdfWriter, plan: Plan, ctx: ExportContext) -> None:
    hire = plan.hire
    w.h1(plan_title(plan))
    start = fmt_day(hire.start_date) if hire.start_date else "not set"
    w.para(f"{hire.seniority.title()} · {hire.role_family} · Start date: {start} · Manager: {ctx.manager}")
    w.para(f"Status: {ctx.status_line()} · Plan #{ctx.plan_id} · Prepared {ctx.generated_at:%Y-%m-%d}")
    w.h2("Overview")
    w.para(plan.summary)
    if plan.focus_areas:
        w.para(f"Focus areas: {', '.join(plan.focus_areas)}")
    w.para(f"Support: {plan.support.model.replace('_', ' ')} - {plan.support.who}")
    w.h3("Milestones")
    for m in milestones(plan):
        w.check(f"{m.title}: {fmt_day(m.day)} ({m.when})" if m.day else f"{m.title}: {m.when}")


def _fit_items(w: _PdfWriter, heading: str, items: tuple[FitItem, ...]) -> None:
    if not items:
        return
    w.h3(heading)
    for item in items:
        w.bullet(item.name)
        if item.line:
            w.detail(item.line[:1].upper() + item.line[1:])
        for d in item.details:
            w.detail(f"{d.label}: {d.plain}")


def _why_this_plan(w: _PdfWriter, plan: Plan) -> None:
    why = why_this_plan(plan)
    w.h2(TITLE)
    w.para(why.rationale)
    if why.team:
        w.para(f"Team: {why.team}")
    if why.note:
        w.para(why.note)
    _fit_items(w, STRENGTHS, why.strengths)
    _fit_items(w, GAPS, why.gaps)
    _fit_items(w, SKIPPED, why.skipped)


def _phases(w: _PdfWriter, plan: Plan, notes: ReviewNotes) -> None:
    for phase in plan.phases:
        w.h2(f"{phase.name} (weeks {phase.start_week}-{phase.end_week})")
        for goal in phase.goals:
            w.para(f"Goal: {goal}", indent=2)
        for task in phase_tasks(phase):
            w.check(f"{task.title} - due {due_text(plan, task.due_week)} - owner: {owner_text(task)}")
            w.detail(task.description)
            w.detail(f"Success criteria: {task.success_criteria}")
            w.detail(f"Sources: {sources_text(plan, task.sources)}")
            if note := notes.task(task):
                w.detail(f"To check: {note}")


def _people_and_reviews(w: _PdfWriter, plan: Plan, notes: ReviewNotes) -> None:
    if plan.relationships:
        w.h2("Relationship Building")
        for rel in plan.relationships:
            w.check(f"{relationship_title(rel)} - within {due_text(plan, rel.meet_by_week)}")
            w.detail(f"Focus: {rel.purpose} · Frequency going forward: {rel.cadence}")
    if plan.capabilities:
        w.h2("Capability Development")
        for cap in plan.capabilities:
            w.check(f"{cap.name} - target: {cap.target_level}")
            w.detail(f"Development plan: {cap.plan}")
            w.detail("Current assessment: ___________")
    w.h2("Check-ins & Reviews")
    for check in sorted(plan.check_ins, key=lambda c: c.week):
        w.check(f"{due_text(plan, check.week)} with {check_in_with(plan, check)}: {check.focus}")
    risks = plan_risks(plan)
    if risks:
        w.h2("Risks & Mitigations")
        for i, risk in risks:
            w.para(f"Risk: {risk.risk} - Mitigation: {risk.mitigation}", indent=2)
            if note := notes.risk(i):
                w.detail(f"To check: {note}")
    if notes.lines:
        w.h2("To check before approval")
        w.para(notes.headline)
        for line, action in notes.lines:
            w.para(f"{w.dot}{line} {action}", indent=2)


def to_pdf(plan: Plan, ctx: ExportContext) -> bytes:
    """A printable version of the Markdown checklist."""
    require_tasks(plan, ctx)
    w = _PdfWriter(plan_title(plan))
    notes = review_notes(plan, ctx)
    _overview(w, plan, ctx)
    _why_this_plan(w, plan)
    _phases(w, plan, notes)
    _people_and_reviews(w, plan, notes)
    w.h2("Resources & Sources")
    for src in plan.sources:
        w.para(f"{src.title} ({src.id})", indent=2)
    w.h2("Notes & Feedback")
    for week, label in _NOTES:
        w.para(f"{label} - date: {notes_date(plan, week, '________')}   reviewer: ____________________")
    return w.output()


FORMAT = Format(
    name="pdf",
    label="PDF",
    description="A printable plan with sign-off lines.",
    ext="pdf",
    mime="application/pdf",
    render=to_pdf,
)
