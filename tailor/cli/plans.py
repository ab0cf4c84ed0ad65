"""`tailor plans`, `tailor users` and `tailor db`: the review workflow from the command line.

The CLI is an operator tool run on the server, next to the database. It has no
sign-in of its own:

* ``--as USERNAME`` names the acting user; every role and four-eyes rule of
  :mod:`tailor.review.service` applies to them exactly as in the UI.
* Without ``--as`` it acts as ``cli-operator``, a built-in admin account that cannot
  sign in to the UI: it can list, show, export and read history (never a hire's
  background text), and manage users. Its writes are audited under that name.
* ``TAILOR_CLI_REQUIRE_PASSWORD=1`` makes ``--as`` mandatory and asks for that user's
  password (the first line of standard input when it is not a terminal).

Someone who can run this command can usually read the database directly, so these
rules keep honest people honest and leave an audit trail; they are not a security
boundary against the server's own operators.

Exit codes follow :mod:`tailor.errors`: 2 bad input, 4 not found, 5 permission denied,
6 conflict, 7 illegal transition, 8 storage unavailable.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table
from rich.text import Text

from tailor.config import get_settings
from tailor.errors import BadInput, PermissionDenied

# markup=False: plan text is user and model text, and "[...]" in it must print as typed.
out = Console(highlight=False, soft_wrap=True, markup=False)
err = Console(stderr=True, highlight=False, markup=False, soft_wrap=True)

AsUser = Annotated[str | None, typer.Option("--as", help="Act as this user (default: the cli-operator admin).")]
Expected = Annotated[
    int | None,
    typer.Option("--expected", help="The revision you reviewed; refused if the plan changed since (default: current)."),
]
PASSWORD_ENV = "TAILOR_CLI_REQUIRE_PASSWORD"


# --------------------------------------------------------------------------- plumbing
def _services() -> tuple[Any, Any]:
    # Imported here so `tailor --help` does not open a database or import SQLAlchemy.
    from tailor.review.auth import AuthService
    from tailor.review.service import ReviewService

    review = ReviewService(get_settings())
    return review, AuthService(review.settings, db=review.db)


def _read_secret(prompt: str, *, from_stdin: bool, confirm: bool = False) -> str:
    if from_stdin or not sys.stdin.isatty():
        line = sys.stdin.readline()
        if not line:
            raise BadInput(f"expected the {prompt.lower()} on standard input")
        return line.rstrip("\r\n")
    value: str = typer.prompt(prompt, hide_input=True, confirmation_prompt=confirm)
    return value


def _acting(auth: Any, as_user: str | None) -> Any:
    """The user a command acts as (see the module docstring)."""
    if os.environ.get(PASSWORD_ENV) == "1":
        if not as_user:
            raise PermissionDenied(f"{PASSWORD_ENV}=1: name the acting user with --as USERNAME")
        password = _read_secret(f"Password for {as_user}", from_stdin=False)
        return auth.authenticate(as_user, password).user
    if as_user:
        user = auth.get_user(as_user)
        if not user.active:
            raise PermissionDenied(f"user {user.username!r} is deactivated")
        return user
    return auth.operator_user()


def _dump(data: Any) -> None:
    out.print_json(json.dumps(data, default=str))


def _load_plan_file(path: Path) -> Any:
    from tailor.cli.app import read_text_file
    from tailor.schema import Plan

    text = read_text_file(path, encoding="utf-8-sig")
    try:
        return Plan.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "plan"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise BadInput(f"{path} is not a valid plan: {where}: {first.get('msg')}{more}") from None


def _expected(review: Any, user: Any, plan_id: int, expected: int | None) -> int:
    if expected is not None:
        return expected
    current: int = review.get_plan(user, plan_id).revision
    return current


def _summary_table(rows: list[Any]) -> Table:
    table = Table(show_lines=False)
    for col in ("ID", "Hire", "Role", "Status", "Rev", "Manager", "Reviewer", "Review flags", "Updated"):
        table.add_column(col)
    for p in rows:
        table.add_row(
            str(p.id),
            p.hire_name or "-",
            f"{p.role} ({p.seniority})",
            p.status,
            str(p.revision),
            p.manager,
            p.reviewer or "-",
            str(p.needs_review),
            f"{p.updated_at:%Y-%m-%d %H:%M}",
        )
    return table


# --------------------------------------------------------------------------- plans
plans_app = typer.Typer(help="Review, approve and export onboarding plans.", no_args_is_help=True)


@plans_app.command("list")
def plans_list(
    status: Annotated[str | None, typer.Option(help="draft, in_review, changes_requested or approved.")] = None,
    manager: Annotated[str | None, typer.Option(help="Only this manager's plans (username).")] = None,
    role: Annotated[str | None, typer.Option(help="Role family or part of the job title.")] = None,
    search: Annotated[str | None, typer.Option(help="Part of the hire's name or job title, or a plan id.")] = None,
    as_user: AsUser = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List plans you may see, most recently changed first."""
    statuses = ("draft", "in_review", "changes_requested", "approved")
    if status is not None and status not in statuses:
        raise BadInput(f"unknown status {status!r}: use one of {', '.join(statuses)}")
    review, auth = _services()
    user = _acting(auth, as_user)
    rows = review.list_plans(user, status=status, manager=manager, role=role, search=search)
    if as_json:
        _dump([r.model_dump(mode="json") for r in rows])
    elif not rows:
        err.print("no plans")
    else:
        out.print(_summary_table(rows))


