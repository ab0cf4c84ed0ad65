"""Pairs of cases: declared in the case files, checked at load, judged after the per-case step.

The runner is driven by a fake task that returns hand-built plans (the pair step is under test
here, not the engine); the last tests read the committed pair and intake-shape cases.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml

from tailor.config import PROJECT_ROOT, get_settings
from tailor.corpus.documents import load_corpus
from tailor.errors import BadInput
from tailor.evals.runner import (
    RunResult,
    check_teams,
    compare_runs,
    junit_xml,
    load_cases,
    markdown_report,
    run_eval,
)
from tailor.schema import DraftRequest, Plan
from tests.evals.helpers import TEAM, generic, team_corpus, with_tasks
from tests.fixtures.plans import task

CASES_DIR = PROJECT_ROOT / "evals" / "cases"
CHECKS = ["ParsesAsPlan", "RoleAndSeniority", "Specificity", "GapCoverage"]


def case(name: str, background: str, pair: str | None = None, team: str | None = TEAM, **meta: Any) -> dict[str, Any]:
    inputs: dict[str, Any] = {"background": background}
    if team is not None:
        inputs["team"] = team
    metadata = {"role_family": "backend", "seniority": "junior", **meta}
    if pair is not None:
        metadata["pair"] = pair
    return {"name": name, "inputs": inputs, "metadata": metadata}


def write(folder: Path, cases: list[dict[str, Any]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "cases.yaml").write_text(
        yaml.safe_dump({"name": "t", "evaluators": CHECKS, "cases": cases}), encoding="utf-8"
    )
    return folder


def plan_for(request: DraftRequest) -> Plan:
    """Kafka hires and Redis hires get different work; the "same" hires all get one plan."""
    if "crash" in request.background:
        raise KeyError("boom")
    if "Kafka" in request.background:
        return with_tasks(*generic(1), task("events", 3, "Pair with Kofi on widgets events"),
                          task("kafka", 4, "Learn Kafka consumer groups"))  # fmt: skip
    if "Redis" in request.background:
        return with_tasks(*generic(1), task("cache", 3, "Cache widgets lookups with Ines"),
                          task("redis", 4, "Tune the Redis eviction policy"))  # fmt: skip
    return with_tasks(*generic(3))


@pytest.fixture
def paired(tmp_path: Path) -> Path:
    return write(
        tmp_path / "cases",
        [
            case("kafka-hire", "Junior Backend Engineer, Kafka", "contrast"),
            case("redis-hire", "Junior Backend Engineer, Redis", "contrast"),
            case("same-a", "Junior Backend Engineer, one", "alike"),
            case("same-b", "Junior Backend Engineer, two", "alike"),
            case("loner", "Junior Backend Engineer, Kafka", team=None),
        ],
    )


def run(cases: Path, task_: Any = plan_for, **kw: Any) -> RunResult:
    result: RunResult = run_eval(load_cases(cases, **kw), task_, corpus=team_corpus(), progress=False)
    return result


# --------------------------------------------------------------------------- declaring pairs
def test_pairs_are_read_in_order_with_their_team(paired: Path) -> None:
    pairs = load_cases(paired).pairs
    assert [(p.name, p.cases, p.team) for p in pairs] == [
        ("contrast", ("kafka-hire", "redis-hire"), TEAM),
        ("alike", ("same-a", "same-b"), TEAM),
    ]


@pytest.mark.parametrize(
    ("second", "message"),
    [
        (None, "has 1 cases (a); a pair needs exactly two"),
        (case("b", "Junior Backend Engineer", "p", team="team-gadgets"), "join different teams"),
        (case("b", "Junior Backend Engineer", "p", seniority="mid"), "must expect the same seniority"),
        (case("b", "Junior Backend Engineer", "p", role_family=None), "must expect the same role_family"),
        (case("b", "", "p", expect_error="bad_input"), "neither case may expect an error"),
    ],
)
def test_a_malformed_pair_is_refused_when_the_cases_load(tmp_path: Path, second: Any, message: str) -> None:
    cases = [case("a", "Junior Backend Engineer", "p")] + ([second] if second else [])
    with pytest.raises(BadInput, match=re.escape(message)):
        load_cases(write(tmp_path, cases))
    with pytest.raises(BadInput, match=re.escape(message)):  # whatever -k selects
        load_cases(write(tmp_path, cases), only=["zzz"])


def test_a_pair_is_judged_only_when_both_its_cases_are_selected(paired: Path) -> None:
    assert [p.name for p in load_cases(paired, only=["kafka-hire", "same-*"]).pairs] == ["alike"]
    assert load_cases(paired, only=["loner"]).pairs == []


def test_a_team_the_corpus_lacks_fails_before_anything_is_drafted(tmp_path: Path) -> None:
    drafted: list[str] = []

    def task_(request: DraftRequest) -> Plan:
        drafted.append(request.background)
        return plan_for(request)

    cases = write(tmp_path, [case("typo", "Junior Backend Engineer", team="team-widget")])
    with pytest.raises(BadInput, match=r"typo: 'team-widget'.*teams: team-gadgets, team-widgets"):
        run(cases, task_)
    assert drafted == []
    check_teams(load_cases(write(tmp_path, [case("ok", "Junior Backend Engineer")])), team_corpus())


# --------------------------------------------------------------------------- the pair step
def test_pairs_are_judged_after_the_cases_and_count_in_the_pass_rate(paired: Path) -> None:
    result = run(paired)
    by = {p.name: p for p in result.pairs}
    assert set(by) == {"contrast", "alike"}
    assert by["contrast"].passed and by["contrast"].scores == {"divergence": 0.5}
    assert not by["alike"].passed and by["alike"].scores == {"divergence": 0.0}
    assert "0.00 of task texts differ (target 0.40)" in (by["alike"].results[0].reason or "")

    case_items = [r for c in result.cases for r in c.results]
    assert result.n_assertions == len(case_items) + 2
    assert result.n_passed == sum(r.passed for r in case_items) + 1
    assert result.evaluator_rates()["Divergence"] == (1, 2)
    assert result.evaluator_names()[-1] == "Divergence"
    assert result.case_pass_rate == round(sum(c.passed for c in result.cases) / 5, 4)  # cases only

    scores = {c.name: c.scores for c in result.cases}
    assert scores["kafka-hire"]["specificity"] == pytest.approx(2 / 3, abs=1e-4)  # Kofi; the hire's Kafka
    assert scores["same-a"]["specificity"] == 0.0

    measures = result.score_summary()
    assert measures["divergence"] == {"n": 2, "mean": 0.25, "min": 0.0, "max": 0.5}
    assert measures["specificity"]["n"] == 5
    summary = result.summary(Path("run.json"))
    assert summary.n_pairs == 2 and summary.scores["divergence"] == 0.25
    assert "Tailoring measures: divergence mean 0.25 (min 0.00, n=2)" in markdown_report(result)

    saved = json.loads(result.model_dump_json())
    assert saved["pairs"][0]["name"] == "contrast" and saved["pairs"][0]["passed"] is True
    del saved["pairs"]  # a run saved before pairs existed still loads
    assert RunResult.model_validate(saved).pairs == []


def test_the_divergence_reason_shows_its_arithmetic(paired: Path) -> None:
    """4 tasks each (set-up, generic, 2 of their own); set-up and generic in both: 1 - 4/8 = 0.50."""
    contrast = next(p for p in run(paired).pairs if p.name == "contrast")
    assert "4 of 8 task texts are shared (2 tasks in both plans)" in (contrast.results[0].reason or "")


def test_reports_and_comparisons_show_the_pairs(paired: Path) -> None:
    before = run(paired)

    def same_for_everyone(request: DraftRequest) -> Plan:
        return with_tasks(*generic(3))

    after = run(paired, same_for_everyone)
    md = markdown_report(after)
    assert "## Pairs" in md and "| contrast | team-widgets | kafka-hire / redis-hire |" in md
    assert "**pair:contrast** / Divergence" in md and "**pair:alike** / Divergence" in md

    root = ET.fromstring(junit_xml(after).split("\n", 1)[1])
    pair_cases = [tc for tc in root.iter("testcase") if tc.get("classname", "").startswith("evals.pairs.")]
    assert {tc.get("classname") for tc in pair_cases} == {"evals.pairs.contrast", "evals.pairs.alike"}
    assert int(root.get("tests", "0")) == after.n_assertions + sum(
        1 for c in after.cases for r in c.results if not r.deterministic
    )

    cmp = compare_runs(before, after)
    assert ("pair:contrast", "Divergence") in {(c.case, c.evaluator) for c in cmp.regressed}
    assert cmp.evaluator_deltas["Divergence"] == -0.5


def test_a_crashed_case_fails_its_pair(tmp_path: Path) -> None:
    cases = write(
        tmp_path / "crash",
        [case("ok", "Junior Backend Engineer, Kafka", "p"), case("boom", "Junior Backend Engineer, crash", "p")],
    )
    result = run(cases)
    (pair,) = result.pairs
    assert not pair.passed and "no plan for boom: unexpected: KeyError" in (pair.results[0].reason or "")


# --------------------------------------------------------------------------- the committed cases
def test_committed_pairs_cover_the_issue() -> None:
    loaded = load_cases(CASES_DIR)
    corpus = load_corpus(get_settings().corpus_dir)
    check_teams(loaded, corpus)  # every team a case names exists
    cases = {c.name: c for c in loaded.dataset.cases}
    assert len(loaded.pairs) >= 4
    kinds = set()
    for p in loaded.pairs:
        a, b = (cases[n] for n in p.cases)
        assert a.metadata is not None and b.metadata is not None
        kinds.add((a.metadata.role_family, p.team))
        for c in (a, b):
            assert c.inputs.team == p.team
            names = {e.get_serialization_name() for e in c.evaluators}
            assert {"Specificity", "GapCoverage", "Tailored"} <= names, c.name
            assert 60 <= len(c.inputs.background.split()) <= 150, (c.name, len(c.inputs.background.split()))
            assert c.metadata is not None and c.metadata.must_use_skills
    assert ("backend", "team-orders") in kinds
    assert ("frontend", "team-compass") in kinds or ("frontend", "team-storefront") in kinds
    assert ("data", "team-data-platform") in kinds
    assert ("mobile", "team-field-mobile") in kinds or ("platform", "team-runtime") in kinds
    backgrounds = [c.inputs.background for c in cases.values() if c.metadata and c.metadata.pair]
    assert any("never written SQL" in b for b in backgrounds)  # the issue's game-server engineer


def test_committed_intake_shapes_expect_the_level_the_title_states() -> None:
    cases = [c for c in load_cases(CASES_DIR).dataset.cases if c.metadata and "intake" in c.metadata.tags]
    assert len(cases) >= 5
    for c in cases:
        assert c.metadata is not None and c.metadata.seniority in {"senior", "staff"}, c.name
    first_lines = {c.name: c.inputs.background.splitlines() for c in cases}
    contact = [ls for ls in first_lines.values() if "@" in ls[0] and ls[1].startswith("Senior Backend Engineer, 9")]
    assert contact, "a 'Name — email — phone' line before 'Senior Backend Engineer, 9 years'"
    spanish = [c for c in cases if c.inputs.background.strip().endswith("Se incorpora como Senior Data Engineer.")]
    assert spanish and spanish[0].metadata is not None and spanish[0].metadata.role_family == "data"
