"""Model faults through the real ``Engine``: retries are bounded, the grounded plan always comes back
with what failed flagged ``needs_review`` and why, and what the manager typed is committed before
any model call, so a crash mid-draft loses nothing."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from tailor.config import PROJECT_ROOT, Settings
from tailor.models import localmodel, localworker
from tailor.models.localmodel import ModelSpec
from tailor.models.scripted import ScriptedModel
from tailor.pipeline.engine import Engine
from tailor.pipeline.result import DraftDone
from tailor.review.auth import UserOut
from tailor.review.flags import group_flags, model_kind, open_flags, task_reason
from tailor.review.service import ReviewService
from tailor.schema import DraftRequest, Plan, ProgressEvent
from tests.fixtures.drafting import (
    BACKGROUND,
    CONFIRMED,
    CORPUS,
    PERSONAL,
    CallSpy,
    closed_url,
    flags_by_field,
    model_settings,
    valid_answers,
)
from tests.fixtures.faults import connection_error, rate_limit_error, server_error, timeout_error


def details_by_field(plan: Plan) -> dict[str, str]:
    """Each plan flag's technical detail (what failed, as the model layer said it), by field."""
    return {f.field: f.detail or "" for f in plan.review_flags}


# =========================================================================== model faults (scripted)
def _truncated() -> dict[str, Any]:
    return {
        "choices": [{"message": {"role": "assistant", "content": '{"summary": "This plan'}, "finish_reason": "length"}],
        "usage": {"prompt_tokens": 50, "completion_tokens": 5, "total_tokens": 55},
    }


FAULTS: dict[str, tuple[Any, bool]] = {
    # kind: (what the model does on every attempt, transient -> retried with backoff)
    "timeout": (timeout_error, True),
    "connection": (connection_error, True),
    "server": (server_error, True),
    "rate_limit": (rate_limit_error, True),
    "validation": (lambda: '{"unexpected": "shape"}', False),
    "truncated": (_truncated, False),
}


@pytest.mark.parametrize("kind", list(FAULTS))
def test_model_faults_keep_the_grounded_plan_flagged_with_bounded_retries(
    kind: str, spy: CallSpy, isolated_settings: Path
) -> None:
    make, transient = FAULTS[kind]
    settings_ = model_settings(model_retries=1)
    engine = Engine(settings_, corpus=CORPUS, model=ScriptedModel([make() for _ in range(2)]))
    events = list(engine.draft_events(DraftRequest(background=BACKGROUND, name="Priya Raman")))
    plan = events[-1].plan
    assert isinstance(events[-1], DraftDone) and isinstance(plan, Plan)

    # Bounded: two model calls (summary, tasks; the rules are certain of the profile, so intake
    # asks no model), each tried 1 + model_retries times.
    assert len(spy.calls) == 2 * (1 + settings_.model_retries)
    pairs = [spy.calls[i : i + 2] for i in range(0, len(spy.calls), 2)]
    for first, second in pairs:
        if transient:  # exponential backoff between attempts (0.5 s first)
            assert second["at"] - first["at"] >= 0.45
        if kind == "truncated":  # the retry doubles the token budget
            assert second["max_tokens"] == 2 * first["max_tokens"]

    # The grounded plan stands, and everything the model did not do is flagged: a sentence for
    # people, the failure's kind, and the technical detail kept apart from the sentence.
    flags = {f.field: f for f in plan.review_flags}
    expected = model_kind(kind)
    assert flags["summary"].kind == flags["tasks"].kind == expected
    assert flags["summary"].reason.endswith("so the plan summary keeps its standard wording.")
    assert all(f"({kind})" in (flags[field].detail or "") for field in ("summary", "tasks"))
    assert flags["sources"].kind == "retrieval_down"
    flagged = [t for t in plan.all_tasks() if t.needs_review]
    assert flagged and all(t.review_reason == task_reason(expected) for t in flagged)
    for text in [f.reason for f in plan.review_flags] + [t.review_reason or "" for t in flagged]:
        assert f"({kind})" not in text and "model call" not in text and "http" not in text, text
    # One line for the tasks, whose count is the number of flagged tasks, with the detail behind it.
    [tasks] = [g for g in group_flags(open_flags(plan)) if g.subject == "task"]
    assert tasks.count == len(flagged) and f"({kind})" in tasks.details[0]
    assert not any(t.tailored for t in plan.all_tasks())
    assert plan.hire.seniority == "senior" and plan.hire.years_experience == 9  # the rules still read it
    assert {"summary: grounded text", "tasks: grounded text"} <= set(plan.provenance.fallbacks)
    assert not events[-1].result.model_available and f"({kind})" in (events[-1].result.unavailable_reason or "")
    dumped = plan.model_dump_json()
    assert "Traceback" not in dumped and not [p for p in PERSONAL if p in dumped]


