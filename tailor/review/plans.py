"""Plans and their revisions: create, list, read, edit, restore and compare.

A plan is a row (status, current revision, counts) plus an append-only list of
revisions, each an exact JSON snapshot with its SHA-256. History is never rewritten: an
edit and a restore both add a revision, through the optimistic lock in
:mod:`tailor.review.acting`. Edits never change the status, except that an edit of an
approved plan returns it to ``in_review`` (the ``edit`` row of the permissions table).

Generate is idempotent per intake: a second draft from the same input either replaces the
plan made from it (:meth:`Plans.replace_draft`, a ``regenerated`` revision) or is kept beside
it (``keep_existing=True``); a plain repeat raises :class:`~tailor.review.intakes.AlreadyDrafted`.

What each user has seen of a plan (:meth:`Plans.mark_seen`) is read from the audit log: a
``plan.view`` entry per revision they opened (entity ``plan``; like the inbox's read marks it
leaves ``plan_id`` empty, so the plan's own history does not fill up with who looked at it),
and the revisions they wrote or decided on. The History tab's "since you last looked" starts there.
"""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tailor.errors import BadInput, IllegalTransition
from tailor.review.acting import Operation, Part, cas, conflict, require_revision
from tailor.review.diff import diff_plans
from tailor.review.intakes import OPEN, AlreadyDrafted, own_intake
from tailor.review.permissions import Action, Grant, grant, next_status
from tailor.review.results import PlanDetail, PlanSummary, RevisionDiff, RevisionReason, RevisionSnapshot
from tailor.review.rows import (
    clean_text,
    detail,
    load_revision,
    needs_review_count,
    plan_state,
    revision_out,
    revision_plan,
    snapshot,
    summary_from_row,
    summary_query,
    with_status,
)
from tailor.review.users import UserOut
from tailor.schema import Plan, PlanStatus
from tailor.store.records import (
    AuditRecord,
    DecisionRecord,
    HireRecord,
    IntakeRecord,
    PlanRecord,
    RevisionRecord,
    UserRecord,
    utcnow,
)

VIEWED: Final = "plan.view"  # the audit action that records a user opening a revision


