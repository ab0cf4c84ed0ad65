"""Two real processes race to change the same plan; exactly one wins each time, on both backends.

The workers are spawned (not forked), build their own ReviewService from the URL, and
meet at a barrier before every step so their calls overlap as much as the OS allows.
Both are HR users: first they race to save edits of plan A from the same expected
revision (several rounds), then one approves plan B while the other requests changes.
Spawning is the slow part, so one pair of processes runs both scenarios.
"""

from __future__ import annotations

import multiprocessing as mp
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

from tailor.review.auth import UserOut
from tailor.review.service import ReviewService
from tailor.schema import Plan

ROUNDS = 4
TIMEOUT_S = 120
Outcome = tuple[str, int, str]  # (step, worker, "ok:..." or "ErrorClass:message")


def _worker(url: str, data_dir: str, username: str, worker: int, barrier: Barrier, results: Any) -> None:
    from tailor.config import Settings
    from tailor.errors import TailorError
    from tailor.review.auth import AuthService
    from tests.review.approving import checked

    def attempt(step: str, call: Any) -> None:
        barrier.wait(timeout=TIMEOUT_S)
        try:
            results.put((step, worker, f"ok:{call()}"))
        except TailorError as exc:
            results.put((step, worker, f"{type(exc).__name__}:{exc}"))
        except Exception as exc:  # a bug, reported rather than hanging the other worker
            results.put((step, worker, f"BUG {type(exc).__name__}:{exc}"))

    try:
        service = ReviewService(Settings(database_url=url, data_dir=data_dir))
        user = AuthService(service.settings, db=service.db).get_user(username)
        plan_a, plan_b = sorted(p.id for p in service.list_plans(user))
        base = service.get_plan(user, plan_a).plan
    except Exception as exc:
        barrier.abort()
        results.put(("setup", worker, f"BUG {type(exc).__name__}: {exc}"))
        return

    for round_no in range(ROUNDS):
        edit = base.model_copy(deep=True)
        edit.summary = f"round {round_no} by worker {worker}"
        expected = 1 + round_no  # exactly one save wins per round, so the revision advances by one
        attempt(f"save-{round_no}", lambda e=edit, x=expected: service.save_revision(user, plan_a, e, x).revision)

    if worker == 0:
        flags = checked(service, user, plan_b)  # chosen before the barrier, as a reviewer does before clicking
        attempt("decide", lambda: service.approve(user, plan_b, 1, "ship it", flags).status)
    else:
        attempt("decide", lambda: service.request_changes(user, plan_b, 1, "not yet").status)


def _race(url: str, data_dir: str, usernames: tuple[str, str]) -> list[Outcome]:
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(2)
    results = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(url, data_dir, usernames[i], i, barrier, results)) for i in range(2)]
    for p in procs:
        p.start()
    outcomes: list[Outcome] = [results.get(timeout=TIMEOUT_S) for _ in range(2 * (ROUNDS + 1))]
    for p in procs:
        p.join(timeout=TIMEOUT_S)
        assert p.exitcode == 0
    return outcomes


def test_two_processes_never_lose_an_update(
    service: ReviewService,
    db_url: str,
    isolated_settings: Path,
    manager: UserOut,
    hr: UserOut,
    hr2: UserOut,
    sample_plan: Plan,
) -> None:
    plan_a = service.import_plan(manager, sample_plan).id
    plan_b = service.import_plan(manager, sample_plan).id
    for plan_id in (plan_a, plan_b):
        service.submit(manager, plan_id, 1)  # in review: HR may edit and decide

    outcomes = _race(db_url, str(isolated_settings), ("hr", "hr2"))
    assert not [o for o in outcomes if "BUG" in o[2]], outcomes

    # --- saves: per round one winner at the next revision, one Conflict, nothing overwritten
    for round_no in range(ROUNDS):
        results = sorted((o[2] for o in outcomes if o[0] == f"save-{round_no}"), key=lambda r: not r.startswith("ok"))
        assert len(results) == 2, outcomes
        winner, loser = results
        assert winner == f"ok:{round_no + 2}", results
        assert loser.startswith("Conflict:") and "reload and reapply your edit" in loser, results
    detail = service.get_plan(manager, plan_a)
    assert [r.number for r in detail.revisions] == list(range(1, ROUNDS + 2))
    last = next(o for o in outcomes if o[0] == f"save-{ROUNDS - 1}" and o[2].startswith("ok"))
    assert detail.plan.summary == f"round {ROUNDS - 1} by worker {last[1]}"
    audited = [e.detail["revision"] for e in service.audit_log(hr, plan_a) if e.action == "plan.revise"]
    assert audited == list(range(2, ROUNDS + 2))

    # --- decisions: exactly one of approve / request changes takes effect
    decided = [o[2] for o in outcomes if o[0] == "decide"]
    ok = [d for d in decided if d.startswith("ok:")]
    refused = [d for d in decided if d.startswith(("IllegalTransition:", "Conflict:"))]
    assert len(ok) == 1 and len(refused) == 1, decided
    assert ok[0] == f"ok:{service.get_plan(hr, plan_b).status}"
    assert len(service.list_decisions(hr, plan_b)) == 1
