"""Show what the model really answers for eval cases: every prompt, the raw reply, and what survived.

Run:  .venv/bin/python scripts/probe_model.py CASE [CASE ...] [--model local/qwen2.5-coder-1.5b]

For each named case in evals/cases/ this drafts a plan with no response cache, prints
each model call's user message (shortened), the raw text the model sent back and how
long it took, then the plan's review flags and the tasks the model tailored. It is the
tool for prompt work: the eval table says *that* tailoring failed, this says *why*.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from tailor.config import get_settings
from tailor.evals.runner import load_cases
from tailor.models.llm import LiteLLMModel, Send
from tailor.models.response_cache import activate
from tailor.pipeline.engine import Engine


class ProbeModel(LiteLLMModel):
    """The real model, printing each request's prompt and the raw reply."""

    def sender(self) -> Send:
        send = super().sender()

        def probe(**kwargs: Any) -> Any:
            started = time.perf_counter()
            response = send(**kwargs)
            print(f"\n--- prompt ({time.perf_counter() - started:.1f} s):\n{kwargs['messages'][-1]['content'][:700]}")
            print(f">>> {response.choices[0].message.content}")
            return response

        return probe


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="+", help="case names from evals/cases/")
    parser.add_argument("--model", help="litellm model string (default: settings.model)")
    args = parser.parse_args()
    settings = get_settings()
    if args.model:
        settings = settings.model_copy(update={"model": args.model})
    cases = {c.name: c for c in load_cases(settings.evals_dir / "cases", args.cases).dataset.cases}
    engine = Engine(settings, model=ProbeModel())
    with activate(None):  # always the real model
        for name in args.cases:
            if name not in cases:
                raise SystemExit(f"no case named {name!r}")
            print(f"\n===== {name} on {settings.model}")
            plan = engine.draft(cases[name].inputs).plan
            for flag in plan.review_flags:
                print(f"flag {flag.field}: {flag.reason[:300]}")
            for task in plan.all_tasks():
                if task.tailored:
                    print(f"tailored [{', '.join(task.skills)}] {task.title}: …{task.description[-200:]}")


if __name__ == "__main__":
    main()