class Plans(Part):
    """Plan storage and revisions; the status moves are in :mod:`tailor.review.lifecycle`."""

    # ------------------------------------------------------------------ creating
    def create_plan_from_draft(
        self,
        user: UserOut,
        intake_id: int,
        plan: Plan,
        *,
        reason: RevisionReason = "generated",
        note: str | None = None,
        keep_existing: bool = False,
    ) -> PlanDetail:
        """Store a generated plan as a new draft (revision 1) for the intake's hire.

        Once a plan was made from the intake, another one is made only with ``keep_existing``
        (the manager chose "keep both"); otherwise :class:`AlreadyDrafted` names the plan, so a
        repeated Generate never makes a silent duplicate. The intake then points at the newest plan.
        """
        with self._writing(user) as op:
            intake = own_intake(op, intake_id)
            earlier = intake.plan_id if intake.status == "used" else None
            if earlier is not None and not keep_existing:
                raise AlreadyDrafted(intake_id, earlier)
            if intake.status not in OPEN and earlier is None:
                raise IllegalTransition(f"intake {intake_id} is already {intake.status}")
            plan = _with_intake_details(with_status(plan, "draft"), intake)
            origin: dict[str, Any] = {"intake": intake_id}
            if earlier is not None:
                origin["kept_beside"] = earlier
            row = _insert_plan(op, plan, intake.background_text, reason, note, origin)
            intake.status = "used"
            intake.plan_id = row.id
            intake.error = None
            op.s.flush()
            return detail(op.s, row)

    def replace_draft(
        self, user: UserOut, intake_id: int, plan: Plan, expected_revision: int, note: str | None = None
    ) -> PlanDetail:
        """Make a new draft from the intake the next revision of the plan drafted from it ("draft again: replace").

        History is kept: the earlier draft and any edits stay as revisions. The plan's name and start
        date, set by hand after drafting, are kept when the new draft has none. The optimistic lock
        applies (someone may have edited the plan while the new draft was being written).
        """
        with self._writing(user) as op:
            intake = own_intake(op, intake_id)
            if intake.status != "used" or intake.plan_id is None:
                raise IllegalTransition(f"no plan was drafted from intake {intake_id} yet; generate one first")
            row = op.plan(intake.plan_id, Action.EDIT, for_update=True)
            require_revision(row, expected_revision)
            current = revision_plan(op.s, row.id, expected_revision).hire
            plan = plan.model_copy(deep=True)
            plan.hire.start_date = plan.hire.start_date or current.start_date
            plan.hire.name = plan.hire.name or current.name
            plan = _with_intake_details(plan, intake)
            why = (note or "").strip() or f"drafted again from the same background (input {intake_id})"
            _append_revision(op, row, plan, expected_revision, "regenerated", why)
            return detail(op.s, row)

    def import_plan(
        self, user: UserOut, plan: Plan, *, background_text: str | None = None, note: str | None = None
    ) -> PlanDetail:
        """Store a plan made elsewhere (a JSON file) as a new draft of the acting manager."""
        background = None
        if background_text is not None and background_text.strip():
            background = clean_text(background_text, "background text", self.settings.max_background_chars)
        with self._writing(user) as op:
            op.require(Action.CREATE_PLAN)
            row = _insert_plan(op, with_status(plan, "draft"), background, "generated", note)
            return detail(op.s, row)

    # ------------------------------------------------------------------ reading
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
        with self._reading(user) as op:
            op.require(Action.READ)  # every role may list; the table says whose plans
            query = summary_query()
            if grant(op.actor, Action.READ) is Grant.OWN:
                query = query.where(PlanRecord.manager_id == op.actor.id)
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
            return [summary_from_row(p, h, m, r) for p, h, m, r in op.s.execute(query).all()]

    def list_reviewers(self, user: UserOut) -> list[UserOut]:
        """Active HR users (whom a plan can be assigned to)."""
        with self._reading(user) as op:
            rows = op.s.scalars(
                select(UserRecord)
                .where(UserRecord.role == "hr", UserRecord.active.is_(True))
                .order_by(UserRecord.username)
            )
            return [UserOut.of(r) for r in rows]

    def get_plan(self, user: UserOut, plan_id: int) -> PlanDetail:
        with self._reading(user) as op:
            return detail(op.s, op.plan(plan_id, Action.READ))

    def get_revision(self, user: UserOut, plan_id: int, number: int) -> RevisionSnapshot:
        with self._reading(user) as op:
            op.plan(plan_id, Action.READ)
            rev = load_revision(op.s, plan_id, number)
            return RevisionSnapshot(revision=revision_out(rev), plan=Plan.model_validate_json(rev.plan_json))

    def get_background(self, user: UserOut, plan_id: int) -> str | None:
        """The hire's original background text: their manager and HR only. Each read is audited."""
        with self._writing(user) as op:
            row = op.plan(plan_id, Action.READ_BACKGROUND)
            op.audit("hire.background_read", "hire", row.hire_id, plan_id=row.id)
            return row.hire.background_text

    def mark_seen(self, user: UserOut, plan_id: int, revision: int) -> int | None:
        """Record that ``user`` has seen ``revision``; return the latest revision they had seen before, if any.

        "Seen" is the latest of: the revisions they opened (``plan.view`` in the audit log), wrote,
        or decided on. A view adds an audit entry only when it moves that forward, so reopening
        a plan writes nothing. Anyone who may read the plan may record their own view.
        """
        with self._reading(user) as op:
            row = op.plan(plan_id, Action.READ)
            if not 1 <= revision <= row.current_revision:
                raise BadInput(f"plan {plan_id} has revisions 1 to {row.current_revision}, not {revision}")
            before = last_seen(op.s, plan_id, op.actor.id)
        if before is not None and before >= revision:
            return before
        with self._writing(user) as op:
            row = op.plan(plan_id, Action.READ)
            op.audit(VIEWED, "plan", row.id, detail={"revision": revision})
        return before

    def diff_revisions(self, user: UserOut, plan_id: int, a: int, b: int) -> RevisionDiff:
        """What changed from revision ``a`` to revision ``b``, task by task and field by field."""
        with self._reading(user) as op:
            op.plan(plan_id, Action.READ)
            plan_a = revision_plan(op.s, plan_id, a)
            plan_b = revision_plan(op.s, plan_id, b)
        return diff_plans(plan_id, a, b, plan_a, plan_b)

    # ------------------------------------------------------------------ changing
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
        with self._writing(user) as op:
            row = op.plan(plan_id, Action.EDIT, for_update=True)
            require_revision(row, expected_revision)
            _append_revision(op, row, plan, expected_revision, reason, note)
            return detail(op.s, row)

    def restore_revision(
        self, user: UserOut, plan_id: int, number: int, expected_revision: int, note: str | None = None
    ) -> PlanDetail:
        """Make an old revision current again, as a new revision (history is never rewritten)."""
        with self._writing(user) as op:
            row = op.plan(plan_id, Action.EDIT, for_update=True)
            require_revision(row, expected_revision)
            plan = revision_plan(op.s, plan_id, number)
            _append_revision(op, row, plan, expected_revision, "restored", note or f"restored revision {number}")
            return detail(op.s, row)


