"""The eval runner: load the cases, draft a plan for each, evaluate, report, remember.

``run_eval`` takes any ``task: Callable[[DraftRequest], Plan | DraftResult]`` so the
runner can be tested with crafted plans; ``EngineTask`` is the real one. ``prepare_suite``
and ``Suite.run`` are the steps ``tailor eval`` and the Evals page share: cases, gate,
engine, run, save. Every run is saved as JSON under ``data_dir/evals/runs`` (and the report
folder), with the model, prompt version, corpus hash and git commit, so ``compare`` and
``history`` and the Streamlit page can read runs back with ``load_run`` and ``list_runs``.

Cases that declare a ``pair`` are also judged two by two after the per-case evaluation
(``pairs.py``); a pair's verdicts are assertions like a case's and count in the pass rate.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import statistics
import subprocess
import time
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, computed_field
from pydantic_evals import Case, Dataset
from pydantic_evals.evaluators import Evaluator
from pydantic_evals.reporting import EvaluationReport

from tailor.config import PROJECT_ROOT, Settings, get_settings
from tailor.corpus.documents import Corpus, load_corpus
from tailor.errors import BadInput, NotFound, TailorError
from tailor.evals.evaluators import (
    CASE_EVALUATORS,
    DETERMINISTIC,
    DraftOutcome,
    Expected,
    JudgeRubric,
    use_corpus,
)
from tailor.evals.pairs import PAIR_EVALUATORS, PairSpec, evaluate_pair, find_pairs
from tailor.models.response_cache import ResponseCache, activate, install
from tailor.pipeline.result import DraftResult
from tailor.schema import DraftRequest, Plan

CaseDataset = Dataset[DraftRequest, DraftOutcome, Expected]
EvalCase = Case[DraftRequest, DraftOutcome, Expected]
SCHEMA_FILE = "cases_schema.json"


class BelowThreshold(TailorError):
    """The gate: the run's pass rate is under the committed threshold."""

    exit_code = 1


# --------------------------------------------------------------------------- results
class EvalItem(BaseModel):
    evaluator: str
    passed: bool
    reason: str | None = None
    deterministic: bool = True
    crashed: bool = Field(default=False, description="The evaluator itself raised (counts as a failure).")


class CaseResult(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str
    file: str | None = None
    tags: list[str] = Field(default_factory=list)
    results: list[EvalItem] = Field(default_factory=list)
    error_kind: str | None = None
    error_message: str | None = None
    duration_s: float = 0.0
    model_seconds: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    retries: int = 0
    fallbacks: list[str] = Field(default_factory=list)
    hire: dict[str, Any] | None = Field(default=None, description="role_family, seniority, situation read.")
    scores: dict[str, float] = Field(
        default_factory=dict, description="Measures behind some checks (specificity, gap_coverage), for the figures."
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results if r.deterministic)


class PairResult(BaseModel):
    """The pair-level checks of two cases (same role, level and team): counted like a case's assertions."""

    model_config = ConfigDict(extra="ignore")

    name: str
    cases: list[str]
    team: str | None = None
    results: list[EvalItem] = Field(default_factory=list)
    scores: dict[str, float] = Field(default_factory=dict)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results if r.deterministic)


class RunSummary(BaseModel):
    """One line of ``tailor eval history`` (and a point on the UI's chart)."""

    run_id: str
    path: Path
    started_at: datetime
    model: str
    prompt_version: str
    corpus_hash: str
    git_commit: str | None = None
    pass_rate: float
    case_pass_rate: float
    n_cases: int
    n_assertions: int
    threshold: float | None = None
    gate_passed: bool | None = None
    n_pairs: int = 0
    scores: dict[str, float] = Field(default_factory=dict, description="Mean of each measure (specificity, ...).")


