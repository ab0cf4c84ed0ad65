"""`tailor draft` and `tailor schema`: the plan engine from the command line.

With ``--format json`` stdout carries exactly the plan JSON; progress goes to
stderr. Exit codes: 0 ok, 2 bad input, 3 model unavailable (the grounded plan
is still printed, its untailored parts flagged ``needs_review``). ``--team ID``
drafts for a hire joining that team profile; ``--list-teams`` prints the ids.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console

from tailor.config import get_settings
from tailor.corpus.documents import RoleFamily, Seniority
from tailor.errors import BadInput, ModelUnavailable
from tailor.pipeline.uploads import read_background_file
from tailor.schema import DraftRequest, Plan, plan_json_schema

err = Console(stderr=True)


def _read_background(source: str, max_bytes: int) -> str:
    if source == "-":
        data = sys.stdin.buffer.read()
        if len(data) > max_bytes:
            raise BadInput(f"standard input is {len(data):,} bytes; the limit is {max_bytes:,}")
        if b"\x00" in data:
            raise BadInput("standard input contains NUL bytes: it is binary, not text")
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise BadInput(f"standard input is not valid UTF-8 (byte {exc.start})") from None
    return read_background_file(Path(source), max_bytes)


def render_plan(plan: Plan, fmt: str) -> str:
    if fmt == "json":
        return plan.model_dump_json(by_alias=True, indent=2)
    from datetime import UTC, datetime

    from tailor.exports import ExportContext
    from tailor.exports.markdown import to_markdown

    # A draft from the command line is not stored yet: no plan id, revision or reviewer.
    unsaved = ExportContext(
        plan_id=0,
        status=plan.status,
        revision=0,
        current_revision=0,
        manager="(not saved)",
        generated_at=datetime.now(UTC),
    )
    return to_markdown(plan, unsaved)


def _list_teams(value: bool) -> None:
    """``--list-teams``: print each team profile (id, name, families hired, manager) and stop."""
    if not value:
        return
    from tailor.corpus.documents import load_corpus

    for team in sorted(load_corpus(get_settings().corpus_dir).teams(), key=lambda t: t.id):
        sys.stdout.write(f"{team.id}\t{team.team}\t{','.join(team.roles)}\t{team.manager.name}\n")
    raise typer.Exit()


def draft(
    background: Annotated[str, typer.Option("--background", "-b", help="A file (.txt .md .pdf .docx) or - for stdin.")],
    name: Annotated[str | None, typer.Option(help="The hire's name (kept out of every prompt).")] = None,
    role: Annotated[str | None, typer.Option(help="Override the job title.")] = None,
    role_family: Annotated[RoleFamily | None, typer.Option("--role-family", help="Override the role family.")] = None,
    seniority: Annotated[Seniority | None, typer.Option(help="Override the seniority.")] = None,
    start_date: Annotated[str | None, typer.Option("--start-date", help="YYYY-MM-DD")] = None,
    team: Annotated[
        str | None,
        typer.Option(help="The id of the team profile the hire joins (corpus/teams/); see --list-teams."),
    ] = None,
    list_teams: Annotated[
        bool,
        typer.Option(
            "--list-teams",
            help="Print the team profiles, one a line (id, name, role families, manager; tab-separated), and exit.",
            callback=_list_teams,
            is_eager=True,  # runs before --background is required
            expose_value=False,
        ),
    ] = False,
    model: Annotated[str | None, typer.Option(help="Any litellm model string; default TAILOR_MODEL.")] = None,
    fmt: Annotated[Literal["json", "markdown"], typer.Option("--format")] = "json",
    out: Annotated[Path | None, typer.Option(help="Write the plan here instead of stdout.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress on stderr.")] = False,
) -> None:
    """Draft a grounded, tailored 30/60/90-day plan from a hire's background."""
    from tailor.pipeline.engine import Engine
    from tailor.pipeline.result import DraftDone, DraftResult

    settings = get_settings()
    try:
        start = date.fromisoformat(start_date) if start_date else None
    except ValueError:
        raise BadInput(f"--start-date {start_date!r} is not a date; use YYYY-MM-DD") from None
    text = _read_background(background, settings.max_upload_bytes)
    request = DraftRequest(
        background=text,
        name=name,
        role=role,
        role_family=role_family,
        seniority=seniority,
        start_date=start,
        team=team,
        model=model,
    )
    result: DraftResult | None = None
    # An unknown --team is refused by the engine before any work, naming the teams there are (exit 2).
    for event in Engine(settings).draft_events(request):
        if not quiet:
            style = "yellow" if event.kind == "warning" else "dim"
            err.print(f"[{style}][{event.elapsed_s:6.1f}s] {event.kind}: {event.message}[/{style}]")
        if isinstance(event, DraftDone):
            result = event.result
    assert result is not None  # draft_events ends with DraftDone or raises
    rendered = render_plan(result.plan, fmt)
    if out:
        out.write_text(rendered + "\n", encoding="utf-8")
        if not quiet:
            err.print(f"wrote {out}")
    else:
        sys.stdout.write(rendered + "\n")
        sys.stdout.flush()
    if not result.model_available:
        raise ModelUnavailable(
            f"model unavailable: {result.unavailable_reason}; "
            "the grounded plan was written with its untailored parts flagged needs_review"
        )


def schema() -> None:
    """Print the plan's JSON schema."""
    sys.stdout.write(json.dumps(plan_json_schema(), indent=2) + "\n")


def register(app: typer.Typer) -> None:
    app.command("draft")(draft)
    app.command("schema")(schema)
