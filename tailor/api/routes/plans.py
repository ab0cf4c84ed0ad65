"""Plans: list, read, edit, move through review, comment, history and export, as the token's user.

Every route is one review-service call (two for a merge patch: read, then save), so the
permission table, the four-eyes rule and the status machine apply exactly as in the app.

The optimistic lock is HTTP's: a plan's ``ETag`` is its revision number (``"3"``). Every change
(PUT, PATCH, submit, approve, request changes) must send it back as ``If-Match``: a missing
one is 428, a stale one 412 and nothing is written. Status moves do not add a revision, so
the ETag stays; plan responses are ``Cache-Control: no-store``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Final

from fastapi import APIRouter, Body, Header, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from tailor.api.context import Caller, Ctx
from tailor.api.problems import PreconditionRequired
from tailor.errors import Conflict
from tailor.exports import FORMATS
from tailor.review.comments import MAX_COMMENT_CHARS
from tailor.review.flags import FlagDecision, FlagItem, open_flags
from tailor.review.lifecycle import MAX_REASON_CHARS
from tailor.review.results import (
    CommentOut,
    PlanDetail,
    PlanHistory,
    PlanSummary,
    RevisionDiff,
    RevisionOut,
    RevisionSnapshot,
)
from tailor.schema import Plan, PlanStatus

router = APIRouter(prefix="/v1/plans", tags=["plans"])

PlanId = Annotated[int, Path(ge=1, le=2**31 - 1)]
IfMatch = Annotated[
    str | None, Header(description='The plan\'s ETag from your last read ("3"): the revision your change is based on.')
]
Note = Annotated[str | None, Query(max_length=2000, description="Why you changed it (kept with the revision).")]
_ETAG = re.compile(r'^"(\d{1,9})"$')
FORMAT_PATTERN: Final = "^(" + "|".join(re.escape(name) for name in FORMATS) + ")$"
CHANGE: Final[dict[int | str, dict[str, Any]]] = {
    409: {"description": "The plan's status does not allow this move."},
    412: {"description": "If-Match is stale: the plan changed since you read it."},
    428: {"description": "If-Match is missing."},
}
NO_STORE: Final = "no-store"


class ReasonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=MAX_REASON_CHARS)


class ApproveIn(ReasonIn):
    flags: list[FlagDecision] = Field(
        default_factory=list,
        max_length=1000,
        description="A choice for each open flag of the revision (GET .../flags): resolved, or acknowledged "
        "with a reason. Approval is refused while an open flag has no choice.",
    )


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=MAX_COMMENT_CHARS)
    task_id: str | None = Field(
        default=None, max_length=100, description="Comment on one task of the current revision."
    )


class ReviewerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reviewer: str | None = Field(description="An HR username, or null to clear.", max_length=64)


def etag(revision: int) -> str:
    return f'"{revision}"'


def expected_revision(if_match: str | None) -> int:
    """The revision named by ``If-Match``: 428 without one, 412 for one that is no plan's ETag."""
    if not if_match or not if_match.strip():
        raise PreconditionRequired(
            "send If-Match with the plan's ETag from your last GET, so your change cannot overwrite someone else's"
        )
    found = _ETAG.match(if_match.strip())
    if found is None:
        raise Conflict(f'If-Match {if_match.strip()[:40]!r} does not match the plan\'s ETag (a quoted revision, "3")')
    return int(found.group(1))


def _tagged(response: Response, revision: int) -> None:
    response.headers["ETag"] = etag(revision)
    response.headers["Cache-Control"] = NO_STORE


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON Merge Patch: objects merge, ``null`` removes, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged


