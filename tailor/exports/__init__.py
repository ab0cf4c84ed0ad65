"""Exports of a plan: Markdown, JSON, CSV, ICS and PDF, and the registry that names them.

Every format is one module with a pure function of a :class:`tailor.schema.Plan` and an
:class:`ExportContext` (who, which revision, approved by whom), declared as ``FORMAT``, a
:class:`Format`: its name, button label, description, file extension, MIME type and renderer.
The review service checks permissions and writes the audit entry; the Export page and
``tailor plans export`` ask this registry for the formats, the file names and the files.

To add an export format:

1. write ``tailor/exports/<name>.py`` (not the name of a stdlib module: ``csv_export.py``, not
   ``csv.py``) with a ``to_<name>(plan, ctx)`` function and ``FORMAT = Format(...)``; start with
   ``require_tasks(plan, ctx)``, use the date rules and shared text in
   :mod:`tailor.exports.common`, and treat every text field as hostile (see ``markdown.md()``
   and ``csv_export._cell()``);
2. add ``<name>.FORMAT`` to ``_REGISTERED`` below (the order is the Export page's order).

The page, the CLI, the review service and :func:`filename` then know it. Add its tests under
``tests/exports/`` (and the hostile-text check in ``tests/exports/test_export_safety.py``).

File names come from :func:`filename` only, so the app, the CLI and the review service
spell "Zoë Łukasiewicz" the same way (``zoe-lukasiewicz``, via :func:`tailor.text.slug`).
"""

from __future__ import annotations

from tailor.errors import BadInput
from tailor.exports import csv_export, ics, json_export, markdown, pdf
from tailor.exports.common import ExportContext, ExportFile, Format
from tailor.schema import Plan
from tailor.text import slug

__all__ = ["FORMATS", "ExportContext", "ExportFile", "ExportFormat", "Format", "filename", "get_format", "render"]

ExportFormat = str
"""A format's name: a key of :data:`FORMATS` (``render`` refuses any other with ``BadInput``)."""

_REGISTERED: tuple[Format, ...] = (
    markdown.FORMAT,
    json_export.FORMAT,
    csv_export.FORMAT,
    ics.FORMAT,
    pdf.FORMAT,
)
FORMATS: dict[ExportFormat, Format] = {f.name: f for f in _REGISTERED}


def get_format(fmt: ExportFormat) -> Format:
    """The format named ``fmt``, or ``BadInput`` naming the formats there are."""
    try:
        return FORMATS[fmt]
    except KeyError:
        names = ", ".join(FORMATS)
        raise BadInput(f"unknown export format {fmt!r}: use one of {names}") from None


def filename(plan: Plan, fmt: ExportFormat, *, plan_id: int, revision: int) -> str:
    """``onboarding-plan-12-zoe-lukasiewicz-r3.csv``: plan, hire (or role), revision and extension."""
    who = slug(plan.hire.name or "") or slug(plan.hire.role) or "hire"
    return f"onboarding-plan-{plan_id}-{who}-r{revision}.{get_format(fmt).ext}"


def render(plan: Plan, ctx: ExportContext, fmt: ExportFormat) -> ExportFile:
    """The file for ``plan`` in format ``fmt``: its name, content and MIME type."""
    spec = get_format(fmt)
    name = filename(plan, fmt, plan_id=ctx.plan_id, revision=ctx.revision)
    return ExportFile(name, spec.render(plan, ctx), spec.mime)
