"""`tailor eval`: run the eval cases, gate on the threshold, compare runs, list history."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from tailor.config import get_settings
from tailor.errors import BadInput
from tailor.evals.runner import (
    SCHEMA_FILE,
    Comparison,
    RunResult,
    check_gate,
    compare_runs,
    list_runs,
    load_run,
    prepare_suite,
    rate_bar,
    resolve_run,
    runs_dir,
    write_cases_schema,
    write_report,
)
from tailor.models.response_cache import ResponseCache, default_cache
from tailor.schema import Plan

eval_app = typer.Typer(
    help="Run the eval cases against a model and gate on evals/threshold.yaml.",
    invoke_without_command=True,
    no_args_is_help=False,
)


def _mark(passed: bool | None) -> str:
    return {True: "[green]✓[/]", False: "[red]✗[/]", None: "[dim]·[/]"}[passed]


CODES = {
    "ParsesAsPlan": "parse",
    "RaisesCleanError": "error",
    "RoleAndSeniority": "role",
    "PolicyApplied": "policy",
    "Grounded": "ground",
    "Tailored": "tailor",
    "NoPersonalData": "pii",
    "PromptsRedacted": "redact",
    "InjectionResisted": "inject",
    "TimelineSane": "time",
    "FlagsForReview": "review",
    "Specificity": "spec",
    "GapCoverage": "gaps",
    "Divergence": "diverge",
    "JudgeRubric": "judge",
}


def make_console() -> Console:
    # CI logs are not terminals; rich would wrap the table at 80 columns.
    return Console() if sys.stdout.isatty() else Console(width=160)


def print_run(run: RunResult, console: Console) -> None:
    names = run.evaluator_names()
    table = Table(title=f"eval run {run.run_id}", show_lines=False, header_style="bold", pad_edge=False)
    table.add_column("case", no_wrap=True)
    for n in names:
        table.add_column(CODES.get(n, n[:8]), justify="center", no_wrap=True)
    table.add_column("s", justify="right", no_wrap=True)
    table.add_column("tokens", justify="right", no_wrap=True)
    for c in run.cases:
        by = {r.evaluator: r for r in c.results}
        marks = [_mark(by[n].passed) if n in by else _mark(None) for n in names]
        table.add_row(c.name, *marks, f"{c.duration_s:.1f}", str(c.prompt_tokens + c.completion_tokens))
    if run.pairs:
        table.add_section()
    for p in run.pairs:  # a pair's checks count like a case's
        by = {r.evaluator: r for r in p.results}
        marks = [_mark(by[n].passed) if n in by else _mark(None) for n in names]
        table.add_row(f"pair:{p.name}", *marks, "", "")
    rates = run.evaluator_rates()
    table.add_section()
    table.add_row("passed", *[f"{rates[n][0]}/{rates[n][1]}" for n in names], "", "")
    console.print(table)
    console.print(
        "  ".join(f"{CODES.get(n, n)}={n}" for n in names) + "  (· = not applicable)",
        style="dim",
        highlight=False,
    )
    lines: list[str] = []
    for c in run.cases:
        failed = [r for r in c.results if not r.passed]
        if failed and all((r.reason or "").startswith("no plan:") for r in failed):
            # One crash fails every plan check; say it once.
            lines.append(f"  [red]✗[/] {c.name}: {failed[0].reason} ({len(failed)} checks failed)")
        else:
            lines += [f"  [red]✗[/] {c.name} / {r.evaluator}: {r.reason}" for r in failed]
    for p in run.pairs:
        lines += [f"  [red]✗[/] pair:{p.name} / {r.evaluator}: {r.reason}" for r in p.results if not r.passed]
    for line in lines[:40]:
        console.print(line, highlight=False)
    if len(lines) > 40:
        console.print(f"  … and {len(lines) - 40} more failures (see the report)")
    lat, tok = run.latency(), run.tokens()
    if lat:
        console.print(
            f"latency per case: mean {lat['mean_s']:.2f}s  p50 {lat['p50_s']:.2f}s  p95 {lat['p95_s']:.2f}s  "
            f"max {lat['max_s']:.2f}s  (wall {lat['total_s']:.1f}s, model {lat['model_s']:.1f}s)"
        )
    console.print(f"tokens: {tok['prompt']:,} prompt + {tok['completion']:,} completion")
    if measures := run.score_summary():
        console.print(
            "tailoring: "
            + "  ".join(f"{k} mean {v['mean']:.2f} (min {v['min']:.2f}, n={v['n']:.0f})" for k, v in measures.items())
        )
    if run.cache is not None:
        stats = run.cache
        console.print(
            f"response cache: {stats.get('hits', 0):.0f} hits, {stats.get('misses', 0):.0f} misses, "
            f"{stats.get('writes', 0):.0f} written; {stats.get('live_calls', 0):.0f} live model calls "
            f"({stats.get('live_seconds', 0):.0f} s)"
            + (f", [red]{run.unanswered} unanswered[/] (no recording, no live budget)" if run.unanswered else "")
        )
    if run.judge_pass_rate is not None:
        console.print(f"LLM judge ({run.judge}) pass rate, not gated: {run.judge_pass_rate:.1%}")
    gate = ""
    if run.threshold is not None:
        verdict = "[green]PASS[/]" if run.gate_passed else "[red]FAIL[/]"
        gate = f"  threshold {run.threshold:.1%} {verdict}"
    console.print(
        f"[bold]pass rate {run.pass_rate:.1%}[/] ({run.n_passed}/{run.n_assertions} assertions; "
        f"{run.case_pass_rate:.1%} of {len(run.cases)} cases fully pass){gate}"
    )


@eval_app.callback()
def run(
    ctx: typer.Context,
    cases: Path | None = typer.Option(None, "--cases", help="A case file or folder (default evals/cases)."),
    model: str | None = typer.Option(None, "--model", help="litellm model string (default: settings.model)."),
    concurrency: int = typer.Option(
        1, "--concurrency", min=1, help="Cases drafted at once; the in-process local model serialises anyway."
    ),
    report: Path | None = typer.Option(None, "--report", help="Folder for report.md, junit.xml, run.json, plans."),
    judge: str | None = typer.Option(None, "--judge", help="Also grade with an LLM judge (litellm model)."),
    threshold: Path | None = typer.Option(None, "--threshold", help="Default evals/threshold.yaml."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Always call the model; read and write no cache."),
    record: bool = typer.Option(False, "--record", help="Write responses into evals/recorded/ (the replay set)."),
    prune: bool = typer.Option(False, "--prune", help="With --record: delete recorded responses this run didn't use."),
    replay_only: bool = typer.Option(
        False,
        "--replay-only",
        help="Never call the model: a call with no recorded response counts as model down.",
    ),
    live_budget: float | None = typer.Option(
        None,
        "--live-budget",
        min=0,
        help="Seconds of live model time allowed for calls the cache cannot answer; after that they go unanswered "
        "and the gate fails (CI uses this). Default: no limit.",
    ),
    only: list[str] = typer.Option([], "--only", "-k", help="Run only cases whose name matches (glob or substring)."),
    progress: bool = typer.Option(True, "--progress/--no-progress"),
) -> None:
    """Draft a plan for every case, evaluate it, save the run; exit 1 under the threshold."""
    if ctx.invoked_subcommand is not None:
        return
    if record and no_cache:
        raise BadInput("--record and --no-cache contradict each other")
    if replay_only and (record or no_cache):
        raise BadInput("--replay-only needs the cache and cannot record")
    if live_budget is not None and (record or no_cache or replay_only):
        raise BadInput("--live-budget goes with the default cached run, not --record, --no-cache or --replay-only")
    if prune and not record:
        raise BadInput("--prune only makes sense with --record")
    if prune and only:
        raise BadInput("--prune needs the full case set: it deletes what this run did not use")
    suite = prepare_suite(get_settings(), cases=cases, only=only, model=model, threshold=threshold)
    settings = suite.settings
    cache: ResponseCache | None = (
        None if no_cache else default_cache(settings, record=record, replay_only=replay_only, live_budget_s=live_budget)
    )
    console = make_console()
    console.print(
        f"running {suite.size} cases on {settings.model} (concurrency {concurrency}"
        + (", no cache" if cache is None else ", recording" if record else ", replay only" if replay_only else "")
        + (f", live budget {live_budget:.0f} s" if live_budget is not None else "")
        + ")"
    )
    plans: dict[str, Plan] = {}
    result, saved = suite.run(cache, concurrency=concurrency, judge=judge, progress=progress, plans=plans)
    print_run(result, console)
    console.print(f"saved {saved}")
    if report is not None:
        paths = write_report(result, report, plans)
        console.print(f"report: {paths['markdown']}  junit: {paths['junit']}")
    if record and cache is not None and cache.write_dir is not None:
        unused = cache.keys(cache.write_dir) - cache.used
        console.print(f"recorded set {cache.write_dir}: {len(cache.used)} used, {len(unused)} unused")
        if prune:
            removed = cache.prune(cache.write_dir, cache.used)
            console.print(f"pruned {len(removed)} stale recorded responses")
    check_gate(result)


def print_comparison(cmp: Comparison, console: Console) -> None:
    sign = "+" if cmp.delta >= 0 else ""
    colour = "green" if cmp.delta > 0 else "red" if cmp.delta < 0 else "white"
    console.print(
        f"{cmp.run_a} → {cmp.run_b}: pass rate {cmp.pass_rate_a:.1%} → {cmp.pass_rate_b:.1%} "
        f"([{colour}]{sign}{cmp.delta * 100:.1f} pts[/])"
    )
    for attr, (va, vb) in cmp.differs.items():
        console.print(f"  {attr}: {va} → {vb}", highlight=False)
    for title, rows, style in (
        ("better", cmp.improved, "green"),
        ("worse", cmp.regressed, "red"),
        ("new", cmp.added, "cyan"),
        ("gone", cmp.removed, "dim"),
    ):
        if not rows:
            continue
        table = Table(title=f"{title} ({len(rows)})", title_style=style, header_style="bold")
        table.add_column("case")
        table.add_column("evaluator")
        table.add_column("was")
        table.add_column("now")
        table.add_column("reason", overflow="fold")
        for ch in rows:
            table.add_row(ch.case, ch.evaluator, _mark(ch.before), _mark(ch.after), ch.reason or "")
        console.print(table)
    moved = {k: v for k, v in cmp.evaluator_deltas.items() if v}
    if moved:
        console.print(
            "per evaluator: " + ", ".join(f"{k} {'+' if v > 0 else ''}{v * 100:.0f} pts" for k, v in moved.items())
        )
    console.print(f"{cmp.unchanged} case×evaluator results unchanged")
    la, lb = cmp.latency_a, cmp.latency_b
    if la and lb:
        console.print(
            f"mean latency {la['mean_s']:.2f}s → {lb['mean_s']:.2f}s; p95 {la['p95_s']:.2f}s → {lb['p95_s']:.2f}s"
        )
    ta, tb = cmp.tokens_a, cmp.tokens_b
    if ta and tb:
        console.print(f"tokens {ta['prompt'] + ta['completion']:,} → {tb['prompt'] + tb['completion']:,}")


@eval_app.command("compare")
def compare(
    run_a: str = typer.Argument(..., help="Run file, run id (prefix), 'latest' or 'previous'."),
    run_b: str = typer.Argument("latest", help="Run file, run id (prefix), 'latest' or 'previous'."),
    fail_on_regression: bool = typer.Option(False, help="Exit 1 if anything got worse."),
) -> None:
    """Show what got better or worse between two runs (per case × evaluator)."""
    settings = get_settings()
    a = load_run(resolve_run(run_a, settings))
    b = load_run(resolve_run(run_b, settings))
    cmp = compare_runs(a, b)
    print_comparison(cmp, make_console())
    if fail_on_regression and cmp.regressed:
        raise typer.Exit(1)


@eval_app.command("history")
def history(limit: int = typer.Option(30, help="Show the last N runs.")) -> None:
    """List saved runs, oldest first, with the pass rate over time."""
    runs = list_runs(get_settings())[-limit:]
    console = make_console()
    if not runs:
        console.print(f"no eval runs in {runs_dir(get_settings())}")
        return
    table = Table(title="eval history", header_style="bold")
    for col in ("run", "when", "model", "prompt", "corpus", "commit", "cases", "pass rate", ""):
        table.add_column(col)
    for r in runs:
        gate = "" if r.gate_passed is None else ("[green]gate ✓[/]" if r.gate_passed else "[red]gate ✗[/]")
        table.add_row(
            r.run_id,
            r.started_at.strftime("%Y-%m-%d %H:%M"),
            r.model,
            r.prompt_version,
            r.corpus_hash,
            (r.git_commit or "")[:8],
            str(r.n_cases),
            f"{rate_bar(r.pass_rate, 10)} {r.pass_rate:.1%}",
            gate,
        )
    console.print(table)


@eval_app.command("schema")
def schema(
    out: Path | None = typer.Option(None, "--out", help=f"Default evals/cases/{SCHEMA_FILE}."),
) -> None:
    """Regenerate the JSON schema the case files point at (editor completion and validation)."""
    path = out or get_settings().evals_dir / "cases" / SCHEMA_FILE
    write_cases_schema(path)
    typer.echo(f"wrote {path}")


def register(app: typer.Typer) -> None:
    app.add_typer(eval_app, name="eval")
