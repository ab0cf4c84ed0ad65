"""`tailor api` (serve the HTTP API) and `tailor users token` (personal API tokens).

``tailor api`` serves ``tailor.api`` with uvicorn on ``settings.api_host:api_port``
(127.0.0.1:8000 by default); docs at ``/docs``. ``tailor users token create USER`` makes a
token for a user (as the CLI operator) and prints it once; ``--as USER`` acts as that user,
who can only make their own (see ``tailor.review.tokens``).
"""

from __future__ import annotations

import json
import socket
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from tailor.config import get_settings
from tailor.errors import BadInput

if TYPE_CHECKING:
    from tailor.review.tokens import TokenService
    from tailor.review.users import UserOut

err = Console(stderr=True, highlight=False, markup=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True, markup=False)
AsUser = Annotated[str | None, typer.Option("--as", help="Act as this user (default: the cli-operator admin).")]


def api(
    host: Annotated[str | None, typer.Option(help="Default: TAILOR_API_HOST (127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Default: TAILOR_API_PORT (8000).")] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn's log level.")] = "info",
) -> None:
    """Serve the HTTP API (OpenAPI at /openapi.json, docs at /docs)."""
    import uvicorn

    from tailor.api.app import create_app

    settings = get_settings()
    host = host or settings.api_host
    port = settings.api_port if port is None else port
    _check_free(host, port)
    app = create_app(settings)
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level=log_level,
        proxy_headers=False,
        server_header=False,
        timeout_graceful_shutdown=10,
    )


def _check_free(host: str, port: int) -> None:
    """Refuse a busy port before anything starts: uvicorn binds only after the app's startup,
    which already resumes draft jobs, and a second API on one database must not run them twice."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise BadInput(
                f"cannot serve on {host}:{port}: {exc.strerror} (is `tailor api` already running?)"
            ) from None


# --------------------------------------------------------------------------- tokens
token_app = typer.Typer(help="Personal API tokens: shown once, stored hashed.", no_args_is_help=True)


def _services() -> tuple[TokenService, Callable[[str | None], UserOut]]:
    """The token service and who a command acts as, exactly as for `tailor users` (see tailor.cli.plans)."""
    from tailor.cli.plans import _acting
    from tailor.cli.plans import _services as review_services
    from tailor.review.tokens import TokenService

    review, auth = review_services()
    return TokenService(review.settings, db=review.db), lambda as_user: _acting(auth, as_user)


@token_app.command("create")
def token_create(
    username: Annotated[str | None, typer.Argument(help="Whose token (default: the --as user).")] = None,
    name: Annotated[str, typer.Option(help="What it is for, e.g. 'greenhouse'.")] = "api",
    expires_days: Annotated[
        int | None, typer.Option("--expires-days", help="Default: TAILOR_API_TOKEN_TTL_DAYS (90).")
    ] = None,
    as_user: AsUser = None,
) -> None:
    """Make a token and print it (stdout, once); its details go to stderr."""
    tokens, acting = _services()
    made = tokens.create_token(acting(as_user), name, username=username, expires_days=expires_days)
    info = made.info
    err.print(f"token {info.id} for {info.username} ({info.role}), expires {info.expires_at:%Y-%m-%d}; shown only now")
    sys.stdout.write(made.token + "\n")


@token_app.command("list")
def token_list(
    username: Annotated[str | None, typer.Argument(help="Whose tokens (admins; '*' for everyone's).")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Include revoked and expired tokens.")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    as_user: AsUser = None,
) -> None:
    """List tokens (never the tokens themselves)."""
    tokens, acting = _services()
    rows = tokens.list_tokens(acting(as_user), username=username, include_inactive=all_)
    if as_json:
        sys.stdout.write(json.dumps([r.model_dump(mode="json") for r in rows], indent=2) + "\n")
        return
    table = Table()
    for col in ("Id", "User", "Name", "Starts", "Role", "Expires", "Last used", "Revoked"):
        table.add_column(col)
    for t in rows:
        used = f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never"
        revoked = f"{t.revoked_at:%Y-%m-%d}" if t.revoked_at else ""
        table.add_row(str(t.id), t.username, t.name, t.prefix + "…", t.role, f"{t.expires_at:%Y-%m-%d}", used, revoked)
    out.print(table)


@token_app.command("revoke")
def token_revoke(token_id: Annotated[int, typer.Argument()], as_user: AsUser = None) -> None:
    """Revoke a token now (its user, or an admin)."""
    tokens, acting = _services()
    revoked = tokens.revoke_token(acting(as_user), token_id)
    err.print(f"revoked token {revoked.id} ({revoked.name}) of {revoked.username}")


def register(app: typer.Typer) -> None:
    from tailor.cli.plans import users_app

    app.command("api")(api)
    # `tailor users token ...`: registered on the users group from here, so tailor/cli/plans.py is unchanged.
    users_app.add_typer(token_app, name="token")
