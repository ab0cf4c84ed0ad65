"""What the review service returns: frozen pydantic models, never ORM objects.

Callers (the Streamlit pages, the CLI, evals, scripts) get plain values they can keep,
compare and serialise, so none of them can touch the database by accident or read a
lazily loaded relation after its session has closed. Everything here is importable from
:mod:`tailor.review.service` too, where callers have always found it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tailor.schema import DraftRequest, Plan, PlanStatus, Task

RevisionReason = Literal["generated", "edited", "regenerated", "restored"]
DecisionKind = Literal["approve", "request_changes"]
IntakeStatus = Literal["pending", "failed", "used", "discarded"]


class _Out(BaseModel):
    """Frozen, so a result handed to a page cannot be changed and passed back as if it were stored."""

    model_config = ConfigDict(frozen=True)


class IntakeOut(_Out):
    """A manager's saved input for a draft. Only its manager ever sees it."""

    id: int
    manager: str
    name: str | None
    start_date: date | None
    background: str
    overrides: dict[str, Any]
    status: IntakeStatus
    error: str | None
    plan_id: int | None
    created_at: datetime
    updated_at: datetime

    def draft_request(self) -> DraftRequest:
        """The engine's input for this intake."""
        return DraftRequest(background=self.background, name=self.name, start_date=self.start_date, **self.overrides)


class PlanSummary(_Out):
    """One row of a plan list: enough to filter, label and decide what the user may do with it."""

    id: int
    hire_name: str | None
    role: str
    role_family: str
    seniority: str
    start_date: date | None
    status: PlanStatus
    manager: str
    manager_name: str
    reviewer: str | None
    reviewer_name: str | None
    revision: int
    task_count: int
    needs_review: int = Field(description="Tasks, risks and plan-level flags a human must check.")
    created_at: datetime
    updated_at: datetime


class RevisionOut(_Out):
    """One stored revision's metadata (who, when, why), without the plan it holds."""

    number: int
    author: str
    author_name: str
    author_role: str
    created_at: datetime
    reason: RevisionReason
    note: str | None
    sha256: str


class PlanDetail(_Out):
    """A plan as a page opens it: its summary, its current revision and the list of revisions."""

    summary: PlanSummary
    plan: Plan = Field(description="The current revision, with ``status`` set to the plan's status.")
    revisions: list[RevisionOut]

    @property
    def id(self) -> int:
        return self.summary.id

    @property
    def revision(self) -> int:
        return self.summary.revision

    @property
    def status(self) -> PlanStatus:
        return self.summary.status


class RevisionSnapshot(_Out):
    """An older revision exactly as it was stored."""

    revision: RevisionOut
    plan: Plan


class CommentOut(_Out):
    """A comment on a plan (``task_id`` None) or on one task of the revision it was written on."""

    id: int
    plan_id: int
    task_id: str | None
    revision: int
    author: str
    author_name: str
    author_role: str
    text: str
    created_at: datetime


class DecisionOut(_Out):
    """An HR decision on one revision: approved, or sent back with a reason."""

    id: int
    plan_id: int
    decision: DecisionKind
    reason: str
    reviewer: str
    reviewer_name: str
    revision: int
    created_at: datetime


class AuditEventOut(_Out):
    """One audit entry. States are kept as hashes, so the log proves what changed without copying it."""

    id: int
    at: datetime
    actor: str
    action: str
    entity_type: str
    entity_id: str
    plan_id: int | None
    before_sha256: str | None
    after_sha256: str | None
    detail: dict[str, Any]


class PlanHistory(_Out):
    """Everything that happened to a plan, oldest first, for the History tab and ``tailor plans history``."""

    plan_id: int
    revisions: list[RevisionOut]
    decisions: list[DecisionOut]
    comments: list[CommentOut]
    audit: list[AuditEventOut]


class FieldChange(_Out):
    """One changed field, by dotted path (``targets.first_pr_day``)."""

    path: str
    before: Any = None
    after: Any = None


class TaskChange(_Out):
    """The changed fields of one task that is in both revisions."""

    task_id: str
    title: str
    changes: list[FieldChange]


class RevisionDiff(_Out):
    """What changed between two revisions: tasks added, removed and changed, and the rest of the plan."""

    plan_id: int
    a: int
    b: int
    added: list[Task]
    removed: list[Task]
    changed: list[TaskChange]
    plan_changes: list[FieldChange] = Field(description="Changes outside the tasks (summary, targets, ...).")

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.plan_changes)
