"""Drafts: accept a background (text or a file) and draft the plan in the background.

``POST /v1/drafts`` (JSON) and ``POST /v1/drafts/upload`` (multipart, a .txt/.md/.pdf/.docx)
save the intake through the review service (managers only, the app's limits), write the job
and answer 202 with the job and its URL in ``Location``. ``GET /v1/drafts/{id}`` polls it;
``GET /v1/drafts/{id}/events`` streams its progress as server-sent events and ends with an
``end`` event carrying the finished job (its ``plan_id``).
"""

from __future__ import annotations

import asyncio
import time
from datetime import date
from typing import Annotated, Any, Final

from fastapi import APIRouter, File, Form, Header, Path, Response, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from tailor.api.context import ApiContext, Caller, Ctx
from tailor.api.jobs import TERMINAL, JobOut
from tailor.corpus.documents import RoleFamily, Seniority
from tailor.pipeline.uploads import SUPPORTED, extract_text
from tailor.review.permissions import Action, require
from tailor.review.tokens import TokenUse

router = APIRouter(prefix="/v1/drafts", tags=["drafts"])
JobId = Annotated[int, Path(ge=1, le=2**31 - 1)]
POLL_S: Final = 0.5
KEEPALIVE_S: Final = 15.0
ACCEPTED: Final[dict[int | str, dict[str, Any]]] = {
    202: {
        "description": "Accepted: the job is stored and queued.",
        "headers": {"Location": {"description": "The job's URL.", "schema": {"type": "string"}}},
    }
}


class DraftOptions(BaseModel):
    """Everything but the background: the hire's name and start date, the team, and profile overrides."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=300, description="The hire's name; kept out of every prompt.")
    start_date: date | None = None
    team: str | None = Field(default=None, max_length=100, description="A team profile id (GET /v1/corpus/teams).")
    role: str | None = Field(default=None, max_length=300, description="Override the job title read from the text.")
    role_family: RoleFamily | None = None
    seniority: Seniority | None = None
    years_experience: float | None = Field(default=None, ge=0, le=60)
    skills: list[str] | None = Field(default=None, max_length=40)

    def overrides(self) -> dict[str, Any]:
        return self.model_dump(include={"team", "role", "role_family", "seniority", "years_experience", "skills"})


class DraftIn(DraftOptions):
    background: str = Field(min_length=1, description="The hire's background as text (the app's character limit).")


def _accept(ctx: ApiContext, who: TokenUse, background: str, options: DraftOptions, response: Response) -> JobOut:
    require(who.user, Action.START_DRAFT)  # the role first: a refused caller learns nothing else
    ctx.corpus().chosen_team(options.team)  # an unknown team is refused now, not in a failed job
    intake_id = ctx.review.save_intake(
        who.user, background, name=options.name, start_date=options.start_date, overrides=options.overrides()
    )
    job = ctx.jobs.create(who.user, intake_id, who.token_id)
    ctx.runner.wake()
    response.headers["Location"] = f"/v1/drafts/{job.id}"
    return job


@router.post("", status_code=202, summary="Draft a plan from a background (text)", responses=ACCEPTED)
def create_draft(body: DraftIn, ctx: Ctx, who: Caller, response: Response) -> JobOut:
    return _accept(ctx, who, body.background, body, response)


@router.post("/upload", status_code=202, summary="Draft a plan from a file (.txt .md .pdf .docx)", responses=ACCEPTED)
def upload_draft(
    ctx: Ctx,
    who: Caller,
    response: Response,
    file: Annotated[UploadFile, File(description=f"The background: one of {', '.join(SUPPORTED)}.")],
    name: Annotated[str | None, Form(max_length=300)] = None,
    start_date: Annotated[date | None, Form()] = None,
    team: Annotated[str | None, Form(max_length=100)] = None,
    role: Annotated[str | None, Form(max_length=300)] = None,
    role_family: Annotated[RoleFamily | None, Form()] = None,
    seniority: Annotated[Seniority | None, Form()] = None,
    years_experience: Annotated[float | None, Form(ge=0, le=60)] = None,
    skills: Annotated[list[str] | None, Form(max_length=40, description="Repeat the field once per skill.")] = None,
) -> JobOut:
    require(who.user, Action.START_DRAFT)
    limit = ctx.settings.max_upload_bytes
    text = extract_text(file.file.read(limit + 1), file.filename or "the upload", limit)
    options = DraftOptions(
        name=name,
        start_date=start_date,
        team=team,
        role=role,
        role_family=role_family,
        seniority=seniority,
        years_experience=years_experience,
        skills=skills,
    )
    return _accept(ctx, who, text, options, response)


@router.get("", summary="Your draft jobs, newest first")
def list_drafts(ctx: Ctx, who: Caller) -> list[JobOut]:
    return ctx.jobs.list_jobs(who.user)


@router.get("/{job_id}", summary="A draft job: its status and, when done, its plan id")
def get_draft(job_id: JobId, ctx: Ctx, who: Caller) -> JobOut:
    return ctx.jobs.get(who.user, job_id)


# How OpenAPI 3.1 describes a server-sent event stream: ``schema`` is one event.
SSE_EVENT: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["event", "data"],
    "properties": {
        "event": {"type": "string", "enum": ["progress", "end"]},
        "id": {"type": "string", "description": "The progress event's seq (send it back as Last-Event-ID)."},
        "data": {
            "type": "string",
            "contentMediaType": "application/json",
            "description": "progress: a JobEvent; end: the finished JobOut.",
        },
        "retry": {"type": "integer"},
    },
}


@router.get(
    "/{job_id}/events",
    summary="The job's progress as server-sent events",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "`event: progress` per step (data: a JobEvent), then `event: end` (data: the JobOut).",
            "content": {"text/event-stream": {"schema": SSE_EVENT}},
        }
    },
)
def draft_events(
    job_id: JobId,
    ctx: Ctx,
    who: Caller,
    last_event_id: Annotated[str | None, Header(description="Resume after this event id.")] = None,
) -> StreamingResponse:
    ctx.jobs.get(who.user, job_id)  # NotFound / PermissionDenied before the stream opens
    after = int(last_event_id) if last_event_id and last_event_id.isdigit() else 0

    async def stream() -> Any:
        seq, quiet_since = after, time.monotonic()
        while True:
            events, job = await run_in_threadpool(ctx.jobs.events_after, job_id, seq)
            for event in events:
                yield f"id: {event.seq}\nevent: progress\ndata: {event.model_dump_json()}\n\n"
                seq, quiet_since = event.seq, time.monotonic()
            if job.status in TERMINAL:
                yield f"event: end\ndata: {job.model_dump_json()}\n\n"
                return
            if time.monotonic() - quiet_since > KEEPALIVE_S:
                yield ": still working\n\n"
                quiet_since = time.monotonic()
            await asyncio.sleep(POLL_S)

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)