def last_seen(s: Session, plan_id: int, user_id: int) -> int | None:
    """The latest revision of the plan the user opened, wrote or decided on (None: never)."""
    views = s.scalars(
        select(AuditRecord.detail).where(
            AuditRecord.action == VIEWED,
            AuditRecord.actor_id == user_id,
            AuditRecord.entity_type == "plan",
            AuditRecord.entity_id == str(plan_id),
        )
    )
    opened = [int(d["revision"]) for d in views if isinstance(d.get("revision"), int)]
    wrote = s.scalar(
        select(func.max(RevisionRecord.number)).where(
            RevisionRecord.plan_id == plan_id, RevisionRecord.author_id == user_id
        )
    )
    decided = s.scalar(
        select(func.max(DecisionRecord.revision)).where(
            DecisionRecord.plan_id == plan_id, DecisionRecord.reviewer_id == user_id
        )
    )
    seen = [n for n in (*opened, wrote, decided) if n is not None]
    return max(seen) if seen else None


def _with_intake_details(plan: Plan, intake: IntakeRecord) -> Plan:
    """The hire's name and start date the manager typed with the background, where the plan has none."""
    if plan.hire.start_date is None and intake.start_date is not None:
        plan.hire.start_date = intake.start_date
    if plan.hire.name is None and intake.name:
        plan.hire.name = intake.name
    return plan


def _insert_plan(
    op: Operation,
    plan: Plan,
    background: str | None,
    reason: RevisionReason,
    note: str | None,
    origin: dict[str, Any] | None = None,
) -> PlanRecord:
    """A new hire, plan row and revision 1, owned by the acting manager; ``origin`` goes into the audit entry."""
    hire = HireRecord(manager_id=op.actor.id, background_text=background, profile={})
    apply_hire(hire, plan)
    op.s.add(hire)
    op.s.flush()
    text, digest = snapshot(plan)
    now = utcnow()
    row = PlanRecord(
        hire_id=hire.id,
        manager_id=op.actor.id,
        status="draft",
        current_revision=1,
        task_count=len(plan.all_tasks()),
        needs_review_count=needs_review_count(plan),
        created_at=now,
        updated_at=now,
    )
    op.s.add(row)
    op.s.flush()
    op.s.add(
        RevisionRecord(
            plan_id=row.id,
            number=1,
            author_id=op.actor.id,
            created_at=now,
            reason=reason,
            note=(note or None),
            plan_json=text,
            sha256=digest,
        )
    )
    created = {"revision": 1, "reason": reason, "revision_sha256": digest, **(origin or {})}
    op.audit_plan(row, "plan.create", before=None, detail=created)
    op.s.flush()
    return row


def _append_revision(
    op: Operation, row: PlanRecord, plan: Plan, expected: int, reason: RevisionReason, note: str | None
) -> None:
    """Add revision ``expected + 1`` under the lock; an edit of an approved plan reopens its review."""
    before = plan_state(row)
    new_status = next_status(Action.EDIT, row.status)
    plan = with_status(plan, new_status)
    text, digest = snapshot(plan)
    number = expected + 1
    now = utcnow()
    cas(
        op.s,
        row,
        expected,
        current_revision=number,
        status=new_status,
        updated_at=now,
        task_count=len(plan.all_tasks()),
        needs_review_count=needs_review_count(plan),
    )
    apply_hire(row.hire, plan)
    op.s.add(
        RevisionRecord(
            plan_id=row.id,
            number=number,
            author_id=op.actor.id,
            created_at=now,
            reason=reason,
            note=(note or "").strip() or None,
            plan_json=text,
            sha256=digest,
        )
    )
    try:
        op.s.flush()
    except IntegrityError:
        # Only reachable if the row lock and conditional UPDATE were bypassed; the unique
        # constraint still refuses a second revision with the same number.
        raise conflict(row.id, expected, number) from None
    action = "plan.restore" if reason == "restored" else "plan.revise"
    changes = {"revision": number, "reason": reason, "revision_sha256": digest, "status": new_status}
    op.audit_plan(row, action, before=before, detail=changes)


def apply_hire(hire: HireRecord, plan: Plan) -> None:
    """Copy the plan's hire profile onto the hire row, which lists and filters read without JSON."""
    profile = plan.hire
    hire.name = profile.name
    hire.role_title = profile.role
    hire.role_family = profile.role_family
    hire.seniority = profile.seniority
    hire.start_date = profile.start_date
    hire.profile = profile.model_dump(mode="json")


def _like(term: str) -> str:
    escaped = term.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
