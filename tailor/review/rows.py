"""Reading plan rows and turning them into results: the pieces every part of the service shares.

Loading raises :class:`tailor.errors.NotFound` with the same words wherever a plan or a
revision is missing, and a stored revision always comes back with the plan's *current*
status (the status lives on the plan row; the snapshot keeps the one it was saved with).
"""

from __future__ import annotations

import hashlib
from typing import cast

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, aliased

from tailor.errors import BadInput, NotFound
from tailor.review.permissions import Target
from tailor.review.results import PlanDetail, PlanSummary, RevisionOut
from tailor.schema import Plan, PlanStatus
from tailor.store.records import HireRecord, PlanRecord, RevisionRecord, UserRecord


# --------------------------------------------------------------------------- plan values
def snapshot(plan: Plan) -> tuple[str, str]:
    """The exact JSON stored for a revision and its SHA-256 (the audit log keeps the hash)."""
    text = plan.model_dump_json(by_alias=True)
    return text, hashlib.sha256(text.encode("utf-8")).hexdigest()


def needs_review_count(plan: Plan) -> int:
    """Kept on the plan row so lists can show it without parsing every revision: the open flags,
    counted as the review page counts them (:func:`tailor.review.flags.open_flags`)."""
    from tailor.review.flags import open_flags

    return len(open_flags(plan))


def with_status(plan: Plan, status: str) -> Plan:
    """A copy carrying ``status``: the plan row decides it, whatever a caller put in the plan."""
    copy = plan.model_copy(deep=True)
    copy.status = status  # type: ignore[assignment]  # validated by validate_assignment
    return copy


def plan_state(row: PlanRecord) -> dict[str, object]:
    """The plan row as the audit log hashes it before and after a change."""
    return {
        "id": row.id,
        "status": row.status,
        "revision": row.current_revision,
        "manager_id": row.manager_id,
        "reviewer_id": row.reviewer_id,
    }


def clean_text(value: str, what: str, limit: int) -> str:
    """Stripped text, refused when empty or over ``limit``: checked before any transaction opens."""
    text = (value or "").strip()
    if not text:
        raise BadInput(f"the {what} is empty; write something first")
    if "\x00" in text:  # PostgreSQL refuses NUL in text: say so instead of failing the transaction
        raise BadInput(f"the {what} contains a NUL character; paste plain text")
    if len(text) > limit:
        raise BadInput(f"the {what} is {len(text)} characters; the limit is {limit}")
    return text


# --------------------------------------------------------------------------- loading
def load_plan(s: Session, plan_id: int, *, for_update: bool = False) -> PlanRecord:
    """The plan row; ``for_update`` locks it for the rest of the transaction (see acting.py)."""
    query = select(PlanRecord).where(PlanRecord.id == plan_id)
    if for_update:
        query = query.with_for_update(of=PlanRecord)
    row = s.scalar(query)
    if row is None:
        raise NotFound(f"no plan with id {plan_id}")
    return row


def load_revision(s: Session, plan_id: int, number: int) -> RevisionRecord:
    rev = s.scalar(select(RevisionRecord).where(RevisionRecord.plan_id == plan_id, RevisionRecord.number == number))
    if rev is None:
        raise NotFound(f"plan {plan_id} has no revision {number}")
    return rev


def revision_plan(s: Session, plan_id: int, number: int) -> Plan:
    """The plan stored as revision ``number``, exactly as saved."""
    return Plan.model_validate_json(load_revision(s, plan_id, number).plan_json)


def plan_target(row: PlanRecord, *, latest_author: str | None = None) -> Target:
    """What the permission rules need to know about a stored plan."""
    status = cast(PlanStatus, row.status)  # the CHECK constraint keeps it one
    return Target(row.id, row.manager.username, status, row.current_revision, latest_author)


# --------------------------------------------------------------------------- results
def summary_query() -> Select[PlanRecord, HireRecord, UserRecord, UserRecord]:
    """Plans with their hire, manager and reviewer in one query (rows for :func:`summary_from_row`)."""
    manager = aliased(UserRecord)
    reviewer = aliased(UserRecord)
    return (
        select(PlanRecord, HireRecord, manager, reviewer)
        .join(HireRecord, HireRecord.id == PlanRecord.hire_id)
        .join(manager, manager.id == PlanRecord.manager_id)
        .outerjoin(reviewer, reviewer.id == PlanRecord.reviewer_id)
    )


def summary_from_row(
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


def summary(s: Session, row: PlanRecord) -> PlanSummary:
    """The row as it is now: refreshed, because a compare-and-set UPDATE bypassed the ORM."""
    s.refresh(row)
    return summary_from_row(row, row.hire, row.manager, row.reviewer)


def detail(s: Session, row: PlanRecord) -> PlanDetail:
    current = summary(s, row)
    plan = with_status(revision_plan(s, row.id, row.current_revision), row.status)
    return PlanDetail(summary=current, plan=plan, revisions=revisions(s, row.id))


def revisions(s: Session, plan_id: int) -> list[RevisionOut]:
    rows = s.scalars(select(RevisionRecord).where(RevisionRecord.plan_id == plan_id).order_by(RevisionRecord.number))
    return [revision_out(r) for r in rows]


def revision_out(rev: RevisionRecord) -> RevisionOut:
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
