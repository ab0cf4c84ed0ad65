"""Durable draft jobs: accepted at once, written down before anything runs, run in the background.

A draft through the API is three steps, each committed before the next:

1. the intake is saved by the review service, as the app saves it before any model call
   (``ReviewService.save_intake``: the role check, the background limits, the overrides);
2. a ``draft_jobs`` row is written (``queued``) and the client gets 202 and the job's URL;
3. a worker thread claims the job (``running``), drafts with the same :class:`Engine` the app
   uses, through the app's own drafting helper (:func:`tailor.web.drafting.run_draft`: the
   last plan wins, and a failure after the grounded skeleton keeps the plan, flagged), and
   saves the plan from the intake (``create_plan_from_draft``, which fires ``plan.drafted``).

A local model is shared through the engine's queue (one draft holds the model at a time; the
job's events show its place in line). When ``tailor api`` starts, jobs left ``queued`` or
``running`` by a stopped or killed process are run again from their intake, at most
:data:`MAX_ATTEMPTS` times. Outcomes:

* ``succeeded``: the plan is saved; ``model_available`` says whether the model tailored it
  (a model that is down leaves the grounded plan, its untailored parts flagged);
* ``failed`` with a ``plan_id``: drafting stopped after the skeleton, or the local model
  crashed mid-draft; the grounded plan is saved, flagged with the cause;
* ``failed`` without one: nothing could be drafted (bad input, no corpus, the intake gone);
  the intake is marked failed with the reason, as in the app.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select, update

from tailor.errors import NotFound, TailorError
from tailor.review.service import ReviewService
from tailor.review.users import UserOut
from tailor.schema import ProgressEvent
from tailor.store.api_records import DraftJobRecord
from tailor.store.db import Database
from tailor.store.records import UserRecord, utcnow

if TYPE_CHECKING:  # importing the engine pulls in litellm; the runner gets it from a factory
    from tailor.pipeline.engine import Engine

log = logging.getLogger("tailor.api.jobs")

MAX_ATTEMPTS: Final = 3
# The engine's words when the local model's worker died mid-draft (tailor.models.failures).
CRASHED: Final = "local model crashed"
JobStatus = Literal["queued", "running", "succeeded", "failed"]
TERMINAL: Final = ("succeeded", "failed")


class JobEvent(BaseModel):
    """One progress event of a draft (a ``ProgressEvent`` without the plan it may carry)."""

    seq: int = Field(description="1, 2, 3 ... (the SSE event id).")
    kind: str
    message: str
    elapsed_s: float
    detail: dict[str, Any] = Field(default_factory=dict)
    plan_ready: bool = Field(default=False, description="The event carried a plan (the grounded skeleton, or better).")


class JobOut(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    status: JobStatus
    intake_id: int
    plan_id: int | None = Field(
        description="Set once the plan is saved (also for a failed job that kept its grounded plan)."
    )
    error: str | None
    model_available: bool | None = Field(description="False when the model did not tailor the plan.")
    warnings: list[str]
    attempts: int
    events: int = Field(description="Progress events so far (GET .../events streams them).")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


def job_out(row: DraftJobRecord) -> JobOut:
    return JobOut(
        id=row.id,
        status=row.status,
        intake_id=row.intake_id,
        plan_id=row.plan_id,
        error=row.error,
        model_available=row.model_available,
        warnings=list(row.warnings or []),
        attempts=row.attempts,
        events=len(row.events or []),
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
    )


class Jobs:
    """The ``draft_jobs`` rows: create, read (as the job's manager), claim, record, finish."""

    def __init__(self, db: Database, review: ReviewService) -> None:
        self.db = db
        self.review = review

    # ------------------------------------------------------------------ the client's side
    def create(self, user: UserOut, intake_id: int, token_id: int | None) -> JobOut:
        """The job for an intake just saved by ``user`` (the review service checked who may)."""
        now = utcnow()
        with self.db.write() as s:
            row = DraftJobRecord(
                user_id=user.id,
                intake_id=intake_id,
                token_id=token_id,
                status="queued",
                attempts=0,
                warnings=[],
                events=[],
                created_at=now,
                updated_at=now,
            )
            s.add(row)
            s.flush()
            return job_out(row)

    def get(self, user: UserOut, job_id: int) -> JobOut:
        """The job, if ``user`` may use its intake (its manager: ``use_draft`` in the permission table)."""
        row = self._row(job_id)
        self.review.get_intake(user, row.intake_id)  # NotFound / PermissionDenied, as for the app's drafts
        return job_out(row)

    def list_jobs(self, user: UserOut, limit: int = 50) -> list[JobOut]:
        """The user's own jobs, newest first (other people's jobs are never listed)."""
        with self.db.read() as s:
            rows = s.scalars(
                select(DraftJobRecord)
                .where(DraftJobRecord.user_id == user.id)
                .order_by(DraftJobRecord.id.desc())
                .limit(limit)
            )
            return [job_out(r) for r in rows]

    def events_after(self, job_id: int, seq: int) -> tuple[list[JobEvent], JobOut]:
        """Events after ``seq`` and the job as it is now (the caller checked access with :meth:`get`)."""
        row = self._row(job_id)
        events = [JobEvent.model_validate(e) for e in (row.events or [])[seq:]]
        return events, job_out(row)

    def _row(self, job_id: int) -> DraftJobRecord:
        with self.db.read() as s:
            row = s.get(DraftJobRecord, job_id)
            if row is None:
                raise NotFound(f"no draft job with id {job_id}")
            return row

    # ------------------------------------------------------------------ the runner's side
    def requeue_interrupted(self) -> int:
        """Put jobs a stopped process left running back in the queue. Returns how many."""
        with self.db.write() as s:
            result = s.execute(
                update(DraftJobRecord)
                .where(DraftJobRecord.status == "running")
                .values(status="queued", updated_at=utcnow())
                .execution_options(synchronize_session=False)
            )
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def claim_next(self) -> tuple[int, int, UserOut, int] | None:
        """The oldest queued job, now ``running``: (job id, intake id, its user, attempt number)."""
        with self.db.write() as s:
            row = s.scalar(
                select(DraftJobRecord).where(DraftJobRecord.status == "queued").order_by(DraftJobRecord.id).limit(1)
            )
            if row is None:
                return None
            row.status = "running"
            row.attempts += 1
            row.started_at = utcnow()
            user = s.get(UserRecord, row.user_id)
            assert user is not None  # a foreign key
            return row.id, row.intake_id, UserOut.of(user), row.attempts

    def record_event(self, job_id: int, event: ProgressEvent) -> None:
        with self.db.write() as s:
            row = s.get(DraftJobRecord, job_id)
            if row is None:
                return
            seen = list(row.events or [])
            entry = event.model_dump(mode="json", include={"kind", "message", "elapsed_s", "detail"})
            entry.update(seq=len(seen) + 1, plan_ready=event.plan is not None)
            row.events = [*seen, entry]

    def finish(
        self,
        job_id: int,
        status: JobStatus,
        *,
        plan_id: int | None = None,
        error: str | None = None,
        model_available: bool | None = None,
        warnings: list[str] | None = None,
    ) -> None:
        with self.db.write() as s:
            row = s.get(DraftJobRecord, job_id)
            if row is None:
                return
            row.status = status
            row.plan_id = plan_id
            row.error = (error or None) and error[:2000]
            row.model_available = model_available
            row.warnings = list(warnings or [])[:50]
            row.finished_at = utcnow()


class JobRunner:
    """The worker thread: one draft at a time, oldest first (the local model takes one anyway)."""

    def __init__(self, jobs: Jobs, review: ReviewService, engine: Callable[[], Engine], *, poll_s: float = 2.0) -> None:
        self.jobs = jobs
        self.review = review
        self.engine = engine
        self.poll_s = poll_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        resumed = self.jobs.requeue_interrupted()
        if resumed:
            log.warning("resuming %d draft job(s) a stopped process left running", resumed)
        self._thread = threading.Thread(target=self._loop, name="tailor-draft-jobs", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop taking jobs. A draft still running is left ``running``: the next start runs it again."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def wake(self) -> None:
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                claimed = self.jobs.claim_next()
            except TailorError as exc:  # the database is away: wait and look again
                log.warning("cannot read draft jobs: %s", exc)
                claimed = None
            if claimed is None:
                self._wake.wait(self.poll_s)
                self._wake.clear()
                continue
            try:
                self.run(*claimed)
            except Exception:  # never lose the thread to one job; the job stays visible
                log.exception("draft job %s failed unexpectedly", claimed[0])
                with contextlib.suppress(Exception):
                    self.jobs.finish(claimed[0], "failed", error="an unexpected error; it was logged on the server")

    def run(self, job_id: int, intake_id: int, user: UserOut, attempt: int) -> None:
        """Draft one job from its intake and record how it ended (see the module docstring)."""
        from tailor.web.drafting import run_draft

        try:
            intake = self.review.get_intake(user, intake_id)
        except TailorError as exc:
            self.jobs.finish(job_id, "failed", error=exc.message)
            return
        if intake.status == "used":  # the plan was saved, then the process stopped before the job said so
            self.jobs.finish(job_id, "succeeded", plan_id=intake.plan_id)
            return
        if intake.status == "discarded":
            self.jobs.finish(job_id, "failed", error=f"draft input {intake_id} was discarded")
            return
        if attempt > MAX_ATTEMPTS:
            reason = f"the API stopped {MAX_ATTEMPTS} times while this draft ran; giving up"
            self._fail(job_id, user, intake_id, reason)
            return
        if attempt > 1:  # the stream already holds the stopped attempt's events; say why they start over
            restart = f"the API restarted during this draft; drafting again from the saved input (attempt {attempt})"
            self.jobs.record_event(job_id, ProgressEvent(kind="warning", message=restart, elapsed_s=0.0))
        try:
            run = run_draft(
                self.engine().draft_events(intake.draft_request()), lambda e: self.jobs.record_event(job_id, e)
            )
            if run.plan is None:
                raise TailorError("the engine returned no plan; try again")
            plan = self.review.create_plan_from_draft(user, intake_id, run.plan)
        except Exception as exc:
            if not isinstance(exc, TailorError):
                log.error("draft job %s failed", job_id, exc_info=exc)
            self._fail(
                job_id,
                user,
                intake_id,
                exc.message if isinstance(exc, TailorError) else f"unexpected {type(exc).__name__}",
            )
            return
        failures = run.result.model_failures if run.result is not None else []
        crash = next((f for f in failures if CRASHED in f), None)
        stopped = f"drafting stopped early: {run.error}" if run.error else None
        self.jobs.finish(
            job_id,
            "failed" if (stopped or crash) else "succeeded",
            plan_id=plan.id,
            error=stopped or crash,
            model_available=not run.model_unavailable,
            warnings=run.warnings,
        )

    def _fail(self, job_id: int, user: UserOut, intake_id: int, reason: str) -> None:
        with contextlib.suppress(TailorError):
            self.review.record_intake_failure(user, intake_id, reason)
        self.jobs.finish(job_id, "failed", error=reason)
