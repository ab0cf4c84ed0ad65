"""Every test runs against its own data directory: no test touches ./data, the network or a real model.

``no_live_model`` (autouse) refuses every live model call: a litellm request that is not
scripted and not to a server on loopback (the tests' own fault servers), and any start of
the local model's worker. A test gets the real local model only by asking for it: the
``slow`` or ``live_model`` marker, or the ``local_model_available`` fixture. A refused call
fails the test even when the engine turned it into a "model unavailable" plan.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tailor.config import PROJECT_ROOT, reset_settings

pytest_plugins = [
    "tests.fixtures.db",
    "tests.fixtures.model",
    "tests.fixtures.index",
    "tests.fixtures.faults",
    "tests.fixtures.drafting",
    "tests.fixtures.cli",
]

CORPUS_DIR = PROJECT_ROOT / "corpus"
LIVE_MODEL_MARKERS = ("slow", "live_model")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "live_model: may call the real local model (no_live_model lets it through)")


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    data = tmp_path_factory.mktemp("data")
    monkeypatch.setenv("TAILOR_DATA_DIR", str(data))
    monkeypatch.setenv("TAILOR_CONFIG", str(data / "absent.toml"))
    for var in ("TAILOR_DATABASE_URL", "TAILOR_CHROMA_URL", "TAILOR_API_BASE", "TAILOR_API_KEY", "TAILOR_MODEL"):
        monkeypatch.delenv(var, raising=False)
    reset_settings()
    yield data
    reset_settings()


class LiveModelRefused(AssertionError):
    """A test that did not ask for the real model tried to call one."""


class LiveModelGuard:
    """What ``no_live_model`` refused in this test (a test of the guard itself clears it)."""

    def __init__(self, active: bool) -> None:
        self.active = active
        self.refused: list[str] = []


def _on_loopback(api_base: Any) -> bool:
    host = (urlsplit(str(api_base)).hostname or "") if api_base else ""
    return host in {"localhost", "::1"} or host.startswith("127.")


@pytest.fixture(autouse=True)
def no_live_model(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveModelGuard]:
    """Refuse live model calls unless the test asks for the real model (see the module docstring)."""
    asked = any(request.node.get_closest_marker(m) for m in LIVE_MODEL_MARKERS)
    if asked or "local_model_available" in request.fixturenames:
        yield LiveModelGuard(active=False)
        return
    import litellm

    from tailor.models.localworker import LocalWorker
    from tailor.models.scripted import SCRIPTED_PROVIDER

    guard = LiveModelGuard(active=True)

    def refuse(what: str) -> None:
        guard.refused.append(what)
        raise LiveModelRefused(f"{what}: this test asked for no real model (mark it live_model, or script it)")

    def allowed(kwargs: dict[str, Any]) -> bool:
        return str(kwargs.get("model", "")).startswith(f"{SCRIPTED_PROVIDER}/") or _on_loopback(kwargs.get("api_base"))

    real_completion, real_acompletion = litellm.completion, litellm.acompletion

    def completion(*args: Any, **kwargs: Any) -> Any:
        if not allowed(kwargs):
            refuse(f"a live call to {kwargs.get('model')}")
        return real_completion(*args, **kwargs)

    async def acompletion(*args: Any, **kwargs: Any) -> Any:
        if not allowed(kwargs):
            refuse(f"a live call to {kwargs.get('model')}")
        return await real_acompletion(*args, **kwargs)

    def start(self: LocalWorker) -> float:
        refuse(f"starting the local model worker for {self.model_path.name}")
        raise AssertionError("unreachable")

    monkeypatch.setattr(litellm, "completion", completion)
    monkeypatch.setattr(litellm, "acompletion", acompletion)
    monkeypatch.setattr(LocalWorker, "_start", start)
    yield guard
    if guard.refused:
        pytest.fail(f"live model calls refused: {'; '.join(dict.fromkeys(guard.refused))}", pytrace=False)


def task_answers(asked: list[Any], skills: list[str], how: str = "Use it on the first change you ship ({n}).") -> Any:
    """A valid answer to the task-tailoring call, matching the engine's shortlists."""
    from tailor.pipeline.engine import skill_scorer
    from tailor.pipeline.personalise import scripted_task_answer

    return scripted_task_answer(asked, skills, how, skill_scorer)
