"""The eval runner, its reports and run history, the committed cases, and the threshold's history.

The runner is driven by fake tasks that return crafted plans (the runner is what is
under test here, not the engine); one CLI test runs the real engine on the bad-input
cases, which are refused before any model call.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel
from typer.testing import CliRunner

from tailor.cli.app import app
from tailor.config import PROJECT_ROOT, get_settings
from tailor.corpus.documents import load_corpus
from tailor.errors import BadInput
from tailor.evals.runner import (
    SCHEMA_FILE,
    BelowThreshold,
    cases_json_schema,
    check_gate,
    compare_runs,
    list_runs,
    load_cases,
    load_run,
    load_threshold,
    markdown_report,
    prepare_suite,
    resolve_run,
    run_eval,
    runs_dir,
    save_run,
    write_report,
)
from tailor.models.cached import CachedModel
from tailor.models.response_cache import ResponseCache, active
from tailor.models.scripted import ScriptedModel
from tailor.pipeline.result import DraftResult
from tailor.schema import DraftRequest, Plan
from tests.fixtures.plans import good_plan, small_corpus

CASES_DIR = PROJECT_ROOT / "evals" / "cases"
THRESHOLD = PROJECT_ROOT / "evals" / "threshold.yaml"
STANDARD = ["ParsesAsPlan", "RaisesCleanError", "RoleAndSeniority", "PolicyApplied", "Grounded", "Tailored",
            "NoPersonalData", "PromptsRedacted", "TimelineSane"]  # fmt: skip


def write_cases(folder: Path, cases: list[dict[str, Any]], evaluators: list[str] = STANDARD) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "cases.yaml"
    path.write_text(yaml.safe_dump({"name": "t", "evaluators": evaluators, "cases": cases}), encoding="utf-8")
    return folder


def junior_case(name: str, background: str = "Junior Backend Engineer, 1 year, FastAPI") -> dict[str, Any]:
    return {
        "name": name,
        "inputs": {"background": background},
        "metadata": {"role_family": "backend", "seniority": "junior", "must_use_skills": ["FastAPI"]},
    }


def fake_task(request: DraftRequest) -> Plan:
    """Crafted behaviour by background: a good plan, a refusal, a crash, or a wrong plan."""
    if not request.background.strip():
        raise BadInput("the background is empty: paste a résumé summary")
    if "crash" in request.background:
        raise KeyError("boom")
    if "senior" in request.background:
        plan = good_plan()
        plan.hire = plan.hire.model_copy(update={"seniority": "senior"})
        return plan
    return good_plan()


@pytest.fixture
def mixed_cases(tmp_path: Path) -> Path:
    return write_cases(
        tmp_path / "cases",
        [
            junior_case("good"),
            junior_case("misread", "a senior who is really junior"),
            junior_case("crashes", "crash"),
            {"name": "empty", "inputs": {"background": ""}, "metadata": {"expect_error": "bad_input"}},
        ],
    )


def run(cases: Path, task: Any = fake_task, **kw: Any) -> Any:
    return run_eval(load_cases(cases), task, corpus=small_corpus(), progress=False, **kw)


# --------------------------------------------------------------------------- running and scoring
def test_run_scores_cases_and_errors(mixed_cases: Path) -> None:
    result = run(mixed_cases, threshold=0.9)
    by = {c.name: c for c in result.cases}
    assert [c.name for c in result.cases] == ["good", "misread", "crashes", "empty"]
    assert by["good"].passed and by["empty"].passed
    assert {r.evaluator for r in by["empty"].results} == {"RaisesCleanError"}  # plan checks stand aside
    assert [r.evaluator for r in by["misread"].results if not r.passed] == [
        "RoleAndSeniority",
        "PolicyApplied",
    ]
    assert by["crashes"].error_kind == "unexpected" and not any(r.passed for r in by["crashes"].results)
    assert by["good"].prompt_tokens == 100 and by["good"].completion_tokens == 50
    assert by["good"].hire == {"role_family": "backend", "seniority": "junior", "situation": "standard"}
    n = result.n_assertions
    # good and misread: 7 of 9 apply (no error expected, no prompts); the crash fails 8; the refusal 1
    assert n == 7 + 7 + 8 + 1
    assert result.pass_rate == round(result.n_passed / n, 4)
    assert result.case_pass_rate == 0.5
    assert result.corpus_hash == small_corpus().content_hash
    assert result.prompt_version == "p1" and result.model == "local/test"
    assert result.gate_passed is False
    with pytest.raises(BelowThreshold, match="below the threshold"):
        check_gate(result)


def test_unanswered_model_calls_fail_the_gate_whatever_the_pass_rate(mixed_cases: Path) -> None:
    result = run(mixed_cases, threshold=0.1)
    assert result.gate_passed is True
    stale = result.model_copy(update={"cache": {"hits": 3, "misses": 2, "unanswered": 2}})
    assert stale.pass_rate == result.pass_rate and stale.gate_passed is False
    with pytest.raises(BelowThreshold, match="2 model calls had no recorded response"):
        check_gate(stale)
    assert json.loads(stale.model_dump_json())["unanswered"] == 2


def test_only_filters_cases_and_duplicates_are_refused(mixed_cases: Path, tmp_path: Path) -> None:
    assert [c.name for c in load_cases(mixed_cases, only=["goo*", "empty"]).dataset.cases] == [
        "good",
        "empty",
    ]
    (mixed_cases / "more.yaml").write_text(
        yaml.safe_dump({"name": "more", "cases": [junior_case("good")]}), encoding="utf-8"
    )
    with pytest.raises(BadInput, match="in both"):
        load_cases(mixed_cases)
    bad = write_cases(tmp_path / "bad", [{"name": "x", "inputs": {"background": "y"}, "metadata": {"nope": 1}}])
    with pytest.raises(BadInput, match="invalid case file"):
        load_cases(bad)


def test_model_option_reaches_the_task(mixed_cases: Path) -> None:
    seen: list[str | None] = []

    def task(request: DraftRequest) -> Plan:
        seen.append(request.model)
        return good_plan()

    run(mixed_cases, task, model="openai/gpt-4o-mini")
    assert set(seen) == {"openai/gpt-4o-mini"}


def test_cases_run_concurrently(tmp_path: Path) -> None:
    barrier = threading.Barrier(3, timeout=20)

    def task(request: DraftRequest) -> Plan:
        barrier.wait()  # only returns if three cases are in flight at once
        return good_plan()

    cases = write_cases(tmp_path, [junior_case(f"c{i}") for i in range(3)])
    result = run(cases, task, concurrency=3)
    assert all(c.passed for c in result.cases)


def test_prompts_reach_the_redaction_check(tmp_path: Path) -> None:
    def task(request: DraftRequest) -> DraftResult:
        return DraftResult(plan=good_plan(), prompts=[[{"role": "user", "content": "contact: jo@example.org"}]])

    result = run(write_cases(tmp_path, [junior_case("leaky")]), task)
    failed = [r for r in result.cases[0].results if not r.passed]
    assert [r.evaluator for r in failed] == ["PromptsRedacted"]


class Reading(BaseModel):
    seniority: str


def test_response_cache_makes_the_second_run_replay(tmp_path: Path) -> None:
    calls: list[str] = []

    def task(request: DraftRequest) -> Plan:
        # What the engine does: its model calls go through a CachedModel, which finds the active cache.
        assert active() is not None, "the runner's cache must reach the task's thread"
        scripted = ScriptedModel(['{"seniority": "junior"}'])
        model = CachedModel(scripted, prompt_version="p1", corpus_hash="c")
        messages = [{"role": "user", "content": request.background}]
        model.call(Reading, messages, model="local/qwen2.5-coder-0.5b", settings=get_settings())
        calls.extend([request.background] * len(scripted.requests))
        return good_plan()

    cases = write_cases(tmp_path / "cases", [junior_case("a"), junior_case("b", "Junior Backend Engineer, Go")])
    first = run(cases, task, cache=ResponseCache(tmp_path / "cache"))
    second = run(cases, task, cache=ResponseCache(tmp_path / "cache"))
    assert len(calls) == 2
    assert first.cache is not None and second.cache is not None
    counts = ("hits", "misses", "writes", "live_calls")
    assert [first.cache[k] for k in counts] == [0, 2, 2, 2]
    assert [second.cache[k] for k in counts] == [2, 0, 0, 0]
    assert first.unanswered == second.unanswered == 0
    assert len(list((tmp_path / "cache").glob("*.json"))) == 2


# --------------------------------------------------------------------------- reports, history, compare
def test_reports_and_history(mixed_cases: Path, tmp_path: Path) -> None:
    plans: dict[str, Plan] = {}
    result = run(mixed_cases, threshold=0.5, plans=plans)
    assert set(plans) == {"good", "misread"}
    paths = write_report(result, tmp_path / "report", plans)
    assert (paths["plans"] / "good.json").exists()

    root = ET.parse(paths["junit"]).getroot()
    testcases = root.findall(".//testcase")
    assert len(testcases) == sum(len(c.results) for c in result.cases)
    failures = root.findall(".//failure")
    assert len(failures) == result.n_assertions - result.n_passed
    assert int(root.get("failures", "0")) == len(failures)
    names = {(tc.get("classname"), tc.get("name")) for tc in testcases}
    assert ("evals.cases.misread", "RoleAndSeniority") in names

    md = markdown_report(result)
    assert f"Pass rate: {result.pass_rate:.1%}" in md and "misread** / RoleAndSeniority" in md

    saved = save_run(result, runs_dir())
    assert load_run(saved[0]).model_dump() == result.model_dump()
    summaries = list_runs()
    assert [s.run_id for s in summaries] == [result.run_id]
    assert summaries[0].pass_rate == result.pass_rate
    assert json.loads(saved[0].read_text())["pass_rate"] == result.pass_rate  # readable without this code


def test_compare_shows_what_got_better_and_worse(mixed_cases: Path) -> None:
    before = run(mixed_cases)

    def fixed_but_broke_another(request: DraftRequest) -> Plan:
        if "senior" in request.background or "crash" in request.background:
            return good_plan()
        if request.background.startswith("Junior"):
            return good_plan(check_ins=[])
        return fake_task(request)

    after = run(mixed_cases, fixed_but_broke_another)
    cmp = compare_runs(before, after)
    improved = {(c.case, c.evaluator) for c in cmp.improved}
    regressed = {(c.case, c.evaluator) for c in cmp.regressed}
    assert ("misread", "RoleAndSeniority") in improved and ("crashes", "ParsesAsPlan") in improved
    assert regressed == {("good", "TimelineSane")}
    assert cmp.delta == round(after.pass_rate - before.pass_rate, 4)
    assert cmp.evaluator_deltas["RoleAndSeniority"] > 0
    assert cmp.evaluator_deltas["TimelineSane"] == 0  # one case fixed (the crash), one broken

    save_run(before, runs_dir())
    save_run(after, runs_dir())
    assert resolve_run("latest") == runs_dir() / f"{after.run_id}.json"
    assert resolve_run("previous") == runs_dir() / f"{before.run_id}.json"
    out = CliRunner().invoke(app, ["eval", "compare", "previous", "latest"])
    assert out.exit_code == 0, out.output
    assert "worse (1)" in out.output and "TimelineSane" in out.output
    out = CliRunner().invoke(app, ["eval", "compare", "previous", "latest", "--fail-on-regression"])
    assert out.exit_code == 1
    out = CliRunner().invoke(app, ["eval", "history"])
    assert out.exit_code == 0 and before.run_id in out.output and after.run_id in out.output


def test_cli_runs_the_engine_on_refused_input(tmp_path: Path) -> None:
    """End to end through the real engine: bad input is refused before any model call."""
    (tmp_path / "threshold.yaml").write_text("min_pass_rate: 1.0\n", encoding="utf-8")
    out = CliRunner().invoke(
        app,
        ["eval", "--cases", str(CASES_DIR / "bad-input.yaml"), "--report", str(tmp_path / "r"),
         "--threshold", str(tmp_path / "threshold.yaml"), "--no-progress", "--no-cache"],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    assert "pass rate 100.0%" in out.output
    summary = list_runs()[-1]
    assert summary.n_cases == 5 and summary.gate_passed is True
    assert (tmp_path / "r" / "junit.xml").exists() and (tmp_path / "r" / "report.md").exists()


def test_cli_gate_fails_when_a_model_call_goes_unanswered(tmp_path: Path) -> None:
    """Real engine, a zero live budget: calls the replay set cannot answer fail the gate, not just lower the rate."""
    (tmp_path / "threshold.yaml").write_text("min_pass_rate: 0.1\n", encoding="utf-8")
    # A background no recording has seen, so the committed replay set cannot answer its calls.
    fresh = junior_case("fresh", f"Junior Backend Engineer, {tmp_path.name}, FastAPI")
    cases = write_cases(tmp_path / "cases", [fresh])
    out = CliRunner().invoke(
        app,
        ["eval", "--cases", str(cases), "--threshold", str(tmp_path / "threshold.yaml"), "--no-progress",
         "--live-budget", "0"],
    )  # fmt: skip
    assert isinstance(out.exception, BelowThreshold), out.output
    assert "model calls had no recorded response" in str(out.exception)
    run_ = list_runs()[-1]
    assert run_.gate_passed is False and run_.pass_rate >= 0.1, "the rate alone would have passed"


def test_cli_refuses_a_live_budget_with_replay_only() -> None:
    out = CliRunner().invoke(app, ["eval", "--replay-only", "--live-budget", "60"])
    assert isinstance(out.exception, BadInput) and "--live-budget" in str(out.exception)


# --------------------------------------------------------------------------- the committed cases
def test_committed_cases_cover_the_brief() -> None:
    loaded = load_cases(CASES_DIR)
    cases = loaded.dataset.cases
    assert len(cases) >= 24
    metas = [c.metadata for c in cases if c.metadata is not None]
    corpus = load_corpus(get_settings().corpus_dir)
    families = {f for r in corpus.roles() for f in r.roles}
    covered = {m.role_family for m in metas if isinstance(m.role_family, str)}
    assert families <= covered, f"roles without a case: {families - covered}"
    levels = {m.seniority for m in metas if isinstance(m.seniority, str)}
    assert {"intern", "junior", "mid", "senior", "staff", "manager"} <= levels
    tags = {t for m in metas for t in m.tags}
    for needed in (
        "injection",
        "personal-data",
        "language",
        "unknown-role",
        "contradictory",
        "long-input",
        "bad-input",
    ):
        assert needed in tags, needed
    long = [c for c in cases if c.metadata is not None and "long-input" in c.metadata.tags]
    assert len(long[0].inputs.background) >= 25_000
    for c in cases:
        assert c.metadata is not None
        for item in c.metadata.forbidden:  # the personal data a case forbids is really in its input
            assert item in c.inputs.background, (c.name, item)
        if c.metadata.expect_error is None:
            assert c.metadata.role_family or c.metadata.expect_review, c.name


def test_committed_schema_is_current() -> None:
    committed = json.loads((CASES_DIR / SCHEMA_FILE).read_text(encoding="utf-8"))
    assert committed == json.loads(json.dumps(cases_json_schema())), "run `tailor eval schema`"
    for f in CASES_DIR.glob("*.yaml"):
        assert f.read_text(encoding="utf-8").startswith(f"# yaml-language-server: $schema={SCHEMA_FILE}"), f


# --------------------------------------------------------------------------- the threshold only goes up
_VALUE = re.compile(r"^([+-])\s*min_pass_rate:\s*([0-9.]+)", re.MULTILINE)


def lowered_thresholds(log_patch: str) -> list[tuple[str, float, float]]:
    """(commit, old, new) for every commit in ``git log -p`` output that lowered min_pass_rate."""
    lowered = []
    for chunk in re.split(r"^commit ", log_patch, flags=re.MULTILINE)[1:]:
        commit = chunk.split(maxsplit=1)[0]
        old = [float(v) for sign, v in _VALUE.findall(chunk) if sign == "-"]
        new = [float(v) for sign, v in _VALUE.findall(chunk) if sign == "+"]
        if old and new and new[-1] < old[-1]:
            lowered.append((commit, old[-1], new[-1]))
    return lowered


def test_lowered_thresholds_parser() -> None:
    log = (
        "commit aaa\nAuthor: x\n\n--- a/evals/threshold.yaml\n+++ b/evals/threshold.yaml\n"
        "-min_pass_rate: 0.8\n+min_pass_rate: 0.7\n"
        "commit bbb\nAuthor: x\n\n-min_pass_rate: 0.6\n+min_pass_rate: 0.8\n"
        "commit ccc\nAuthor: x\n\n+min_pass_rate: 0.6\n"
    )
    assert lowered_thresholds(log) == [("aaa", 0.8, 0.7)]


def test_threshold_only_ever_goes_up() -> None:
    current = load_threshold(THRESHOLD).min_pass_rate
    assert 0 < current <= 1
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed")
    rel = str(THRESHOLD.relative_to(PROJECT_ROOT))
    log = subprocess.run(
        [git, "log", "-p", "--follow", "--", rel],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if log.returncode != 0:
        pytest.skip(f"no git history here: {log.stderr.strip()[:100]}")
    assert lowered_thresholds(log.stdout) == [], "a commit lowered the eval threshold"
    # and the working tree does not lower what HEAD has
    diff = subprocess.run(
        [git, "diff", "HEAD", "--", rel], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60
    )
    if diff.returncode == 0 and diff.stdout:
        assert lowered_thresholds("commit working-tree\n" + diff.stdout) == [], "the change lowers the threshold"


# --------------------------------------------------------------------------- the suite (CLI and Evals page)
def test_the_suite_checks_everything_before_drafting_then_runs_counts_and_saves(tmp_path: Path) -> None:
    (tmp_path / "threshold.yaml").write_text("min_pass_rate: 0.5\n", encoding="utf-8")
    cases = write_cases(tmp_path / "cases", [junior_case("a"), junior_case("b"), junior_case("skip-me")])
    seen: list[str | None] = []

    def task(request: DraftRequest) -> Plan:
        seen.append(request.model)
        return good_plan()

    suite = prepare_suite(
        cases=cases, only=["a", "b"], model="openai/other", threshold=tmp_path / "threshold.yaml", task=task
    )
    assert suite.size == 2 and suite.threshold == 0.5 and suite.settings.model == "openai/other"
    done: list[int] = []
    result, saved = suite.run(None, progress=False, on_case=lambda: done.append(1))
    assert len(done) == 2 and seen == ["openai/other"] * 2
    assert result.gate_passed is True and result.cases_path == str(cases) and result.threshold == 0.5
    assert load_run(saved).run_id == result.run_id and saved.parent == runs_dir()

    with pytest.raises(BadInput):  # a broken threshold file shows before anything is drafted
        (tmp_path / "bad.yaml").write_text("min_pass_rate: 7\n", encoding="utf-8")
        prepare_suite(cases=cases, threshold=tmp_path / "bad.yaml", task=task)
    assert len(seen) == 2
