"""The response cache: keys cover every part that determines a response; files are plain JSON."""

from __future__ import annotations

import contextvars
import json
import threading
from pathlib import Path

import pytest
from pydantic import BaseModel

from tailor.config import get_settings, reset_settings
from tailor.errors import ModelUnavailable
from tailor.models import response_cache
from tailor.models.response_cache import ResponseCache, activate, active, cached_call, default_cache, install

MESSAGES = [
    {"role": "system", "content": "Read the profile."},
    {"role": "user", "content": "A junior engineer."},
]


class Reading(BaseModel):
    seniority: str


class OtherReading(BaseModel):
    seniority: str
    years: int


def test_key_changes_with_every_part() -> None:
    base = ResponseCache.key("local/qwen", "p1", "c1", MESSAGES, Reading)
    variants = [
        ResponseCache.key("openai/gpt-4o-mini", "p1", "c1", MESSAGES, Reading),
        ResponseCache.key("local/qwen", "p2", "c1", MESSAGES, Reading),
        ResponseCache.key("local/qwen", "p1", "c2", MESSAGES, Reading),
        ResponseCache.key("local/qwen", "p1", "c1", [*MESSAGES[:1], {"role": "user", "content": "A senior."}], Reading),
        ResponseCache.key("local/qwen", "p1", "c1", MESSAGES, OtherReading),
    ]
    assert len({base, *variants}) == 6
    # the same inputs spelled with another key order are the same key
    reordered = [{"content": m["content"], "role": m["role"]} for m in MESSAGES]
    assert ResponseCache.key("local/qwen", "p1", "c1", reordered, Reading.model_json_schema()) == base


def test_put_get_round_trip_as_reviewable_json(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "c")
    key = cache.key("m", "p", "c", MESSAGES, Reading)
    assert cache.get(key) is None
    path = cache.put(key, {"value": {"seniority": "junior"}}, {"step": "intake"})
    assert path == tmp_path / "c" / f"{key}.json"
    record = json.loads(path.read_text(encoding="utf-8"))
    assert record["meta"] == {"step": "intake"} and record["key"] == key
    assert cache.get(key) == {"value": {"seniority": "junior"}}
    assert cache.stats.model_dump(include={"hits", "misses", "writes"}) == {"hits": 1, "misses": 1, "writes": 1}
    assert list((tmp_path / "c").iterdir()) == [path]  # no temp files or database left behind


def test_reads_every_dir_in_order_and_promotes_when_recording(tmp_path: Path) -> None:
    recorded, local = tmp_path / "recorded", tmp_path / "local"
    key = ResponseCache.key("m", "p", "c", MESSAGES)
    ResponseCache(local).put(key, {"value": {"from": "local"}})

    reader = ResponseCache(recorded, local, write_dir=local)
    assert reader.get(key) == {"value": {"from": "local"}}
    assert not (recorded / f"{key}.json").exists()

    recorder = ResponseCache(recorded, local, write_dir=recorded, promote=True)
    assert recorder.get(key) == {"value": {"from": "local"}}
    assert (recorded / f"{key}.json").exists()
    assert recorder.used == {key}