class RunResult(BaseModel):
    model_config = ConfigDict(extra="ignore")

    run_id: str
    started_at: datetime
    finished_at: datetime
    model: str
    prompt_version: str
    corpus_hash: str
    engine_version: str | None = None
    git_commit: str | None = None
    git_dirty: bool | None = None
    cases_path: str
    concurrency: int = 1
    judge: str | None = None
    threshold: float | None = None
    cache: dict[str, float] | None = Field(
        default=None, description="Response cache hits, misses, writes, live calls and unanswered calls."
    )
    cases: list[CaseResult] = Field(default_factory=list)
    pairs: list[PairResult] = Field(
        default_factory=list, description="Pairs whose two cases both ran; their checks count in the pass rate."
    )

    # -- figures (computed fields are written to the JSON for readers that do not load this class)
    def graded(self) -> list[CaseResult | PairResult]:
        """Everything that carries assertions: the cases, then the pairs."""
        return [*self.cases, *self.pairs]

    def _det(self) -> list[EvalItem]:
        return [r for c in self.graded() for r in c.results if r.deterministic]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def n_assertions(self) -> int:
        return len(self._det())

    @computed_field  # type: ignore[prop-decorator]
    @property
    def n_passed(self) -> int:
        return sum(r.passed for r in self._det())

    @computed_field  # type: ignore[prop-decorator]
    @property
    def pass_rate(self) -> float:
        """Passed deterministic assertions over all of them: the number the threshold gates."""
        return round(self.n_passed / self.n_assertions, 4) if self.n_assertions else 0.0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def case_pass_rate(self) -> float:
        return round(sum(c.passed for c in self.cases) / len(self.cases), 4) if self.cases else 0.0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def judge_pass_rate(self) -> float | None:
        judged = [r for c in self.graded() for r in c.results if not r.deterministic]
        return round(sum(r.passed for r in judged) / len(judged), 4) if judged else None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def unanswered(self) -> int:
        """Model calls with no recorded response that were not allowed to run live."""
        return int((self.cache or {}).get("unanswered", 0))

    @computed_field  # type: ignore[prop-decorator]
    @property
    def gate_passed(self) -> bool | None:
        # An unanswered call stands in for a model that is down: the plan is still graded, but a
        # run that could not hear the model cannot vouch for a prompt, corpus or model change.
        return None if self.threshold is None else self.pass_rate >= self.threshold and self.unanswered == 0

    def evaluator_rates(self) -> dict[str, tuple[int, int]]:
        """evaluator -> (passed, applicable), pair checks included."""
        rates: dict[str, list[int]] = {}
        for c in self.graded():
            for r in c.results:
                slot = rates.setdefault(r.evaluator, [0, 0])
                slot[0] += r.passed
                slot[1] += 1
        return {k: (v[0], v[1]) for k, v in sorted(rates.items())}

    def evaluator_names(self) -> list[str]:
        """Evaluators that produced a result, in the canonical order (CASE_EVALUATORS, pair checks, then others)."""
        seen: dict[str, None] = {}
        for c in self.graded():
            for r in c.results:
                seen.setdefault(r.evaluator, None)
        order = [cls.__name__ for cls in CASE_EVALUATORS] + [e.name for e in PAIR_EVALUATORS]
        return sorted(seen, key=lambda n: order.index(n) if n in order else len(order))

    def latency(self) -> dict[str, float]:
        durations = sorted(c.duration_s for c in self.cases if c.error_kind is None or c.duration_s)
        if not durations:
            return {}
        p95_index = max(0, round(0.95 * len(durations)) - 1)
        return {
            "mean_s": round(statistics.fmean(durations), 3),
            "p50_s": round(statistics.median(durations), 3),
            "p95_s": round(durations[p95_index], 3),
            "max_s": round(durations[-1], 3),
            "total_s": round((self.finished_at - self.started_at).total_seconds(), 3),
            "model_s": round(sum(c.model_seconds for c in self.cases), 3),
        }

    def score_summary(self) -> dict[str, dict[str, float]]:
        """Each measure (specificity and gap_coverage per plan, divergence per pair): n, mean, min, max."""
        values: dict[str, list[float]] = {}
        for c in self.graded():
            for key, value in c.scores.items():
                values.setdefault(key, []).append(value)
        return {
            key: {"n": len(v), "mean": round(statistics.fmean(v), 4), "min": min(v), "max": max(v)}
            for key, v in sorted(values.items())
        }

    def tokens(self) -> dict[str, int]:
        return {
            "prompt": sum(c.prompt_tokens for c in self.cases),
            "completion": sum(c.completion_tokens for c in self.cases),
        }

    def summary(self, path: Path) -> RunSummary:
        return RunSummary(
            run_id=self.run_id,
            path=path,
            started_at=self.started_at,
            model=self.model,
            prompt_version=self.prompt_version,
            corpus_hash=self.corpus_hash,
            git_commit=self.git_commit,
            pass_rate=self.pass_rate,
            case_pass_rate=self.case_pass_rate,
            n_cases=len(self.cases),
            n_assertions=self.n_assertions,
            threshold=self.threshold,
            gate_passed=self.gate_passed,
            n_pairs=len(self.pairs),
            scores={key: s["mean"] for key, s in self.score_summary().items()},
        )


# --------------------------------------------------------------------------- cases
@dataclass
class LoadedCases:
    dataset: CaseDataset
    files: dict[str, str]  # case name -> file it came from
    pairs: list[PairSpec] = field(default_factory=list)  # the declared pairs whose two cases are both loaded


