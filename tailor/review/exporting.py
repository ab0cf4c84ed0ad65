"""Exports of a stored plan: who may export, which revision, and the audit entry for each file.

The file formats themselves are :mod:`tailor.exports`; this module gathers what they
need from the database (the revision, who manages and reviewed it, who approved that
exact revision) and records every export with the SHA-256 of the bytes handed out.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from tailor.exports import FORMATS, ExportContext, ExportFile, get_format, render
from tailor.review.acting import Part
from tailor.review.permissions import Action
from tailor.review.rows import revision_plan, with_status
from tailor.review.users import UserOut
from tailor.store.records import DecisionRecord, utcnow

EXPORT_FORMATS: tuple[str, ...] = tuple(FORMATS)
"""The registered formats (``tailor.exports.FORMATS``), for callers that list them."""


class Exports(Part):
    """Render a plan's revision as a file and audit it."""

    def export(self, user: UserOut, plan_id: int, fmt: str, revision: int | None = None) -> ExportFile:
        """Render the plan (current revision unless ``revision``) as markdown, json, csv, ics or pdf."""
        get_format(fmt)  # an unknown format is refused before anything is read
        with self._reading(user) as op:
            row = op.plan(plan_id, Action.READ)
            number = row.current_revision if revision is None else revision
            plan = with_status(revision_plan(op.s, plan_id, number), row.status)
            approval = op.s.scalar(
                select(DecisionRecord)
                .where(DecisionRecord.plan_id == plan_id, DecisionRecord.decision == "approve")
                .where(DecisionRecord.revision == number)
                .order_by(DecisionRecord.id.desc())
            )
            context = ExportContext(
                plan_id=row.id,
                status=row.status,
                revision=number,
                current_revision=row.current_revision,
                manager=row.manager.display_name,
                reviewer=row.reviewer.display_name if row.reviewer else None,
                approved_by=approval.reviewer.display_name if approval else None,
                approved_at=approval.created_at if approval else None,
                generated_at=utcnow(),
            )
        # Rendered outside any transaction: a PDF takes long enough to matter to other writers.
        result = render(plan, context, fmt)
        digest = hashlib.sha256(result.content).hexdigest()
        with self._writing(user) as op:
            detail = {"format": fmt, "revision": number, "sha256": digest}
            op.audit("plan.export", "plan", plan_id, plan_id=plan_id, detail=detail)
        return result
