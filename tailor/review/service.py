"""The review service: one object the pages, the CLI, evals and scripts call.

:class:`ReviewService` is assembled from parts, one per job, each in its own module of
:mod:`tailor.review`; a method is written once, in the part that does the job:

===============  ===============================================================
module           job (methods)
===============  ===============================================================
``intakes``      drafts in progress, saved before any model call (save_intake,
                 list_intakes, get_intake, update_intake, record_intake_failure,
                 discard_intake)
``plans``        plans and revisions (create_plan_from_draft, replace_draft,
                 import_plan, list_plans, list_reviewers, get_plan, get_revision,
                 get_background, diff_revisions, save_revision, restore_revision,
                 mark_seen)
``lifecycle``    the status machine (submit, approve, request_changes,
                 assign_reviewer, list_decisions)
``comments``     comments on a plan or a task (comment, list_comments)
``audit``        a plan's history and the audit log (history, audit_log)
``exporting``    exports of a stored revision, each one audited (export)
``inbox``        what happened that the user should act on, from the audit log
                 (inbox, mark_inbox_read)
===============  ===============================================================

and what they share: ``permissions`` (who may do what to which plan, and when: the one
table the pages ask too), ``acting`` (the preamble of every call: one transaction, the
acting user re-read from the database, the permission check; and the optimistic lock),
``rows`` (loading plans and revisions), ``results`` (what the methods return: frozen
pydantic models, never ORM rows) and ``diff``.

Every operation takes the acting user (a :class:`tailor.review.users.UserOut`) and runs in
exactly one transaction together with its audit entry (an export reads, renders outside
any transaction, then audits). ``tests/review/test_roles.py`` calls every public method
as every kind of user. The results, ``diff_plans`` and the limits are importable from
here, as they always were.
"""

from __future__ import annotations

from tailor.config import Settings, get_settings
from tailor.review.audit import Audit
from tailor.review.comments import MAX_COMMENT_CHARS, Comments
from tailor.review.diff import diff_plans
from tailor.review.exporting import EXPORT_FORMATS, Exports
from tailor.review.inbox import Inbox, InboxItem, InboxOut
from tailor.review.intakes import Intakes
from tailor.review.lifecycle import MAX_REASON_CHARS, Lifecycle
from tailor.review.plans import Plans
from tailor.review.results import (
    AuditEventOut,
    CommentOut,
    DecisionKind,
    DecisionOut,
    FieldChange,
    IntakeOut,
    IntakeStatus,
    PlanDetail,
    PlanHistory,
    PlanSummary,
    RevisionDiff,
    RevisionOut,
    RevisionReason,
    RevisionSnapshot,
    TaskChange,
)
from tailor.store.db import Database, ensure_schema

__all__ = [
    "EXPORT_FORMATS",
    "MAX_COMMENT_CHARS",
    "MAX_REASON_CHARS",
    "AuditEventOut",
    "CommentOut",
    "DecisionKind",
    "DecisionOut",
    "FieldChange",
    "InboxItem",
    "InboxOut",
    "IntakeOut",
    "IntakeStatus",
    "PlanDetail",
    "PlanHistory",
    "PlanSummary",
    "ReviewService",
    "RevisionDiff",
    "RevisionOut",
    "RevisionReason",
    "RevisionSnapshot",
    "TaskChange",
    "diff_plans",
]


class ReviewService(Intakes, Plans, Lifecycle, Comments, Audit, Exports, Inbox):
    """Construct once per process (``ReviewService(get_settings())``); it migrates the database.

    Made of the parts, so each public method is written once, with its signature, in the
    module that does that job (the table above says which).
    """

    def __init__(self, settings: Settings | None = None, *, db: Database | None = None) -> None:
        settings = settings or get_settings()
        super().__init__(db or ensure_schema(settings), settings)
