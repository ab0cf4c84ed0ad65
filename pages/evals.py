"""Evals: run the scripted eval suite on a chosen model; see each run's cases and the pass-rate history."""

from __future__ import annotations

import time
from typing import get_args

import pandas as pd
import streamlit as st

from tailor.config import LocalModelName
from tailor.web import evals as web_evals
from tailor.web.errors import guard
from tailor.web.services import services
from tailor.web.session import require_user
from tailor.web.text import safe

user = require_user("admin")  # the team that changes prompts, corpus and models; HR has nothing to act on here
settings = services().settings
S = st.session_state

st.title("Evals")
st.caption(
    "Scripted cases (backgrounds with expected properties) drafted by the engine and checked by "
    "deterministic evaluators. Run them after a prompt, corpus or model change to see whether plans "
    "got better or worse."
)

# --------------------------------------------------------------------------- run
if user.role == "admin":
    with st.container(border=True):
        st.subheader("Run the suite")
        job: web_evals.EvalJob | None = S.get("ev_job")
        choices = list(dict.fromkeys([settings.model, *(f"local/{m}" for m in get_args(LocalModelName))]))
        c1, c2 = st.columns([2, 2])
        model = c1.selectbox(
            "Model",
            choices,
            accept_new_options=True,
            key="ev_model",
            help="Any litellm model string; local/… runs in-process.",
        )
        only = c2.text_input("Only cases matching (optional)", key="ev_only", placeholder="e.g. senior*, intern")
        st.caption("A full run on the local model takes several minutes; you can leave this page and come back.")
        busy = job is not None and job.running
        if st.button("Run evals", type="primary", icon=":material/play_arrow:", disabled=busy, key="ev_run"):
            with guard("starting the eval run") as started:
                patterns = [p.strip() for p in only.split(",") if p.strip()]
                S["ev_job"] = job = web_evals.start_eval_run(model or settings.model, patterns)
            if started.ok:
                st.rerun()
        if job is not None:
            bar = st.progress(0.0, text="Starting…")
            while job.running:
                bar.progress(
                    job.done / max(1, job.total),
                    text=f"{job.done} of {job.total} cases drafted ({job.model})",
                )
                time.sleep(0.5)
            if job.error:
                st.error(safe(job.error), icon=":material/error:")
            else:
                bar.progress(1.0, text=f"{job.total} cases done ({job.model})")
                st.success("Run saved; it is now in the history below.", icon=":material/check:")

# --------------------------------------------------------------------------- history
runs = []
with guard("reading past runs"):
    from tailor.evals.runner import list_runs, load_run

    runs = list_runs(settings)
if not runs:
    st.info(
        "No eval runs yet."
        + (" Run the suite above, or `tailor eval` on the command line." if user.role == "admin" else ""),
        icon=":material/query_stats:",
    )
    st.stop()

st.subheader("Pass rate over time")
st.altair_chart(web_evals.pass_rate_chart(runs), width="stretch")
st.dataframe(
    pd.DataFrame(
        [
            {
                "run": r.run_id,
                "started": r.started_at,
                "model": r.model,
                "pass rate": r.pass_rate,
                "cases passed": r.case_pass_rate,
                "cases": r.n_cases,
                "prompts": r.prompt_version,
                "corpus": r.corpus_hash,
                "gate": {True: "passed", False: "failed", None: ""}[r.gate_passed],
            }
            for r in reversed(runs)
        ]
    ),
    hide_index=True,
    column_config={
        "pass rate": st.column_config.ProgressColumn(format="percent", min_value=0, max_value=1),
        "cases passed": st.column_config.ProgressColumn(format="percent", min_value=0, max_value=1),
    },
)

st.subheader("Cases of one run")
by_id = {r.run_id: r for r in runs}
run_id = st.selectbox(
    "Run",
    list(reversed(by_id)),
    key="ev_pick",
    format_func=lambda i: f"{i} · {by_id[i].model} · {by_id[i].pass_rate:.0%}",
)
with guard("loading the run"):
    run = load_run(by_id[run_id].path)
    m1, m2, m3, m4 = st.columns(4)
    m1.metric("Assertions passed", f"{run.pass_rate:.1%}", f"{run.n_passed}/{run.n_assertions}", delta_color="off")
    m2.metric("Cases passed", f"{run.case_pass_rate:.1%}")
    m3.metric("Cases", len(run.cases))
    m4.metric("Model", run.model)
    st.dataframe(web_evals.eval_cases_frame(run), hide_index=True)
    rates = run.evaluator_rates()
    if rates:
        st.markdown("**By evaluator**")
        st.dataframe(
            pd.DataFrame(
                [
                    {"evaluator": k, "passed": p, "of": n, "rate": p / n if n else 0.0}
                    for k, (p, n) in sorted(rates.items())
                ]
            ),
            hide_index=True,
            column_config={"rate": st.column_config.ProgressColumn(format="percent", min_value=0, max_value=1)},
        )
