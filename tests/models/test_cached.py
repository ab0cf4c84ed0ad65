"""CachedModel: the response cache as a wrapper around any model caller.

The inner model is a ``ScriptedModel``, so what is recorded is what instructor and our
validators made of a real-looking answer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, Field

from tailor.config import Settings, get_settings
from tailor.errors import ModelUnavailable
from tailor.models.cached import CachedModel, RecordedFailure
from tailor.models.response_cache import ReplayMiss, ResponseCache, activate
from tailor.models.scripted import ScriptedModel
from tests.fixtures.faults import connection_error

MODEL = "local/qwen2.5-coder-0.5b"  # JSON mode; scripted answers need no model file
MESSAGES = [{"role": "user", "content": "Read: senior backend engineer, 9 years."}]
VALID = '{"seniority": "senior", "years": 9}'


class Reading(BaseModel):
    seniority: str
    years: int = Field(ge=0, le=60)


def settings() -> Settings:
    return get_settings().model_copy(update={"model_retries": 0})


def cached(inner: Any, cache: ResponseCache | None, **kw: Any) -> CachedModel:
    return CachedModel(inner, prompt_version=kw.get("prompt_version", "p1"), corpus_hash="c1", cache=cache)


def test_a_miss_is_answered_by_the_model_recorded_and_replayed(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    first = cached(ScriptedModel([VALID]), cache).call(Reading, MESSAGES, model=MODEL, settings=settings())
    assert first.value == Reading(seniority="senior", years=9) and first.completion_tokens > 0
    replayed = cached(ScriptedModel([]), cache).call(Reading, MESSAGES, model=MODEL, settings=settings())
    assert replayed.value == first.value and type(replayed.value) is Reading
    assert (replayed.prompt_tokens, replayed.completion_tokens) == (first.prompt_tokens, first.completion_tokens)
    assert replayed.seconds == 0.0 and replayed.retries == 0
    assert (cache.stats.hits, cache.stats.misses, cache.stats.writes, cache.stats.live_calls) == (1, 1, 1, 1)
    key = cache.key(MODEL, "p1", "c1", MESSAGES, Reading)
    assert (tmp_path / f"{key}.json").exists(), "the key is the one the committed replay set uses"
    # Any key part changed is a miss: the model runs again.
    again = cached(ScriptedModel([VALID]), cache, prompt_version="p2")
    again.call(Reading, MESSAGES, model=MODEL, settings=settings())
    assert cache.stats.misses == 2


def test_the_models_own_failures_replay_but_a_refused_connection_is_not_recorded(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    with pytest.raises(ModelUnavailable) as live:
        cached(ScriptedModel(['{"seniority": "senior", "years": 300}']), cache).call(
            Reading, MESSAGES, model=MODEL, settings=settings(), max_retries=0
        )
    with pytest.raises(RecordedFailure) as replayed:
        cached(ScriptedModel([]), cache).call(Reading, MESSAGES, model=MODEL, settings=settings())
    assert str(replayed.value) == str(live.value) and replayed.value.kind == "validation"

    other = [{"role": "user", "content": "another hire"}]
    with pytest.raises(ModelUnavailable, match=r"\(connection\)"):
        cached(ScriptedModel([connection_error()]), cache).call(Reading, other, model=MODEL, settings=settings())
    assert cache.stats.writes == 1, "a timeout or refused connection says nothing about the input"


def test_replay_only_never_calls_the_model(tmp_path: Path) -> None:
    replay = ResponseCache(tmp_path, replay_only=True)
    inner = ScriptedModel([VALID])
    with pytest.raises(ReplayMiss):
        cached(inner, replay).call(Reading, MESSAGES, model=MODEL, settings=settings())
    assert inner.requests == [] and replay.stats.unanswered == 1

    # A recorded answer that no longer validates is not a reason to call the model either.
    key = replay.key(MODEL, "p1", "c1", MESSAGES, Reading)
    replay.put(key, {"value": {"seniority": "senior", "years": 300}})
    with pytest.raises(ModelUnavailable, match="no longer passes validation"):
        cached(inner, replay).call(Reading, MESSAGES, model=MODEL, settings=settings())
    assert inner.requests == []


def test_the_active_cache_is_found_at_call_time(tmp_path: Path) -> None:
    model = cached(ScriptedModel([VALID, VALID]), None)
    model.call(Reading, MESSAGES, model=MODEL, settings=settings())  # no cache active: the model answers
    cache = ResponseCache(tmp_path)
    with activate(cache):
        model.call(Reading, MESSAGES, model=MODEL, settings=settings())
    assert cache.stats.writes == 1
