"""``CachedModel``: any ``ModelCaller``, answered from the response cache when every key part matches.

The key is the model, the prompt version, the corpus hash, the exact messages and the response
schema (``ResponseCache.key``); the committed replay set (``evals/recorded/``) is keyed the
same way, so a change to any part is a miss. On a miss the inner model runs (when the cache
allows a live call) and its answer is stored: a valid object, or the model's own failure for
this input (invalid or truncated output), which replays like an answer. A timeout or a refused
connection says nothing about the input and is never stored.

The cache is the one given, else :func:`response_cache.active` at call time (what the eval
runner activates), else none: every call goes to the inner model.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from tailor.config import Settings
from tailor.errors import ModelUnavailable
from tailor.models import response_cache
from tailor.models.caller import FailureKind, ModelCaller, ModelCallResult, T
from tailor.models.response_cache import ResponseCache

log = logging.getLogger(__name__)
RECORDED_FAILURES: frozenset[str] = frozenset({"validation", "truncated"})


class RecordedFailure(ModelUnavailable):
    """The model's own failure for this exact call, replayed from the cache."""

    def __init__(self, message: str, kind: FailureKind | str | None) -> None:
        super().__init__(message)
        self.kind = kind


class CachedModel:
    """Wraps a ``ModelCaller``: replays recorded answers, records new ones, charges live time to the budget."""

    def __init__(
        self,
        inner: ModelCaller,
        *,
        prompt_version: str,
        corpus_hash: str,
        cache: ResponseCache | None = None,
    ) -> None:
        self.inner = inner
        self.prompt_version = prompt_version
        self.corpus_hash = corpus_hash
        self.cache = cache

    def call(
        self,
        response_model: type[T],
        messages: list[dict[str, str]],
        *,
        model: str,
        settings: Settings,
        max_tokens: int = 512,
        temperature: float = 0.2,
        max_retries: int | None = None,
    ) -> ModelCallResult[T]:
        """The recorded answer when there is one; else the inner model's, recorded.

        Raises ``ReplayMiss`` (a ``ModelUnavailable``) when the cache may not run the model,
        ``RecordedFailure`` for a recorded failure, and whatever the inner model raises.
        """
        cache = self.cache if self.cache is not None else response_cache.active()
        kwargs: dict[str, Any] = {
            "model": model,
            "settings": settings,
            "max_tokens": max_tokens,
            "temperature": temperature,
            "max_retries": max_retries,
        }
        if cache is None:
            return self.inner.call(response_model, messages, **kwargs)
        key = cache.key(model, self.prompt_version, self.corpus_hash, messages, response_model)
        hit = cache.lookup(key)
        if hit is not None:
            replayed = _replay(hit, response_model, model)
            if replayed is not None:
                return replayed
            log.warning("ignoring a cached response that no longer validates (key %s)", key)
            if cache.replay_only:  # never fall through to a live call in replay-only mode
                raise ModelUnavailable("the recorded response no longer passes validation; run `tailor eval --record`")
        meta = {
            "model": model,
            "prompt_version": self.prompt_version,
            "corpus_hash": self.corpus_hash,
            "schema": response_model.__name__,
        }
        started = time.perf_counter()
        try:
            result = self.inner.call(response_model, messages, **kwargs)
        except ModelUnavailable as exc:
            cache.charge(time.perf_counter() - started)
            kind = getattr(exc, "kind", None)
            if kind in RECORDED_FAILURES:
                cache.put(key, {"error": str(exc), "kind": kind}, meta)
            raise
        cache.charge(time.perf_counter() - started)
        value = {
            "value": result.value.model_dump(mode="json"),
            "usage": {"prompt_tokens": result.prompt_tokens, "completion_tokens": result.completion_tokens},
        }
        cache.put(key, value, meta)
        return result


def _replay(hit: dict[str, Any], response_model: type[T], model: str) -> ModelCallResult[T] | None:
    """A recorded answer as a result (``None`` if it no longer validates); a recorded failure is raised."""
    if "error" in hit:
        raise RecordedFailure(str(hit["error"]), hit.get("kind"))
    try:
        value = response_model.model_validate(hit["value"])
    except (KeyError, TypeError, ValueError):
        return None
    usage = hit.get("usage", {})
    result: ModelCallResult[T] = ModelCallResult[response_model](  # type: ignore[valid-type]
        value=value,
        model=model,
        seconds=0.0,
        prompt_tokens=int(usage.get("prompt_tokens", 0)),
        completion_tokens=int(usage.get("completion_tokens", 0)),
        retries=0,
    )
    return result
