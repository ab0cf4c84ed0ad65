"""Every test runs against its own data directory: no test touches ./data or the network."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tailor.config import PROJECT_ROOT, reset_settings

pytest_plugins = [
    "tests.fixtures.db",
    "tests.fixtures.model",
    "tests.fixtures.index",
    "tests.fixtures.faults",
    "tests.fixtures.drafting",
]

CORPUS_DIR = PROJECT_ROOT / "corpus"


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


def task_answers(asked: list[Any], skills: list[str], how: str = "Use it on the first change you ship ({n}).") -> Any:
    """A valid answer to the task-tailoring call, matching the engine's shortlists."""
    from tailor.pipeline.engine import skill_scorer
    from tailor.pipeline.personalise import scripted_task_answer

    return scripted_task_answer(asked, skills, how, skill_scorer)
