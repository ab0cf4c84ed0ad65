"""The ``tailor`` command. Each concern registers its own commands from its own module."""

from __future__ import annotations

import logging
import sys
from importlib import import_module

import typer

from tailor.errors import TailorError

app = typer.Typer(
    name="tailor",
    help="Draft grounded, tailored 30/60/90-day onboarding plans.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

# Each module exposes ``register(app)``; keeping them apart lets one concern change without the others.
_COMMAND_MODULES = (
    "tailor.cli_corpus",
    "tailor.cli_draft",
    "tailor.cli_plans",
    "tailor.cli_eval",
    "tailor.cli_model",
)
for _name in _COMMAND_MODULES:
    import_module(_name).register(app)


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
    except Exception as exc:  # a bug: say so briefly, keep the traceback for the log
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            raise SystemExit(exc.exit_code) from None
        if isinstance(exc, click.exceptions.Abort):
            raise SystemExit(1) from None
        logging.getLogger("tailor").debug("unexpected error", exc_info=True)
        print(f"error: unexpected {type(exc).__name__}: {exc}", file=sys.stderr)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
