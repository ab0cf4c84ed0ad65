"""The supervised local model worker: real processes, real signals, the real 0.5B model.

A crash (SIGSEGV), a kill (SIGKILL) or a hang (SIGSTOP) of the worker must cost only the
call in flight: the caller gets a typed error naming the cause, and the next call starts
a fresh worker. The same holds through ``tailor draft`` (a subprocess) and through the
running Streamlit app (``AppTest``), where the plan is saved, grounded and flagged.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tailor.config import PROJECT_ROOT, get_settings
from tailor.models import llm, local_provider, localworker
from tailor.models.localworker import FairQueue, GenerateRequest, LocalWorker, WorkerCrashed, WorkerHung
from tailor.schema import Plan
from tests.fixtures.model import SMALL_LOCAL_MODEL, wait_for_generation

EXAMPLE = PROJECT_ROOT / "examples" / "senior-backend.txt"
PROMPT = [{"role": "user", "content": "Write three sentences about onboarding a backend engineer."}]
slow_local = [pytest.mark.slow, pytest.mark.xdist_group("local_model")]


# =========================================================================== the queue
def test_queue_serves_in_order_of_arrival_and_reports_places() -> None:
    queue = FairQueue()
    first, second, third = queue.join(), queue.join(), queue.join()
    assert (first.position, second.position, third.position) == (0, 1, 2)
    assert first.wait(0) and not second.wait(0.01)

    served: list[str] = []

    def take(name: str, ticket: localworker.Ticket) -> None:
        ticket.wait()
        served.append(name)
        ticket.leave()

    threads = [threading.Thread(target=take, args=(n, t)) for n, t in (("third", third), ("second", second))]
    for t in threads:
        t.start()
    time.sleep(0.1)
    assert served == [], "nobody may pass the draft holding the model"
    first.leave()
    for t in threads:
        t.join(5)
    assert served == ["second", "third"]
    assert len(queue) == 0


def test_a_ticket_that_leaves_early_frees_its_place() -> None:
    queue = FairQueue()
    holder, quitter, waiter = queue.join(), queue.join(), queue.join()
    quitter.leave()  # a manager closed the tab while waiting
    assert waiter.position == 1
    holder.leave()
    assert waiter.wait(1)


def test_exit_causes_read_like_sentences() -> None:
    assert localworker.exit_cause(-signal.SIGSEGV) == "was killed by SIGSEGV"
    assert localworker.exit_cause(1) == "exited with status 1"


# =========================================================================== the real worker
@pytest.fixture
def worker(local_model_available: Path) -> Iterator[LocalWorker]:
    settings = get_settings()
    w = LocalWorker(
        local_model_available,
        n_ctx=2048,
        n_threads=2,
        log_path=settings.data_dir / "logs" / "worker.log",
        hang_grace_s=3.0,
    )
    try:
        yield w
    finally:
        w.stop()


def kill_during_generation(worker: LocalWorker, sig: signal.Signals) -> Callable[[], None]:
    assert worker.log_path is not None
    log_path = worker.log_path
    calls = log_path.read_text().count("generate:") + 1 if log_path.exists() else 1
    pid = worker.pid
    assert pid is not None

    def kill() -> None:
        wait_for_generation(log_path, calls)
        os.kill(pid, sig)

    thread = threading.Thread(target=kill)
    thread.start()
    return lambda: thread.join(30)


@pytest.mark.parametrize("sig", [signal.SIGSEGV, signal.SIGKILL])
@pytest.mark.slow
@pytest.mark.xdist_group("local_model")
def test_a_worker_killed_mid_generation_is_reported_and_restarted(worker: LocalWorker, sig: signal.Signals) -> None:
    assert worker.ensure_running() > 0
    first_pid = worker.pid
    joined = kill_during_generation(worker, sig)
    with pytest.raises(WorkerCrashed) as info:
        worker.generate(GenerateRequest(messages=PROMPT, max_tokens=300))
    joined()
    assert sig.name in info.value.reason and "next draft restarts it" in info.value.reason
    assert worker.last_exit == -sig

    # The next call starts a fresh worker and is answered.
    result = worker.generate(GenerateRequest(messages=PROMPT, max_tokens=8))
    assert result.completion_tokens > 0
    assert worker.pid not in (None, first_pid) and worker.restarts == 1


@pytest.mark.slow
@pytest.mark.xdist_group("local_model")
def test_a_hung_worker_is_killed_and_replaced(worker: LocalWorker) -> None:
    worker.ensure_running()
    pid = worker.pid
    assert pid is not None
    joined = kill_during_generation(worker, signal.SIGSTOP)
    started = time.monotonic()
    with pytest.raises(WorkerHung):
        worker.generate(GenerateRequest(messages=PROMPT, max_tokens=300, deadline_s=2.0))
    joined()
    assert time.monotonic() - started < 30, "a hang must end at deadline + grace"
    assert worker.generate(GenerateRequest(messages=PROMPT, max_tokens=4)).completion_tokens > 0
    assert worker.pid != pid


@pytest.mark.slow
@pytest.mark.xdist_group("local_model")
def test_grammar_checked_sampling_keeps_output_inside_the_grammar(worker: LocalWorker) -> None:
    """Sampling first and checking the grammar after must still never leave the grammar."""
    grammar = local_provider._schema_gbnf(
        json.dumps(
            {
                "type": "object",
                "properties": {"colour": {"enum": ["teal", "mauve"]}, "count": {"type": "integer"}},
                "required": ["colour", "count"],
            },
            sort_keys=True,
        )
    )
    prompt = [{"role": "user", "content": "Say hello in French, then tell a long story about red cars."}]
    for seed in range(3):
        result = worker.generate(
            GenerateRequest(messages=prompt, max_tokens=40, temperature=0.8, grammar=grammar, options={"seed": seed})
        )
        data = json.loads(result.text)
        assert data["colour"] in {"teal", "mauve"} and isinstance(data["count"], int)
    # The model fought the grammar (it wanted prose), so the fallback path ran too.
    assert result.grammar_fallbacks > 0


@pytest.mark.slow
@pytest.mark.xdist_group("local_model")
def test_one_worker_per_model_shape_shared_by_callers(local_model_available: Path) -> None:
    settings = get_settings()
    a = llm.local_worker(SMALL_LOCAL_MODEL, settings)
    b = llm.local_worker(SMALL_LOCAL_MODEL, settings.model_copy())
    assert a is b
    llm.load_local_model(SMALL_LOCAL_MODEL, settings)
    assert llm.load_local_model(SMALL_LOCAL_MODEL, settings) == 0.0  # loaded once
    health = a.health()
    assert health is not None and health["pid"] == a.pid != os.getpid()


# =========================================================================== through the CLI
def _worker_pid_of(parent: int, timeout_s: float = 120.0) -> int:
    """The pid of the model worker a process started (found by its ``--parent`` argument)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                args = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"tailor.models.localworker" in args and str(parent).encode() in args:
                return int(entry.name)
        time.sleep(0.1)
    raise AssertionError("the CLI never started a model worker")


