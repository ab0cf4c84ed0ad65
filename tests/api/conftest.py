"""Fixtures for the API tests: a real uvicorn server over a fresh database, users with tokens.

``api``       the API app (``tailor.api.app.create_app``) served by uvicorn on 127.0.0.1, over
              the test's database (SQLite, and PostgreSQL with ``TAILOR_TEST_POSTGRES_URL``),
              the real corpus ingested into the test's Chroma, and an engine whose model is a
              ``ScriptedModel`` (by default a model that is down, so drafts are grounded);
              five users (admin, manager, manager2, hr, hr2) each with a personal API token.
``receiver``  a real webhook receiver on loopback (``helpers.Receiver``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tailor.api.app import create_app
from tailor.api.context import ApiContext
from tailor.config import Settings
from tailor.models.scripted import ScriptedModel
from tailor.pipeline.engine import Engine
from tailor.review.auth import UserOut
from tailor.review.flags import FlagDecision, open_flags
from tailor.review.service import ReviewService
from tailor.review.tokens import TokenService
from tailor.schema import Plan
from tests.api.helpers import Receiver, ServerThread
from tests.fixtures.drafting import CORPUS, model_settings
from tests.fixtures.faults import connection_error

ROLES = ("admin", "manager", "manager2", "hr", "hr2")
# Fast retries so a test sees several attempts; the production defaults are 10 s doubling to 1 h.
WEBHOOK_TEST_SETTINGS = {"webhook_retry_base_s": 0.2, "webhook_retry_max_s": 1.0, "webhook_timeout_s": 3.0}


def down_model(calls: int = 2000) -> list[Any]:
    """A model that refuses every call (connection refused): drafts keep their grounded plans."""
    return [connection_error()] * calls


def resolved(plan: Plan) -> list[FlagDecision]:
    """An approval's choice for every open flag of ``plan``: resolved (HR checked them)."""
    return [FlagDecision(key=item.key, choice="resolved") for item in open_flags(plan)]


def approve(service: ReviewService, hr: UserOut, plan_id: int, revision: int, reason: str = "fine") -> None:
    """HR approves through the review service, settling every open flag."""
    plan = service.get_revision(hr, plan_id, revision).plan
    service.approve(hr, plan_id, revision, reason, resolved(plan))


@dataclass
class Api:
    url: str
    tokens: dict[str, str]
    users: dict[str, UserOut]
    ctx: ApiContext
    model: ScriptedModel
    service: ReviewService
    settings: Settings
    server: ServerThread

    def client(self, who: str | None = None, **headers: str) -> httpx.Client:
        auth = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        return httpx.Client(base_url=self.url, headers={**auth, **headers}, timeout=60)


ApiFactory = Callable[..., Api]


@pytest.fixture
def api_settings(db_settings: Settings) -> Settings:
    """Settings for the API and its engine: the test's database and data dir, retrieval from the test's Chroma."""
    return model_settings(chroma_url=None, model_retries=0, api_rate_limit_per_minute=100_000, **WEBHOOK_TEST_SETTINGS)


@pytest.fixture
def start_api(
    api_settings: Settings, service: ReviewService, users: dict[str, UserOut], ingested_index: object
) -> Iterator[ApiFactory]:
    """Start (and at the end stop) API servers over the same database: ``start_api(settings_update)``."""
    started: list[ServerThread] = []
    tokens = TokenService(api_settings, db=service.db)
    issued = {name: tokens.create_token(users[name], "tests").token for name in ROLES}

    def start(**update: Any) -> Api:
        settings = api_settings.model_copy(update=update)
        model = ScriptedModel(down_model())
        engine = Engine(settings, corpus=CORPUS, model=model)
        app = create_app(settings, engine=engine)
        server = ServerThread(app).start()
        started.append(server)
        return Api(server.url, issued, users, app.state.tailor, model, service, settings, server)

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def api(start_api: ApiFactory) -> Api:
    return start_api()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    yield made
    made.close()