@router.get("", summary="Plans you may see, most recently changed first")
def list_plans(
    ctx: Ctx,
    who: Caller,
    status: PlanStatus | None = None,
    manager: Annotated[str | None, Query(max_length=64)] = None,
    role: Annotated[str | None, Query(max_length=300)] = None,
    search: Annotated[str | None, Query(max_length=300, description="Hire name, job title or plan id.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[PlanSummary]:
    plans = ctx.review.list_plans(who.user, status=status, manager=manager, role=role, search=search)
    return plans[offset : offset + limit]


@router.get(
    "/{plan_id}",
    summary="A plan: its summary, current revision and revisions",
    responses={200: {"headers": {"ETag": {"schema": {"type": "string"}}}}},
)
def get_plan(plan_id: PlanId, ctx: Ctx, who: Caller, response: Response) -> PlanDetail:
    detail = ctx.review.get_plan(who.user, plan_id)
    _tagged(response, detail.revision)
    return detail


@router.put("/{plan_id}", summary="Replace the plan (a new revision)", responses=CHANGE)
def put_plan(
    plan_id: PlanId, plan: Plan, ctx: Ctx, who: Caller, response: Response, if_match: IfMatch = None, note: Note = None
) -> PlanDetail:
    expected = expected_revision(if_match)
    detail = ctx.review.save_revision(who.user, plan_id, plan, expected, note=note)
    _tagged(response, detail.revision)
    return detail


@router.patch("/{plan_id}", summary="Change part of the plan (JSON Merge Patch, RFC 7396)", responses=CHANGE)
def patch_plan(
    plan_id: PlanId,
    patch: Annotated[
        dict[str, Any],
        Body(media_type="application/merge-patch+json", description="Fields of the plan to change; null removes."),
    ],
    ctx: Ctx,
    who: Caller,
    response: Response,
    if_match: IfMatch = None,
    note: Note = None,
) -> PlanDetail:
    expected = expected_revision(if_match)
    current = ctx.review.get_plan(who.user, plan_id)
    if current.revision != expected:
        raise Conflict(
            f"plan {plan_id} is at revision {current.revision}, not {expected}; read it again and reapply your change"
        )
    merged = merge_patch(current.plan.model_dump(mode="json", by_alias=True), patch)
    detail = ctx.review.save_revision(who.user, plan_id, Plan.model_validate(merged), expected, note=note)
    _tagged(response, detail.revision)
    return detail


@router.get("/{plan_id}/revisions", summary="The plan's revisions, oldest first")
def list_revisions(plan_id: PlanId, ctx: Ctx, who: Caller) -> list[RevisionOut]:
    return ctx.review.get_plan(who.user, plan_id).revisions


@router.get("/{plan_id}/revisions/{number}", summary="One revision exactly as stored")
def get_revision(
    plan_id: PlanId, number: Annotated[int, Path(ge=1, le=2**31 - 1)], ctx: Ctx, who: Caller
) -> RevisionSnapshot:
    return ctx.review.get_revision(who.user, plan_id, number)


@router.get("/{plan_id}/diff", summary="What changed between two revisions")
def diff(
    plan_id: PlanId,
    ctx: Ctx,
    who: Caller,
    a: Annotated[int, Query(ge=1, le=2**31 - 1)],
    b: Annotated[int, Query(ge=1, le=2**31 - 1)],
) -> RevisionDiff:
    return ctx.review.diff_revisions(who.user, plan_id, a, b)


@router.post("/{plan_id}/submit", summary="Hand the plan to HR (its manager)", responses=CHANGE)
def submit(plan_id: PlanId, ctx: Ctx, who: Caller, response: Response, if_match: IfMatch = None) -> PlanSummary:
    plan = ctx.review.submit(who.user, plan_id, expected_revision(if_match))
    ctx.dispatcher.wake()
    _tagged(response, plan.revision)
    return plan


@router.get("/{plan_id}/flags", summary="The current revision's open review flags (each needs a choice to approve)")
def list_flags(plan_id: PlanId, ctx: Ctx, who: Caller, response: Response) -> list[FlagItem]:
    detail = ctx.review.get_plan(who.user, plan_id)
    _tagged(response, detail.revision)
    return open_flags(detail.plan)


@router.post("/{plan_id}/approve", summary="Approve the revision you reviewed (HR; never your own)", responses=CHANGE)
def approve(
    plan_id: PlanId, body: ApproveIn, ctx: Ctx, who: Caller, response: Response, if_match: IfMatch = None
) -> PlanSummary:
    plan = ctx.review.approve(who.user, plan_id, expected_revision(if_match), body.reason, body.flags)
    ctx.dispatcher.wake()
    _tagged(response, plan.revision)
    return plan


@router.post("/{plan_id}/request-changes", summary="Send the plan back to its manager (HR)", responses=CHANGE)
def request_changes(
    plan_id: PlanId, body: ReasonIn, ctx: Ctx, who: Caller, response: Response, if_match: IfMatch = None
) -> PlanSummary:
    plan = ctx.review.request_changes(who.user, plan_id, expected_revision(if_match), body.reason)
    ctx.dispatcher.wake()
    _tagged(response, plan.revision)
    return plan


@router.put("/{plan_id}/reviewer", summary="Assign (or clear) the HR reviewer")
def assign_reviewer(plan_id: PlanId, body: ReviewerIn, ctx: Ctx, who: Caller) -> PlanSummary:
    return ctx.review.assign_reviewer(who.user, plan_id, body.reviewer)


@router.post("/{plan_id}/comments", status_code=201, summary="Comment on the plan or one of its tasks")
def comment(plan_id: PlanId, body: CommentIn, ctx: Ctx, who: Caller) -> CommentOut:
    return ctx.review.comment(who.user, plan_id, body.text, task_id=body.task_id)


@router.get("/{plan_id}/comments", summary="The plan's comments, oldest first")
def list_comments(
    plan_id: PlanId, ctx: Ctx, who: Caller, task_id: Annotated[str | None, Query(max_length=100)] = None
) -> list[CommentOut]:
    return ctx.review.list_comments(who.user, plan_id, task_id)


@router.get("/{plan_id}/history", summary="Revisions, decisions, comments and audit events")
def history(plan_id: PlanId, ctx: Ctx, who: Caller) -> PlanHistory:
    return ctx.review.history(who.user, plan_id)


_EXPORT_CONTENT: Final = {
    spec.mime.split(";")[0]: {"schema": {"type": "string", "format": "binary"}} for spec in FORMATS.values()
}
# The JSON export is the plan exactly as stored: the Plan schema (``tailor schema``).
_EXPORT_CONTENT["application/json"] = {"schema": {"$ref": "#/components/schemas/Plan"}}


@router.get(
    "/{plan_id}/export/{fmt}",
    summary="The plan as a file: " + ", ".join(FORMATS),
    response_class=Response,
    responses={200: {"description": "The file (Content-Disposition names it).", "content": _EXPORT_CONTENT}},
)
def export(
    plan_id: PlanId,
    fmt: Annotated[str, Path(pattern=FORMAT_PATTERN, description="One of: " + ", ".join(FORMATS))],
    ctx: Ctx,
    who: Caller,
    revision: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="Default: the current revision.")] = None,
) -> Response:
    file = ctx.review.export(who.user, plan_id, fmt, revision)
    headers = {"Content-Disposition": f'attachment; filename="{file.filename}"', "Cache-Control": NO_STORE}
    return Response(file.content, media_type=file.mime, headers=headers)
