"""Durable draft jobs: a row before anything runs, resumed after a restart, a crash ends visibly failed."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update

from tailor.config import Settings
from tailor.models import llm
from tailor.store.api_records import DraftJobRecord
from tests.api.conftest import Api, ApiFactory
from tests.api.sse import parse_sse
from tests.fixtures.drafting import BACKGROUND
from tests.fixtures.model import SMALL_LOCAL_MODEL, wait_for_generation

PROBLEM = "application/problem+json"


def finished(client: httpx.Client, job_id: int, timeout_s: float = 60.0) -> dict[str, object]:
    deadline = time.monotonic() + timeout_s
    while True:
        job = client.get(f"/v1/drafts/{job_id}").json()
        if job["status"] in ("succeeded", "failed"):
            return dict(job)
        assert time.monotonic() < deadline, f"job {job_id} still {job['status']}"
        time.sleep(0.1)


def test_an_accepted_draft_is_stored_before_it_runs_and_a_restart_runs_it(start_api: ApiFactory) -> None:
    first = start_api()
    first.ctx.runner.stop()  # nothing will run in this process
    with first.client("manager") as manager:
        accepted = manager.post("/v1/drafts", json={"background": BACKGROUND, "team": None})
        assert accepted.status_code == 202
        job = accepted.json()
        assert manager.get(f"/v1/drafts/{job['id']}").json()["status"] == "queued"
    intake = first.service.get_intake(first.users["manager"], job["intake_id"])
    assert intake.status == "pending" and intake.background == BACKGROUND.strip()
    first.server.stop()

    second = start_api()
    with second.client("manager") as manager:
        done = finished(manager, job["id"])
    assert done["status"] == "succeeded" and done["attempts"] == 1 and done["plan_id"]
    assert done["model_available"] is False, "the scripted model is down: a grounded plan"
    assert any("model unavailable" in w for w in done["warnings"])  # type: ignore[union-attr]
    assert second.service.get_intake(second.users["manager"], job["intake_id"]).status == "used"


def test_a_job_a_killed_process_left_running_is_run_again(start_api: ApiFactory) -> None:
    first = start_api()
    first.ctx.runner.stop()
    with first.client("manager") as manager:
        job = manager.post("/v1/drafts", json={"background": BACKGROUND}).json()
    first.server.stop()
    with first.ctx.db.write() as s:  # as a process killed mid-draft leaves it
        s.execute(update(DraftJobRecord).where(DraftJobRecord.id == job["id"]).values(status="running", attempts=1))
    second = start_api()
    with second.client("manager") as manager:
        done = finished(manager, job["id"])
    assert done["status"] == "succeeded" and done["attempts"] == 2 and done["plan_id"]
    with second.client("manager") as manager, manager.stream("GET", f"/v1/drafts/{job['id']}/events") as stream:
        events = [data for name, _, data in parse_sse(stream.iter_lines()) if name == "progress"]
    assert "drafting again from the saved input (attempt 2)" in events[0]["message"]


def test_a_draft_that_breaks_after_the_skeleton_fails_visibly_with_its_grounded_plan(api: Api) -> None:
    # A script with no answers: the first model call raises ScriptExhausted, an unexpected error
    # after the grounded skeleton, which is what a bug or a crash in tailoring looks like.
    api.model.load([])
    with api.client("manager") as manager:
        job = manager.post("/v1/drafts", json={"background": BACKGROUND}).json()
        done = finished(manager, job["id"])
        assert done["status"] == "failed" and done["plan_id"], done
        assert str(done["error"]).startswith("drafting stopped early: unexpected ScriptExhausted")
        plan = manager.get(f"/v1/plans/{done['plan_id']}").json()["plan"]
    assert plan["phases"] and any(
        "drafting stopped after the grounded plan" in f["reason"] for f in plan["review_flags"]
    )


def test_bad_drafts_are_refused_before_anything_is_stored(api: Api) -> None:
    with api.client("manager") as manager:
        unknown_team = manager.post("/v1/drafts", json={"background": BACKGROUND, "team": "team-nobody"})
        empty = manager.post("/v1/drafts", json={"background": "   "})
        too_long = manager.post("/v1/drafts", json={"background": "x" * (api.settings.max_background_chars + 1)})
        extra = manager.post("/v1/drafts", json={"background": BACKGROUND, "model": "openai/gpt-4o"})
    assert unknown_team.status_code == 400 and "team-nobody" in unknown_team.json()["detail"]
    assert empty.status_code == 400 and "empty" in empty.json()["detail"]
    assert too_long.status_code == 400 and "limit" in too_long.json()["detail"]
    assert extra.status_code == 422 and extra.json()["errors"][0]["loc"] == ["body", "model"]
    for refused in (unknown_team, empty, too_long, extra):
        assert refused.headers["content-type"] == PROBLEM
    assert api.service.list_intakes(api.users["manager"], include_closed=True) == []


def test_a_file_upload_drafts_and_bad_files_are_refused(api: Api, tmp_path: Path) -> None:
    with api.client("manager") as manager:
        accepted = manager.post(
            "/v1/drafts/upload",
            files={"file": ("priya.txt", BACKGROUND.encode(), "text/plain")},
            data={"name": "Priya Raman", "start_date": "2026-03-02", "skills": ["Go", "Kafka"]},
        )
        assert accepted.status_code == 202, accepted.text
        done = finished(manager, accepted.json()["id"])
        exe = manager.post("/v1/drafts/upload", files={"file": ("cv.exe", b"MZ\x90\x00", "application/octet-stream")})
        big = b"a" * (api.settings.max_upload_bytes + 200_000)
        huge = manager.post("/v1/drafts/upload", files={"file": ("cv.txt", big, "text/plain")})
    assert done["status"] == "succeeded"
    intake = api.service.get_intake(api.users["manager"], accepted.json()["intake_id"])
    assert intake.name == "Priya Raman" and intake.overrides["skills"] == ["Go", "Kafka"]
    assert exe.status_code == 400 and "unsupported file type" in exe.json()["detail"]
    assert huge.status_code == 413 and huge.headers["content-type"] == PROBLEM


@pytest.mark.slow
@pytest.mark.xdist_group("local_model")
def test_a_job_whose_local_model_segfaults_fails_with_its_grounded_plan(
    local_model_available: Path, start_api: ApiFactory
) -> None:
    """The real local model, killed mid-generation: the job ends failed, the grounded plan saved."""
    from tailor.pipeline.engine import Engine
    from tests.api.helpers import ServerThread
    from tests.fixtures.drafting import CORPUS

    api = start_api()
    settings = api.settings.model_copy(update={"model": f"local/{SMALL_LOCAL_MODEL}"})
    api.server.stop()
    from tailor.api.app import create_app

    app = create_app(settings, engine=Engine(settings, corpus=CORPUS))
    server = ServerThread(app).start()
    worker = llm.local_worker(SMALL_LOCAL_MODEL, settings)
    worker.ensure_running()
    assert worker.log_path is not None and worker.pid is not None
    pid, calls = worker.pid, worker.log_path.read_text().count("generate:") if worker.log_path.exists() else 0

    def segfault() -> None:
        wait_for_generation(worker.log_path, calls + 1)  # type: ignore[arg-type]
        os.kill(pid, signal.SIGSEGV)

    killer = threading.Thread(target=segfault)
    try:
        client = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {api.tokens['manager']}"})
        job = client.post("/v1/drafts", json={"background": BACKGROUND}).json()
        killer.start()
        done = finished(client, job["id"], timeout_s=600)
        killer.join(30)
        assert done["status"] == "failed" and done["plan_id"], done
        assert "local model crashed" in str(done["error"]) and "SIGSEGV" in str(done["error"])
        plan = client.get(f"/v1/plans/{done['plan_id']}").json()["plan"]
        assert plan["phases"] and plan["review_flags"], "the grounded plan, flagged where it was not tailored"
    finally:
        server.stop()


def test_without_an_engine_given_the_api_builds_one_on_the_corpus_it_serves(api_settings: Settings) -> None:
    """``tailor api`` builds its engine on the first draft (a deadlock here once left jobs running forever)."""
    from concurrent.futures import ThreadPoolExecutor

    from tailor.api.context import ApiContext
    from tailor.store.db import ensure_schema

    ctx = ApiContext.build(api_settings, ensure_schema(api_settings))
    with ThreadPoolExecutor(1) as pool:
        engine = pool.submit(ctx.engine).result(timeout=120)
    assert engine.corpus is ctx.corpus() and ctx.engine() is engine
    assert {t.id for t in ctx.corpus().teams()} == {t.id for t in engine.corpus.teams()}
