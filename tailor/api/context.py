"""What every request of one API process shares, and who a request acts as.

:class:`ApiContext` holds the services (the same review service, auth and engine the app
uses), the draft job runner and the webhook dispatcher; :func:`caller` turns the bearer
token into the acting user and spends one request of its rate limit. Routes then call the
review service as that user, which enforces the permission table and four-eyes rule.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from tailor.api.dispatch import Dispatcher
from tailor.api.jobs import JobRunner, Jobs
from tailor.api.limits import RateLimiter
from tailor.api.problems import RateLimited
from tailor.api.webhooks import WebhookService
from tailor.config import Settings
from tailor.corpus.documents import Corpus, load_corpus
from tailor.corpus.signature import corpus_signature
from tailor.review.auth import AuthService
from tailor.review.service import ReviewService
from tailor.review.tokens import InvalidToken, TokenService, TokenUse
from tailor.store.db import Database

if TYPE_CHECKING:
    from tailor.corpus.index import CorpusIndex
    from tailor.pipeline.engine import Engine


@dataclass
class ApiContext:
    settings: Settings
    db: Database
    review: ReviewService
    auth: AuthService
    tokens: TokenService
    webhooks: WebhookService
    dispatcher: Dispatcher
    limiter: RateLimiter
    jobs: Jobs
    runner: JobRunner = field(init=False)
    given_engine: Engine | None = None
    _engine: Engine | None = field(default=None, init=False)
    _corpus: Corpus | None = field(default=None, init=False)
    _corpus_signature: str = field(default="", init=False)
    _index: CorpusIndex | None = field(default=None, init=False)
    # One lock each: building the engine loads the corpus, which takes the corpus lock.
    _engine_lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _corpus_lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _index_lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    model_check: tuple[float, bool, str] | None = field(default=None, init=False)
    """The last readiness check of the model: (when, ok, detail)."""

    def __post_init__(self) -> None:
        self.runner = JobRunner(self.jobs, self.review, self.engine)

    @classmethod
    def build(cls, settings: Settings, db: Database, engine: Engine | None = None) -> ApiContext:
        review = ReviewService(settings, db=db)
        return cls(
            settings=settings,
            db=db,
            review=review,
            auth=AuthService(settings, db=db),
            tokens=TokenService(settings, db=db),
            webhooks=WebhookService(db),
            dispatcher=Dispatcher(db, settings),
            limiter=RateLimiter(settings.api_rate_limit_per_minute),
            jobs=Jobs(db, review),
            given_engine=engine,
        )

    def engine(self) -> Engine:
        """The engine drafts run on: the one given, or one built on first use and again after a corpus change
        (building it imports litellm)."""
        if self.given_engine is not None:
            return self.given_engine
        corpus = self.corpus()  # before the engine lock: see the lock order above
        with self._engine_lock:
            if self._engine is None or self._engine.corpus is not corpus:
                from tailor.pipeline.engine import Engine

                self._engine = Engine(self.settings, corpus=corpus)
            return self._engine

    def corpus(self) -> Corpus:
        """The corpus as it is on disk now: read again when its files change, so no restart is needed."""
        if self.given_engine is not None:
            return self.given_engine.corpus
        signature = corpus_signature(self.settings.corpus_dir)
        with self._corpus_lock:
            if self._corpus is None or signature != self._corpus_signature:
                self._corpus = load_corpus(self.settings.corpus_dir)
                self._corpus_signature = signature
            return self._corpus

    def index(self) -> CorpusIndex:
        with self._index_lock:
            if self._index is None:
                from tailor.corpus.index import CorpusIndex

                self._index = CorpusIndex.open(self.settings)
            return self._index

    def start(self) -> None:
        self.runner.start()
        self.dispatcher.start()

    def stop(self) -> None:
        self.runner.stop()
        self.dispatcher.stop()


def context(request: Request) -> ApiContext:
    ctx: ApiContext = request.app.state.tailor
    return ctx


_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="token",
    description="A personal API token (`tailor users token create`), sent as `Authorization: Bearer tailor_pat_...`.",
)


def caller(
    request: Request,
    ctx: Annotated[ApiContext, Depends(context)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> TokenUse:
    """Who the request acts as (401 without a valid token) after one request of its rate limit (429)."""
    if credentials is None:
        raise InvalidToken("send a personal API token: 'Authorization: Bearer tailor_pat_...'")
    use = ctx.tokens.authenticate(credentials.credentials)
    wait = ctx.limiter.take(use.token_id)
    if wait > 0:
        limit = ctx.settings.api_rate_limit_per_minute
        raise RateLimited(f"over {limit} requests a minute for this token; retry in {wait:.1f} s", wait)
    request.state.username = use.user.username
    return use


Ctx = Annotated[ApiContext, Depends(context)]
Caller = Annotated[TokenUse, Depends(caller)]
