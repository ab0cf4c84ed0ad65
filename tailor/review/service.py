"""The review service: drafts, revisions, comments, decisions, history and exports.

Every operation takes the acting user (a :class:`tailor.review.auth.UserOut`), re-reads that
user from the database (so a caller cannot claim a role it does not have, and a
deactivated account stops working at once), checks the role, and runs in exactly
one transaction together with its audit entry. Results are pydantic models, never
ORM objects, so callers (Streamlit, the CLI, evals) cannot touch the database by
accident.

Lifecycle::

    draft --submit--> in_review --approve--> approved
                          |  ^                   |
          request_changes |  | submit            | any edit (new revision)
                          v  |                   v
                   changes_requested          in_review

Edits never change the status except that an edit of an approved plan returns it to
``in_review``. Illegal moves raise :class:`tailor.errors.IllegalTransition`.

Who may do what (``tests/review/test_roles.py`` checks every cell):

=====================================  ===========  ===============  ============  =====
operation                              manager,     manager,         hr            admin
                                       own plan     someone else's
=====================================  ===========  ===============  ============  =====
save_intake / list_intakes / drafts    yes          --               no            no
list_plans                             own only     --               all           all
get_plan, get_revision, history,       yes          no               yes           yes
list_comments, list_decisions,
diff_revisions, export
get_background                         yes          no               yes           no
save_revision, restore_revision        yes          no               yes [1]       no
submit                                 yes          no               no            no
approve                                no           no               yes [2]       no
request_changes                        no           no               yes           no
comment                                yes          no               yes           no
assign_reviewer                        no           no               yes           yes
audit_log(plan_id)                     yes          no               yes           yes
audit_log() (everything)               no           no               yes           yes
=====================================  ===========  ===============  ============  =====

[1] not while the plan is still a draft with its manager.
[2] four-eyes: never when you authored the latest revision.

Optimistic locking: every change names the revision it was based on
(``expected_revision``). The plan row is locked (``SELECT ... FOR UPDATE`` on
PostgreSQL; ``BEGIN IMMEDIATE`` on SQLite, see :mod:`tailor.store.db`), checked, then
moved with ``UPDATE ... WHERE current_revision = :expected AND status = :seen``;
a unique constraint on ``(plan_id, number)`` backs that up. A stale
``expected_revision`` raises :class:`tailor.errors.Conflict` and writes nothing.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import ColumnElement, Select, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from tailor.config import Settings, get_settings
from tailor.errors import BadInput, Conflict, IllegalTransition, NotFound, PermissionDenied
from tailor.exports.formats import ExportContext, ExportFile, ExportFormat, render
from tailor.review.auth import UserOut, load_actor
from tailor.schema import DraftRequest, Plan, PlanStatus, Task
from tailor.store.db import Database, ensure_schema
from tailor.store.records import (
    AuditRecord,
    CommentRecord,
    DecisionRecord,
    HireRecord,
    IntakeRecord,
    PlanRecord,
    RevisionRecord,
    UserRecord,
    append_audit,
    utcnow,
)

RevisionReason = Literal["generated", "edited", "regenerated", "restored"]
DecisionKind = Literal["approve", "request_changes"]
IntakeStatus = Literal["pending", "failed", "used", "discarded"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("markdown", "json", "csv", "ics", "pdf")
MAX_COMMENT_CHARS = 4000
MAX_REASON_CHARS = 4000
_OVERRIDE_FIELDS = frozenset({"role", "role_family", "seniority", "years_experience", "skills", "model"})


# =========================================================================== results
class _Out(BaseModel):
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
    number: int
    author: str
    author_name: str
    author_role: str
    created_at: datetime
    reason: RevisionReason
    note: str | None
    sha256: str


class PlanDetail(_Out):
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
    revision: RevisionOut
    plan: Plan


class CommentOut(_Out):
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
    id: int
    plan_id: int
    decision: DecisionKind
    reason: str
    reviewer: str
    reviewer_name: str
    revision: int
    created_at: datetime


class AuditEventOut(_Out):
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
    plan_id: int
    revisions: list[RevisionOut]
    decisions: list[DecisionOut]
    comments: list[CommentOut]
    audit: list[AuditEventOut]


class FieldChange(_Out):
    path: str
    before: Any = None
    after: Any = None


class TaskChange(_Out):
    task_id: str
    title: str
    changes: list[FieldChange]


class RevisionDiff(_Out):
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


# =========================================================================== helpers
def _snapshot(plan: Plan) -> tuple[str, str]:
    text = plan.model_dump_json(by_alias=True)
    return text, hashlib.sha256(text.encode("utf-8")).hexdigest()


def _needs_review_count(plan: Plan) -> int:
    return (
        sum(1 for t in plan.all_tasks() if t.needs_review)
        + sum(1 for r in plan.risks if r.needs_review)
        + len(plan.review_flags)
    )


def _plan_state(row: PlanRecord) -> dict[str, object]:
    return {
        "id": row.id,
        "status": row.status,
        "revision": row.current_revision,
        "manager_id": row.manager_id,
        "reviewer_id": row.reviewer_id,
    }


def _clean_text(value: str, what: str, limit: int) -> str:
    text = (value or "").strip()
    if not text:
        raise BadInput(f"the {what} is empty; write something first")
    if len(text) > limit:
        raise BadInput(f"the {what} is {len(text)} characters; the limit is {limit}")
    return text


def _with_status(plan: Plan, status: str) -> Plan:
    copy = plan.model_copy(deep=True)
    copy.status = status  # type: ignore[assignment]  # validated by validate_assignment
    return copy


def _flatten(value: Any, prefix: str, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(item, f"{prefix}.{key}" if prefix else key, out)
    else:
        out[prefix] = value


def _changes(before: dict[str, Any], after: dict[str, Any]) -> list[FieldChange]:
    flat_a: dict[str, Any] = {}
    flat_b: dict[str, Any] = {}
    _flatten(before, "", flat_a)
    _flatten(after, "", flat_b)
    return [
        FieldChange(path=path, before=flat_a.get(path), after=flat_b.get(path))
        for path in sorted(set(flat_a) | set(flat_b))
        if flat_a.get(path) != flat_b.get(path)
    ]


# =========================================================================== the service
class ReviewService:
    """Construct once per process (``ReviewService(get_settings())``); it migrates the database."""

    def __init__(self, settings: Settings | None = None, *, db: Database | None = None) -> None:
        self.settings = settings or get_settings()
        self.db = db or ensure_schema(self.settings)

    # ------------------------------------------------------------------ intakes
    def save_intake(
        self,
        user: UserOut,
        background_text: str,
        name: str | None = None,
        start_date: date | None = None,
        overrides: dict[str, Any] | None = None,
    ) -> int:
        """Save what the manager typed, committed before any model call. Returns the intake id."""
        limit = self.settings.max_background_chars
        text = _clean_text(background_text, "background text", limit)
        extra = {k: v for k, v in (overrides or {}).items() if v is not None}
        unknown = sorted(set(extra) - _OVERRIDE_FIELDS)
        if unknown:
            raise BadInput(f"unknown override(s): {', '.join(unknown)}")
        try:
            request = DraftRequest(background=text, name=(name or None), start_date=start_date, **extra)
        except ValidationError as exc:
            raise BadInput(f"invalid draft input: {_first_error(exc)}") from None
        stored = request.model_dump(mode="json", include=set(extra))
        with self.db.write() as s:
            actor = load_actor(s, user)
            self._require_role(actor, ("manager",), "start a draft")
            row = IntakeRecord(
                manager_id=actor.id,
                name=request.name,
                start_date=request.start_date,
                background_text=text,
                overrides=stored,
                status="pending",
            )
            s.add(row)
            s.flush()
            append_audit(
                s,
                actor=actor,
                action="intake.save",
                entity_type="intake",
                entity_id=row.id,
                after={
                    "background": text,
                    "name": row.name,
                    "start_date": row.start_date,
                    "overrides": stored,
                },
                detail={"chars": len(text)},
            )
            return row.id

    def list_intakes(self, user: UserOut, *, include_closed: bool = False) -> list[IntakeOut]:
        """The manager's own intakes not yet turned into a plan (pending or failed), newest first."""
        with self.db.read() as s:
            actor = load_actor(s, user)
            self._require_role(actor, ("manager",), "list drafts in progress")
            query = select(IntakeRecord).where(IntakeRecord.manager_id == actor.id)
            if not include_closed:
                query = query.where(IntakeRecord.status.in_(("pending", "failed")))
            rows = s.scalars(query.order_by(IntakeRecord.id.desc()))
            return [self._intake_out(r, actor) for r in rows]

    def get_intake(self, user: UserOut, intake_id: int) -> IntakeOut:
        with self.db.read() as s:
            actor = load_actor(s, user)
            row = self._own_intake(s, actor, intake_id)
            return self._intake_out(row, actor)

    def record_intake_failure(self, user: UserOut, intake_id: int, error: str) -> IntakeOut:
        """Mark a generation attempt as failed; the intake stays listed so the manager can retry."""
        with self.db.write() as s:
            actor = load_actor(s, user)
            row = self._own_intake(s, actor, intake_id)
            if row.status not in ("pending", "failed"):
                raise IllegalTransition(f"intake {intake_id} is {row.status}; it cannot fail now")
            row.status = "failed"
            row.error = (error or "unknown error").strip()[:2000]
            append_audit(
                s,
                actor=actor,
                action="intake.fail",
                entity_type="intake",
                entity_id=row.id,
                detail={"error": row.error},
            )
            return self._intake_out(row, actor)

    def discard_intake(self, user: UserOut, intake_id: int) -> None:
        with self.db.write() as s:
            actor = load_actor(s, user)
            row = self._own_intake(s, actor, intake_id)
            if row.status not in ("pending", "failed"):
                raise IllegalTransition(f"intake {intake_id} is {row.status}; only open drafts can be discarded")
            row.status = "discarded"
            append_audit(s, actor=actor, action="intake.discard", entity_type="intake", entity_id=row.id)

    def create_plan_from_draft(
        self,
        user: UserOut,
        intake_id: int,
        plan: Plan,
        *,
        reason: RevisionReason = "generated",
        note: str | None = None,
    ) -> PlanDetail:
        """Store a generated plan as a new draft (revision 1) for the intake's hire."""
        with self.db.write() as s:
            actor = load_actor(s, user)
            intake = self._own_intake(s, actor, intake_id)
            if intake.status not in ("pending", "failed"):
                where = f" (plan {intake.plan_id})" if intake.plan_id else ""
                raise IllegalTransition(f"intake {intake_id} is already {intake.status}{where}")
            plan = _with_status(plan, "draft")
            if plan.hire.start_date is None and intake.start_date is not None:
                plan.hire.start_date = intake.start_date
            if plan.hire.name is None and intake.name:
                plan.hire.name = intake.name
            row = self._insert_plan(s, actor, plan, intake.background_text, reason, note)
            intake.status = "used"
            intake.plan_id = row.id
            intake.error = None
            s.flush()
            return self._detail(s, row)

    def import_plan(
        self, user: UserOut, plan: Plan, *, background_text: str | None = None, note: str | None = None
    ) -> PlanDetail:
        """Store a plan made elsewhere (a JSON file) as a new draft of the acting manager."""
        background = None
        if background_text is not None and background_text.strip():
            background = _clean_text(background_text, "background text", self.settings.max_background_chars)
        with self.db.write() as s:
            actor = load_actor(s, user)
            self._require_role(actor, ("manager",), "create plans")
            row = self._insert_plan(s, actor, _with_status(plan, "draft"), background, "generated", note)
            return self._detail(s, row)

    def _insert_plan(
        self,
        s: Session,
        actor: UserRecord,
        plan: Plan,
        background: str | None,
        reason: RevisionReason,
        note: str | None,
    ) -> PlanRecord:
        hire = HireRecord(manager_id=actor.id, background_text=background, profile={})
        self._apply_hire(hire, plan)
        s.add(hire)
        s.flush()
        text, digest = _snapshot(plan)
        now = utcnow()
        row = PlanRecord(
            hire_id=hire.id,
            manager_id=actor.id,
            status="draft",
            current_revision=1,
            task_count=len(plan.all_tasks()),
            needs_review_count=_needs_review_count(plan),
            created_at=now,
            updated_at=now,
        )
        s.add(row)
        s.flush()
        s.add(
            RevisionRecord(
                plan_id=row.id,
                number=1,
                author_id=actor.id,
                created_at=now,
                reason=reason,
                note=(note or None),
                plan_json=text,
                sha256=digest,
            )
        )
        append_audit(
            s,
            actor=actor,
            action="plan.create",
            entity_type="plan",
            entity_id=row.id,
            plan_id=row.id,
            after=_plan_state(row),
            detail={"revision": 1, "reason": reason, "revision_sha256": digest},
        )
        s.flush()
        return row

    @staticmethod
    def _apply_hire(hire: HireRecord, plan: Plan) -> None:
        profile = plan.hire
        hire.name = profile.name
        hire.role_title = profile.role
        hire.role_family = profile.role_family
        hire.seniority = profile.seniority
        hire.start_date = profile.start_date
        hire.profile = profile.model_dump(mode="json")

    # ------------------------------------------------------------------ reading plans
    def list_plans(
        self,
        user: UserOut,
        status: PlanStatus | None = None,
        manager: str | None = None,
        role: str | None = None,
        search: str | None = None,
    ) -> list[PlanSummary]:
        """Plans the user may see, most recently changed first.

        ``manager`` is a username; ``role`` matches the role family exactly or the job title
        in part; ``search`` matches the hire's name, the job title or the plan id.
        """
        with self.db.read() as s:
            actor = load_actor(s, user)
            query = self._summary_query()
            if actor.role == "manager":
                query = query.where(PlanRecord.manager_id == actor.id)
            if status:
                query = query.where(PlanRecord.status == status)
            if manager:
                query = query.where(PlanRecord.manager.has(UserRecord.username == manager.strip().lower()))
            if role:
                query = query.where(
                    or_(
                        HireRecord.role_family == role.strip().lower(),
                        HireRecord.role_title.ilike(_like(role), escape="\\"),
                    )
                )
            if search and search.strip():
                term = search.strip()
                conditions: list[ColumnElement[bool]] = [
                    HireRecord.name.ilike(_like(term), escape="\\"),
                    HireRecord.role_title.ilike(_like(term), escape="\\"),
                ]
                if term.lstrip("#").isdigit():
                    conditions.append(PlanRecord.id == int(term.lstrip("#")))
                query = query.where(or_(*conditions))
            query = query.order_by(PlanRecord.updated_at.desc(), PlanRecord.id.desc())
            return [self._summary_from_row(p, h, m, r) for p, h, m, r in s.execute(query).all()]

    def list_reviewers(self, user: UserOut) -> list[UserOut]:
        """Active HR users (whom a plan can be assigned to)."""
        with self.db.read() as s:
            load_actor(s, user)
            rows = s.scalars(
                select(UserRecord)
                .where(UserRecord.role == "hr", UserRecord.active.is_(True))
                .order_by(UserRecord.username)
            )
            return [UserOut.of(r) for r in rows]

    def get_plan(self, user: UserOut, plan_id: int) -> PlanDetail:
        with self.db.read() as s:
            actor = load_actor(s, user)
            row = self._plan(s, plan_id)
            self._require_read(actor, row)
            return self._detail(s, row)

    def get_revision(self, user: UserOut, plan_id: int, number: int) -> RevisionSnapshot:
        with self.db.read() as s:
            actor = load_actor(s, user)
            row = self._plan(s, plan_id)
            self._require_read(actor, row)
            rev = self._revision(s, plan_id, number)
            return RevisionSnapshot(revision=self._revision_out(rev), plan=Plan.model_validate_json(rev.plan_json))

    def get_background(self, user: UserOut, plan_id: int) -> str | None:
        """The hire's original background text: their manager and HR only. Each read is audited."""
        with self.db.write() as s:
            actor = load_actor(s, user)
            row = self._plan(s, plan_id)
            if actor.role == "admin":
                raise PermissionDenied("admins cannot read a hire's background text; ask HR or the manager")
            self._require_read(actor, row)
            append_audit(
                s,
                actor=actor,
                action="hire.background_read",
                entity_type="hire",
                entity_id=row.hire_id,
                plan_id=row.id,
            )
            return row.hire.background_text

    # ------------------------------------------------------------------ changing plans
    def save_revision(
        self,
        user: UserOut,
        plan_id: int,
        plan: Plan,
        expected_revision: int,
        reason: RevisionReason = "edited",
        note: str | None = None,
    ) -> PlanDetail:
        """Store an edited plan as the next revision, if nobody saved since ``expected_revision``."""
        with self.db.write() as s:
            actor = load_actor(s, user)
            row = self._plan(s, plan_id, for_update=True)
            self._require_editor(actor, row)
            self._require_revision(row, expected_revision)
            new_status = "in_review" if row.status == "approved" else row.status
            self._append_revision(s, actor, row, plan, expected_revision, new_status, reason, note)
            return self._detail(s, row)

    def restore_revision(
        self, user: UserOut, plan_id: int, number: int, expected_revision: int, note: str | None = None
    ) -> PlanDetail:
        """Make an old revision current again, as a new revision (history is never rewritten)."""
        with self.db.write() as s:
            actor = load_actor(s, user)
            row = self._plan(s, plan_id, for_update=True)
            self._require_editor(actor, row)
            self._require_revision(row, expected_revision)
            old = self._revision(s, plan_id, number)
            plan = Plan.model_validate_json(old.plan_json)
            new_status = "in_review" if row.status == "approved" else row.status
            self._append_revision(
                s,
                actor,
                row,
                plan,
                expected_revision,
                new_status,
                "restored",
                note or f"restored revision {number}",
            )
            return self._detail(s, row)

    def _append_revision(
        self,
        s: Session,
        actor: UserRecord,
        row: PlanRecord,
        plan: Plan,
        expected: int,
        new_status: str,
        reason: RevisionReason,
        note: str | None,
    ) -> None:
        before = _plan_state(row)
        plan = _with_status(plan, new_status)
        text, digest = _snapshot(plan)
        number = expected + 1
        now = utcnow()
        self._cas(
            s,
            row,
            expected,
            current_revision=number,
            status=new_status,
            updated_at=now,
            task_count=len(plan.all_tasks()),
            needs_review_count=_needs_review_count(plan),
        )
        self._apply_hire(row.hire, plan)
        s.add(
            RevisionRecord(
                plan_id=row.id,
                number=number,
                author_id=actor.id,
                created_at=now,
                reason=reason,
                note=(note or "").strip() or None,
                plan_json=text,
                sha256=digest,
            )
        )
        try:
            s.flush()
        except IntegrityError:
            # Only reachable if the row lock and conditional UPDATE were bypassed; the unique
            # constraint still refuses a second revision with the same number.
            raise self._conflict(row.id, expected, number) from None
        append_audit(
            s,
            actor=actor,
            action="plan.restore" if reason == "restored" else "plan.revise",
            entity_type="plan",
            entity_id=row.id,
            plan_id=row.id,
            before=before,
            after=_plan_state(row),
            detail={"revision": number, "reason": reason, "revision_sha256": digest, "status": new_status},
        )

    def submit(self, user: UserOut, plan_id: int, expected_revision: int) -> PlanSummary:
        """The manager hands the plan to HR: draft or changes_requested -> in_review."""
        with self.db.write() as s:
            actor = load_actor(s, user)
            row = self._plan(s, plan_id, for_update=True)
            self._require_owner(actor, row, "submit")
            self._require_revision(row, expected_revision)
            if row.status == "in_review":
                raise IllegalTransition(f"plan {plan_id} is already in review")
            if row.status == "approved":
                raise IllegalTransition(f"plan {plan_id} is approved; only an edit can reopen it")
            if row.task_count == 0:
                raise BadInput(f"plan {plan_id} has no tasks; add at least one before submitting")
            before = _plan_state(row)
            self._cas(s, row, expected_revision, status="in_review", updated_at=utcnow())
            append_audit(
                s,
                actor=actor,
                action="plan.submit",
                entity_type="plan",
                entity_id=row.id,
                plan_id=row.id,
                before=before,
                after=_plan_state(row),
                detail={"revision": row.current_revision, "from": before["status"], "to": "in_review"},
            )
            return self._summary(s, row)

    def approve(self, user: UserOut, plan_id: int, expected_revision: int, reason: str) -> PlanSummary:
        """HR approves the exact revision they reviewed. Nobody approves their own revision."""
        return self._decide(user, plan_id, expected_revision, reason, "approve")

    def request_changes(self, user: UserOut, plan_id: int, expected_revision: int, reason: str) -> PlanSummary:
        """HR sends the plan back to its manager with a reason."""
        return self._decide(user, plan_id, expected_revision, reason, "request_changes")

    def _decide(self, user: UserOut, plan_id: int, expected: int, reason: str, decision: DecisionKind) -> PlanSummary:
        what = "approve plans" if decision == "approve" else "request changes"
        text = _clean_text(reason, "reason", MAX_REASON_CHARS)
        with self.db.write() as s:
            actor = load_actor(s, user)
            self._require_role(actor, ("hr",), what)
            row = self._plan(s, plan_id, for_update=True)
            self._require_revision(row, expected)
            if row.status != "in_review":
                raise IllegalTransition(_not_in_review(plan_id, row.status, decision))
            if decision == "approve":
                latest = self._revision(s, plan_id, row.current_revision)
                if latest.author_id == actor.id:
                    raise PermissionDenied(
                        f"you wrote revision {latest.number} of plan {plan_id}; another HR reviewer must "
                        "approve it (four-eyes rule)"
                    )
            before = _plan_state(row)
            new_status = "approved" if decision == "approve" else "changes_requested"
            values: dict[str, object] = {"status": new_status, "updated_at": utcnow()}
            if row.reviewer_id is None:
                values["reviewer_id"] = actor.id
            self._cas(s, row, expected, **values)
            s.add(
                DecisionRecord(
                    plan_id=row.id,
                    decision=decision,
                    reason=text,
                    reviewer_id=actor.id,
                    revision=row.current_revision,
                    created_at=utcnow(),
                )
            )
            append_audit(
                s,
                actor=actor,
                action=f"plan.{decision}",
                entity_type="plan",
                entity_id=row.id,
                plan_id=row.id,
                before=before,
                after=_plan_state(row),
                detail={"revision": row.current_revision, "reason": text, "to": new_status},
            )
            s.flush()
            return self._summary(s, row)

    def assign_reviewer(self, user: UserOut, plan_id: int, reviewer: str | None) -> PlanSummary:
        """Assign (or with ``None`` clear) the HR reviewer of a plan. HR and admins."""
        with self.db.write() as s:
            actor = load_actor(s, user)
            self._require_role(actor, ("hr", "admin"), "assign reviewers")
            row = self._plan(s, plan_id, for_update=True)
            reviewer_row = None
            if reviewer is not None:
                reviewer_row = s.scalar(select(UserRecord).where(UserRecord.username == reviewer.strip().lower()))
                if reviewer_row is None:
                    raise NotFound(f"no user named {reviewer!r}")
                if reviewer_row.role != "hr" or not reviewer_row.active:
                    raise BadInput(f"{reviewer_row.username} is not an active HR user; only HR can review")
            before = _plan_state(row)
            row.reviewer_id = reviewer_row.id if reviewer_row else None
            row.updated_at = utcnow()
            s.flush()
            append_audit(
                s,
                actor=actor,
                action="plan.assign_reviewer",
                entity_type="plan",
                entity_id=row.id,
                plan_id=row.id,
                before=before,
                after=_plan_state(row),
                detail={"reviewer": reviewer_row.username if reviewer_row else None},
            )
            return self._summary(s, row)

    # ------------------------------------------------------------------ comments
    def comment(self, user: UserOut, plan_id: int, text: str, task_id: str | None = None) -> CommentOut:
        """Comment on a plan, or on one task of its current revision."""
        body = _clean_text(text, "comment", MAX_COMMENT_CHARS)
        with self.db.write() as s:
            actor = load_actor(s, user)
            row = self._plan(s, plan_id)
            if actor.role == "admin":
                raise PermissionDenied("admins cannot comment on plans; HR and the hire's manager can")
            self._require_read(actor, row)
            if task_id is not None:
                task_id = task_id.strip()
                current = Plan.model_validate_json(self._revision(s, plan_id, row.current_revision).plan_json)
                if task_id not in {t.id for t in current.all_tasks()}:
                    raise BadInput(f"plan {plan_id} has no task {task_id!r} in revision {row.current_revision}")
            comment = CommentRecord(
                plan_id=row.id,
                task_id=task_id or None,
                revision=row.current_revision,
                author_id=actor.id,
                text=body,
                created_at=utcnow(),
            )
            s.add(comment)
            s.flush()
            append_audit(
                s,
                actor=actor,
                action="plan.comment",
                entity_type="comment",
                entity_id=comment.id,
                plan_id=row.id,
                after={"text": body, "task_id": comment.task_id, "revision": comment.revision},
                detail={"task_id": comment.task_id},
            )
            return self._comment_out(comment)

    def list_comments(self, user: UserOut, plan_id: int, task_id: str | None = None) -> list[CommentOut]:
        with self.db.read() as s:
            actor = load_actor(s, user)
            self._require_read(actor, self._plan(s, plan_id))
            query = select(CommentRecord).where(CommentRecord.plan_id == plan_id)
            if task_id is not None:
                query = query.where(CommentRecord.task_id == task_id)
            return [self._comment_out(c) for c in s.scalars(query.order_by(CommentRecord.id))]

    def list_decisions(self, user: UserOut, plan_id: int) -> list[DecisionOut]:
        with self.db.read() as s:
            actor = load_actor(s, user)
            self._require_read(actor, self._plan(s, plan_id))
            return self._decisions(s, plan_id)

    # ------------------------------------------------------------------ history
    def history(self, user: UserOut, plan_id: int) -> PlanHistory:
        """Everything that happened to a plan, oldest first."""
        with self.db.read() as s:
            actor = load_actor(s, user)
            row = self._plan(s, plan_id)
            self._require_read(actor, row)
            comments = s.scalars(
                select(CommentRecord).where(CommentRecord.plan_id == plan_id).order_by(CommentRecord.id)
            )
            return PlanHistory(
                plan_id=plan_id,
                revisions=self._revisions(s, plan_id),
                decisions=self._decisions(s, plan_id),
                comments=[self._comment_out(c) for c in comments],
                audit=self._audit(s, plan_id, limit=None),
            )

    def audit_log(self, user: UserOut, plan_id: int | None = None, limit: int | None = 1000) -> list[AuditEventOut]:
        """Audit events of one plan (anyone who can read it) or of everything (HR and admins)."""
        with self.db.read() as s:
            actor = load_actor(s, user)
            if plan_id is None:
                self._require_role(actor, ("hr", "admin"), "read the whole audit log")
            else:
                self._require_read(actor, self._plan(s, plan_id))
            return self._audit(s, plan_id, limit=limit)

    def diff_revisions(self, user: UserOut, plan_id: int, a: int, b: int) -> RevisionDiff:
        """What changed from revision ``a`` to revision ``b``, task by task and field by field."""
        with self.db.read() as s:
            actor = load_actor(s, user)
            self._require_read(actor, self._plan(s, plan_id))
            plan_a = Plan.model_validate_json(self._revision(s, plan_id, a).plan_json)
            plan_b = Plan.model_validate_json(self._revision(s, plan_id, b).plan_json)
        return diff_plans(plan_id, a, b, plan_a, plan_b)

    # ------------------------------------------------------------------ exports
    def export(self, user: UserOut, plan_id: int, fmt: str, revision: int | None = None) -> ExportFile:
        """Render the plan (current revision unless ``revision``) as markdown, json, csv, ics or pdf."""
        if fmt not in EXPORT_FORMATS:
            raise BadInput(f"unknown export format {fmt!r}: use one of {', '.join(EXPORT_FORMATS)}")
        with self.db.read() as s:
            actor = load_actor(s, user)
            row = self._plan(s, plan_id)
            self._require_read(actor, row)
            number = row.current_revision if revision is None else revision
            plan = _with_status(Plan.model_validate_json(self._revision(s, plan_id, number).plan_json), row.status)
            approval = s.scalar(
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
        with self.db.write() as s:
            append_audit(
                s,
                actor=load_actor(s, user),
                action="plan.export",
                entity_type="plan",
                entity_id=plan_id,
                plan_id=plan_id,
                detail={
                    "format": fmt,
                    "revision": number,
                    "sha256": hashlib.sha256(result.content).hexdigest(),
                },
            )
        return result

    # ------------------------------------------------------------------ permission checks
    @staticmethod
    def _require_role(actor: UserRecord, roles: tuple[str, ...], what: str) -> None:
        if actor.role not in roles:
            allowed = " or ".join(roles)
            raise PermissionDenied(f"only {allowed} users can {what} (you are {actor.username}, {actor.role})")

    @staticmethod
    def _require_read(actor: UserRecord, row: PlanRecord) -> None:
        if actor.role == "manager" and row.manager_id != actor.id:
            raise PermissionDenied(f"plan {row.id} belongs to another manager")

    @staticmethod
    def _require_owner(actor: UserRecord, row: PlanRecord, what: str) -> None:
        if actor.role != "manager":
            raise PermissionDenied(f"only the hire's manager can {what} plan {row.id} (you are {actor.role})")
        if row.manager_id != actor.id:
            raise PermissionDenied(f"plan {row.id} belongs to another manager")

    @staticmethod
    def _require_editor(actor: UserRecord, row: PlanRecord) -> None:
        if actor.role == "manager":
            if row.manager_id != actor.id:
                raise PermissionDenied(f"plan {row.id} belongs to another manager")
            return
        if actor.role == "hr":
            if row.status == "draft":
                raise PermissionDenied(
                    f"plan {row.id} is still a draft with its manager; HR can edit it once it is submitted"
                )
            return
        raise PermissionDenied(f"admins cannot edit plans (plan {row.id}); HR and the hire's manager can")

    @staticmethod
    def _require_revision(row: PlanRecord, expected: int) -> None:
        if row.current_revision != expected:
            raise ReviewService._conflict(row.id, expected, row.current_revision)

    @staticmethod
    def _conflict(plan_id: int, expected: int, now: int) -> Conflict:
        return Conflict(
            f"plan {plan_id} changed since you opened it (revision {expected} is now {now}); "
            "reload and reapply your edit"
        )

    def _cas(self, s: Session, row: PlanRecord, expected: int, **values: object) -> None:
        """Compare-and-set the plan row on (revision, status) as seen under the lock."""
        seen_status = row.status
        result = s.execute(
            update(PlanRecord)
            .where(
                PlanRecord.id == row.id,
                PlanRecord.current_revision == expected,
                PlanRecord.status == seen_status,
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]  # CursorResult at runtime
            s.expire(row)
            raise self._conflict(row.id, expected, row.current_revision)
        s.expire(row)

    # ------------------------------------------------------------------ loading
    @staticmethod
    def _plan(s: Session, plan_id: int, *, for_update: bool = False) -> PlanRecord:
        query = select(PlanRecord).where(PlanRecord.id == plan_id)
        if for_update:
            query = query.with_for_update(of=PlanRecord)
        row = s.scalar(query)
        if row is None:
            raise NotFound(f"no plan with id {plan_id}")
        return row

    @staticmethod
    def _revision(s: Session, plan_id: int, number: int) -> RevisionRecord:
        rev = s.scalar(select(RevisionRecord).where(RevisionRecord.plan_id == plan_id, RevisionRecord.number == number))
        if rev is None:
            raise NotFound(f"plan {plan_id} has no revision {number}")
        return rev

    @staticmethod
    def _own_intake(s: Session, actor: UserRecord, intake_id: int) -> IntakeRecord:
        row = s.get(IntakeRecord, intake_id)
        if row is None:
            raise NotFound(f"no draft input with id {intake_id}")
        if actor.role != "manager" or row.manager_id != actor.id:
            raise PermissionDenied(f"draft input {intake_id} belongs to another user")
        return row

    @staticmethod
    def _summary_query() -> Select[PlanRecord, HireRecord, UserRecord, UserRecord]:
        manager = aliased(UserRecord)
        reviewer = aliased(UserRecord)
        return (
            select(PlanRecord, HireRecord, manager, reviewer)
            .join(HireRecord, HireRecord.id == PlanRecord.hire_id)
            .join(manager, manager.id == PlanRecord.manager_id)
            .outerjoin(reviewer, reviewer.id == PlanRecord.reviewer_id)
        )

    @staticmethod
    def _summary_from_row(
        row: PlanRecord, hire: HireRecord, manager: UserRecord, reviewer: UserRecord | None
    ) -> PlanSummary:
        return PlanSummary(
            id=row.id,
            hire_name=hire.name,
            role=hire.role_title,
            role_family=hire.role_family,
            seniority=hire.seniority,
            start_date=hire.start_date,
            status=row.status,
            manager=manager.username,
            manager_name=manager.display_name,
            reviewer=reviewer.username if reviewer else None,
            reviewer_name=reviewer.display_name if reviewer else None,
            revision=row.current_revision,
            task_count=row.task_count,
            needs_review=row.needs_review_count,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    def _summary(self, s: Session, row: PlanRecord) -> PlanSummary:
        s.refresh(row)
        return self._summary_from_row(row, row.hire, row.manager, row.reviewer)

    def _detail(self, s: Session, row: PlanRecord) -> PlanDetail:
        summary = self._summary(s, row)
        rev = self._revision(s, row.id, row.current_revision)
        plan = _with_status(Plan.model_validate_json(rev.plan_json), row.status)
        return PlanDetail(summary=summary, plan=plan, revisions=self._revisions(s, row.id))

    def _revisions(self, s: Session, plan_id: int) -> list[RevisionOut]:
        rows = s.scalars(
            select(RevisionRecord).where(RevisionRecord.plan_id == plan_id).order_by(RevisionRecord.number)
        )
        return [self._revision_out(r) for r in rows]

    @staticmethod
    def _revision_out(rev: RevisionRecord) -> RevisionOut:
        return RevisionOut(
            number=rev.number,
            author=rev.author.username,
            author_name=rev.author.display_name,
            author_role=rev.author.role,
            created_at=rev.created_at,
            reason=rev.reason,
            note=rev.note,
            sha256=rev.sha256,
        )

    @staticmethod
    def _decisions(s: Session, plan_id: int) -> list[DecisionOut]:
        rows = s.scalars(select(DecisionRecord).where(DecisionRecord.plan_id == plan_id).order_by(DecisionRecord.id))
        return [
            DecisionOut(
                id=d.id,
                plan_id=d.plan_id,
                decision=d.decision,
                reason=d.reason,
                reviewer=d.reviewer.username,
                reviewer_name=d.reviewer.display_name,
                revision=d.revision,
                created_at=d.created_at,
            )
            for d in rows
        ]

    @staticmethod
    def _comment_out(c: CommentRecord) -> CommentOut:
        return CommentOut(
            id=c.id,
            plan_id=c.plan_id,
            task_id=c.task_id,
            revision=c.revision,
            author=c.author.username,
            author_name=c.author.display_name,
            author_role=c.author.role,
            text=c.text,
            created_at=c.created_at,
        )

    @staticmethod
    def _audit(s: Session, plan_id: int | None, *, limit: int | None) -> list[AuditEventOut]:
        query = select(AuditRecord).order_by(AuditRecord.id)
        if plan_id is not None:
            query = query.where(AuditRecord.plan_id == plan_id)
        elif limit is not None:
            # The newest ``limit`` events, still returned oldest first.
            newest = select(AuditRecord.id).order_by(AuditRecord.id.desc()).limit(limit).subquery()
            query = query.where(AuditRecord.id.in_(select(newest.c.id)))
        return [
            AuditEventOut(
                id=a.id,
                at=a.at,
                actor=a.actor_username,
                action=a.action,
                entity_type=a.entity_type,
                entity_id=a.entity_id,
                plan_id=a.plan_id,
                before_sha256=a.before_sha256,
                after_sha256=a.after_sha256,
                detail=a.detail or {},
            )
            for a in s.scalars(query)
        ]

    @staticmethod
    def _intake_out(row: IntakeRecord, manager: UserRecord) -> IntakeOut:
        return IntakeOut(
            id=row.id,
            manager=manager.username,
            name=row.name,
            start_date=row.start_date,
            background=row.background_text,
            overrides=dict(row.overrides or {}),
            status=row.status,
            error=row.error,
            plan_id=row.plan_id,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


# =========================================================================== pure helpers
def diff_plans(plan_id: int, a: int, b: int, plan_a: Plan, plan_b: Plan) -> RevisionDiff:
    """A structured diff of two plans: tasks by id, fields by dotted path."""

    def tasks(plan: Plan) -> dict[str, tuple[str, Task]]:
        return {t.id: (phase.name, t) for phase in plan.phases for t in phase.tasks}

    tasks_a, tasks_b = tasks(plan_a), tasks(plan_b)
    added = [tasks_b[i][1] for i in tasks_b if i not in tasks_a]
    removed = [tasks_a[i][1] for i in tasks_a if i not in tasks_b]
    changed: list[TaskChange] = []
    for task_id in (i for i in tasks_b if i in tasks_a):
        (phase_a, task_a), (phase_b, task_b) = tasks_a[task_id], tasks_b[task_id]
        fields = _changes(
            {"phase": phase_a, **task_a.model_dump(mode="json")},
            {"phase": phase_b, **task_b.model_dump(mode="json")},
        )
        if fields:
            changed.append(TaskChange(task_id=task_id, title=task_b.title, changes=fields))

    def rest(plan: Plan) -> dict[str, Any]:
        data = plan.model_dump(mode="json", by_alias=True, exclude={"status"})
        data["phases"] = [{k: v for k, v in p.items() if k != "tasks"} for p in data["phases"]]
        return data

    return RevisionDiff(
        plan_id=plan_id,
        a=a,
        b=b,
        added=added,
        removed=removed,
        changed=changed,
        plan_changes=_changes(rest(plan_a), rest(plan_b)),
    )


def _like(term: str) -> str:
    escaped = term.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err.get("loc", ())) or "input"
    return f"{where}: {err.get('msg', 'invalid')}"


def _not_in_review(plan_id: int, status: str, decision: DecisionKind) -> str:
    verb = "approved" if decision == "approve" else "sent back"
    if status == "draft":
        return f"plan {plan_id} is a draft; its manager must submit it before it can be {verb}"
    if status == "changes_requested":
        return f"plan {plan_id} is waiting for changes from its manager; it must be resubmitted first"
    if status == "approved":
        if decision == "approve":
            return f"plan {plan_id} is already approved"
        return f"plan {plan_id} is approved; only an edit can reopen it"
    return f"plan {plan_id} is {status}; it cannot be {verb}"
