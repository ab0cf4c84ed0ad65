"""Hardening: storage and index faults, crashes mid-save, and a short load run.

A locked SQLite file refuses every write with ``StorageUnavailable`` and writes nothing; a
corrupt file and a PostgreSQL server that goes away mid-life do the same; Chroma down keeps
the plan and flags retrieval; a process SIGKILLed while it saves leaves a consistent
database holding every commit it reported; and a few concurrent sessions (the pytest-sized
``scripts/load_test.py``) lose nothing. Every database test runs on SQLite and, when
``TAILOR_TEST_POSTGRES_URL`` is set, on PostgreSQL.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import random
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from tailor.config import PROJECT_ROOT, Settings
from tailor.errors import IndexUnavailable, StorageUnavailable
from tailor.models.scripted import ScriptedModel
from tailor.pipeline.engine import Engine
from tailor.review.auth import AuthService, UserOut
from tailor.review.flags import acknowledge_all, open_flags
from tailor.review.service import ReviewService
from tailor.schema import DraftRequest, Plan
from tailor.store.db import Database, dispose_database
from tailor.store.records import (
    AuditRecord,
    CommentRecord,
    DecisionRecord,
    IntakeRecord,
    PlanRecord,
    RevisionRecord,
    SessionRecord,
)
from tests.fixtures.db import PASSWORD
from tests.fixtures.drafting import (
    BACKGROUND,
    CONFIRMED,
    CORPUS,
    closed_url,
    model_settings,
    valid_answers,
)

TABLES = {
    "intakes": IntakeRecord,
    "plans": PlanRecord,
    "revisions": RevisionRecord,
    "comments": CommentRecord,
    "decisions": DecisionRecord,
    "audit": AuditRecord,
    "sessions": SessionRecord,
}


def counts(service: ReviewService) -> dict[str, int]:
    with service.db.read() as s:
        return {name: int(s.scalar(select(func.count()).select_from(t)) or 0) for name, t in TABLES.items()}


# =========================================================================== a locked or corrupt SQLite file
def test_a_locked_database_refuses_every_write_and_writes_nothing(
    service: ReviewService,
    db_backend: str,
    manager: UserOut,
    hr: UserOut,
    hr2: UserOut,
    sample_plan: Plan,
) -> None:
    if db_backend != "sqlite":
        pytest.skip("SQLite only: PostgreSQL locks rows, not the database")
    plan_id = service.import_plan(manager, sample_plan).id
    service.submit(manager, plan_id, 1)
    intake_id = service.save_intake(manager, "Background saved before the lock.")
    impatient_db = Database(service.db.url, busy_timeout_ms=150)
    impatient = ReviewService(service.settings, db=impatient_db)
    impatient_auth = AuthService(service.settings, db=impatient_db)
    every_flag_acknowledged = acknowledge_all(open_flags(sample_plan), "ok")
    writes: dict[str, Callable[[], Any]] = {
        "save_intake": lambda: impatient.save_intake(manager, "Typed while the database was locked."),
        "record_intake_failure": lambda: impatient.record_intake_failure(manager, intake_id, "x"),
        "import_plan": lambda: impatient.import_plan(manager, sample_plan),
        "save_revision": lambda: impatient.save_revision(hr, plan_id, sample_plan, 1),
        "comment": lambda: impatient.comment(hr, plan_id, "a note"),
        "approve": lambda: impatient.approve(hr2, plan_id, 1, "fine", flags=every_flag_acknowledged),
        "request_changes": lambda: impatient.request_changes(hr2, plan_id, 1, "not yet"),
        "assign_reviewer": lambda: impatient.assign_reviewer(hr, plan_id, "hr2"),
        "export (audited)": lambda: impatient.export(hr, plan_id, "markdown"),
        "get_background (audited)": lambda: impatient.get_background(hr, plan_id),
        "authenticate": lambda: impatient_auth.authenticate("hr", PASSWORD),
    }
    before = counts(service)
    blocker = sqlite3.connect(str(service.db.engine.url.database), isolation_level=None)
    try:
        blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock beyond the busy timeout
        for name, write in writes.items():
            with pytest.raises(StorageUnavailable) as info:
                write()
            message = info.value.message
            assert "busy" in message and "try again" in message and "\n" not in message, name
        assert impatient.get_plan(hr, plan_id).revision == 1  # readers are not blocked (WAL)
        assert counts(impatient) == before
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert counts(service) == before
    assert impatient.comment(hr, plan_id, "after the lock").text == "after the lock"
    impatient_db.dispose()


def test_a_corrupt_or_unreachable_sqlite_file_is_storage_unavailable(tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.sqlite3"
    corrupt.write_bytes(b"this is not a database " * 400)
    url = f"sqlite:///{corrupt}"
    try:
        with pytest.raises(StorageUnavailable, match="not a database") as info:
            ReviewService(Settings(database_url=url, data_dir=tmp_path))
        assert str(corrupt) in info.value.message and "\n" not in info.value.message
    finally:
        dispose_database(url)
    assert corrupt.read_bytes().startswith(b"this is not a database")  # and it was not touched

    blocked = tmp_path / "a-file"
    blocked.write_text("x")
    with pytest.raises(StorageUnavailable, match="cannot create the database folder"):
        ReviewService(Settings(database_url=f"sqlite:///{blocked}/sub/tailor.sqlite3", data_dir=tmp_path))


# =========================================================================== PostgreSQL going away
class TcpProxy:
    """A loopback TCP proxy to a real server that can be cut and restored on the same port."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self.conns: list[socket.socket] = []
        self.listener: socket.socket | None = None
        self.open()

    def open(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(32)
        self.port = listener.getsockname()[1]
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        """The server is gone: new connections are refused, open ones drop."""
        if self.listener is not None:
            # shutdown() wakes the thread blocked in accept(); close() alone would not on Linux.
            with contextlib.suppress(OSError):
                self.listener.shutdown(socket.SHUT_RDWR)
            self.listener.close()
            self.listener = None
        for conn in self.conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()
        self.conns.clear()


def test_postgres_going_away_mid_life_is_storage_unavailable_and_recovers(
    service: ReviewService, db_backend: str, db_url: str, manager: UserOut, hr: UserOut, sample_plan: Plan
) -> None:
    if db_backend != "postgresql":
        pytest.skip("PostgreSQL only (SQLite has no server to lose)")
    real = make_url(db_url)
    proxy = TcpProxy(real.host or "127.0.0.1", real.port or 5432)
    proxied_url = real.set(port=proxy.port).render_as_string(hide_password=False)
    proxied = ReviewService(service.settings.model_copy(update={"database_url": proxied_url}))
    try:
        plan_id = proxied.import_plan(manager, sample_plan).id
        proxied.submit(manager, plan_id, 1)
        before = counts(service)

        proxy.cut()
        for write in (
            lambda: proxied.comment(hr, plan_id, "while the server is down"),
            lambda: proxied.save_revision(hr, plan_id, sample_plan, 1),
            lambda: proxied.save_intake(manager, "Typed while the server was down."),
        ):
            with pytest.raises(StorageUnavailable) as info:
                write()
            message = info.value.message
            assert f"cannot reach the database at postgresql+psycopg://postgres@127.0.0.1:{proxy.port}" in message
            assert "TAILOR_DATABASE_URL" in message and "\n" not in message
        assert counts(service) == before  # nothing half-written

        proxy.open()  # the server is back, on the same address
        assert proxied.comment(hr, plan_id, "back again").text == "back again"
        assert counts(service)["comments"] == before["comments"] + 1
    finally:
        proxy.cut()
        dispose_database(proxied_url)


# =========================================================================== Chroma down
def test_chroma_down_keeps_the_plan_and_flags_retrieval(isolated_settings: Path) -> None:
    url = closed_url()
    settings_ = model_settings(chroma_url=url)
    request = DraftRequest(background=BACKGROUND, **CONFIRMED)
    engine = Engine(settings_, corpus=CORPUS, model=ScriptedModel(valid_answers(settings_, request)))
    plan = engine.draft(request).plan
    flag = next(f for f in plan.review_flags if f.field == "sources")
    assert flag.kind == "retrieval_down" and "cannot reach the Chroma server" in (flag.detail or "")
    assert url not in flag.reason  # the address is technical detail, not review text
    assert "retrieve: policy selection only" in plan.provenance.fallbacks
    assert plan.all_tasks() and all(t.sources for t in plan.all_tasks())  # still grounded in the corpus
    assert any(t.tailored for t in plan.all_tasks())  # and the model still did its part

    from tailor.corpus.index import CorpusIndex

    with pytest.raises(IndexUnavailable) as info:
        CorpusIndex.open(settings_)
    assert "start it with `chroma run` or unset TAILOR_CHROMA_URL" in info.value.message


def test_an_unusable_index_folder_keeps_the_plan_and_flags_retrieval(isolated_settings: Path) -> None:
    blocked = isolated_settings / "chroma-is-a-file"
    blocked.write_text("not a folder")
    settings_ = model_settings(chroma_url=None, chroma_path=blocked)
    request = DraftRequest(background=BACKGROUND, **CONFIRMED)
    plan = Engine(settings_, corpus=CORPUS, model=ScriptedModel(valid_answers(settings_, request))).draft(request).plan
    flag = next(f for f in plan.review_flags if f.field == "sources")
    assert flag.kind == "retrieval_down" and str(blocked) in (flag.detail or "")
    assert plan.all_tasks()


# =========================================================================== SIGKILL mid-save
SAVER = r"""
import sys
from tailor.review.auth import AuthService
from tailor.config import Settings
from tailor.review.service import ReviewService

url, data_dir, plan_id = sys.argv[1], sys.argv[2], int(sys.argv[3])
service = ReviewService(Settings(database_url=url, data_dir=data_dir))
user = AuthService(service.settings, db=service.db).get_user("hr")
detail = service.get_plan(user, plan_id)
plan, revision = detail.plan, detail.revision
print("ready", flush=True)
for i in range(1, 100000):
    if i % 2:
        plan.summary = f"saved by the child, edit {i}"
        revision = service.save_revision(user, plan_id, plan, revision).revision
        print(f"revision {revision}", flush=True)
    else:
        comment = service.comment(user, plan_id, f"comment {i}")
        print(f"comment {comment.id}", flush=True)
"""


def check_consistent(service: ReviewService, plan_id: int) -> tuple[int, int]:
    """Every revision parses and matches its hash, numbers are 1..n, the plan points at n, audit agrees."""
    with service.db.read() as s:
        revisions = list(
            s.scalars(select(RevisionRecord).where(RevisionRecord.plan_id == plan_id).order_by(RevisionRecord.number))
        )
        plan = s.get(PlanRecord, plan_id)
        assert plan is not None
        numbers = [r.number for r in revisions]
        assert numbers == list(range(1, len(numbers) + 1))
        assert plan.current_revision == numbers[-1]
        for rev in revisions:
            assert hashlib.sha256(rev.plan_json.encode("utf-8")).hexdigest() == rev.sha256
            Plan.model_validate_json(rev.plan_json)
        audit = Counter(
            s.scalars(
                select(AuditRecord.action).where(AuditRecord.plan_id == plan_id, AuditRecord.action.like("plan.%"))
            )
        )
        comments = int(
            s.scalar(select(func.count()).select_from(CommentRecord).where(CommentRecord.plan_id == plan_id)) or 0
        )
        revised = list(
            s.scalars(
                select(AuditRecord.detail).where(AuditRecord.plan_id == plan_id, AuditRecord.action == "plan.revise")
            )
        )
    assert audit["plan.create"] == 1 and audit["plan.revise"] == len(numbers) - 1
    assert sorted(d["revision"] for d in revised) == numbers[1:]
    assert audit["plan.comment"] == comments
    return len(numbers), comments


def test_a_process_killed_mid_save_loses_nothing_it_committed(
    service: ReviewService,
    db_url: str,
    db_backend: str,
    isolated_settings: Path,
    manager: UserOut,
    hr: UserOut,
    sample_plan: Plan,
) -> None:
    plan_id = service.import_plan(manager, sample_plan).id
    service.submit(manager, plan_id, 1)
    rng = random.Random()
    committed_revisions, committed_comments = 1, 0
    for _round in range(2):
        child = subprocess.Popen(
            [sys.executable, "-c", SAVER, db_url, str(isolated_settings), str(plan_id)],
            cwd=PROJECT_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "ready", child.stderr.read() if child.stderr else ""
            # Let it get going, then kill it at a random moment (most of its time is spent saving).
            lines = [child.stdout.readline().strip() for _ in range(rng.randint(3, 25))]
            assert all(lines), child.stderr.read() if child.stderr else ""
            time.sleep(rng.uniform(0, 0.05))
            child.kill()
            out, _ = child.communicate(timeout=30)
        finally:
            if child.poll() is None:
                child.kill()
        lines += out.splitlines()
        reported_revs = [int(x.split()[1]) for x in lines if x.startswith("revision ")]
        committed_revisions = max([committed_revisions, *reported_revs])
        committed_comments += sum(1 for x in lines if x.startswith("comment "))

        fresh = ReviewService(service.settings)
        revisions, comments = check_consistent(fresh, plan_id)
        # Everything the child saw committed is there; at most the one in flight got in without a report.
        assert committed_revisions <= revisions <= committed_revisions + 1
        committed_revisions = revisions
        assert committed_comments <= comments <= committed_comments + 1
        committed_comments = comments
        if db_backend == "sqlite":
            with fresh.db.engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    # And the plan is still usable: the next save takes the next number.
    detail = service.get_plan(hr, plan_id)
    assert service.save_revision(hr, plan_id, detail.plan, detail.revision).revision == detail.revision + 1


# =========================================================================== a short load run
def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("tailor_load_test", PROJECT_ROOT / "scripts" / "load_test.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def load_test() -> Iterator[ModuleType]:
    from tailor.review import auth

    hasher = auth.PASSWORD_HASHER
    try:
        yield load_script()
    finally:
        auth.PASSWORD_HASHER = hasher  # the script switches to argon2's cheapest profile


def test_concurrent_sessions_lose_nothing(load_test: ModuleType, db_url: str, tmp_path: Path) -> None:
    base = None if db_url.startswith("sqlite") else db_url.split("?")[0]
    config = load_test.LoadConfig(sessions=7, duration_s=4.0, database_url=base, index=False, data_dir=tmp_path)
    report = load_test.run_load(config)
    assert report["ok"], report
    assert report["sessions"] == {"draft": 2, "review": 3, "contend": 2}
    assert all(row["lost"] == 0 for row in report["counts"].values())
    assert report["counts"]["revisions"]["reported"] > 0 and report["counts"]["audit"]["reported"] > 0
    ops = report["throughput"]["by_op"]
    assert ops["draft"]["ok"] >= 1 and ops["approve"]["ok"] >= 1 and ops["contended_save"]["ok"] >= 1
    # Both contenders saved from the same revision each round: exactly one won, the other got Conflict.
    contention = report["contention"]
    assert contention["rounds_lost_to_conflict"] >= 1
    assert abs(contention["rounds_won"] - contention["rounds_lost_to_conflict"]) <= 1
    assert set(report["errors"]) <= {"Conflict"} and not report["bugs"]
    assert report["model_calls"]["peak_concurrent"] <= report["model_calls"]["bound"]
    assert report["drafts"].get("mocked_tailored", 0) >= 1 and report["drafts"].get("mocked_flagged", 0) == 0
