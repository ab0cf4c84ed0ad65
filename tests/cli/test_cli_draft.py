"""`tailor draft` as a user runs it: a subprocess, real files, real exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tailor.config import PROJECT_ROOT
from tailor.schema import Plan

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