def test_a_transient_fault_then_an_answer_recovers(spy: CallSpy, isolated_settings: Path) -> None:
    settings_ = model_settings(model_retries=2)
    request = DraftRequest(background=BACKGROUND, **CONFIRMED)
    summary, tasks = valid_answers(settings_, request)
    scripted = ScriptedModel([[rate_limit_error(), server_error(), summary], tasks])
    plan = Engine(settings_, corpus=CORPUS, model=scripted).draft(request).plan
    assert "summary" not in flags_by_field(plan) and plan.summary == json.loads(summary)["summary"]
    assert plan.provenance.retries == 2 and len(spy.calls) == 4


def test_a_faulted_draft_is_saved_with_its_flags(
    service: ReviewService, manager: UserOut, isolated_settings: Path
) -> None:
    engine = Engine(model_settings(), corpus=CORPUS, model=ScriptedModel([connection_error(), connection_error()]))
    intake = service.save_intake(manager, BACKGROUND, "Priya Raman")
    plan = engine.draft(service.get_intake(manager, intake).draft_request()).plan
    detail = service.create_plan_from_draft(manager, intake, plan)
    stored = service.get_plan(manager, detail.id)
    assert stored.plan.review_flags == plan.review_flags and stored.summary.needs_review > 0
    markdown = service.export(manager, detail.id, "markdown").content.decode()
    assert "## To check before approval" in markdown and "because the model was not reachable" in markdown
    assert "(connection)" not in markdown and "model call" not in markdown


# =========================================================================== model faults (real HTTP)
def server_settings(base_url: str, **update: Any) -> Settings:
    return model_settings(model="openai/local", api_base=base_url, api_key=SecretStr("sk-none"), **update)


@pytest.mark.parametrize(("mode", "kind"), [("500", "server"), ("429", "rate_limit"), ("hang", "timeout")])
def test_a_failing_model_server_is_tried_a_bounded_number_of_times(
    mode: str, kind: str, fault_server: Any, isolated_settings: Path
) -> None:
    server = fault_server(mode)
    settings_ = server_settings(server.base_url, model_retries=1, model_timeout_s=0.5)
    plan = Engine(settings_, corpus=CORPUS).draft(DraftRequest(background=BACKGROUND, **CONFIRMED)).plan
    flags = details_by_field(plan)
    assert f"({kind})" in flags["summary"] and f"({kind})" in flags["tasks"]
    assert all(t.review_reason for t in plan.all_tasks() if t.needs_review)

    # Summary and tasks, each sent 1 + model_retries times, as the server counts them: the
    # OpenAI SDK's own retries (max_retries=2 by default) must not multiply ours.
    assert len(server.requests) == 2 * (1 + settings_.model_retries)
    first, second = server.requests[0]["at"], server.requests[1]["at"]
    assert second - first >= 0.45  # backed off before the retry


# =========================================================================== nothing typed is lost
CHILD = r"""
import sys
from pydantic import SecretStr
from tailor.review.auth import AuthService
from tailor.config import Settings
from tailor.pipeline.engine import Engine
from tailor.review.service import ReviewService

url, data_dir, api_base, chroma, background = sys.argv[1:6]
settings = Settings(database_url=url, data_dir=data_dir, model="openai/local", api_base=api_base,
                    api_key=SecretStr("sk-none"), model_timeout_s=300, model_retries=0, chroma_url=chroma)
service = ReviewService(settings)
user = AuthService(settings, db=service.db).get_user("manager")
intake_id = service.save_intake(user, background, "Priya Raman")
print(f"saved {intake_id}", flush=True)
Engine(settings).draft(service.get_intake(user, intake_id).draft_request())
print("finished", flush=True)
"""


def test_a_process_killed_mid_model_call_loses_nothing_the_manager_typed(
    service: ReviewService, db_url: str, manager: UserOut, fault_server: Any, isolated_settings: Path
) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("one backend is enough: the intake commit is the same transaction on both")
    server = fault_server("hang")  # the model accepts the request and never answers
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            CHILD,
            db_url,
            str(isolated_settings),
            server.base_url,
            closed_url(),
            BACKGROUND,
        ],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        while not server.requests and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.requests, f"no model call arrived: {child.stderr.read().decode() if child.stderr else ''}"
        child.kill()  # SIGKILL while the model call is in flight
        out, _ = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    assert out.decode().startswith("saved ") and "finished" not in out.decode()

    fresh = ReviewService(service.settings)
    [intake] = fresh.list_intakes(manager)
    assert intake.background == BACKGROUND and intake.name == "Priya Raman" and intake.status == "pending"
    # The manager can pick it up again: mark the failed attempt, draft again, store the plan.
    fresh.record_intake_failure(manager, intake.id, "the drafting process died")
    settings_ = model_settings()
    request = fresh.get_intake(manager, intake.id).draft_request()
    plan = Engine(settings_, corpus=CORPUS, model=ScriptedModel(valid_answers(settings_, request))).draft(request).plan
    assert fresh.create_plan_from_draft(manager, intake.id, plan).plan.hire.name == "Priya Raman"


