"""The Evals page's helpers: a suite run on a background thread, and its charts and tables."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tailor.config import get_settings
from tailor.errors import TailorError
from tailor.web.errors import GENERIC_ERROR

if TYPE_CHECKING:
    import altair as alt
    import pandas as pd

    from tailor.evals.runner import RunResult, RunSummary

log = logging.getLogger("tailor.web.evals")


def pass_rate_chart(runs: Sequence[RunSummary]) -> alt.Chart:
    import altair as alt
    import pandas as pd

    frame = pd.DataFrame(
        [
            {
                "started": r.started_at,
                "pass rate": r.pass_rate,
                "case pass rate": r.case_pass_rate,
                "model": r.model,
            }
            for r in runs
        ],
        columns=["started", "pass rate", "case pass rate", "model"],
    )
    return (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x=alt.X("started:T", title="Run"),
            y=alt.Y(
                "pass rate:Q",
                title="Assertion pass rate",
                scale=alt.Scale(domain=[0, 1]),
                axis=alt.Axis(format="%"),
            ),
            color=alt.Color("model:N", title="Model"),
            tooltip=[
                "started",
                "model",
                alt.Tooltip("pass rate:Q", format=".1%"),
                alt.Tooltip("case pass rate:Q", format=".1%"),
            ],
        )
        .properties(height=260)
    )


def eval_cases_frame(run: RunResult) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(
        [
            {
                "case": c.name,
                "passed": c.passed,
                "failed checks": ", ".join(r.evaluator for r in c.results if r.deterministic and not r.passed),
                "error": c.error_message or "",
                "seconds": round(c.duration_s, 1),
                "model s": round(c.model_seconds, 1),
                "tokens": c.prompt_tokens + c.completion_tokens,
                "fallbacks": ", ".join(c.fallbacks),
            }
            for c in run.cases
        ]
        + [
            {
                "case": f"pair: {p.name} ({' / '.join(p.cases)})",
                "passed": all(r.passed for r in p.results),
                "failed checks": ", ".join(r.evaluator for r in p.results if not r.passed),
                "error": "",
                "seconds": 0.0,
                "model s": 0.0,
                "tokens": 0,
                "fallbacks": "",
            }
            for p in run.pairs
        ],
        columns=["case", "passed", "failed checks", "error", "seconds", "model s", "tokens", "fallbacks"],
    )


# =========================================================================== eval runs
@dataclass
class EvalJob:
    """An eval run on a background thread; the page polls ``done``/``total`` to draw progress."""

    model: str
    total: int
    done: int = 0
    run_path: Path | None = None
    error: str | None = None
    thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()


def start_eval_run(model: str, only: Sequence[str] = ()) -> EvalJob:
    """Load the cases and build the engine (errors raise here, on the page), then draft and evaluate
    them in the background, the same run as `tailor eval`: recorded and cached answers replay, so a
    re-run takes seconds."""
    from tailor.evals.runner import prepare_suite
    from tailor.models.response_cache import default_cache

    suite = prepare_suite(get_settings(), only=only, model=model or None)
    job = EvalJob(model=model, total=suite.size)

    def counted() -> None:
        job.done += 1

    def work() -> None:
        try:
            _, job.run_path = suite.run(default_cache(suite.settings), progress=False, on_case=counted)
        except TailorError as exc:
            job.error = exc.message
        except Exception as exc:
            log.error("eval run failed", exc_info=exc)
            job.error = GENERIC_ERROR.format(action="running the evals")

    job.thread = threading.Thread(target=work, name="tailor-eval-run", daemon=True)
    job.thread.start()
    return job