@plans_app.command("show")
def plans_show(
    plan_id: Annotated[int, typer.Argument(help="The plan id.")],
    revision: Annotated[int | None, typer.Option(help="Show this revision instead of the current one.")] = None,
    as_user: AsUser = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan JSON.")] = False,
) -> None:
    """Show a plan: summary, tasks, revisions."""
    review, auth = _services()
    user = _acting(auth, as_user)
    detail = review.get_plan(user, plan_id)
    plan = review.get_revision(user, plan_id, revision).plan if revision else detail.plan
    if as_json:
        out.print(plan.model_dump_json(by_alias=True, indent=2))
        return
    s = detail.summary
    out.print(Text(f"Plan {s.id}: {s.hire_name or '(no name)'} - {s.role} ({s.seniority})", style="bold"))
    out.print(
        f"status {s.status} · revision {revision or s.revision} of {s.revision} · manager {s.manager} · "
        f"reviewer {s.reviewer or '-'} · start {s.start_date or 'not set'}"
    )
    out.print(plan.summary)
    for phase in plan.phases:
        out.print()
        out.print(Text(f"{phase.name} (weeks {phase.start_week}-{phase.end_week})", style="bold"))
        for t in sorted(phase.tasks, key=lambda t: t.due_week):
            week = "before day 1" if t.due_week == 0 else f"week {t.due_week}"
            out.print(f"  [ ] {t.title}  ({week}, {t.owner}; id {t.id}; sources: {', '.join(t.sources)})")
            if t.needs_review:
                out.print(f"      needs review: {t.review_reason}")
    out.print()
    revs = Table(title="Revisions", title_justify="left")
    for col in ("#", "Author", "Reason", "When", "Note"):
        revs.add_column(col)
    for r in detail.revisions:
        revs.add_row(str(r.number), r.author, r.reason, f"{r.created_at:%Y-%m-%d %H:%M}", r.note or "")
    out.print(revs)


@plans_app.command("import")
def plans_import(
    file: Annotated[Path, typer.Argument(help="A plan JSON file (the schema `tailor schema` prints).")],
    as_user: AsUser = None,
    note: Annotated[str | None, typer.Option(help="A note for the first revision.")] = None,
    background_file: Annotated[
        Path | None,
        typer.Option(help="The hire's background text, kept with the plan (manager and HR only)."),
    ] = None,
) -> None:
    """Store a plan JSON file as a new draft of the acting manager."""
    plan = _load_plan_file(file)
    background = None
    if background_file is not None:
        try:
            background = background_file.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise BadInput(f"cannot read {background_file}: {exc}") from None
    review, auth = _services()
    user = _acting(auth, as_user)
    detail = review.import_plan(user, plan, background_text=background, note=note or f"imported from {file.name}")
    err.print(f"imported as plan {detail.id} (draft, revision 1)")
    out.print(str(detail.id))


