"""A cache of model responses, one small JSON file per call, so unchanged eval cases replay in seconds.

A key covers everything that determines a response: the model, the prompt version,
the corpus hash, the exact input messages and the response schema. Any change to
one of them is a miss, and the model runs for real. Files are plain JSON so the
committed replay set (``evals/recorded/``) is reviewable in git; there is no
database file.

The engine finds the cache through :func:`active`: a context variable set by
:func:`activate` (what the eval runner uses), else a process-wide cache set by
:func:`install`, else ``TAILOR_RESPONSE_CACHE=1`` in the environment. So the engine
needs no parameter threaded through every call::

    cache = response_cache.active()
    if cache is not None:
        key = cache.key(model, prompt_version, corpus_hash, messages, ResponseModel)
        hit = cache.lookup(key)   # raises ReplayMiss (a ModelUnavailable) in replay-only mode
        ...
        cache.put(key, value, {"step": "tasks"})

or, in one call, :func:`cached_call`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from tailor.config import Settings, get_settings
from tailor.errors import ModelUnavailable

log = logging.getLogger(__name__)
ENV_FLAG = "TAILOR_RESPONSE_CACHE"
FORMAT_VERSION = 1
_KEY_CHARS = 40  # 160 bits of sha256: collisions are not a practical concern, names stay short.

SchemaLike = Mapping[str, Any] | type[BaseModel] | None


def canonical_json(value: Any) -> str:
    """One spelling per value, so equal inputs hash equally whatever their key order."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def schema_hash(schema: SchemaLike) -> str:
    if schema is None:
        return "none"
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        return _sha(canonical_json(schema.model_json_schema()))[:16]
    return _sha(canonical_json(dict(schema)))[:16]


def messages_hash(messages: Sequence[Mapping[str, Any]]) -> str:
    return _sha(canonical_json([dict(m) for m in messages]))[:16]


class ReplayMiss(ModelUnavailable):
    """A replay-only cache has no response for this call: the model is treated as unavailable."""


class CacheStats(BaseModel):
    hits: int = 0
    misses: int = 0
    writes: int = 0
    live_calls: int = 0
    live_seconds: float = 0.0
    unanswered: int = 0  # misses with no live call allowed (replay only, or the live budget spent)

    @property
    def lookups(self) -> int:
        return self.hits + self.misses


