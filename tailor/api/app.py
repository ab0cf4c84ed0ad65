"""The FastAPI application: ``create_app(settings)`` builds it, ``tailor api`` serves it with uvicorn.

Versioned under ``/v1``; the OpenAPI document is ``/openapi.json`` and its docs ``/docs``. The
draft job runner and the webhook dispatcher start and stop with the app (its lifespan), so a
restart resumes queued jobs and pending deliveries.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import Depends, FastAPI

from tailor import __version__
from tailor.api import problems
from tailor.api.context import ApiContext
from tailor.api.limits import MULTIPART_SLACK_BYTES, BodyLimit, refuse_nul
from tailor.api.routes import corpus, drafts, health, me, plans, webhooks
from tailor.config import Settings, get_settings
from tailor.store.db import ensure_schema

if TYPE_CHECKING:
    from tailor.pipeline.engine import Engine

DESCRIPTION = """\
Drafts, reviews and exports of 30/60/90-day onboarding plans, for HR systems.

Every call but `/v1/health` and `/v1/ready` needs a personal API token
(`tailor users token create USER --name NAME`), sent as `Authorization: Bearer tailor_pat_...`,
and acts as that user under the same roles and four-eyes rule as the app. Errors are
RFC 9457 `application/problem+json`. Changes to a plan send its `ETag` back as `If-Match`.
Admins register webhooks (Standard Webhooks signatures) for `plan.drafted`, `plan.submitted`,
`plan.changes_requested` and `plan.approved`. See docs/api.md.
"""

TAGS = [
    {"name": "drafts", "description": "Draft a plan from a background; jobs run in the background."},
    {"name": "plans", "description": "Read, edit, review and export plans."},
    {"name": "corpus", "description": "Search the corpus; list teams and roles."},
    {"name": "webhooks", "description": "Admins: endpoints, deliveries, redelivery."},
    {"name": "you", "description": "The token's user and their tokens."},
    {"name": "health", "description": "Liveness and readiness (no token)."},
]


def create_app(settings: Settings | None = None, *, engine: Engine | None = None) -> FastAPI:
    """The API over the database in ``settings`` (migrated here).

    Drafts run on ``engine`` (by default one built on the first draft, as the app builds one).
    """
    settings = settings or get_settings()
    ctx = ApiContext.build(settings, ensure_schema(settings), engine)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        ctx.start()
        try:
            yield
        finally:
            ctx.stop()

    app = FastAPI(
        title="tailor",
        version=__version__,
        description=DESCRIPTION,
        openapi_tags=TAGS,
        docs_url="/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
        lifespan=lifespan,
        dependencies=[Depends(refuse_nul)],
    )
    app.state.tailor = ctx
    problems.install(app)
    app.add_middleware(BodyLimit, max_bytes=settings.max_upload_bytes + MULTIPART_SLACK_BYTES)
    for module in (drafts, plans, corpus, webhooks, me, health):
        app.include_router(module.router)
    return app