@plans_app.command("revise")
def plans_revise(
    plan_id: Annotated[int, typer.Argument()],
    file: Annotated[Path, typer.Argument(help="The edited plan JSON.")],
    expected: Annotated[int, typer.Option("--expected", help="The revision your edit is based on.")],
    as_user: AsUser = None,
    note: Annotated[str | None, typer.Option(help="What changed and why.")] = None,
    reason: Annotated[str, typer.Option(help="edited or regenerated.")] = "edited",
) -> None:
    """Save an edited plan JSON as the next revision (refused if someone saved since --expected)."""
    if reason not in ("edited", "regenerated"):
        raise BadInput("--reason must be edited or regenerated")
    plan = _load_plan_file(file)
    review, auth = _services()
    user = _acting(auth, as_user)
    detail = review.save_revision(user, plan_id, plan, expected, reason, note)
    err.print(f"plan {plan_id} is now at revision {detail.revision} ({detail.status})")


@plans_app.command("restore")
def plans_restore(
    plan_id: Annotated[int, typer.Argument()],
    number: Annotated[int, typer.Argument(help="The revision to bring back.")],
    as_user: AsUser = None,
    expected: Expected = None,
    note: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Make an old revision current again (as a new revision)."""
    review, auth = _services()
    user = _acting(auth, as_user)
    detail = review.restore_revision(user, plan_id, number, _expected(review, user, plan_id, expected), note)
    err.print(f"plan {plan_id} is now at revision {detail.revision} (a copy of revision {number})")


@plans_app.command("submit")
def plans_submit(plan_id: Annotated[int, typer.Argument()], as_user: AsUser = None, expected: Expected = None) -> None:
    """Hand a draft (or a plan with requested changes) to HR for review."""
    review, auth = _services()
    user = _acting(auth, as_user)
    s = review.submit(user, plan_id, _expected(review, user, plan_id, expected))
    err.print(f"plan {plan_id} revision {s.revision} is {s.status}")


@plans_app.command("approve")
def plans_approve(
    plan_id: Annotated[int, typer.Argument()],
    reason: Annotated[str, typer.Option(help="Why it is ready.")],
    as_user: AsUser = None,
    expected: Expected = None,
    resolve: Annotated[
        list[str] | None, typer.Option("--resolve", help="An open flag's key you checked (repeatable).")
    ] = None,
    acknowledge: Annotated[
        list[str] | None,
        typer.Option("--acknowledge", help="KEY=REASON: an open flag that goes out as it is (repeatable)."),
    ] = None,
    acknowledge_all: Annotated[
        str | None, typer.Option("--acknowledge-all", help="Acknowledge every open flag with this reason.")
    ] = None,
) -> None:
    """Approve a plan in review (HR; not a revision you wrote). Each open flag needs a choice:
    `tailor plans show ID` lists them with their keys."""
    from tailor.review.flags import FlagDecision, open_flags
    from tailor.review.flags import acknowledge_all as all_acknowledged

    review, auth = _services()
    user = _acting(auth, as_user)
    decisions = [FlagDecision(key=k, choice="resolved") for k in resolve or []]
    for item in acknowledge or []:
        key, _, why = item.partition("=")
        decisions.append(FlagDecision(key=key.strip(), choice="acknowledged", reason=why.strip() or None))
    if acknowledge_all:
        plan = review.get_plan(user, plan_id).plan
        decided = {d.key for d in decisions}
        items = [i for i in open_flags(plan) if i.key not in decided]
        decisions += all_acknowledged(items, acknowledge_all)
    s = review.approve(user, plan_id, _expected(review, user, plan_id, expected), reason, flags=decisions)
    err.print(f"plan {plan_id} revision {s.revision} is {s.status}")


@plans_app.command("request-changes")
def plans_request_changes(
    plan_id: Annotated[int, typer.Argument()],
    reason: Annotated[str, typer.Option(help="What must change.")],
    as_user: AsUser = None,
    expected: Expected = None,
) -> None:
    """Send a plan in review back to its manager (HR)."""
    review, auth = _services()
    user = _acting(auth, as_user)
    s = review.request_changes(user, plan_id, _expected(review, user, plan_id, expected), reason)
    err.print(f"plan {plan_id} revision {s.revision} is {s.status}")


@plans_app.command("comment")
def plans_comment(
    plan_id: Annotated[int, typer.Argument()],
    text: Annotated[str, typer.Option(help="The comment.")],
    task: Annotated[str | None, typer.Option(help="Comment on this task id.")] = None,
    as_user: AsUser = None,
) -> None:
    """Comment on a plan or on one of its tasks."""
    review, auth = _services()
    user = _acting(auth, as_user)
    c = review.comment(user, plan_id, text, task_id=task)
    err.print(f"comment {c.id} added to plan {plan_id}" + (f" task {c.task_id}" if c.task_id else ""))


@plans_app.command("assign")
def plans_assign(
    plan_id: Annotated[int, typer.Argument()],
    reviewer: Annotated[str | None, typer.Option(help="HR username; omit to clear.")] = None,
    as_user: AsUser = None,
) -> None:
    """Assign the HR reviewer of a plan (HR or admin)."""
    review, auth = _services()
    user = _acting(auth, as_user)
    s = review.assign_reviewer(user, plan_id, reviewer)
    err.print(f"plan {plan_id} reviewer: {s.reviewer or 'none'}")


@plans_app.command("diff")
def plans_diff(
    plan_id: Annotated[int, typer.Argument()],
    a: Annotated[int, typer.Argument(help="From revision.")],
    b: Annotated[int, typer.Argument(help="To revision.")],
    as_user: AsUser = None,
) -> None:
    """What changed between two revisions, as JSON."""
    review, auth = _services()
    user = _acting(auth, as_user)
    _dump(review.diff_revisions(user, plan_id, a, b).model_dump(mode="json"))


@plans_app.command("export")
def plans_export(
    plan_id: Annotated[int, typer.Argument()],
    fmt: Annotated[
        str,
        typer.Option("--format", "-f", help="markdown, json, csv, ics or pdf."),
    ] = "markdown",
    out_file: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write here ('-' for stdout). Default: stdout, or a file for pdf."),
    ] = None,
    revision: Annotated[int | None, typer.Option(help="Export this revision instead of the current one.")] = None,
    as_user: AsUser = None,
) -> None:
    """Export a plan for HR to send, import into Jira/Linear or add to a calendar."""
    review, auth = _services()
    user = _acting(auth, as_user)
    result = review.export(user, plan_id, fmt, revision=revision)
    if out_file is None and fmt == "pdf":
        out_file = Path(result.filename)
    if out_file is None or str(out_file) == "-":
        sys.stdout.buffer.write(result.content)
        sys.stdout.flush()
        return
    try:
        out_file.write_bytes(result.content)
    except OSError as exc:
        raise BadInput(f"cannot write {out_file}: {exc.strerror or exc}") from None
    err.print(f"wrote {out_file} ({len(result.content):,} bytes, {result.mime})")


@plans_app.command("history")
def plans_history(
    plan_id: Annotated[int, typer.Argument()],
    as_user: AsUser = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Revisions, decisions, comments and the audit trail of a plan."""
    review, auth = _services()
    user = _acting(auth, as_user)
    h = review.history(user, plan_id)
    if as_json:
        _dump(h.model_dump(mode="json"))
        return
    revs = Table(title=f"Plan {plan_id}: revisions", title_justify="left")
    for col in ("#", "Author", "Reason", "When", "Note", "SHA-256"):
        revs.add_column(col)
    for r in h.revisions:
        revs.add_row(
            str(r.number),
            r.author,
            r.reason,
            f"{r.created_at:%Y-%m-%d %H:%M:%S}",
            r.note or "",
            r.sha256[:12],
        )
    out.print(revs)
    if h.comments:
        comments = Table(title="Comments", title_justify="left")
        for col in ("When", "Author", "Rev", "Task", "Text"):
            comments.add_column(col)
        for c in h.comments:
            comments.add_row(f"{c.created_at:%Y-%m-%d %H:%M}", c.author, str(c.revision), c.task_id or "-", c.text)
        out.print(comments)
    # One line per event (not a table): the log stays readable in a narrow terminal and greppable.
    out.print(Text("Audit log", style="bold"))
    for a in h.audit:
        detail = ", ".join(f"{k}={v}" for k, v in sorted(a.detail.items()) if "sha256" not in k)
        hashes = f"{(a.before_sha256 or '-')[:12]} -> {(a.after_sha256 or '-')[:12]}"
        out.print(f"{a.at:%Y-%m-%d %H:%M:%S}  {a.actor}  {a.action}  {detail}  [{hashes}]")


# --------------------------------------------------------------------------- users
users_app = typer.Typer(help="Create and manage users (admins).", no_args_is_help=True)


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument()],
    role: Annotated[str, typer.Option(help="manager, hr or admin.")],
    display_name: Annotated[str | None, typer.Option(help="The name shown in the app.")] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")] = False,
    as_user: AsUser = None,
) -> None:
    """Create a user. On an empty database the first admin needs no acting user."""
    _review, auth = _services()
    if auth.bootstrap_needed():
        if role != "admin":
            raise BadInput("the database has no admin yet: create one first with --role admin")
        if as_user:
            raise BadInput("the database has no users to act as yet; drop --as to create the first admin")
        password = _read_secret("Password", from_stdin=password_stdin, confirm=True)
        user = auth.bootstrap_admin(username, password, display_name)
    else:
        actor = _acting(auth, as_user)
        password = _read_secret("Password", from_stdin=password_stdin, confirm=True)
        user = auth.add_user(actor, username, role, password, display_name)
    err.print(f"created {user.role} {user.username!r}")