def case_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise NotFound(f"no eval cases at {path}")
    files = sorted(p for p in path.iterdir() if p.suffix in {".yaml", ".yml"} and p.is_file())
    if not files:
        raise NotFound(f"no .yaml case files in {path}")
    return files


def load_cases(path: Path, only: Sequence[str] = ()) -> LoadedCases:
    """Every case in a file or folder; a file's dataset-level evaluators are attached to each of its cases.

    ``only`` keeps the cases whose name matches one of the glob patterns (or contains it); a pair
    is judged only when both of its cases are kept. Pairs are checked on the whole set first, so a
    malformed pair fails whatever ``only`` selects.
    """
    cases: list[EvalCase] = []
    every: list[EvalCase] = []
    files: dict[str, str] = {}
    seen: dict[str, str] = {}
    for f in case_files(path):
        try:
            ds = CaseDataset.from_file(f, custom_evaluator_types=CASE_EVALUATORS)
        except (ValueError, ValidationError, ExceptionGroup, yaml.YAMLError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise BadInput(f"{f.name}: invalid case file: {first}") from None
        for case in ds.cases:
            name = case.name or ""
            if not name:
                raise BadInput(f"{f.name}: every case needs a name")
            if name in seen:
                raise BadInput(f"case name {name!r} is in both {seen[name]} and {f.name}")
            seen[name] = f.name
            every.append(case)
            if only and not any(fnmatch(name, pat) or pat in name for pat in only):
                continue
            case.evaluators = [*case.evaluators, *ds.evaluators]
            files[name] = f.name
            cases.append(case)
    pairs = find_pairs(every)
    if not cases:
        raise NotFound(f"no case in {path} matches {list(only)}" if only else f"no cases in {path}")
    kept = [p for p in pairs if all(n in files for n in p.cases)]
    return LoadedCases(CaseDataset(name="tailor", cases=cases), files, kept)


def check_teams(loaded: LoadedCases, corpus: Corpus) -> None:
    """Every team a case names is a team profile of the corpus: a typo fails before anything is drafted."""
    unknown = sorted(
        {
            (c.name or "", c.inputs.team)
            for c in loaded.dataset.cases
            if c.inputs.team and not corpus.team(c.inputs.team)
        }
    )
    if unknown:
        known = ", ".join(sorted(t.id for t in corpus.teams())) or "none"
        named = "; ".join(f"{case}: {team!r}" for case, team in unknown)
        raise BadInput(f"cases name teams the corpus does not have ({named}); teams: {known}")


def cases_json_schema() -> dict[str, Any]:
    return CaseDataset.model_json_schema_with_evaluators(CASE_EVALUATORS)


def write_cases_schema(path: Path) -> Path:
    import json

    path.write_text(json.dumps(cases_json_schema(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


# --------------------------------------------------------------------------- tasks
Task = Callable[[DraftRequest], Plan | DraftResult]
"""Drafts one case: a bare plan, or a ``DraftResult`` that also hands over the prompts sent."""


def error_kind(exc: BaseException) -> str:
    if isinstance(exc, ValidationError):
        return "invalid_plan"
    if isinstance(exc, TailorError):
        return re.sub(r"(?<!^)(?=[A-Z])", "_", type(exc).__name__).lower()
    return "unexpected"


def run_task(task: Task, request: DraftRequest) -> DraftOutcome:
    """Run the task and turn whatever happens into an outcome: evaluators judge errors too."""
    t0 = time.perf_counter()
    try:
        result = task(request)
        if isinstance(result, DraftResult):
            plan, prompts = result.plan, [list(p) for p in result.prompts]
        elif isinstance(result, Plan):
            plan, prompts = result, []
        else:
            plan, prompts = Plan.model_validate(result), []
    except Exception as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        if isinstance(exc, ValidationError) and exc.errors():
            first = exc.errors()[0]
            message += f" ({'.'.join(str(p) for p in first['loc'])}: {first['msg']})"
        if not isinstance(exc, TailorError):
            message = f"{type(exc).__name__}: {message}"
        # An error whose message spans lines stays visible as such to RaisesCleanError.
        full = str(exc) if isinstance(exc, TailorError) else message
        return DraftOutcome(
            error_kind=error_kind(exc),
            error_type=type(exc).__name__,
            error_message=full[:2000],
            seconds=time.perf_counter() - t0,
        )
    return DraftOutcome(plan=plan, prompts=prompts, seconds=time.perf_counter() - t0)


class EngineTask:
    """Drafts with ``tailor.pipeline.engine.Engine``: one engine for every case, concurrent drafts included."""

    def __init__(self, settings: Settings) -> None:
        try:
            from tailor.pipeline.engine import Engine
        except ImportError as exc:  # pragma: no cover - the engine ships with the package
            raise TailorError(f"the plan engine is not available: {exc}") from None
        self.engine = Engine(settings)  # corpus errors fail here, before the progress bar starts

    def __call__(self, request: DraftRequest) -> DraftResult:
        return self.engine.draft(request)


# --------------------------------------------------------------------------- running
def git_info(root: Path = PROJECT_ROOT) -> tuple[str | None, bool | None]:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None, None
    return head or None, bool(dirty)


def _new_run_id(now: datetime) -> str:
    return f"{now.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(2)}"


def _most_common(values: Iterable[str | None], default: str) -> str:
    counted = Counter(v for v in values if v)
    return counted.most_common(1)[0][0] if counted else default


def _prompt_version(settings: Settings) -> str:
    """The prompt set's version when no plan recorded one (every case failed before tailoring)."""
    try:
        from tailor.pipeline.prompts import prompt_set_version

        return prompt_set_version(settings.prompts_dir)
    except (OSError, ImportError):
        return "unknown"


def _case_result(rc: Any, files: dict[str, str], failed: bool = False) -> CaseResult:
    meta = rc.metadata if isinstance(rc.metadata, Expected) else Expected.model_validate(rc.metadata or {})
    if failed:  # the task itself crashed inside pydantic-evals (run_task should prevent it)
        return CaseResult(
            name=rc.name,
            file=files.get(rc.name),
            tags=meta.tags,
            error_kind="unexpected",
            error_message=rc.error_message,
            results=[EvalItem(evaluator="Task", passed=False, reason=rc.error_message, crashed=True)],
        )
    out: DraftOutcome = rc.output
    items = [
        EvalItem(
            evaluator=name,
            passed=bool(res.value),
            reason=res.reason,
            deterministic=res.source.name in DETERMINISTIC,
        )
        for name, res in rc.assertions.items()
    ]
    items += [
        EvalItem(
            evaluator=f.name,
            passed=False,
            reason=f.error_message,
            deterministic=f.source.name in DETERMINISTIC,
            crashed=True,
        )
        for f in rc.evaluator_failures
    ]
    result = CaseResult(
        name=rc.name,
        file=files.get(rc.name),
        tags=meta.tags,
        results=items,
        error_kind=out.error_kind,
        error_message=out.error_message,
        duration_s=round(float(rc.task_duration), 3),
        scores={name: float(res.value) for name, res in rc.scores.items()},
    )
    if out.plan is not None:
        prov = out.plan.provenance
        result.model_seconds = round(sum(t.model_seconds for t in prov.timings), 3)
        result.prompt_tokens = sum(t.prompt_tokens for t in prov.timings)
        result.completion_tokens = sum(t.completion_tokens for t in prov.timings)
        result.retries = prov.retries
        result.fallbacks = list(prov.fallbacks)
        h = out.plan.hire
        result.hire = {"role_family": h.role_family, "seniority": h.seniority, "situation": h.situation}
    return result


def _pair_results(loaded: LoadedCases, outcomes: dict[str, DraftOutcome]) -> list[PairResult]:
    """The pair step: after every case is evaluated, judge each pair whose two cases produced an outcome.

    A case that crashed inside pydantic-evals has no outcome; its pair then fails rather than vanish.
    """
    results: list[PairResult] = []
    for pair in loaded.pairs:
        result = PairResult(name=pair.name, cases=list(pair.cases), team=pair.team)
        missing = [n for n in pair.cases if n not in outcomes]
        if missing:
            reason = f"no outcome for {', '.join(missing)} (the task crashed)"
            result.results = [EvalItem(evaluator=e.name, passed=False, reason=reason) for e in PAIR_EVALUATORS]
        else:
            try:
                verdicts = evaluate_pair(pair, outcomes)
            except Exception as exc:  # an evaluator bug fails the pair's checks, as pydantic-evals does for cases
                reason = f"{type(exc).__name__}: {exc}"
                result.results = [
                    EvalItem(evaluator=e.name, passed=False, reason=reason, crashed=True) for e in PAIR_EVALUATORS
                ]
            else:
                result.results = [EvalItem(evaluator=v.evaluator, passed=v.passed, reason=v.reason) for v in verdicts]
                result.scores = {k: s for v in verdicts for k, s in v.scores.items()}
        results.append(result)
    return results


def run_eval(
    loaded: LoadedCases,
    task: Task,
    *,
    settings: Settings | None = None,
    corpus: Corpus | None = None,
    model: str | None = None,
    concurrency: int = 1,
    judge: str | None = None,
    cache: ResponseCache | None = None,
    threshold: float | None = None,
    cases_path: Path | None = None,
    progress: bool = True,
    plans: dict[str, Plan] | None = None,
) -> RunResult:
    """Draft and evaluate every case; ``plans`` (if given) receives each case's plan for the report folder."""
    settings = settings or get_settings()
    corpus = corpus or load_corpus(settings.corpus_dir)
    check_teams(loaded, corpus)
    dataset = loaded.dataset
    if judge:
        for case in dataset.cases:
            case.evaluators = [*case.evaluators, JudgeRubric(model=judge)]

    def eval_task(request: DraftRequest) -> DraftOutcome:
        if model:
            request = request.model_copy(update={"model": model})
        return run_task(task, request)

    started = datetime.now(UTC)
    previous = install(cache)
    try:
        with use_corpus(corpus), activate(cache):
            report: EvaluationReport[DraftRequest, DraftOutcome, Expected] = asyncio.run(
                dataset.evaluate(
                    eval_task,
                    name="tailor-evals",
                    task_name="draft",
                    max_concurrency=max(1, concurrency),
                    progress=progress,
                )
            )
    finally:
        install(previous)
    finished = datetime.now(UTC)

    by_name = {rc.name: _case_result(rc, loaded.files) for rc in report.cases}
    by_name.update({f.name: _case_result(f, loaded.files, failed=True) for f in report.failures})
    order = [c.name for c in dataset.cases]
    outcomes: list[DraftOutcome] = [rc.output for rc in report.cases]
    provs = [o.plan.provenance for o in outcomes if o.plan is not None]
    if plans is not None:
        plans.update({rc.name: rc.output.plan for rc in report.cases if rc.output.plan is not None})
    with use_corpus(corpus):
        pair_results = _pair_results(loaded, {rc.name: rc.output for rc in report.cases})
    commit, dirty = git_info()
    return RunResult(
        run_id=_new_run_id(started),
        started_at=started,
        finished_at=finished,
        model=_most_common((p.model for p in provs), model or settings.model),
        prompt_version=_most_common((p.prompt_version for p in provs), _prompt_version(settings)),
        corpus_hash=corpus.content_hash,
        engine_version=_most_common((p.engine_version for p in provs), "") or None,
        git_commit=commit,
        git_dirty=dirty,
        cases_path=str(cases_path) if cases_path else "",
        concurrency=max(1, concurrency),
        judge=judge,
        threshold=threshold,
        cache=cache.stats.model_dump() if cache is not None else None,
        cases=[by_name[n] for n in order if n in by_name],
        pairs=pair_results,
    )


# --------------------------------------------------------------------------- threshold
class Threshold(BaseModel):
    model_config = ConfigDict(extra="ignore")

    min_pass_rate: float = Field(ge=0, le=1)


def load_threshold(path: Path) -> Threshold:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return Threshold.model_validate(data)
    except FileNotFoundError:
        raise NotFound(f"no threshold file at {path}") from None
    except (yaml.YAMLError, ValidationError) as exc:
        raise BadInput(f"{path}: invalid threshold file: {str(exc).splitlines()[0]}") from None


def check_gate(run: RunResult) -> None:
    if run.threshold is None:
        return
    problems = []
    if run.pass_rate < run.threshold:
        problems.append(
            f"eval pass rate {run.pass_rate:.1%} is below the threshold {run.threshold:.1%} "
            f"({run.n_passed}/{run.n_assertions} assertions)"
        )
    if run.unanswered:
        problems.append(
            f"{run.unanswered} model calls had no recorded response and no live budget left: a prompt, corpus, "
            "engine or model change is not recorded; run `tailor eval --record --prune` and commit evals/recorded/"
        )
    if problems:
        raise BelowThreshold("; ".join(problems))


# --------------------------------------------------------------------------- storage
def runs_dir(settings: Settings | None = None) -> Path:
    return (settings or get_settings()).data_dir / "evals" / "runs"


def save_run(run: RunResult, *dirs: Path) -> list[Path]:
    text = run.model_dump_json(indent=2) + "\n"
    written = []
    for d in dirs:
        d.mkdir(parents=True, exist_ok=True)
        path = d / f"{run.run_id}.json"
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def load_run(path: Path) -> RunResult:
    try:
        return RunResult.model_validate_json(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NotFound(f"no eval run at {path}") from None
    except ValidationError as exc:
        raise BadInput(f"{path} is not an eval run: {str(exc).splitlines()[0]}") from None


def list_runs(settings: Settings | None = None) -> list[RunSummary]:
    """Every saved run, oldest first: the history the UI charts."""
    out: list[RunSummary] = []
    for path in sorted(runs_dir(settings).glob("*.json")):
        try:
            out.append(load_run(path).summary(path))
        except TailorError:
            continue  # a damaged file must not hide the rest of the history
    return sorted(out, key=lambda s: s.started_at)


def resolve_run(ref: str, settings: Settings | None = None) -> Path:
    """A run file path, a run id (or unique prefix), ``latest`` or ``previous``."""
    p = Path(ref)
    if p.is_file():
        return p
    runs = list_runs(settings)
    if ref in {"latest", "previous"}:
        need = 1 if ref == "latest" else 2
        if len(runs) < need:
            raise NotFound(f"there is no {ref} eval run (found {len(runs)})")
        return runs[-need].path
    matches = [r for r in runs if r.run_id.startswith(ref)]
    if len(matches) == 1:
        return matches[0].path
    if not matches:
        raise NotFound(f"no eval run {ref!r} in {runs_dir(settings)}")
    raise BadInput(f"{ref!r} matches {len(matches)} runs; give more of the id")


# --------------------------------------------------------------------------- the suite
@dataclass
class Suite:
    """One eval run, checked before anything is drafted: the cases, the gate and the engine."""

    settings: Settings
    loaded: LoadedCases
    cases_path: Path
    threshold: float | None
    model: str | None
    task: Task

    @property
    def size(self) -> int:
        return len(self.loaded.dataset.cases)

    def run(
        self,
        cache: ResponseCache | None,
        *,
        concurrency: int = 1,
        judge: str | None = None,
        progress: bool = True,
        on_case: Callable[[], None] | None = None,
        plans: dict[str, Plan] | None = None,
    ) -> tuple[RunResult, Path]:
        """Draft and evaluate every case, save the run; the result and the file it was saved to.

        ``on_case`` is called after each case is drafted (the Evals page counts them).
        """
        result = run_eval(
            self.loaded,
            self.task if on_case is None else _counted(self.task, on_case),
            settings=self.settings,
            model=self.model,
            concurrency=concurrency,
            judge=judge,
            cache=cache,
            threshold=self.threshold,
            cases_path=self.cases_path,
            progress=progress,
            plans=plans,
        )
        return result, save_run(result, runs_dir(self.settings))[0]


def _counted(task: Task, on_case: Callable[[], None]) -> Task:
    def counted(request: DraftRequest) -> Plan | DraftResult:
        try:
            return task(request)
        finally:
            on_case()

    return counted


def prepare_suite(
    settings: Settings | None = None,
    *,
    cases: Path | None = None,
    only: Sequence[str] = (),
    model: str | None = None,
    threshold: Path | None = None,
    task: Task | None = None,
) -> Suite:
    """Load the cases and the gate and build the engine, so that any mistake shows before drafting starts.

    Defaults: ``evals/cases``, ``evals/threshold.yaml`` (no gate when the default file is absent),
    the configured model, the real engine.
    """
    settings = settings or get_settings()
    if model:
        settings = settings.model_copy(update={"model": model})
    cases_path = cases or settings.evals_dir / "cases"
    threshold_path = threshold or settings.evals_dir / "threshold.yaml"
    gate = load_threshold(threshold_path).min_pass_rate if threshold_path.exists() or threshold else None
    loaded = load_cases(cases_path, only)
    return Suite(settings, loaded, cases_path, gate, model or None, task or EngineTask(settings))


# --------------------------------------------------------------------------- compare
class Change(BaseModel):
    case: str
    evaluator: str
    before: bool | None
    after: bool | None
    reason: str | None = None


class Comparison(BaseModel):
    run_a: str
    run_b: str
    pass_rate_a: float
    pass_rate_b: float
    improved: list[Change] = Field(default_factory=list)
    regressed: list[Change] = Field(default_factory=list)
    added: list[Change] = Field(default_factory=list)
    removed: list[Change] = Field(default_factory=list)
    unchanged: int = 0
    evaluator_deltas: dict[str, float] = Field(default_factory=dict)
    latency_a: dict[str, float] = Field(default_factory=dict)
    latency_b: dict[str, float] = Field(default_factory=dict)
    tokens_a: dict[str, int] = Field(default_factory=dict)
    tokens_b: dict[str, int] = Field(default_factory=dict)
    differs: dict[str, tuple[str | None, str | None]] = Field(
        default_factory=dict, description="Run settings that differ (model, prompt version, corpus hash)."
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def delta(self) -> float:
        return round(self.pass_rate_b - self.pass_rate_a, 4)


def compare_runs(a: RunResult, b: RunResult) -> Comparison:
    def cells(run: RunResult) -> dict[tuple[str, str], EvalItem]:
        out = {(c.name, r.evaluator): r for c in run.cases for r in c.results}
        out.update({(pair_label(p.name), r.evaluator): r for p in run.pairs for r in p.results})
        return out

    ca, cb = cells(a), cells(b)
    cmp = Comparison(
        run_a=a.run_id,
        run_b=b.run_id,
        pass_rate_a=a.pass_rate,
        pass_rate_b=b.pass_rate,
        latency_a=a.latency(),
        latency_b=b.latency(),
        tokens_a=a.tokens(),
        tokens_b=b.tokens(),
    )
    for key in sorted(ca.keys() | cb.keys()):
        before, after = ca.get(key), cb.get(key)
        shown = after if after is not None else before
        change = Change(
            case=key[0],
            evaluator=key[1],
            before=before.passed if before else None,
            after=after.passed if after else None,
            reason=shown.reason if shown is not None else None,
        )
        if before is None:
            cmp.added.append(change)
        elif after is None:
            cmp.removed.append(change)
        elif before.passed and not after.passed:
            cmp.regressed.append(change)
        elif after.passed and not before.passed:
            cmp.improved.append(change)
        else:
            cmp.unchanged += 1
    ra, rb = a.evaluator_rates(), b.evaluator_rates()
    for name in sorted(ra.keys() | rb.keys()):
        pa = ra[name][0] / ra[name][1] if name in ra and ra[name][1] else 0.0
        pb = rb[name][0] / rb[name][1] if name in rb and rb[name][1] else 0.0
        cmp.evaluator_deltas[name] = round(pb - pa, 4)
    for attr in ("model", "prompt_version", "corpus_hash", "git_commit"):
        va, vb = getattr(a, attr), getattr(b, attr)
        if va != vb:
            cmp.differs[attr] = (va, vb)
    return cmp


# --------------------------------------------------------------------------- reports
def pair_label(name: str) -> str:
    """How reports and comparisons name a pair, so it never collides with a case name."""
    return f"pair:{name}"


def junit_xml(run: RunResult) -> str:
    """One testcase per case x evaluator (and pair x pair check), for CI test report viewers."""
    graded = run.graded()
    failures = sum(1 for c in graded for r in c.results if not r.passed and not r.crashed)
    errors = sum(1 for c in graded for r in c.results if r.crashed)
    total = sum(len(c.results) for c in graded)
    seconds = f"{(run.finished_at - run.started_at).total_seconds():.3f}"
    suites = ET.Element("testsuites", name="tailor-evals", tests=str(total), failures=str(failures))
    suites.set("errors", str(errors))
    suites.set("time", seconds)
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=f"tailor-evals.{run.model}",
        tests=str(total),
        failures=str(failures),
        errors=str(errors),
        time=seconds,
        timestamp=run.started_at.isoformat(timespec="seconds"),
    )
    props = ET.SubElement(suite, "properties")
    for key in ("run_id", "model", "prompt_version", "corpus_hash", "git_commit"):
        ET.SubElement(props, "property", name=key, value=str(getattr(run, key) or ""))
    ET.SubElement(props, "property", name="pass_rate", value=f"{run.pass_rate:.4f}")
    rows = [(f"evals.{(c.file or 'cases').rsplit('.', 1)[0]}.{c.name}", c.duration_s, c.results) for c in run.cases]
    rows += [(f"evals.pairs.{p.name}", 0.0, p.results) for p in run.pairs]
    for classname, duration, results in rows:
        share = duration / max(1, len(results))
        for r in results:
            tc = ET.SubElement(suite, "testcase", classname=classname, name=r.evaluator, time=f"{share:.3f}")
            if r.crashed:
                ET.SubElement(tc, "error", message=(r.reason or "evaluator crashed")[:500]).text = r.reason
            elif not r.passed:
                ET.SubElement(tc, "failure", message=(r.reason or "failed")[:500]).text = r.reason
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def _cell(item: EvalItem | None) -> str:
    if item is None:
        return "·"
    return "✓" if item.passed else ("‼" if item.crashed else "✗")


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_report(run: RunResult) -> str:
    names = run.evaluator_names()
    lat, tok = run.latency(), run.tokens()
    gate = "" if run.threshold is None else f" (threshold {run.threshold:.1%}: {'PASS' if run.gate_passed else 'FAIL'})"
    lines = [
        f"# Eval run {run.run_id}",
        "",
        f"- **Pass rate: {run.pass_rate:.1%}**{gate} — {run.n_passed}/{run.n_assertions} assertions; "
        f"{run.case_pass_rate:.1%} of {len(run.cases)} cases pass every check",
        f"- Model `{run.model}`, prompt version `{run.prompt_version}`, corpus `{run.corpus_hash}`, "
        f"commit `{(run.git_commit or 'unknown')[:12]}`{' (dirty)' if run.git_dirty else ''}",
        f"- Started {run.started_at.isoformat(timespec='seconds')}, concurrency {run.concurrency}"
        + (f", judge `{run.judge}`" if run.judge else ""),
    ]
    if lat:
        lines.append(
            f"- Latency per case: mean {lat['mean_s']:.2f}s, p50 {lat['p50_s']:.2f}s, "
            f"p95 {lat['p95_s']:.2f}s, "
            f"max {lat['max_s']:.2f}s; wall {lat['total_s']:.1f}s; model time {lat['model_s']:.1f}s"
        )
    lines.append(f"- Tokens: {tok['prompt']:,} prompt, {tok['completion']:,} completion")
    if run.cache is not None:
        lines.append(
            f"- Response cache: {run.cache.get('hits', 0):.0f} hits, {run.cache.get('misses', 0):.0f} misses, "
            f"{run.cache.get('writes', 0):.0f} writes, {run.cache.get('live_calls', 0):.0f} live calls, "
            f"{run.unanswered} unanswered"
        )
    if run.judge_pass_rate is not None:
        lines.append(f"- LLM judge pass rate (not gated): {run.judge_pass_rate:.1%}")
    if measures := run.score_summary():
        shown = [f"{k} mean {s['mean']:.2f} (min {s['min']:.2f}, n={s['n']:.0f})" for k, s in measures.items()]
        lines.append(f"- Tailoring measures: {'; '.join(shown)}")
    lines += ["", "## Evaluators", "", "| Evaluator | Passed | Applicable | Rate |", "|---|---:|---:|---:|"]
    for name, (ok, n) in run.evaluator_rates().items():
        lines.append(f"| {name} | {ok} | {n} | {ok / n:.0%} |")
    lines += ["", "## Cases", "", "| Case | " + " | ".join(names) + " | s | tokens |"]
    lines.append("|---|" + "---|" * len(names) + "---:|---:|")
    for c in run.cases:
        by = {r.evaluator: r for r in c.results}
        row = " | ".join(_cell(by.get(n)) for n in names)
        lines.append(f"| {c.name} | {row} | {c.duration_s:.1f} | {c.prompt_tokens + c.completion_tokens} |")
    lines += ["", "✓ pass, ✗ fail, ‼ evaluator crashed, · not applicable", ""]
    lines += _pairs_section(run)
    failed = [(c.name, r) for c in run.cases for r in c.results if not r.passed]
    failed += [(pair_label(p.name), r) for p in run.pairs for r in p.results if not r.passed]
    if failed:
        lines += ["## Failures", ""]
        lines += [f"- **{name}** / {r.evaluator}: {_md_escape(r.reason or '')}" for name, r in failed]
        lines.append("")
    return "\n".join(lines)


def _pairs_section(run: RunResult) -> list[str]:
    """The pairs table, with each plan's tailoring scores beside the pair's."""
    if not run.pairs:
        return []
    by_case = {c.name: c for c in run.cases}

    def score(name: str, key: str) -> str:
        value = by_case[name].scores.get(key) if name in by_case else None
        return "–" if value is None else f"{value:.2f}"

    lines = [
        "## Pairs",
        "",
        "| Pair | Team | Cases | Specificity | Divergence | Result |",
        "|---|---|---|---|---:|---|",
    ]
    for p in run.pairs:
        spec = " / ".join(score(n, "specificity") for n in p.cases)
        div = p.scores.get("divergence")
        mark = "✓" if p.passed else ("‼" if any(r.crashed for r in p.results) else "✗")
        lines.append(
            f"| {p.name} | {p.team or '–'} | {' / '.join(p.cases)} | {spec} | "
            f"{'–' if div is None else f'{div:.2f}'} | {mark} |"
        )
    return [*lines, ""]


def write_report(run: RunResult, folder: Path, plans: dict[str, Plan] | None = None) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "json": folder / "run.json",
        "markdown": folder / "report.md",
        "junit": folder / "junit.xml",
    }
    paths["json"].write_text(run.model_dump_json(indent=2) + "\n", encoding="utf-8")
    paths["markdown"].write_text(markdown_report(run), encoding="utf-8")
    paths["junit"].write_text(junit_xml(run), encoding="utf-8")
    if plans:
        plan_dir = folder / "plans"
        plan_dir.mkdir(exist_ok=True)
        for name, plan in plans.items():
            safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", name)
            (plan_dir / f"{safe}.json").write_text(plan.model_dump_json(indent=2, by_alias=True), encoding="utf-8")
        paths["plans"] = plan_dir
    return paths


def rate_bar(rate: float, width: int = 20) -> str:
    filled = round(rate * width)
    return "█" * filled + "░" * (width - filled)


def evaluator_list(evaluators: Sequence[Evaluator[Any, Any, Any]]) -> list[str]:
    return [e.get_serialization_name() for e in evaluators]