def test_damaged_or_mismatched_files_are_misses(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    key = cache.key("m", "p", "c", MESSAGES)
    (tmp_path / f"{key}.json").write_text("{not json", encoding="utf-8")
    assert cache.get(key) is None
    (tmp_path / f"{key}.json").write_text(json.dumps({"key": "0" * 40, "value": {}}), encoding="utf-8")
    assert cache.get(key) is None
    with pytest.raises(ValueError):
        cache.get("../../etc/passwd")


def test_prune_keeps_only_used_keys(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    keep = cache.key("m", "p", "c", MESSAGES)
    stale = cache.key("m", "p-old", "c", MESSAGES)
    cache.put(keep, {"v": 1})
    cache.put(stale, {"v": 2})
    removed = cache.prune(tmp_path, {keep})
    assert [p.stem for p in removed] == [stale]
    assert cache.keys(tmp_path) == {keep}


def test_cached_call_calls_the_model_once(tmp_path: Path) -> None:
    calls: list[int] = []

    def model() -> dict[str, object]:
        calls.append(1)
        return {"value": {"seniority": "mid"}}

    cache = ResponseCache(tmp_path)
    kwargs = {
        "model": "m",
        "prompt_version": "p",
        "corpus_hash": "c",
        "messages": MESSAGES,
        "schema": Reading,
    }
    first = cached_call(model, cache=cache, **kwargs)  # type: ignore[arg-type]
    second = cached_call(model, cache=cache, **kwargs)  # type: ignore[arg-type]
    assert first == ({"value": {"seniority": "mid"}}, False)
    assert second == ({"value": {"seniority": "mid"}}, True)
    assert len(calls) == 1
    changed = {**kwargs, "prompt_version": "p2"}
    assert cached_call(model, cache=cache, **changed)[1] is False  # type: ignore[arg-type]
    assert len(calls) == 2


def test_activation_hooks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(response_cache.ENV_FLAG, raising=False)
    assert active() is None
    mine = ResponseCache(tmp_path / "a")
    with activate(mine):
        assert active() is mine
        # threads started with a copy of the context (as the eval runner's workers are) see it too
        seen: list[ResponseCache | None] = []
        ctx = contextvars.copy_context()
        t = threading.Thread(target=lambda: seen.append(ctx.run(active)))
        t.start()
        t.join()
        assert seen == [mine]
    assert active() is None

    previous = install(mine)
    try:
        assert active() is mine
        with activate(None):  # explicitly off beats the process-wide cache
            assert active() is None
    finally:
        install(previous)

    monkeypatch.setenv(response_cache.ENV_FLAG, "1")
    reset_settings()
    env_cache = active()
    assert env_cache is not None
    assert env_cache.write_dir == get_settings().data_dir / "cache" / "responses"
    assert get_settings().evals_dir / "recorded" in env_cache.dirs


def test_default_cache_record_mode_writes_the_replay_set() -> None:
    settings = get_settings()
    recording = default_cache(settings, record=True)
    assert recording.write_dir == settings.evals_dir / "recorded" and recording.promote
    local = default_cache(settings)
    assert local.write_dir == settings.data_dir / "cache" / "responses" and not local.promote


def test_replay_only_never_runs_the_model(tmp_path: Path) -> None:
    recorded = ResponseCache(tmp_path)
    key = recorded.key("m", "p", "c", MESSAGES, Reading)
    recorded.put(key, {"value": {"seniority": "mid"}})
    replay = ResponseCache(tmp_path, replay_only=True)
    assert replay.lookup(key) == {"value": {"seniority": "mid"}}
    calls: list[int] = []

    def model() -> dict[str, object]:
        calls.append(1)
        return {}

    with pytest.raises(ModelUnavailable, match="tailor eval --record"):
        cached_call(model, model="m", prompt_version="p2", corpus_hash="c", messages=MESSAGES, cache=replay)
    assert calls == []
    assert default_cache(get_settings(), replay_only=True).replay_only


def test_a_live_budget_runs_the_model_until_spent_then_leaves_calls_unanswered(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path, live_budget_s=0.05)
    calls: list[int] = []

    def slow_model() -> dict[str, object]:
        calls.append(1)
        threading.Event().wait(0.06)
        return {"value": {"seniority": "mid"}}

    def ask(text: str) -> tuple[dict[str, object], bool]:
        messages = [{"role": "user", "content": text}]
        return cached_call(slow_model, model="m", prompt_version="p", corpus_hash="c", messages=messages, cache=cache)

    assert ask("first") == ({"value": {"seniority": "mid"}}, False)  # a miss runs live while budget lasts
    with pytest.raises(ModelUnavailable, match="live budget of 0 s spent"):
        ask("second")
    assert ask("first")[1] is True, "answers already recorded still replay after the budget is spent"
    assert calls == [1]
    assert cache.stats.live_calls == 1 and cache.stats.unanswered == 1 and cache.stats.live_seconds >= 0.05


def test_replay_only_counts_unanswered_calls(tmp_path: Path) -> None:
    replay = ResponseCache(tmp_path, replay_only=True)
    with pytest.raises(ModelUnavailable):
        replay.lookup(replay.key("m", "p", "c", MESSAGES, Reading))
    assert replay.stats.unanswered == 1 and replay.stats.live_calls == 0