@users_app.command("list")
def users_list(as_user: AsUser = None, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List users (admins)."""
    _review, auth = _services()
    rows = auth.list_users(_acting(auth, as_user))
    if as_json:
        _dump([r.model_dump(mode="json") for r in rows])
        return
    table = Table()
    for col in ("Username", "Name", "Role", "Active", "Can sign in", "Created"):
        table.add_column(col)
    for u in rows:
        table.add_row(
            u.username,
            u.display_name,
            u.role,
            "yes" if u.active else "no",
            "yes" if u.can_sign_in else "no",
            f"{u.created_at:%Y-%m-%d}",
        )
    out.print(table)


@users_app.command("deactivate")
def users_deactivate(username: Annotated[str, typer.Argument()], as_user: AsUser = None) -> None:
    """Deactivate a user and end their sessions (admins)."""
    _review, auth = _services()
    auth.set_active(_acting(auth, as_user), username, False)
    err.print(f"deactivated {username}")


@users_app.command("activate")
def users_activate(username: Annotated[str, typer.Argument()], as_user: AsUser = None) -> None:
    """Reactivate a user (admins)."""
    _review, auth = _services()
    auth.set_active(_acting(auth, as_user), username, True)
    err.print(f"activated {username}")


@users_app.command("passwd")
def users_passwd(
    username: Annotated[str, typer.Argument()],
    password_stdin: Annotated[bool, typer.Option("--password-stdin")] = False,
    as_user: AsUser = None,
) -> None:
    """Set a user's password (admins; signs them out everywhere)."""
    _review, auth = _services()
    actor = _acting(auth, as_user)
    auth.set_password(actor, username, _read_secret("New password", from_stdin=password_stdin, confirm=True))
    err.print(f"password changed for {username}")


# --------------------------------------------------------------------------- db
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the latest schema (the app also does this on start)."""
    from tailor.store.db import current_revision, database_for, head_revision, redact_url, run_migrations

    url = get_settings().resolved_database_url
    db = database_for(url)
    before = current_revision(db)
    if before == head_revision():
        err.print(f"{redact_url(url)} is up to date ({before})")
        return
    run_migrations(db)
    err.print(f"{redact_url(url)}: {before or 'empty'} -> {current_revision(db)}")


@db_app.command("current")
def db_current() -> None:
    """Print the schema revision of the database and the latest one."""
    from tailor.store.db import current_revision, database_for, head_revision, redact_url

    url = get_settings().resolved_database_url
    out.print(f"{redact_url(url)}: {current_revision(database_for(url)) or 'empty'} (latest {head_revision()})")


def register(app: typer.Typer) -> None:
    app.add_typer(plans_app, name="plans")
    app.add_typer(users_app, name="users")
    app.add_typer(db_app, name="db")
