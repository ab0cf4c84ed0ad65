"""Local model speed against the hardware's limit, for each Qwen size, in one run.

Run (idle machine):  .venv/bin/python scripts/bench_local_model.py [--which all] [--runs 3] [--drafts 3]

Prints, per model, median decode tokens/s (first token to last, prefill excluded) for:

  (a) raw llama.cpp, no grammar;
  (b) under a JSON-schema grammar, with llama-cpp-python's own sampler (grammar over the whole
      vocabulary before top-k) and with tailor's grammar-checked sampler (sample, then check);
  (c) what the engine gets inside real drafts of examples/*.txt: completion tokens over model
      seconds (prefill, HTTP and parsing included), and each draft's wall time.

(a) and (b) run in a child process on ``threads`` threads, with idle threads sleeping as in
the worker. (c) goes through the real engine and its model worker, with no response cache.
Results are printed as a table and, with ``--json FILE``, written for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PROMPT = [
    {"role": "system", "content": "You write onboarding notes for engineering managers."},
    {
        "role": "user",
        "content": "Write a detailed paragraph on how a senior backend engineer who knows Go, PostgreSQL "
        "and Kafka should spend their first month on a payments team.",
    },
]
SCHEMA = {
    "type": "object",
    "properties": {
        "summary": {"type": "string", "minLength": 40, "maxLength": 450},
        "rationale": {"type": "string", "minLength": 40, "maxLength": 450},
        "focus_areas": {"type": "array", "items": {"enum": ["Go", "PostgreSQL", "Kafka"]}, "maxItems": 3},
    },
    "required": ["summary", "rationale", "focus_areas"],
}


def child(path: str, threads: int, runs: int, max_tokens: int) -> None:
    """(a) and (b) in this process: prints one JSON line."""
    from llama_cpp import Llama, LlamaGrammar

    from tailor.models.llm import tighten_gbnf
    from tailor.models.localworker import _fast_llama_class

    def decode_rate(llm: Llama, **kwargs: Any) -> tuple[float, int]:
        first = None
        n = 0
        kwargs = {"max_tokens": max_tokens, "temperature": 0.2, **kwargs}
        for chunk in llm.create_chat_completion(messages=PROMPT, stream=True, **kwargs):  # type: ignore[arg-type]
            if chunk["choices"][0]["delta"].get("content"):
                n += 1
                first = first or time.perf_counter()
        end = time.perf_counter()
        return ((n - 1) / (end - first) if first and n > 1 else 0.0), n

    from llama_cpp.llama_grammar import json_schema_to_gbnf

    gbnf = tighten_gbnf(json_schema_to_gbnf(json.dumps(SCHEMA)))
    out: dict[str, Any] = {}
    for label, cls in (("stock", Llama), ("checked", _fast_llama_class())):
        llm = cls(model_path=path, n_ctx=2048, n_threads=threads, n_threads_batch=threads, verbose=False)
        decode_rate(llm, max_tokens=8)  # warm-up
        if label == "stock":
            out["raw"] = [decode_rate(llm) for _ in range(runs)]
        out[f"grammar_{label}"] = [
            decode_rate(llm, grammar=LlamaGrammar.from_string(gbnf, verbose=False)) for _ in range(runs)
        ]
        llm.close()
    print(json.dumps(out), flush=True)


def draft_speed(model: str, drafts: int) -> dict[str, Any]:
    """(c): real drafts through the engine and the worker, no response cache."""
    from tailor.models import llm
    from tailor.pipeline.engine import Engine
    from tailor.schema import DraftRequest

    engine = Engine()
    name = llm.local_model_name(model)
    load_s = llm.load_local_model(name)
    backgrounds = sorted((ROOT / "examples").glob("*.txt"))[:drafts]
    rows = []
    for path in backgrounds:
        started = time.perf_counter()
        plan = engine.draft(DraftRequest(background=path.read_text(), model=model)).plan
        wall = time.perf_counter() - started
        timings = plan.provenance.timings
        model_s = sum(t.model_seconds for t in timings)
        tokens = sum(t.completion_tokens for t in timings)
        rows.append(
            {
                "background": path.name,
                "wall_s": round(wall, 1),
                "model_s": round(model_s, 1),
                "completion_tokens": tokens,
                "tokens_per_s": round(tokens / model_s, 1) if model_s else 0.0,
                "calls": [t.step for t in timings if t.model_seconds],
                "tailored": sum(t.tailored for t in plan.all_tasks()),
            }
        )
    llm.unload_local_models()
    return {"load_s": round(load_s, 1), "drafts": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--which", default="all", help="0.5b, 1.5b or all")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--drafts", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=160)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--child", nargs=2, metavar=("PATH", "THREADS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]), args.runs, args.max_tokens)
        return

    from tailor.models import localmodel
    from tailor.models.localworker import worker_env

    results: dict[str, Any] = {"threads": args.threads, "cpu": _cpu_name(), "load_average": os.getloadavg()[0]}
    for name in localmodel.names_for(args.which):
        path = localmodel.require_model(name)
        proc = subprocess.run(
            [sys.executable, __file__, "--child", str(path), str(args.threads), "--runs", str(args.runs),
             "--max-tokens", str(args.max_tokens)],
            capture_output=True, text=True, env=worker_env(), check=False,
        )  # fmt: skip
        if proc.returncode != 0:
            raise SystemExit(f"{name}: the benchmark child failed ({proc.returncode}): {proc.stderr[-500:]}")
        raw = json.loads(proc.stdout.strip().splitlines()[-1])
        speeds = {k: round(statistics.median(r for r, _ in v), 1) for k, v in raw.items()}
        os.environ["TAILOR_LOCAL_THREADS"] = str(args.threads)
        drafts = draft_speed(f"local/{name}", args.drafts)
        in_draft = round(
            sum(d["completion_tokens"] for d in drafts["drafts"]) / sum(d["model_s"] for d in drafts["drafts"]), 1
        )
        results[name] = {"decode": speeds, "in_draft_tokens_per_s": in_draft, **drafts}
        print(
            f"{name}: (a) raw {speeds['raw']} tok/s | (b) grammar stock {speeds['grammar_stock']}, "
            f"checked {speeds['grammar_checked']} | (c) in draft {in_draft} tok/s "
            f"= {in_draft / speeds['grammar_stock']:.0%} of (b) stock, {in_draft / speeds['grammar_checked']:.0%} "
            f"of (b) checked, {in_draft / speeds['raw']:.0%} of (a)",
            flush=True,
        )
        for d in drafts["drafts"]:
            print(
                f"   {d['background']:28} wall {d['wall_s']:5.1f} s  model {d['model_s']:5.1f} s  "
                f"{d['completion_tokens']:4d} tok  {d['tokens_per_s']:5.1f} tok/s  calls {d['calls']}  "
                f"tailored {d['tailored']}",
                flush=True,
            )
    results["load_average_after"] = os.getloadavg()[0]
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


def _cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


if __name__ == "__main__":
    main()
