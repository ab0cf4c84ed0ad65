"""Benchmark the plan engine: where a draft's time goes, per step and per model call.

Run:  .venv/bin/python scripts/bench_draft.py [--model local/qwen2.5-coder-1.5b] [--model ...] [--runs 1]

For each model and each background in examples/, drafts a plan with no response cache
and prints: time to the grounded skeleton, each step's wall time, model time and tokens,
the whole draft, and the pipeline's own overhead (wall time outside model calls).
The first draft per model includes loading the model; it is reported separately.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from tailor.config import get_settings
from tailor.pipeline.engine import Engine
from tailor.schema import DraftRequest

ROOT = Path(__file__).resolve().parent.parent


def run_one(engine: Engine, text: str, model: str) -> dict[str, float | int | str]:
    t0 = time.perf_counter()
    skeleton_s = 0.0
    plan = None
    for event in engine.draft_events(DraftRequest(background=text, model=model)):
        if event.kind == "skeleton":
            skeleton_s = time.perf_counter() - t0
        if event.plan is not None:
            plan = event.plan
    total = time.perf_counter() - t0
    assert plan is not None
    timings = plan.provenance.timings
    model_s = sum(t.model_seconds for t in timings)
    model_step_wall = sum(t.seconds for t in timings if t.model_seconds or t.step.startswith(("intake", "tailor")))
    row: dict[str, float | int | str] = {
        "skeleton_s": skeleton_s,
        "total_s": total,
        "model_s": model_s,
        "overhead_s": total - model_s,
        "overhead_outside_model_steps_s": total - model_step_wall,
        "completion_tokens": sum(t.completion_tokens for t in timings),
        "prompt_tokens": sum(t.prompt_tokens for t in timings),
        "tailored": sum(t.tailored for t in plan.all_tasks()),
        "needs_review": sum(t.needs_review for t in plan.all_tasks()),
        "fallbacks": ", ".join(plan.provenance.fallbacks) or "-",
    }
    for t in timings:
        row[f"step:{t.step}"] = t.seconds
    return row


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", action="append", default=[])
    ap.add_argument("--runs", type=int, default=1)
    args = ap.parse_args()
    models = args.model or ["local/qwen2.5-coder-1.5b", "local/qwen2.5-coder-0.5b"]
    backgrounds = sorted((ROOT / "examples").glob("*.txt"))
    settings = get_settings()
    for model in models:
        engine = Engine(settings)
        t0 = time.perf_counter()
        first = run_one(engine, backgrounds[0].read_text(encoding="utf-8"), model)
        print(f"\n## {model}\n\nfirst draft (includes model load): {time.perf_counter() - t0:.1f} s")
        rows = []
        for _ in range(args.runs):
            for bg in backgrounds:
                row = run_one(engine, bg.read_text(encoding="utf-8"), model)
                row["background"] = bg.name
                rows.append(row)
        del first
        steps = sorted({k for r in rows for k in r if k.startswith("step:")})
        print(
            "\n| background | skeleton s | total s | model s | overhead s | overhead % | tokens in/out |"
            " tailored | needs review |"
        )
        print("|---|---|---|---|---|---|---|---|---|")
        for r in rows:
            pct = 100 * float(r["overhead_s"]) / float(r["total_s"])
            print(
                f"| {r['background']} | {float(r['skeleton_s']):.3f} | {float(r['total_s']):.1f} | "
                f"{float(r['model_s']):.1f} | {float(r['overhead_s']):.2f} | {pct:.1f}% | "
                f"{r['prompt_tokens']}/{r['completion_tokens']} | {r['tailored']} | {r['needs_review']} |"
            )
        print(
            "\nmean seconds per step: "
            + ", ".join(f"{s[5:]} {statistics.mean(float(r.get(s, 0.0)) for r in rows):.3f}" for s in steps)
        )


if __name__ == "__main__":
    main()
