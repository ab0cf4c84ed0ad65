"""The app, the API and the CLI take turns on the local model's cores.

They are separate processes over one data directory, each with its own worker; two drafts at
once on 2 cores would each run at half speed or worse and both risk their deadlines. So a
local-model draft, once first in its own process's line, also waits for a lock file that every
process shares. These tests hold that lock from a real second process.
"""

from __future__ import annotations

import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from tailor.models.localworker import FairQueue
from tailor.pipeline.engine import Engine
from tailor.schema import DraftRequest, ProgressEvent
from tests.fixtures.drafting import BACKGROUND, CONFIRMED, CORPUS, model_settings

HOLDER = """
import sys, time
from pathlib import Path
from tailor.models.localworker import FairQueue

ticket = FairQueue().join(shared_lock=Path(sys.argv[1]))
assert ticket.wait(10)
print("holding", flush=True)
time.sleep(600)
"""


def hold_the_turn(lock: Path) -> subprocess.Popen[str]:
    """Another process (as the web app would be) with a draft on the local model."""
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(lock)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "holding"
    return proc


def test_two_queues_on_one_lock_take_turns(tmp_path: Path) -> None:
    lock = tmp_path / "run" / "local-model.lock"
    app, api = FairQueue(), FairQueue()
    drafting = app.join(shared_lock=lock)
    assert drafting.wait(0)
    waiting = api.join(shared_lock=lock)
    assert not waiting.wait(0.3)
    assert waiting.position == 1, "the other process's draft is ahead"
    drafting.leave()
    assert waiting.wait(2) and waiting.position == 0
    waiting.leave()
    assert app.join(shared_lock=lock).wait(0), "leaving frees the turn"


def test_a_ticket_that_leaves_while_waiting_never_takes_the_lock(tmp_path: Path) -> None:
    lock = tmp_path / "local-model.lock"
    holder = FairQueue().join(shared_lock=lock)
    assert holder.wait(0)
    quitter = FairQueue().join(shared_lock=lock)
    waited: list[bool] = []
    waiting = threading.Thread(target=lambda: waited.append(quitter.wait(5)))
    waiting.start()
    time.sleep(0.3)
    quitter.leave()  # the manager closed the tab while the draft waited
    holder.leave()
    waiting.join(5)
    assert waited == [True] and not quitter.holds_shared_turn
    assert FairQueue().join(shared_lock=lock).wait(0), "the lock is free for the next draft"


def test_a_draft_waits_for_another_process_and_goes_on_when_that_process_dies(
    tmp_path: Path, isolated_settings: Path
) -> None:
    # A local model that is not installed: the model's part fails at once, after the wait.
    settings = model_settings(model="local/qwen2.5-coder-0.5b", model_dir=tmp_path / "no-models")
    other = hold_the_turn(settings.local_model_turn_lock)
    events: queue.Queue[ProgressEvent | BaseException] = queue.Queue()

    def draft() -> None:
        try:
            for event in Engine(settings, corpus=CORPUS).draft_events(DraftRequest(background=BACKGROUND, **CONFIRMED)):
                events.put(event)
        except BaseException as exc:
            events.put(exc)

    try:
        threading.Thread(target=draft, daemon=True).start()
        seen: list[ProgressEvent] = []
        while not any(e.kind == "queued" for e in seen):
            item = events.get(timeout=60)
            assert isinstance(item, ProgressEvent), item
            seen.append(item)
        queued = next(e for e in seen if e.kind == "queued")
        assert queued.detail == {"position": 1} and "1 draft ahead" in queued.message
        time.sleep(1.5)
        assert events.empty(), "nothing runs while the other process has the model"
        other.send_signal(signal.SIGKILL)  # it crashed: the kernel frees its lock
        other.wait(10)
        while not seen or seen[-1].kind != "done":
            item = events.get(timeout=60)
            assert isinstance(item, ProgressEvent), item
            seen.append(item)
    finally:
        if other.poll() is None:
            other.kill()
            other.wait(10)
    plan = seen[-1].plan
    assert plan is not None and plan.all_tasks(), "the grounded plan, flagged for the missing model"
    assert any(e.kind == "queued" and e.detail == {"position": 0} for e in seen)


def test_a_hosted_model_never_waits_for_the_lock(isolated_settings: Path) -> None:
    settings = model_settings()  # an OpenAI-compatible server: it takes concurrent calls
    other = hold_the_turn(settings.local_model_turn_lock)
    kinds: list[str] = []
    request = DraftRequest(background=BACKGROUND, **CONFIRMED)
    try:
        drafting = threading.Thread(
            target=lambda: kinds.extend(e.kind for e in Engine(settings, corpus=CORPUS).draft_events(request)),
            daemon=True,
        )
        drafting.start()
        drafting.join(120)
        assert not drafting.is_alive(), "the draft waited for a lock only local models share"
    finally:
        other.kill()
        other.wait(10)
    assert "queued" not in kinds and kinds[-1] == "done"
