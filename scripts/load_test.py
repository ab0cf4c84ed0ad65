"""Load test: many concurrent sessions against a real database, then count that nothing was lost.

    .venv/bin/python scripts/load_test.py --sessions 20 --duration 60
    .venv/bin/python scripts/load_test.py --sessions 20 --duration 60 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:55432/tailor_test
    .venv/bin/python scripts/load_test.py --sessions 6 --duration 60 --model local/qwen2.5-coder-0.5b

Everything runs in this process, one thread per session, over a fresh database (a SQLite
file in a temp folder by default; with ``--database-url`` a fresh schema in that PostgreSQL
database, dropped afterwards). Each session signs in and checks its token before every
operation, like a web session. Three kinds of session:

* **draft**: a manager saves an intake, drafts a plan through the real ``Engine`` (compose,
  redaction, retrieval when the index is built, validation) with a fast scripted model
  (``ScriptedModel``: the real litellm and instructor path with written answers; model calls
  still queue on ``settings.max_concurrent_model_calls``),
  stores it and submits it. With ``--model`` the first ``--real-drafts`` drafts use that model.
* **review**: its own manager and two HR users on their own plan: read, comment, edit, approve
  by the *other* HR user (four-eyes), export; the next edit reopens the plan.
* **contend**: two HR users on the same plan, meeting at a barrier so that both save from the
  same revision: exactly one save wins each round, the other gets ``Conflict``.

Loops stop at ``--duration`` or ``--max-ops`` per session. Afterwards the database is
checked against what every session reported committed (intakes, plans, revisions, comments,
decisions, audit events): a lost or phantom row fails the run (exit code 1), as does any
error that is not a ``TailorError`` or a revision that does not hold what its writer wrote.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import tailor.config  # noqa: E402,F401  (sets litellm's offline cost map before litellm loads)
from tailor.config import Settings  # noqa: E402

PASSWORD = "load test password 1"
MOCK_MODEL = "openai/mock-model"
# Mocks never leave the process; an OpenAI-compatible server address selects JSON answers
# (what `tailor model serve` or vLLM give), rather than hosted tool calls.
MOCK_API_BASE = "http://127.0.0.1:9/v1"
EXPECTED_ERRORS = {"Conflict"}  # contenders race by design


# =========================================================================== results
@dataclass
class Op:
    session: str
    kind: str
    op: str
    seconds: float
    outcome: str  # "ok" or the error class name
    message: str = ""
    ended: float = 0.0  # perf_counter when it finished


@dataclass
class SessionResult:
    name: str
    kind: str
    ops: list[Op] = field(default_factory=list)
    committed: Counter[str] = field(default_factory=Counter)
    # (plan_id, revision) -> the tag written into the plan's summary, for the lost-update check
    revisions: dict[tuple[int, int], str] = field(default_factory=dict)
    drafts: Counter[str] = field(default_factory=Counter)  # tailored or flagged, mocked or real
    error: str | None = None


@dataclass
class LoadConfig:
    sessions: int = 20
    duration_s: float = 60.0
    database_url: str | None = None
    model: str | None = None
    real_drafts: int = 2
    max_ops: int = 100_000
    index: bool = True
    seed: int = 7
    data_dir: Path | None = None
    max_concurrent_model_calls: int | None = None


# =========================================================================== database
@contextmanager
def fresh_database(url: str | None, data_dir: Path) -> Iterator[str]:
    """A fresh database URL: a SQLite file in ``data_dir``, or a new schema in PostgreSQL."""
    if url is None or url.startswith("sqlite"):
        yield url or f"sqlite:///{data_dir / 'load.sqlite3'}"
        return
    from sqlalchemy import create_engine, text

    schema = f"load_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in url else "?"
    try:
        yield f"{url}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        from tailor.store.db import dispose_database

        dispose_database(f"{url}{sep}options={quote(f'-csearch_path={schema}')}")
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def table_counts(service: Any) -> Counter[str]:
    from sqlalchemy import func, select

    from tailor.store.records import (
        AuditRecord,
        CommentRecord,
        DecisionRecord,
        IntakeRecord,
        PlanRecord,
        RevisionRecord,
    )

    tables = {
        "intakes": IntakeRecord,
        "plans": PlanRecord,
        "revisions": RevisionRecord,
        "comments": CommentRecord,
        "decisions": DecisionRecord,
        "audit": AuditRecord,
    }
    with service.db.read() as s:
        return Counter({name: int(s.scalar(select(func.count()).select_from(t)) or 0) for name, t in tables.items()})


def consistency_problems(service: Any) -> list[str]:
    """Every revision parses and matches its hash; every plan points at its newest revision."""
    from sqlalchemy import select

    from tailor.schema import Plan
    from tailor.store.records import PlanRecord, RevisionRecord

    problems: list[str] = []
    with service.db.read() as s:
        numbers: dict[int, list[int]] = {}
        for rev in s.scalars(select(RevisionRecord).order_by(RevisionRecord.plan_id, RevisionRecord.number)):
            numbers.setdefault(rev.plan_id, []).append(rev.number)
            if hashlib.sha256(rev.plan_json.encode("utf-8")).hexdigest() != rev.sha256:
                problems.append(f"plan {rev.plan_id} revision {rev.number}: sha256 mismatch")
            try:
                Plan.model_validate_json(rev.plan_json)
            except ValueError as exc:
                problems.append(f"plan {rev.plan_id} revision {rev.number}: invalid JSON ({exc})")
        for plan in s.scalars(select(PlanRecord)):
            have = numbers.get(plan.id, [])
            if have != list(range(1, len(have) + 1)):
                problems.append(f"plan {plan.id}: revision numbers {have} are not 1..n")
            if not have or plan.current_revision != have[-1]:
                problems.append(f"plan {plan.id}: current_revision {plan.current_revision}, newest {have[-1:]}")
    return problems


def written_tags(service: Any) -> dict[tuple[int, int], str]:
    from sqlalchemy import select

    from tailor.schema import Plan
    from tailor.store.records import RevisionRecord

    with service.db.read() as s:
        return {
            (r.plan_id, r.number): Plan.model_validate_json(r.plan_json).summary
            for r in s.scalars(select(RevisionRecord))
        }


# =========================================================================== drafting fixtures
@dataclass
class DraftCase:
    background: str
    name: str | None
    overrides: dict[str, Any]
    mocks: list[str]


def draft_cases(engine_factory: Callable[..., Any], settings: Settings, corpus: Any) -> list[DraftCase]:
    """One case per example background: the confirmed profile (as the UI sends it) and valid
    mocked answers for the summary and the task rewrites of exactly the tasks the engine will ask."""
    from tailor.pipeline.engine import skill_scorer
    from tailor.pipeline.intake import Vocabulary, read_rules, resolve_profile
    from tailor.pipeline.personalise import pick_tasks_to_tailor, scripted_task_answer
    from tailor.schema import DraftRequest

    vocab = Vocabulary.from_corpus(corpus)
    cases: list[DraftCase] = []
    for path in sorted((ROOT / "examples").glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        hire = resolve_profile(DraftRequest(background=text), read_rules(text, vocab), None, text, vocab).profile
        skills = list(hire.skills) or ["Python"]
        overrides = {
            "role": hire.role,
            "role_family": hire.role_family,
            "seniority": hire.seniority,
            "years_experience": hire.years_experience,
            "skills": skills,
        }
        request = DraftRequest(background=text, **overrides)
        skeleton = None
        for event in engine_factory().draft_events(request):
            if event.kind == "skeleton":
                skeleton = event.plan
                break
        assert skeleton is not None
        asked = pick_tasks_to_tailor(skeleton, 10)
        skill = skills[0]
        summary = {
            "summary": f"This plan builds on the hire's {skill} experience so they own real work early.",
            "focus_areas": skills[:2],
        }
        rewrites = scripted_task_answer(
            asked, skills, "Use your {skill} experience for this task and note what you learn ({n}).", skill_scorer
        )
        cases.append(DraftCase(text, None, overrides, [json.dumps(summary), json.dumps(rewrites)]))
    return cases


# =========================================================================== sessions
class Session:
    """One simulated user session: every operation timed and its outcome recorded."""

    def __init__(self, name: str, kind: str, world: World) -> None:
        self.result = SessionResult(name=name, kind=kind)
        self.world = world
        self.tokens: dict[str, str] = {}

    def sign_in(self, username: str) -> None:
        token = self.call("sign_in", lambda: self.world.auth.authenticate(username, PASSWORD).token)
        if token is None:
            raise RuntimeError(f"{username} could not sign in")
        self.tokens[username] = token
        self.result.committed["audit"] += 1

    def user(self, username: str) -> Any:
        """The signed-in user, checked against the session store as a web request would be."""
        return self.world.auth.user_for_token(self.tokens[username])

    def call(self, op: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run one operation; its result, or None when it raised (the outcome is recorded)."""
        return self._timed(op, lambda: fn(*args, **kwargs))

    def act(self, op: str, username: str, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """A service call as a signed-in user: the token check is part of the request."""
        return self._timed(op, lambda: method(self.user(username), *args, **kwargs))

    def _timed(self, op: str, fn: Callable[[], Any]) -> Any:
        from tailor.errors import TailorError

        started = time.perf_counter()
        try:
            value = fn()
        except TailorError as exc:
            self._record(op, started, type(exc).__name__, exc.message)
            return None
        except Exception as exc:  # a bug: recorded, never hidden
            self._record(op, started, f"BUG:{type(exc).__name__}", str(exc)[:300])
            return None
        self._record(op, started, "ok")
        return value

    def _record(self, op: str, started: float, outcome: str, message: str = "") -> None:
        now = time.perf_counter()
        self.result.ops.append(Op(self.result.name, self.result.kind, op, now - started, outcome, message, now))

    def running(self) -> bool:
        return time.monotonic() < self.world.deadline and len(self.result.ops) < self.world.config.max_ops


@dataclass
class World:
    config: LoadConfig
    settings: Settings
    service: Any
    auth: Any
    corpus: Any
    cases: list[DraftCase]
    base_plan: Any
    deadline: float = 0.0
    real_drafts_left: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take_real_draft(self) -> bool:
        with self.lock:
            if self.real_drafts_left > 0:
                self.real_drafts_left -= 1
                return True
            return False


def draft_session(s: Session, manager: str, seed: int) -> None:
    from tailor.models.scripted import ScriptedModel
    from tailor.pipeline.engine import Engine
    from tailor.schema import DraftRequest

    w = s.world
    rng = random.Random(seed)
    s.sign_in(manager)
    scripted = ScriptedModel()
    engine = Engine(w.settings, corpus=w.corpus, model=scripted)
    real_engine = (
        Engine(w.settings.model_copy(update={"model": w.config.model}), corpus=w.corpus) if w.config.model else None
    )
    while s.running():
        case = rng.choice(w.cases)
        intake_id = s.act(
            "save_intake",
            manager,
            w.service.save_intake,
            case.background,
            case.name,
            overrides=case.overrides,
        )
        if intake_id is None:
            continue
        s.result.committed.update(intakes=1, audit=1)
        real = real_engine is not None and w.take_real_draft()
        eng = real_engine if real and real_engine is not None else engine
        if not real:
            scripted.load(case.mocks)
        request = DraftRequest(background=case.background, **case.overrides)
        drafted = s.call("draft_real_model" if real else "draft", eng.draft, request)
        plan = drafted.plan if drafted is not None else None
        if plan is not None:
            flagged = {f.field for f in plan.review_flags}
            kind = "real" if real else "mocked"
            s.result.drafts[f"{kind}_flagged" if flagged & {"summary", "tasks"} else f"{kind}_tailored"] += 1
            if "sources" in flagged:
                s.result.drafts["without_retrieval"] += 1
        if plan is None:
            failed = s.act("record_intake_failure", manager, w.service.record_intake_failure, intake_id, "failed")
            if failed is not None:
                s.result.committed["audit"] += 1
            continue
        detail = s.act("create_plan", manager, w.service.create_plan_from_draft, intake_id, plan)
        if detail is None:
            continue
        s.result.committed.update(plans=1, revisions=1, audit=1)
        s.result.revisions[(detail.id, 1)] = detail.plan.summary
        if s.act("submit", manager, w.service.submit, detail.id, 1) is not None:
            s.result.committed["audit"] += 1


def review_session(s: Session, manager: str, editor: str, approver: str) -> None:
    w = s.world
    for name in (manager, editor, approver):
        s.sign_in(name)
    detail = s.act("import_plan", manager, w.service.import_plan, w.base_plan)
    if detail is None:
        return
    plan_id = detail.id
    s.result.committed.update(plans=1, revisions=1, audit=1)
    s.result.revisions[(plan_id, 1)] = detail.plan.summary
    if s.act("submit", manager, w.service.submit, plan_id, 1) is None:
        return
    s.result.committed["audit"] += 1
    round_no = 0
    while s.running():
        round_no += 1
        current = s.act("get_plan", editor, w.service.get_plan, plan_id)
        if current is None:
            continue
        if s.act("comment", editor, w.service.comment, plan_id, f"round {round_no}: looks fine") is not None:
            s.result.committed.update(comments=1, audit=1)
        edit = current.plan.model_copy(deep=True)
        tag = f"{s.result.name} round {round_no}: edited by {editor}"
        edit.summary = tag
        saved = s.act("save_revision", editor, w.service.save_revision, plan_id, edit, current.revision)
        if saved is None:
            continue
        s.result.committed.update(revisions=1, audit=1)
        s.result.revisions[(plan_id, saved.revision)] = tag
        # Four-eyes: the other HR user approves the revision the editor wrote, settling its open flags.
        from tailor.review.flags import acknowledge_all, open_flags

        settle = acknowledge_all(open_flags(edit), "load test: checked")
        if s.act("approve", approver, w.service.approve, plan_id, saved.revision, "four-eyes ok", settle) is not None:
            s.result.committed.update(decisions=1, audit=1)
        if round_no % 3 == 0 and s.act("export", approver, w.service.export, plan_id, "markdown") is not None:
            s.result.committed["audit"] += 1
        s.act("list_plans", manager, w.service.list_plans)


def contend_session(s: Session, me: str, plan_id: int, barrier: threading.Barrier, worker: int) -> None:
    w = s.world
    s.sign_in(me)
    round_no = 0
    while True:
        try:
            go_on = s.running()
            barrier.wait(timeout=60)
            current = s.act("get_plan", me, w.service.get_plan, plan_id)
            barrier.wait(timeout=60)  # both have read the same revision: only one save can win
        except threading.BrokenBarrierError:
            return  # the partner stopped
        if not go_on or current is None:
            barrier.abort()
            return
        round_no += 1
        edit = current.plan.model_copy(deep=True)
        tag = f"{s.result.name} round {round_no}: worker {worker}"
        edit.summary = tag
        saved = s.act("contended_save", me, w.service.save_revision, plan_id, edit, current.revision)
        if saved is not None:
            s.result.committed.update(revisions=1, audit=1)
            s.result.revisions[(plan_id, saved.revision)] = tag
        if s.act("comment", me, w.service.comment, plan_id, f"{tag} comment") is not None:
            s.result.committed.update(comments=1, audit=1)


# =========================================================================== the run
@contextmanager
def model_call_gauge() -> Iterator[dict[str, int]]:
    """Count concurrent litellm calls (the real function, wrapped) to show the bound holds."""
    import litellm

    gauge = {"active": 0, "peak": 0, "calls": 0}
    lock = threading.Lock()
    real = litellm.completion

    def counted(*args: Any, **kwargs: Any) -> Any:
        with lock:
            gauge["active"] += 1
            gauge["calls"] += 1
            gauge["peak"] = max(gauge["peak"], gauge["active"])
        try:
            return real(*args, **kwargs)
        finally:
            with lock:
                gauge["active"] -= 1

    litellm.completion = counted
    try:
        yield gauge
    finally:
        litellm.completion = real


def ensure_index(settings: Settings, corpus: Any) -> str:
    """Build the corpus index in the run's data folder, reusing the test suite's vector cache."""
    import numpy as np

    from tailor.corpus.embeddings import DIM, get_embedder
    from tailor.corpus.index import CorpusIndex, build_chunks

    embedder = get_embedder()
    chunks = [c for doc in corpus.docs for c in build_chunks(doc)]
    texts = [c.text for c in chunks]
    key = hashlib.sha256("\x00".join([embedder.graph_path.name, *texts]).encode()).hexdigest()[:20]
    cache = embedder.graph_path.parent / "test-cache" / f"corpus-{key}.npy"
    started = time.perf_counter()
    vectors = np.load(cache) if cache.is_file() else None
    how = "cached vectors"
    if vectors is None or vectors.shape != (len(texts), DIM):
        vectors, how = embedder.embed(texts), "embedded now"
    CorpusIndex.open(settings, embedder=embedder).upsert_chunks(chunks, embeddings=vectors)
    return f"{len(chunks)} chunks ({how}) in {time.perf_counter() - started:.1f} s"


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def summarise(ops: list[Op], started: float, deadline: float) -> dict[str, Any]:
    """Latency percentiles of successful operations; throughput over the window they ran in.

    The ALL row counts the operations that started before the deadline, other than real-model
    drafts, over the time until the last of them ended: a long real-model draft (and the saves
    after it) must not dilute the figure for everything else.
    """
    by_op: dict[str, list[Op]] = {}
    for op in ops:
        by_op.setdefault(op.op, []).append(op)

    def window(items: list[Op]) -> float:
        return max((o.ended for o in items), default=started) - started

    def stats(items: list[Op]) -> dict[str, Any]:
        ok = [o.seconds * 1000 for o in items if o.outcome == "ok"]
        span = window(items)
        return {
            "count": len(items),
            "ok": len(ok),
            "window_s": round(span, 1),
            "per_s": round(len(ok) / span, 2) if span > 0 else 0.0,
            "p50_ms": round(percentile(ok, 50), 1),
            "p95_ms": round(percentile(ok, 95), 1),
            "p99_ms": round(percentile(ok, 99), 1),
            "max_ms": round(max(ok), 1) if ok else 0.0,
        }

    mocked = [o for o in ops if o.op != "draft_real_model" and o.ended - o.seconds <= deadline]
    return {
        "all": stats(mocked),
        "by_op": {name: stats(items) for name, items in sorted(by_op.items())},
    }


def run_load(config: LoadConfig) -> dict[str, Any]:
    """Run the sessions and check the database; returns the report (``report["ok"]`` is the verdict)."""
    from argon2 import PasswordHasher, profiles

    from tailor.corpus.documents import load_corpus
    from tailor.pipeline.engine import Engine
    from tailor.review import auth as auth_module
    from tailor.review.auth import AuthService
    from tailor.review.service import ReviewService
    from tailor.store.db import dispose_database

    load_before = os.getloadavg()
    tmp = tempfile.TemporaryDirectory(prefix="tailor-load-")
    data_dir = config.data_dir or Path(tmp.name)
    # Sign-in cost is argon2's, not ours: use its cheapest profile (still argon2id) so 20
    # concurrent sign-ins do not take 64 MiB each on a shared 2-core machine.
    auth_module.PASSWORD_HASHER = PasswordHasher.from_parameters(profiles.CHEAPEST)
    try:
        with fresh_database(config.database_url, data_dir) as url:
            update: dict[str, Any] = {
                "database_url": url,
                "data_dir": data_dir,
                "model": MOCK_MODEL,
                "api_base": MOCK_API_BASE,
            }
            if config.max_concurrent_model_calls is not None:
                update["max_concurrent_model_calls"] = config.max_concurrent_model_calls
            settings = Settings(**update)
            report = _run(config, settings, Engine, ReviewService, AuthService, load_corpus)
            dispose_database(url)
    finally:
        tmp.cleanup()
    report["machine"] = {
        "cpus": os.cpu_count(),
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
    }
    return report


def _run(
    config: LoadConfig,
    settings: Settings,
    engine_cls: Any,
    service_cls: Any,
    auth_cls: Any,
    load_corpus: Any,
) -> dict[str, Any]:
    setup_started = time.perf_counter()
    corpus = load_corpus(settings.corpus_dir)
    service = service_cls(settings)
    auth = auth_cls(settings, db=service.db)
    index_note = ensure_index(settings, corpus) if config.index else "no index (retrieval is flagged)"
    cases = draft_cases(lambda: engine_cls(settings, corpus=corpus), settings, corpus)
    base_plan = _base_plan(cases[0], settings, corpus, engine_cls)

    admin = auth.bootstrap_admin("load-admin", PASSWORD)
    n = max(3, config.sessions)
    pairs = max(1, n // 5)
    drafts = max(1, (n - 2 * pairs) // 2)
    reviews = max(1, n - 2 * pairs - drafts)
    world = World(config, settings, service, auth, corpus, cases, base_plan, real_drafts_left=config.real_drafts)
    threads: list[tuple[Session, threading.Thread]] = []

    def add_user(name: str, role: str) -> str:
        auth.add_user(admin, name, role, PASSWORD)
        return name

    def spawn(session: Session, target: Callable[..., None], *args: Any) -> None:
        def body() -> None:
            try:
                target(session, *args)
            except Exception as exc:  # a session that dies is reported, not swallowed
                session.result.error = f"{type(exc).__name__}: {exc}"

        threads.append((session, threading.Thread(target=body, name=session.result.name, daemon=True)))

    for i in range(drafts):
        spawn(
            Session(f"draft-{i}", "draft", world),
            draft_session,
            add_user(f"mgr-{i}", "manager"),
            config.seed + i,
        )
    for i in range(reviews):
        spawn(
            Session(f"review-{i}", "review", world),
            review_session,
            add_user(f"rmgr-{i}", "manager"),
            add_user(f"hr-{i}-a", "hr"),
            add_user(f"hr-{i}-b", "hr"),
        )
    for p in range(pairs):
        owner = add_user(f"cmgr-{p}", "manager")
        owner_user = auth.get_user(owner)
        plan_id = service.import_plan(owner_user, base_plan).id
        service.submit(owner_user, plan_id, 1)
        barrier = threading.Barrier(2)
        for worker in (0, 1):
            spawn(
                Session(f"contend-{p}-{worker}", "contend", world),
                contend_session,
                add_user(f"chr-{p}-{worker}", "hr"),
                plan_id,
                barrier,
                worker,
            )
    baseline = table_counts(service)
    setup_s = time.perf_counter() - setup_started

    with model_call_gauge() as gauge:
        started = time.perf_counter()
        world.deadline = time.monotonic() + config.duration_s
        for _, thread in threads:
            thread.start()
        # Bounded: every session stops at the deadline; a model call is bounded by its timeout.
        join_by = time.monotonic() + config.duration_s + settings.model_timeout_s * 3 + 120
        for _, thread in threads:
            thread.join(timeout=max(1.0, join_by - time.monotonic()))
        wall_s = time.perf_counter() - started
    hung = [s.result.name for s, t in threads if t.is_alive()]

    results = [s.result for s, _ in threads]
    ops = [op for r in results for op in r.ops]
    expected: Counter[str] = Counter()
    for r in results:
        expected.update(r.committed)
    actual = table_counts(service) - baseline
    actual_all = table_counts(service)
    keys = ("intakes", "plans", "revisions", "comments", "decisions", "audit")
    # lost > 0: a commit a session saw succeed is missing; lost < 0: a row nobody reported (a phantom).
    counts = {k: {"reported": expected[k], "in_database": actual[k], "lost": expected[k] - actual[k]} for k in keys}
    written = written_tags(service)
    reported = {key: tag for r in results for key, tag in r.revisions.items()}
    overwritten = [f"plan {k[0]} r{k[1]}" for k, tag in reported.items() if written.get(k) != tag]
    errors = Counter(op.outcome for op in ops if op.outcome != "ok")
    bugs = {k: v for k, v in errors.items() if k.startswith("BUG")}
    unexpected = {k: v for k, v in errors.items() if k not in EXPECTED_ERRORS and not k.startswith("BUG")}
    problems = consistency_problems(service)
    contended = [o for o in ops if o.op == "contended_save"]
    conflict_rounds = sum(1 for o in contended if o.outcome == "Conflict")
    won_rounds = sum(1 for o in contended if o.outcome == "ok")
    ok = (
        all(c["lost"] == 0 for c in counts.values())
        and not overwritten
        and not bugs
        and not problems
        and not hung
        and not any(r.error for r in results)
        and gauge["peak"] <= settings.max_concurrent_model_calls
    )
    return {
        "ok": ok,
        "config": {**{k: str(v) for k, v in asdict(config).items()}, "backend": service.db.backend},
        "sessions": {"draft": drafts, "review": reviews, "contend": 2 * pairs},
        "setup_s": round(setup_s, 1),
        "index": index_note,
        "wall_s": round(wall_s, 1),
        "throughput": summarise(ops, started, started + config.duration_s),
        "errors": dict(errors),
        "bugs": bugs,
        "unexpected_errors": unexpected,
        "error_examples": {k: next(o.message for o in ops if o.outcome == k) for k in errors},
        "contention": {"rounds_won": won_rounds, "rounds_lost_to_conflict": conflict_rounds},
        "drafts": dict(sum((r.drafts for r in results), Counter())),
        "model_calls": {
            "calls": gauge["calls"],
            "peak_concurrent": gauge["peak"],
            "bound": settings.max_concurrent_model_calls,
        },
        "counts": counts,
        "database_totals": dict(actual_all),
        "overwritten_revisions": overwritten,
        "consistency_problems": problems,
        "hung_sessions": hung,
        "session_errors": {r.name: r.error for r in results if r.error},
    }


def _base_plan(case: DraftCase, settings: Settings, corpus: Any, engine_cls: Any) -> Any:
    """A grounded plan (no model) for the review and contention sessions to work on."""
    from tailor.models.scripted import ScriptedModel
    from tailor.schema import DraftRequest

    engine = engine_cls(settings, corpus=corpus, model=ScriptedModel(case.mocks))
    plan = engine.draft(DraftRequest(background=case.background, **case.overrides)).plan
    plan.hire.start_date = date(2026, 1, 5)
    return plan


# =========================================================================== output
def print_report(report: dict[str, Any]) -> None:
    t = report["throughput"]
    print(f"backend {report['config']['backend']}, sessions {report['sessions']}, wall {report['wall_s']} s")
    print(f"setup {report['setup_s']} s; index: {report['index']}")
    print(f"machine: {report['machine']}")
    heads = ("count", "ok", "ok/s", "p50 ms", "p95 ms", "p99 ms", "max ms")
    print(f"{'operation':<22}" + "".join(f"{h:>9}" for h in heads))
    for name, row in [*t["by_op"].items(), ("ALL (mocked model)", t["all"])]:
        cells = ("count", "ok", "per_s", "p50_ms", "p95_ms", "p99_ms", "max_ms")
        print(f"{name:<22}" + "".join(f"{row[c]:>9}" for c in cells))
    print(f"errors by kind: {report['errors'] or 'none'}")
    for kind, example in report["error_examples"].items():
        print(f"  {kind}: {example[:160]}")
    print(f"contention: {report['contention']}")
    print(f"model calls: {report['model_calls']}; drafts: {report['drafts']}")
    print("committed (reported by sessions) vs in the database:")
    for name, row in report["counts"].items():
        print(f"  {name:<10} reported {row['reported']:>6}  in db {row['in_database']:>6}  lost {row['lost']}")
    for key in ("overwritten_revisions", "consistency_problems", "hung_sessions", "session_errors", "bugs"):
        if report[key]:
            print(f"{key}: {report[key]}")
    print("RESULT:", "ok, nothing lost" if report["ok"] else "FAILED")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (a fresh schema is used)")
    parser.add_argument("--model", default=None, help="a real model for a few drafts, e.g. local/qwen2.5-coder-0.5b")
    parser.add_argument("--real-drafts", type=int, default=2)
    parser.add_argument("--max-ops", type=int, default=100_000, help="per session")
    parser.add_argument("--no-index", action="store_true", help="skip building the corpus index")
    parser.add_argument("--max-concurrent-model-calls", type=int, default=None)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, default=None, help="also write the report here")
    args = parser.parse_args(argv)
    config = LoadConfig(
        sessions=args.sessions,
        duration_s=args.duration,
        database_url=args.database_url,
        model=args.model,
        real_drafts=args.real_drafts if args.model else 0,
        max_ops=args.max_ops,
        index=not args.no_index,
        seed=args.seed,
        max_concurrent_model_calls=args.max_concurrent_model_calls,
    )
    report = run_load(config)
    print_report(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
