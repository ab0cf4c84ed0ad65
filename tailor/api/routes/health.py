"""Liveness and readiness, without a token (for load balancers and supervisors).

``/v1/health`` answers while the process serves. ``/v1/ready`` checks the database (503 when it
is unusable: nothing works without it), the corpus index and the model. Without the index or
the model drafts still work, grounded only, so those make the service ``degraded``, not down.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel

from tailor import __version__
from tailor.api.context import ApiContext, Ctx
from tailor.errors import StorageUnavailable, TailorError
from tailor.store.db import current_revision, head_revision

log = logging.getLogger("tailor.api")
router = APIRouter(prefix="/v1", tags=["health"])
MODEL_CHECK_TTL_S = 30.0
_model_lock = threading.Lock()


class Health(BaseModel):
    status: Literal["ok"]
    version: str


class Check(BaseModel):
    ok: bool
    detail: str


class Readiness(BaseModel):
    status: Literal["ready", "degraded"]
    database: Check
    index: Check
    model: Check


@router.get("/health", summary="The process is serving")
def health() -> Health:
    return Health(status="ok", version=__version__)


@router.get(
    "/ready", summary="Database, index and model checks", responses={503: {"description": "The database is unusable."}}
)
def ready(ctx: Ctx) -> Readiness:
    try:
        revision = current_revision(ctx.db)
    except StorageUnavailable as exc:  # 503; the message names the database host: only the log gets it
        log.warning("readiness: %s", exc.message)
        raise StorageUnavailable("the database is unavailable (see the server log)") from None
    if revision != head_revision():
        raise StorageUnavailable(
            f"the database schema is at {revision}, not {head_revision()}; run `tailor db upgrade`"
        )
    database = Check(ok=True, detail=f"{ctx.db.backend}, schema at the latest revision")
    index, model = _index(ctx), _model(ctx)
    return Readiness(
        status="ready" if index.ok and model.ok else "degraded", database=database, index=index, model=model
    )


def _index(ctx: ApiContext) -> Check:
    try:
        chunks = ctx.index().count()
    except TailorError as exc:  # the message names paths and hosts: the log gets it, the answer does not
        log.warning("readiness: %s", exc.message)
        return Check(ok=False, detail="the corpus index is unavailable (see the server log)")
    if not chunks:
        return Check(ok=False, detail="the index is empty: run `tailor ingest`")
    return Check(ok=True, detail=f"{chunks} chunks")


def _model(ctx: ApiContext) -> Check:
    """Whether the configured model can answer (local: its files and llama.cpp); cached for 30 s."""
    with _model_lock:
        now = time.monotonic()
        if ctx.model_check is None or now - ctx.model_check[0] > MODEL_CHECK_TTL_S:
            from tailor.models.llm import model_status

            try:
                status = model_status(ctx.settings)
                ok = bool(status["ready"])
                detail = f"{ctx.settings.model}: " + ("ready" if ok else "not ready (see `tailor model status`)")
            except TailorError as exc:
                log.warning("readiness: %s", exc.message)
                ok, detail = False, f"{ctx.settings.model}: not ready (see the server log)"
            ctx.model_check = (now, ok, detail)
        return Check(ok=ctx.model_check[1], detail=ctx.model_check[2])