@pytest.mark.slow
@pytest.mark.xdist_group("local_model")
def test_cli_draft_survives_a_segfaulting_worker(local_model_available: Path, isolated_settings: Path) -> None:
    env = {**os.environ, "TAILOR_MODEL": f"local/{SMALL_LOCAL_MODEL}"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tailor.cli", "draft", "--background", str(EXAMPLE), "--format", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=PROJECT_ROOT,
    )
    try:
        pid = _worker_pid_of(proc.pid)
        wait_for_generation(isolated_settings / "logs" / f"model-worker-{local_model_available.stem}.log")
        os.kill(pid, signal.SIGSEGV)
        out, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    stderr = err.decode()
    assert proc.returncode == 3, stderr  # the model was unavailable; the grounded plan is still printed
    assert "Traceback" not in stderr
    plan = Plan.model_validate_json(out)
    assert plan.hire.seniority == "senior" and plan.all_tasks()
    flags = [f for f in plan.review_flags if f.kind == "model_crashed"]
    assert flags and any("local model crashed" in (f.detail or "") and "SIGSEGV" in (f.detail or "") for f in flags)
    assert all("SIGSEGV" not in f.reason for f in plan.review_flags)  # the signal is detail, not review text
    assert all(t.review_reason for t in plan.all_tasks() if t.needs_review)