def test_an_engine_crash_after_the_skeleton_keeps_the_intake(
    service: ReviewService, manager: UserOut, monkeypatch: pytest.MonkeyPatch, isolated_settings: Path
) -> None:
    def crash(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("validator crashed")

    monkeypatch.setattr("tailor.pipeline.engine.plan_problems", crash)  # a bug in the last step
    intake_id = service.save_intake(manager, BACKGROUND, "Priya Raman")
    engine = Engine(model_settings(), corpus=CORPUS, model=ScriptedModel([connection_error()] * 2))
    seen: list[ProgressEvent] = []
    with pytest.raises(RuntimeError):
        for event in engine.draft_events(service.get_intake(manager, intake_id).draft_request()):
            seen.append(event)
    assert "skeleton" in [e.kind for e in seen]
    [intake] = ReviewService(service.settings).list_intakes(manager)
    assert (intake.id, intake.status, intake.background) == (intake_id, "pending", BACKGROUND)


# =========================================================================== the real local server, killed
@pytest.mark.slow
@pytest.mark.xdist_group("local_model")
def test_a_local_model_server_killed_mid_call_still_gives_the_grounded_plan(
    local_model_available: Path, tmp_path: Path, isolated_settings: Path
) -> None:
    from tests.fixtures.model import start_llama_server, stop_process

    proc, base_url = start_llama_server(local_model_available, tmp_path / "server.log")
    events: queue.Queue[ProgressEvent | BaseException] = queue.Queue()
    try:
        settings_ = server_settings(base_url, model_retries=1, model_timeout_s=120)
        engine = Engine(settings_, corpus=CORPUS)

        def run() -> None:
            try:
                for event in engine.draft_events(DraftRequest(background=BACKGROUND, **CONFIRMED)):
                    events.put(event)
            except BaseException as exc:
                events.put(exc)

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        seen: list[ProgressEvent] = []
        while not seen or seen[-1].kind != "skeleton":
            item = events.get(timeout=120)
            assert isinstance(item, ProgressEvent), item
            seen.append(item)
        time.sleep(1.0)  # the summary call is now being generated (seconds for 320 tokens)
        proc.kill()
        worker.join(timeout=120)
    finally:
        stop_process(proc)
    assert not worker.is_alive()
    while not events.empty():
        item = events.get()
        assert isinstance(item, ProgressEvent), item
        seen.append(item)
    plan = seen[-1].plan
    assert seen[-1].kind == "done" and plan is not None and plan.all_tasks()
    failed = {k: v for k, v in details_by_field(plan).items() if k in ("summary", "tasks")}
    assert failed and all("(connection)" in reason for reason in failed.values()), failed
    assert all(t.review_reason for t in plan.all_tasks() if t.needs_review)


# =========================================================================== tampered model file
def test_a_tampered_local_model_file_is_never_loaded(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, isolated_settings: Path
) -> None:
    import hashlib

    genuine = b"GGUF" + bytes(range(256)) * 4
    spec = ModelSpec(
        name="qwen2.5-coder-0.5b",
        filename="tampered.gguf",
        package_prefix="fake-part",
        version="0",
        parts=1,
        size=len(genuine),
        sha256=hashlib.sha256(genuine).hexdigest(),
        description="a fake model",
    )
    monkeypatch.setitem(localmodel.MODELS, "qwen2.5-coder-0.5b", spec)
    (tmp_path / "tampered.gguf").write_bytes(b"EVIL" + genuine[4:])  # same size, different bytes
    settings_ = model_settings(model="local/qwen2.5-coder-0.5b", model_dir=tmp_path)
    plan = Engine(settings_, corpus=CORPUS).draft(DraftRequest(background=BACKGROUND, **CONFIRMED)).plan
    flags = details_by_field(plan)
    assert "does not match its pinned sha256" in flags["summary"] and "(unavailable)" in flags["tasks"]
    assert not [w for w in localworker.workers() if w.model_path.name == "tampered.gguf" and w.running]
