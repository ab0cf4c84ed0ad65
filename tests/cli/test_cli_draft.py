"""`tailor draft` as a user runs it: a subprocess, real files, real exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tailor.config import PROJECT_ROOT
from tailor.corpus.documents import load_corpus
from tailor.schema import DraftRequest, Plan, ProgressEvent

EXAMPLE = PROJECT_ROOT / "examples" / "senior-backend.txt"


def run(
    args: list[str], env: dict[str, str] | None = None, stdin: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "tailor.cli", *args],
        input=stdin,
        capture_output=True,
        env=full_env,
        timeout=180,
        cwd=PROJECT_ROOT,
    )


MODEL_DOWN = {
    "TAILOR_MODEL": "openai/nothing-here",
    "TAILOR_API_BASE": "http://127.0.0.1:9/v1",
    "TAILOR_API_KEY": "sk-none",
    "TAILOR_MODEL_RETRIES": "0",
}


def test_model_down_prints_the_grounded_plan_and_exits_3(tmp_path: Path) -> None:
    out = run(["draft", "--background", str(EXAMPLE), "--format", "json"], MODEL_DOWN)
    assert out.returncode == 3, out.stderr.decode()
    plan = Plan.model_validate_json(out.stdout)  # stdout is exactly the plan JSON
    assert plan.hire.seniority == "senior" and plan.support.model == "peer_network"
    assert any(t.needs_review for t in plan.all_tasks())
    assert "127.0.0.1:9" not in out.stdout.decode(), "the server address leaked into the plan"
    err = out.stderr.decode()
    assert "model unavailable" in err and "Traceback" not in err
    for secret in ["priya.raman@example.com", "7946 0958", "Baker Street"]:
        assert secret not in out.stdout.decode()


@pytest.mark.parametrize(
    ("args", "stdin", "needle"),
    [
        (["--background", "-"], b"", "empty"),
        (["--background", "-"], b"\x00\x01\x02binary", "NUL"),
        (["--background", "-"], b"\xff\xfe\xfa not utf8", "UTF-8"),
        (["--background", "/nonexistent/resume.txt"], None, "no such file"),
        (["--background", "resume.exe"], None, "unsupported file type"),
        (["--background", str(EXAMPLE), "--start-date", "next monday"], None, "YYYY-MM-DD"),
    ],
)
def test_bad_input_exits_2_with_one_line(args: list[str], stdin: bytes | None, needle: str) -> None:
    out = run(["draft", *args], MODEL_DOWN, stdin)
    err = out.stderr.decode()
    assert out.returncode == 2, err
    assert needle in err and "Traceback" not in err


def test_schema_command_prints_the_plan_schema() -> None:
    out = run(["schema"])
    assert out.returncode == 0
    schema = json.loads(out.stdout)
    assert {"hire", "phases", "targets", "provenance"} <= set(schema["properties"])


# --------------------------------------------------------------------------- the team the hire joins
def test_team_options_are_listed_in_help_and_list_teams_prints_every_team() -> None:
    helped = run(["draft", "--help"])
    assert helped.returncode == 0 and b"--team" in helped.stdout and b"--list-teams" in helped.stdout

    listed = run(["draft", "--list-teams"])  # no --background needed
    assert listed.returncode == 0, listed.stderr.decode()
    rows = [line.split("\t") for line in listed.stdout.decode().splitlines()]
    teams = load_corpus(PROJECT_ROOT / "corpus").teams()
    assert [r[0] for r in rows] == sorted(t.id for t in teams)
    orders = next(r for r in rows if r[0] == "team-orders")
    assert orders[1:] == ["Orders squad", "backend", "Aylin Demir"]


def test_an_unknown_team_exits_2_naming_the_teams_that_exist() -> None:
    out = run(["draft", "--background", str(EXAMPLE), "--team", "team-nowhere"], MODEL_DOWN)
    err = out.stderr.decode()
    assert out.returncode == 2, err
    assert out.stdout == b"" and "Traceback" not in err
    [line] = err.strip().splitlines()  # refused before any progress line
    assert line.startswith("error: ") and "'team-nowhere'" in line
    assert all(t.id in line for t in load_corpus(PROJECT_ROOT / "corpus").teams())


def test_a_known_team_is_passed_to_the_engine(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """In process, so the engine's input can be seen: the real engine, its model down, with a spy on its input."""
    from tailor.cli.app import main
    from tailor.config import reset_settings
    from tailor.pipeline.engine import Engine

    for key, value in MODEL_DOWN.items():
        monkeypatch.setenv(key, value)
    reset_settings()
    asked: list[DraftRequest] = []
    real = Engine.draft_events

    def recording(self: Engine, request: DraftRequest) -> Iterator[ProgressEvent]:
        asked.append(request)
        return real(self, request)

    monkeypatch.setattr(Engine, "draft_events", recording)
    monkeypatch.setattr(sys, "argv", ["tailor", "draft", "-b", str(EXAMPLE), "--team", "team-orders", "-q"])
    with pytest.raises(SystemExit) as done:
        main()
    assert done.value.code == 3, capsys.readouterr().err  # the model is down: the grounded plan is printed
    assert [r.team for r in asked] == ["team-orders"]
    Plan.model_validate_json(capsys.readouterr().out)
