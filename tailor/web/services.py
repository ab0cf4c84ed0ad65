"""The process-wide services the pages share, built once and cached, and their warm-up.

Streamlit re-runs a page's script on every click, so anything slow to build (the database
handle, the corpus, the engine, the Chroma index) is cached per process with
``st.cache_resource``. Each cache is keyed by a digest of every setting (tests switch data
dirs) and, for what reads the corpus, by the corpus files' signature, so an edit reloads it.

Everything beyond Streamlit and the settings (SQLAlchemy, pandas, chromadb, litellm, the
engine) is imported inside the functions that need it, so a cold server paints the
sign-in page before any of it loads; :func:`warm_up_services` loads the database side in
the background meanwhile.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st

from tailor.config import Settings, get_settings
from tailor.corpus.signature import corpus_signature
from tailor.review.tokens import TokenService

if TYPE_CHECKING:
    from tailor.corpus.documents import Corpus
    from tailor.corpus.index import CorpusIndex
    from tailor.pipeline.engine import Engine
    from tailor.review.auth import AuthService
    from tailor.review.service import ReviewService

log = logging.getLogger("tailor.web")


@dataclass(frozen=True)
class Services:
    """The services the pages talk to, over one database handle, with the settings they use."""

    settings: Settings
    auth: AuthService
    review: ReviewService
    tokens: TokenService


def settings_key(settings: Settings) -> str:
    """Every setting, so a cached service never outlives a change (tests switch data dirs)."""
    return hashlib.sha256(settings.model_dump_json().encode()).hexdigest()[:16]


# Parameters starting with "_" are not hashed by st.cache_*: the key says which settings, and
# the settings object itself is handed over, so a background thread never builds from another
# test's environment.
@st.cache_resource(show_spinner=False, max_entries=16)
def _services(key: str, _settings: Settings) -> Services:
    from tailor.review.auth import AuthService
    from tailor.review.service import ReviewService

    auth = AuthService(_settings)
    # One database handle for both services: one connection pool, one migration check.
    return Services(
        settings=_settings,
        auth=auth,
        review=ReviewService(_settings, db=auth.db),
        tokens=TokenService(_settings, db=auth.db),
    )


def services(settings: Settings | None = None) -> Services:
    """The process-wide services for the current settings."""
    settings = settings or get_settings()
    return _services(settings_key(settings), settings)


@st.cache_resource(show_spinner=False, max_entries=4)
def _corpus(root: str, signature: str) -> Corpus:
    from tailor.corpus.documents import load_corpus

    return load_corpus(Path(root))


def current_corpus() -> Corpus:
    """The corpus as it is on disk now, read once per version of its files."""
    root = get_settings().corpus_dir
    return _corpus(str(root), corpus_signature(root))


@st.cache_resource(show_spinner=False, max_entries=4)
def _engine(key: str, signature: str, _settings: Settings) -> Engine:
    from tailor.corpus.documents import load_corpus
    from tailor.pipeline.engine import Engine

    return Engine(_settings, corpus=load_corpus(_settings.corpus_dir))


def engine(settings: Settings | None = None) -> Engine:
    """One engine per process (and per corpus version): it loads the corpus and the index once."""
    settings = settings or get_settings()
    return _engine(settings_key(settings), corpus_signature(settings.corpus_dir), settings)


@st.cache_resource(show_spinner=False, max_entries=16)
def _index(key: str, _settings: Settings) -> CorpusIndex:
    from tailor.corpus.index import CorpusIndex

    return CorpusIndex.open(_settings)


def index(settings: Settings | None = None) -> CorpusIndex:
    """The corpus index for the current settings, opened once (Chroma on disk or a server)."""
    settings = settings or get_settings()
    return _index(settings_key(settings), settings)


# =========================================================================== warm-up
_WARMED: set[str] = set()
_WARM_LOCK = threading.Lock()


def _once_in_background(key: str, name: str, work: Callable[[], None], failure: str) -> None:
    """Run ``work`` in a daemon thread the first time ``key`` is seen; a failure is only logged.

    Warm-up is an optimisation: whatever it could not load, the first real use loads.
    """
    with _WARM_LOCK:
        if key in _WARMED:
            return
        _WARMED.add(key)

    def run() -> None:
        try:
            work()
        except Exception:
            log.debug(failure, exc_info=True)

    threading.Thread(target=run, name=name, daemon=True).start()


def warm_up() -> None:
    """Build the engine, import the model layer and open the index in the background, once.

    Importing litellm alone takes seconds on this machine; doing it while the manager types
    and confirms the profile means Generate shows the grounded skeleton at once.
    """
    settings = get_settings()

    def work() -> None:
        engine(settings)  # the corpus, loaded once and cached for the Generate click
        import tailor.models.llm  # noqa: F401  (litellm)
        from tailor.corpus.embeddings import get_embedder

        index(settings).count()
        get_embedder().embed_query("warm-up")

    _once_in_background(
        settings_key(settings), "tailor-warm-up", work, "warm-up failed; the first draft will load what it needs"
    )


def warm_up_services() -> None:
    """Import the database side, migrate, then import the model layer, in the background, once.

    Called while the sign-in page paints, so signing in does not wait for SQLAlchemy, pandas
    and the migrations on a cold server, and the first draft does not wait for litellm.
    """
    settings = get_settings()

    def work() -> None:
        import pandas  # noqa: F401

        import tailor.review.auth
        import tailor.review.service
        from tailor.store.db import ensure_schema

        ensure_schema(settings)
        # Then the model layer: litellm takes seconds to import, and the first draft needs it
        # before it can show the grounded skeleton.
        import tailor.models.llm  # noqa: F401

    _once_in_background(
        "services|" + settings_key(settings),
        "tailor-warm-services",
        work,
        "warm-up failed; the first sign-in will load what it needs",
    )
