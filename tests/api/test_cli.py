"""`tailor users token ...` through the real entry point, and `tailor api` as a real process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import httpx

from tailor.config import PROJECT_ROOT, Settings
from tailor.review.auth import UserOut
from tailor.review.tokens import TOKEN_PREFIX, TokenService
from tests.fixtures.cli import Runner
from tests.fixtures.model import free_port


def test_tokens_from_the_command_line(db_settings: Settings, users: dict[str, UserOut], cli: Runner) -> None:
    tokens = TokenService(db_settings)
    made = cli("users", "token", "create", "manager", "--name", "greenhouse")
    assert made.code == 0, made.err
    token = made.out.strip()
    assert token.startswith(TOKEN_PREFIX) and token not in made.err and "shown only now" in made.err
    assert tokens.authenticate(token).user.username == "manager"

    refused = cli("users", "token", "create", "manager", "--as", "hr")
    assert refused.code == 5 and "only manager can make their own" in refused.err

    out = cli("users", "token", "list", "--as", "manager", "--json").out
    listed = json.loads(out)
    assert [t["name"] for t in listed] == ["greenhouse"] and token not in out and "sha256" not in out
    revoked = cli("users", "token", "revoke", str(listed[0]["id"]), "--as", "manager")
    assert revoked.code == 0 and "revoked" in revoked.err
    assert json.loads(cli("users", "token", "list", "*", "--all", "--json").out)[0]["revoked_at"]


def test_tailor_api_serves_on_its_port_and_stops_cleanly(db_settings: Settings, users: dict[str, UserOut]) -> None:
    token = TokenService(db_settings).create_token(users["hr"], "process").token
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tailor.cli", "api", "--port", str(port), "--log-level", "info"],
        cwd=PROJECT_ROOT,
        env={**os.environ},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.communicate()[1].decode()[-2000:]
            try:
                if httpx.get(f"{url}/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "tailor api did not start"
            time.sleep(0.2)
        me = httpx.get(f"{url}/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200 and me.json()["user"]["username"] == "hr"
        assert httpx.get(f"{url}/openapi.json").json()["info"]["title"] == "tailor"
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
    # uvicorn shuts down gracefully (the job runner and dispatcher stop), then re-raises SIGTERM.
    assert proc.returncode in (0, -signal.SIGTERM), stderr.decode()[-2000:]
    assert b"Application shutdown complete" in stderr and b"Traceback" not in stderr
