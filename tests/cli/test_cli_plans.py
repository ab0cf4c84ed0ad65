"""`tailor plans|users|db` through the real entry point (`tailor.cli.app`) and real processes."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from icalendar import Calendar

from tailor.config import reset_settings
from tailor.review.auth import AuthService, UserOut
from tailor.review.service import ReviewService
from tailor.schema import Plan
from tailor.store.db import head_revision
from tests.fixtures.cli import Runner
from tests.fixtures.db import PASSWORD


@pytest.fixture
def plan_file(tmp_path: Path, sample_plan: Plan) -> Path:
    path = tmp_path / "plan.json"
    path.write_text(sample_plan.model_dump_json(by_alias=True, indent=2), encoding="utf-8")
    return path


def test_review_cycle_from_the_cli(
    cli: Runner,
    service: ReviewService,
    users: dict[str, UserOut],
    plan_file: Path,
    sample_plan: Plan,
    tmp_path: Path,
) -> None:
    run = cli
    imported = run("plans", "import", str(plan_file), "--as", "manager")
    assert imported.code == 0, imported.err
    plan_id = imported.out.strip()
    assert f"imported as plan {plan_id}" in imported.err

    assert run("plans", "submit", plan_id, "--as", "manager").code == 0
    r = run("plans", "request-changes", plan_id, "--as", "hr", "--reason", "Week 1 is too full")
    assert r.code == 0 and "changes_requested" in r.err
    r = run("plans", "comment", plan_id, "--as", "hr", "--text", "Move this", "--task", "first-pr")
    assert r.code == 0 and "task first-pr" in r.err

    edited = sample_plan.model_copy(deep=True)
    edited.summary = "Edited from the command line."
    edited_file = tmp_path / "edited.json"
    edited_file.write_text(edited.model_dump_json(by_alias=True), encoding="utf-8")
    r = run(
        "plans",
        "revise",
        plan_id,
        str(edited_file),
        "--expected",
        "1",
        "--as",
        "manager",
        "--note",
        "lighter",
    )
    assert r.code == 0 and "revision 2" in r.err
    assert run("plans", "submit", plan_id, "--as", "manager").code == 0
    r = run("plans", "approve", plan_id, "--as", "hr2", "--reason", "Good now")
    assert r.code != 0 and "open flag" in r.err  # the sample plan has a flagged task: a choice is needed
    r = run("plans", "approve", plan_id, "--as", "hr2", "--reason", "Good now", "--acknowledge-all", "Checked by hand")
    assert r.code == 0 and "approved" in r.err

    listed = run("plans", "list", "--status", "approved", "--json")
    assert [p["id"] for p in json.loads(listed.out)] == [int(plan_id)]

    md = run("plans", "export", plan_id, "--format", "markdown")
    assert md.code == 0 and "Edited from the command line." in md.out and "Approved by Harry HR" in md.out
    csv_out = tmp_path / "tasks.csv"
    r = run("plans", "export", plan_id, "--format", "csv", "--out", str(csv_out))
    assert r.code == 0
    rows = list(csv.DictReader(io.StringIO(csv_out.read_text(encoding="utf-8-sig"))))
    assert len(rows) == len(sample_plan.all_tasks())
    ics_out = tmp_path / "plan.ics"
    assert run("plans", "export", plan_id, "-f", "ics", "-o", str(ics_out)).code == 0
    assert len(list(Calendar.from_ical(ics_out.read_bytes()).walk("VEVENT"))) == 10
    json_out = tmp_path / "export.json"
    assert run("plans", "export", plan_id, "-f", "json", "-o", str(json_out)).code == 0
    assert Plan.model_validate_json(json_out.read_text()).summary == "Edited from the command line."

    history = run("plans", "history", plan_id, "--json")
    actions = [e["action"] for e in json.loads(history.out)["audit"]]
    assert actions[:7] == [
        "plan.create",
        "plan.submit",
        "plan.request_changes",
        "plan.comment",
        "plan.revise",
        "plan.submit",
        "plan.approve",
    ]
    shown = run("plans", "show", plan_id, "--as", "manager")
    assert shown.code == 0 and "Ship a first small pull request" in shown.out and "lighter" in shown.out
    table = run("plans", "history", plan_id)
    assert table.code == 0 and "plan.approve" in table.out


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("plans", "show", "999"), 4, "error: no plan with id 999"),
        (("plans", "approve", "{id}", "--as", "manager", "--reason", "ok"), 5, "only hr users can approve"),
        (("plans", "submit", "{id}", "--as", "manager2"), 5, "belongs to another manager"),
        (("plans", "submit", "{id}", "--as", "manager", "--expected", "7"), 6, "changed since you opened it"),
        (("plans", "approve", "{id}", "--as", "hr", "--reason", "ok"), 7, "is a draft"),
        (("plans", "comment", "{id}", "--as", "hr", "--text", "  "), 2, "the comment is empty"),
        (("plans", "export", "{id}", "--format", "docx"), 2, "unknown export format"),
        (("plans", "list", "--status", "done"), 2, "unknown status"),
        (("plans", "submit", "{id}", "--as", "ghost"), 4, "no user named 'ghost'"),
    ],
)
def test_errors_have_clear_messages_and_exit_codes(
    cli: Runner,
    service: ReviewService,
    users: dict[str, UserOut],
    sample_plan: Plan,
    args: tuple[str, ...],
    code: int,
    message: str,
) -> None:
    plan_id = service.import_plan(users["manager"], sample_plan).id
    result = cli(*(a.format(id=plan_id) for a in args))
    assert result.code == code
    assert message in result.err
    assert "Traceback" not in result.err
    assert service.get_plan(users["hr"], plan_id).status == "draft"


def test_exporting_a_plan_without_tasks_fails(
    cli: Runner, service: ReviewService, users: dict[str, UserOut], sample_plan: Plan, tmp_path: Path
) -> None:
    empty = sample_plan.model_copy(deep=True)
    for phase in empty.phases:
        phase.tasks = []
    plan_id = service.import_plan(users["manager"], empty).id
    out = tmp_path / "x.md"
    result = cli("plans", "export", str(plan_id), "--out", str(out))
    assert (result.code, out.exists()) == (2, False)
    assert f"plan {plan_id} has no tasks" in result.err


def test_import_rejects_invalid_json(
    cli: Runner, service: ReviewService, users: dict[str, UserOut], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"summary": "no phases"}', encoding="utf-8")
    result = cli("plans", "import", str(bad), "--as", "manager")
    assert result.code == 2 and "is not a valid plan" in result.err
    missing = cli("plans", "import", str(tmp_path / "nope.json"), "--as", "manager")
    assert missing.code == 2 and "no such file" in missing.err
    assert service.list_plans(users["hr"]) == []


def test_users_bootstrap_then_admin_only(cli: Runner, service: ReviewService) -> None:
    first = cli("users", "add", "manager1", "--role", "manager", "--password-stdin", stdin=PASSWORD + "\n")
    assert first.code == 2 and "no admin yet" in first.err
    boot = cli("users", "add", "root", "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n")
    assert boot.code == 0 and "created admin 'root'" in boot.err
    added = cli(
        "users",
        "add",
        "hana",
        "--role",
        "hr",
        "--display-name",
        "Hana",
        "--password-stdin",
        "--as",
        "root",
        stdin=PASSWORD + "\n",
    )
    assert added.code == 0
    denied = cli("users", "add", "x1", "--role", "hr", "--password-stdin", "--as", "hana", stdin=PASSWORD + "\n")
    assert denied.code == 5 and "only an admin" in denied.err
    short = cli("users", "add", "x2", "--role", "hr", "--password-stdin", stdin="short\n")
    assert short.code == 2 and "at least 8" in short.err
    listed = json.loads(cli("users", "list", "--json").out)
    assert {u["username"]: u["role"] for u in listed} == {
        "cli-operator": "admin",
        "hana": "hr",
        "root": "admin",
    }
    audit = service.audit_log(service_user(service, "root"))
    assert [(e.actor, e.action) for e in audit if e.action.startswith("user.")] == [
        ("root", "user.bootstrap"),
        ("root", "user.create"),
        ("cli-operator", "user.create"),  # the CLI's own account, made on first use without --as
    ]
    assert cli("users", "deactivate", "hana").code == 0
    gone = cli("plans", "list", "--as", "hana")
    assert gone.code == 5 and "deactivated" in gone.err


def service_user(service: ReviewService, username: str) -> UserOut:
    return AuthService(service.settings, db=service.db).get_user(username)


def test_require_password_mode(
    cli: Runner, service: ReviewService, users: dict[str, UserOut], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TAILOR_CLI_REQUIRE_PASSWORD", "1")
    anonymous = cli("plans", "list")
    assert anonymous.code == 5 and "--as USERNAME" in anonymous.err
    wrong = cli("plans", "list", "--as", "hr", stdin="not the password\n")
    assert wrong.code == 5 and "wrong username or password" in wrong.err
    right = cli("plans", "list", "--as", "hr", "--json", stdin=PASSWORD + "\n")
    assert right.code == 0 and json.loads(right.out) == []


def _tailor(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tailor.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_db_upgrade_from_any_directory_and_exit_codes_in_a_real_process(
    tmp_path: Path, isolated_settings: Path
) -> None:
    env = {**os.environ, "TAILOR_DATA_DIR": str(tmp_path / "data")}
    env.pop("TAILOR_DATABASE_URL", None)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    upgraded = _tailor("db", "upgrade", cwd=elsewhere, env=env)
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"empty -> {head_revision()}" in upgraded.stderr
    assert (tmp_path / "data" / "tailor.sqlite3").exists()
    missing = _tailor("plans", "show", "5", cwd=elsewhere, env=env)
    assert missing.returncode == 4 and missing.stderr.strip() == "error: no plan with id 5"


def test_db_upgrade_is_idempotent_and_a_down_server_exits_8(
    cli: Runner, isolated_settings: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = cli("db", "upgrade")
    again = cli("db", "upgrade")
    assert (first.code, again.code) == (0, 0) and f"up to date ({head_revision()})" in again.err
    assert f"{head_revision()} (latest {head_revision()})" in cli("db", "current").out
    monkeypatch.setenv("TAILOR_DATABASE_URL", "postgresql+psycopg://u:pw@127.0.0.1:1/x")
    reset_settings()
    down = cli("plans", "list")
    assert down.code == 8 and "cannot reach the database" in down.err and ":pw@" not in down.err
