"""The ``tailor`` command. Each concern registers its own commands from its own module."""

from __future__ import annotations

import logging
import sys
from importlib import import_module
from pathlib import Path

import typer

from tailor.errors import BadInput, TailorError

# typer 0.29 vendors its own click; accept both so usage errors never look like bugs.
try:
    from typer._click import exceptions as _typer_click
except ImportError:  # pragma: no cover - older typer uses click itself
    _typer_click = None  # type: ignore[assignment]
import click

_CLICK_ERRORS: tuple[type[Exception], ...] = (click.exceptions.ClickException,) + (
    (_typer_click.ClickException,) if _typer_click else ()
)
_ABORTS: tuple[type[BaseException], ...] = (
    click.exceptions.Abort,
    getattr(_typer_click, "Abort", click.exceptions.Abort),
)

app = typer.Typer(
    name="tailor",
    help="Draft grounded, tailored 30/60/90-day onboarding plans.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

# Each module exposes ``register(app)``; keeping them apart lets one concern change without the others.
_COMMAND_MODULES = (
    "tailor.cli.corpus",
    "tailor.cli.draft",
    "tailor.cli.plans",
    "tailor.cli.evals",
    "tailor.cli.model",
    "tailor.cli.api",  # after plans: it adds `token` to the `users` group
)
for _name in _COMMAND_MODULES:
    import_module(_name).register(app)


def read_text_file(path: Path, encoding: str = "utf-8") -> str:
    """A file a command was given, or ``BadInput`` that says why it cannot be read (never a traceback)."""
    try:
        return path.read_text(encoding=encoding)
    except FileNotFoundError:
        raise BadInput(f"no such file: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"cannot read {path}: {exc}") from None


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        app(standalone_mode=False)
    except TailorError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        raise SystemExit(exc.exit_code) from None
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        raise SystemExit(130) from None
    except SystemExit:
        raise
    except Exception as exc:
        if isinstance(exc, _CLICK_ERRORS):  # usage errors: click's message and exit code 2
            exc.show()  # type: ignore[attr-defined]
            raise SystemExit(getattr(exc, "exit_code", 2)) from None
        if isinstance(exc, _ABORTS):
            raise SystemExit(1) from None
        # A bug: say so briefly; the traceback goes to the log, not at the user.
        logging.getLogger("tailor").debug("unexpected error", exc_info=True)
        print(f"error: unexpected {type(exc).__name__}: {exc}", file=sys.stderr)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