class ResponseCache:
    """Reads from every directory in order; writes to ``write_dir`` (default: the first directory).

    ``promote=True`` copies a hit found in another directory into ``write_dir``:
    recording a replay set then captures responses that were already in the
    local cache, not only the ones computed in this run.
    """

    def __init__(
        self,
        *dirs: Path,
        write_dir: Path | None = None,
        promote: bool = False,
        replay_only: bool = False,
        live_budget_s: float | None = None,
    ) -> None:
        self.dirs: tuple[Path, ...] = tuple(Path(d) for d in dirs)
        self.write_dir: Path | None = Path(write_dir) if write_dir else (self.dirs[0] if self.dirs else None)
        self.promote = promote
        # Replay only: a miss must not run the model (CI with a stale replay set would take hours);
        # callers check ``replay_only`` or use ``lookup``, which raises ReplayMiss.
        self.replay_only = replay_only
        # A live budget lets a miss run the model for real until that much model time is
        # spent, then answers like replay-only: the CI gate checks a changed prompt on real
        # output without a stale replay set turning a 5-minute job into an hour.
        self.live_budget_s = live_budget_s
        self.stats = CacheStats()
        self.used: set[str] = set()
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ keys
    @staticmethod
    def key(
        model: str,
        prompt_version: str,
        corpus_hash: str,
        messages: Sequence[Mapping[str, Any]],
        schema: SchemaLike = None,
    ) -> str:
        parts = {
            "v": FORMAT_VERSION,
            "model": model,
            "prompt_version": prompt_version,
            "corpus_hash": corpus_hash,
            "messages": messages_hash(messages),
            "schema": schema_hash(schema),
        }
        return _sha(canonical_json(parts))[:_KEY_CHARS]

    # ------------------------------------------------------------------ storage
    @staticmethod
    def _path(directory: Path, key: str) -> Path:
        if not key or not all(c in "0123456789abcdef" for c in key):
            raise ValueError(f"not a cache key: {key!r}")
        return directory / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        for directory in self.dirs:
            path = self._path(directory, key)
            try:
                record = json.loads(path.read_text(encoding="utf-8"))
            except FileNotFoundError:
                continue
            except (OSError, ValueError):
                # A damaged file is a miss: the model runs and the put overwrites it.
                continue
            if not isinstance(record, dict) or record.get("key") != key or not isinstance(record.get("value"), dict):
                continue
            with self._lock:
                self.stats.hits += 1
                self.used.add(key)
            if self.promote and self.write_dir is not None and directory != self.write_dir:
                self._write(self.write_dir, key, record)
            value: dict[str, Any] = record["value"]
            return value
        with self._lock:
            self.stats.misses += 1
        return None

    def lookup(self, key: str) -> dict[str, Any] | None:
        """``get``, except that a miss that may not run the model raises ReplayMiss (a ModelUnavailable).

        That is every miss in replay-only mode, and a miss once the live budget is spent.
        """
        hit = self.get(key)
        if hit is None and (self.replay_only or self.budget_spent()):
            with self._lock:
                self.stats.unanswered += 1
            why = "replay only" if self.replay_only else f"live budget of {self.live_budget_s:.0f} s spent"
            # No key in the message: it ends up in the plan's review flags, where a run of
            # hex digits read as a phone number to the personal-data check.
            log.info("unanswered model call, key %s (%s)", key, why)
            raise ReplayMiss(
                f"no recorded response for this call ({why}); run `tailor eval --record` to refresh the replay set"
            )
        return hit

    def budget_spent(self) -> bool:
        with self._lock:
            return self.live_budget_s is not None and self.stats.live_seconds >= self.live_budget_s

    def charge(self, seconds: float) -> None:
        """Count one live model call against the budget (the engine calls this after a miss)."""
        with self._lock:
            self.stats.live_calls += 1
            self.stats.live_seconds = round(self.stats.live_seconds + max(0.0, seconds), 3)

    def put(self, key: str, value: dict[str, Any], meta: Mapping[str, Any] | None = None) -> Path | None:
        if self.write_dir is None:
            return None
        record = {
            "key": key,
            "format": FORMAT_VERSION,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "meta": dict(meta or {}),
            "value": value,
        }
        path = self._write(self.write_dir, key, record)
        with self._lock:
            self.stats.writes += 1
            self.used.add(key)
        return path

    def _write(self, directory: Path, key: str, record: Mapping[str, Any]) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        path = self._path(directory, key)
        # Write then rename: concurrent cases never read half a file.
        fd, tmp = tempfile.mkstemp(prefix=f".{key[:8]}-", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(record, fh, ensure_ascii=False, indent=1, sort_keys=True)
                fh.write("\n")
            os.chmod(tmp, 0o644)  # mkstemp makes 0600; these files are shared through git
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        return path

    def keys(self, directory: Path) -> set[str]:
        return {p.stem for p in Path(directory).glob("*.json")}

    def prune(self, directory: Path, keep: set[str]) -> list[Path]:
        """Delete the responses in ``directory`` whose keys are not in ``keep`` (stale replays)."""
        removed: list[Path] = []
        for path in sorted(Path(directory).glob("*.json")):
            if path.stem not in keep:
                path.unlink()
                removed.append(path)
        return removed


def cached_call(
    call: Callable[[], dict[str, Any]],
    *,
    model: str,
    prompt_version: str,
    corpus_hash: str,
    messages: Sequence[Mapping[str, Any]],
    schema: SchemaLike = None,
    meta: Mapping[str, Any] | None = None,
    cache: ResponseCache | None = None,
) -> tuple[dict[str, Any], bool]:
    """Return ``(value, hit)``: the cached response when every key part matches, else ``call()`` stored."""
    cache = cache if cache is not None else active()
    if cache is None:
        return call(), False
    key = cache.key(model, prompt_version, corpus_hash, messages, schema)
    hit = cache.lookup(key)
    if hit is not None:
        return hit, True
    started = time.perf_counter()
    try:
        value = call()
    finally:
        cache.charge(time.perf_counter() - started)
    full_meta = {
        "model": model,
        "prompt_version": prompt_version,
        "corpus_hash": corpus_hash,
        "messages_hash": messages_hash(messages),
        "schema_hash": schema_hash(schema),
        **dict(meta or {}),
    }
    cache.put(key, value, full_meta)
    return value, False


# --------------------------------------------------------------------------- enabling hook
_ACTIVE: ContextVar[ResponseCache | None] = ContextVar("tailor_response_cache", default=None)
_DISABLED: ContextVar[bool] = ContextVar("tailor_response_cache_disabled", default=False)
_installed: ResponseCache | None = None
_env_cache: tuple[tuple[str, str], ResponseCache] | None = None
_env_lock = threading.Lock()


def default_cache(
    settings: Settings | None = None,
    *,
    record: bool = False,
    replay_only: bool = False,
    live_budget_s: float | None = None,
) -> ResponseCache:
    """The committed replay set plus the local cache; ``record`` writes to the replay set instead."""
    s = settings or get_settings()
    recorded = s.evals_dir / "recorded"
    local = s.data_dir / "cache" / "responses"
    if record:
        return ResponseCache(recorded, local, write_dir=recorded, promote=True)
    return ResponseCache(recorded, local, write_dir=local, replay_only=replay_only, live_budget_s=live_budget_s)


def _env_enabled() -> bool:
    return os.environ.get(ENV_FLAG, "").strip().lower() in {"1", "true", "yes", "on"}


def active() -> ResponseCache | None:
    """The cache model calls should consult now, or None to always call the model."""
    if _DISABLED.get():
        return None
    cache = _ACTIVE.get()
    if cache is not None:
        return cache
    if _installed is not None:
        return _installed
    if not _env_enabled():
        return None
    global _env_cache
    s = get_settings()
    ident = (str(s.evals_dir), str(s.data_dir))
    with _env_lock:
        if _env_cache is None or _env_cache[0] != ident:
            _env_cache = (ident, default_cache(s))
        return _env_cache[1]


@contextlib.contextmanager
def activate(cache: ResponseCache | None) -> Iterator[ResponseCache | None]:
    """Use ``cache`` for model calls in this context (threads started with a copied context inherit it).

    ``activate(None)`` turns caching off here, even when the environment enables it.
    """
    token = _ACTIVE.set(cache)
    off = _DISABLED.set(cache is None)
    try:
        yield cache
    finally:
        _DISABLED.reset(off)
        _ACTIVE.reset(token)


def install(cache: ResponseCache | None) -> ResponseCache | None:
    """Set the process-wide cache (for engines that call models from their own thread pools).

    Returns the previous one so a caller can put it back.
    """
    global _installed
    previous, _installed = _installed, cache
    return previous
