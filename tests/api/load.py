"""Load figures for docs/api.md: reads under concurrent clients, and webhooks to a flaky receiver.

    .venv/bin/python -m tests.api.load --clients 20 --duration 30
    .venv/bin/python -m tests.api.load --clients 20 --duration 30 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:55432/tailor_test
    .venv/bin/python -m tests.api.load --webhooks 200 --duration 0

A fresh database (a SQLite file in a temp folder, or a fresh schema in the PostgreSQL database,
dropped afterwards) gets users, one token per client and ``--plans`` plans. ``tailor api`` then
runs as its own process, exactly as ``scripts/run`` starts it; the clients are threads of this
process, each with its own token and HTTP connection, and loop over the reads an integration
makes (a plan, the plan list, a plan's history, its open flags) with no think time. Reported:
requests/s, latency percentiles per endpoint, errors by status.

``--webhooks N`` registers a receiver on loopback that answers 503 to a random half of the
requests, makes N events (plans approved through the review service), and waits until every
delivery is delivered or failed; it reports the attempts and the events lost (delivered ids
against events made). The server's rate limit is raised for the run (the clients measure
reads, not the limit).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from tailor.config import PROJECT_ROOT, Settings, reset_settings
from tests.api.helpers import Receiver
from tests.fixtures.model import free_port

READS = ("plan", "list", "history", "flags")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else 0.0


def fresh_database(url: str | None, data: Path) -> tuple[str, Any]:
    """(the URL to use, a cleanup function): a SQLite file, or a new PostgreSQL schema."""
    if url is None:
        return f"sqlite:///{data / 'tailor.sqlite3'}", lambda: None
    from sqlalchemy import create_engine, text

    schema = f"load_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in url else "?"

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    return f"{url}{sep}options={quote(f'-csearch_path={schema}')}", drop


def populate(settings: Settings, clients: int, plans: int) -> tuple[dict[str, Any], list[str], list[int]]:
    """Users (admin, manager, two HR), a token per client (half managers, half HR) and plans."""
    from argon2 import PasswordHasher, profiles

    from tailor.review import auth as auth_module
    from tailor.review.auth import AuthService
    from tailor.review.service import ReviewService
    from tailor.review.tokens import TokenService
    from tests.fixtures.db import make_plan

    auth_module.PASSWORD_HASHER = PasswordHasher.from_parameters(profiles.CHEAPEST)
    review = ReviewService(settings)
    auth = AuthService(settings, db=review.db)
    admin = auth.bootstrap_admin("admin", "load test password 1")
    users = {"admin": admin}
    for name, role in (("maria", "manager"), ("hana", "hr"), ("hugo", "hr")):
        users[name] = auth.add_user(admin, name, role, "load test password 1")
    tokens = TokenService(settings, db=review.db)
    issued = [
        tokens.create_token(users["maria" if i % 2 == 0 else "hana"], f"client {i}").token for i in range(clients)
    ]
    ids = [review.import_plan(users["maria"], make_plan()).id for _ in range(plans)]
    for plan_id in ids[::2]:
        review.submit(users["maria"], plan_id, 1)
        review.comment(users["hana"], plan_id, "Looks good so far.")
    return {"review": review, "users": users, "tokens": tokens}, issued, ids


def start_api(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "tailor.cli", "api", "--port", str(port), "--log-level", "warning"]
    proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=env, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("tailor api did not start")


def read_load(url: str, tokens: list[str], plan_ids: list[int], duration: float) -> dict[str, Any]:
    latencies: dict[str, list[float]] = defaultdict(list)
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    stop = time.monotonic() + duration

    def client(token: str, seed: int) -> None:
        rng = random.Random(seed)
        paths = {
            "plan": lambda: f"/v1/plans/{rng.choice(plan_ids)}",
            "list": lambda: "/v1/plans",
            "history": lambda: f"/v1/plans/{rng.choice(plan_ids)}/history",
            "flags": lambda: f"/v1/plans/{rng.choice(plan_ids)}/flags",
        }
        mine: dict[str, list[float]] = defaultdict(list)
        codes: Counter[int] = Counter()
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as http:
            i = seed
            while time.monotonic() < stop:
                kind = READS[i % len(READS)]
                i += 1
                t0 = time.perf_counter()
                code = http.get(paths[kind]()).status_code
                mine[kind].append(time.perf_counter() - t0)
                codes[code] += 1
        with lock:
            for kind, values in mine.items():
                latencies[kind].extend(values)
            statuses.update(codes)

    threads = [threading.Thread(target=client, args=(t, n)) for n, t in enumerate(tokens)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    every = [v for values in latencies.values() for v in values]
    ms = lambda v: round(v * 1000, 1)  # noqa: E731
    return {
        "clients": len(tokens),
        "seconds": round(elapsed, 1),
        "requests": len(every),
        "requests_per_s": round(len(every) / elapsed, 1),
        "p50_ms": ms(statistics.median(every)),
        "p95_ms": ms(percentile(every, 95)),
        "p99_ms": ms(percentile(every, 99)),
        "by_endpoint": {
            k: {"n": len(v), "p50_ms": ms(statistics.median(v)), "p95_ms": ms(percentile(v, 95))}
            for k, v in sorted(latencies.items())
        },
        "statuses": dict(statuses),
    }


def webhook_load(url: str, services: dict[str, Any], events: int, seed: int) -> dict[str, Any]:
    from tests.api.conftest import approve
    from tests.fixtures.db import make_plan

    receiver = Receiver(Receiver.failing_half(seed))
    review, users = services["review"], services["users"]
    admin_token = services["tokens"].create_token(users["admin"], "webhooks").token
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {admin_token}"}) as admin:
        endpoint = admin.post("/v1/webhooks", json={"url": receiver.url, "events": ["plan.approved"]}).json()
    endpoint_id = endpoint["endpoint"]["id"]
    started = time.monotonic()
    for _ in range(events):
        plan_id = review.import_plan(users["maria"], make_plan()).id
        review.submit(users["maria"], plan_id, 1)
        approve(review, users["hana"], plan_id, 1)
    made = time.monotonic() - started
    deadline = time.monotonic() + 600
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {admin_token}"}) as admin:
        while True:
            log = admin.get(f"/v1/webhooks/{endpoint_id}/deliveries", params={"limit": 500}).json()
            if len(log) == events and all(d["status"] != "pending" for d in log):
                break
            if time.monotonic() > deadline:
                break
            time.sleep(0.5)
    receiver.close()
    delivered_ids = {r.headers["webhook-id"] for r in receiver.received if r.status == 200}
    attempts = Counter(d["attempts"] for d in log)
    return {
        "events": events,
        "deliveries": len(log),
        "delivered": sum(d["status"] == "delivered" for d in log),
        "failed_for_good": sum(d["status"] == "failed" for d in log),
        "requests_to_receiver": len(receiver.received),
        "refused_by_receiver": sum(r.status != 200 for r in receiver.received),
        "attempts_histogram": dict(sorted(attempts.items())),
        "max_attempts": max(attempts) if attempts else 0,
        "lost": events - len(delivered_ids),
        "seconds_to_make_events": round(made, 1),
        "seconds_until_all_settled": round(time.monotonic() - started, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--duration", type=float, default=30.0, help="Seconds of reads (0: none).")
    parser.add_argument("--plans", type=int, default=40)
    parser.add_argument("--database-url", default=None, help="PostgreSQL (a fresh schema is made and dropped).")
    parser.add_argument(
        "--webhooks", type=int, default=0, help="Events to deliver to a receiver failing half the time."
    )
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tailor-api-load-") as tmp:
        data = Path(tmp)
        db_url, drop = fresh_database(args.database_url, data)
        env = {
            **os.environ,
            "TAILOR_DATA_DIR": str(data),
            "TAILOR_DATABASE_URL": db_url,
            "TAILOR_CONFIG": str(data / "absent.toml"),
            "TAILOR_API_RATE_LIMIT_PER_MINUTE": "1000000",
            "TAILOR_WEBHOOK_RETRY_BASE_S": "0.2",
            "TAILOR_WEBHOOK_RETRY_MAX_S": "2",
        }
        os.environ.update({k: env[k] for k in ("TAILOR_DATA_DIR", "TAILOR_DATABASE_URL", "TAILOR_CONFIG")})
        reset_settings()
        settings = Settings()
        try:
            services, tokens, plan_ids = populate(settings, args.clients, args.plans)
            port = free_port()
            load_before = os.getloadavg()
            server = start_api(env, port)
            url = f"http://127.0.0.1:{port}"
            report: dict[str, Any] = {"backend": "postgresql" if args.database_url else "sqlite"}
            try:
                if args.duration > 0:
                    report["reads"] = read_load(url, tokens, plan_ids, args.duration)
                if args.webhooks:
                    report["webhooks"] = webhook_load(url, services, args.webhooks, args.seed)
            finally:
                server.terminate()
                server.wait(30)
            report["load_average_before_after"] = [round(load_before[0], 2), round(os.getloadavg()[0], 2)]
            print(json.dumps(report, indent=2))
        finally:
            from tailor.store.db import dispose_database

            dispose_database(db_url)
            drop()


if __name__ == "__main__":
    main()
