"""What a person sees when an action fails: the error's own message and what to do next.

A ``TailorError`` is something a person can act on, so its message is shown with a next
step by kind. Anything else is a bug: the person gets a short generic line and the
traceback goes to the log, never to the page.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import streamlit as st

from tailor.errors import (
    BadInput,
    Conflict,
    IllegalTransition,
    IndexUnavailable,
    ModelUnavailable,
    NotFound,
    PermissionDenied,
    StorageUnavailable,
    TailorError,
)
from tailor.web.text import safe

if TYPE_CHECKING:
    from pydantic import ValidationError

log = logging.getLogger("tailor.web")

# What a person can do next, by error kind; the error's own message says what went wrong.
NEXT_STEP: dict[type[TailorError], str] = {
    BadInput: "Correct the input and try again.",
    Conflict: "Reload to see the latest revision, then reapply your change.",
    PermissionDenied: "If you think you should be allowed, ask an admin.",
    NotFound: "It may have been removed; go back to the list and pick another.",
    IllegalTransition: "Reload to see the plan's current status.",
    ModelUnavailable: "The grounded plan still stands; try again later or choose another model.",
    IndexUnavailable: "Ask an admin to re-ingest the corpus (Corpus page, or `tailor ingest`).",
    StorageUnavailable: "The database is unreachable; try again in a minute or tell an admin.",
}
GENERIC_ERROR = (
    "Something went wrong while {action}. Nothing was lost; try again, and tell an admin if it keeps happening."
)


def error_text(exc: BaseException, action: str) -> str:
    """The one-line message a person sees: the error's own message and what to do next."""
    if isinstance(exc, TailorError):
        hint = next((text for kind, text in NEXT_STEP.items() if isinstance(exc, kind)), "")
        return f"{exc.message} — {hint}" if hint else exc.message
    return GENERIC_ERROR.format(action=action)


def reported(exc: BaseException, action: str) -> str:
    """:func:`error_text`, after logging the traceback of anything that is not a ``TailorError`` (a bug)."""
    if not isinstance(exc, TailorError):
        log.error("unexpected error while %s", action, exc_info=exc)
    return error_text(exc, action)


def first_problem(exc: ValidationError) -> str:
    """The first thing pydantic refused, as ``field: why``: one fix at a time is easier to follow."""
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err.get("loc", ())) or "value"
    return f"{where}: {err.get('msg', 'invalid')}"


def show_error(exc: BaseException, action: str) -> None:
    """The error on the page, as :func:`reported` words it."""
    st.error(safe(reported(exc, action)), icon=":material/error:")


@dataclass
class Outcome:
    """Whether the guarded action went through, and what stopped it (a page may offer a way out)."""

    ok: bool = True
    error: BaseException | None = None


@contextmanager
def guard(action: str) -> Iterator[Outcome]:
    """Run a user action: a ``TailorError`` shows its message, anything else a short generic one.

    Streamlit's own control flow (``st.rerun``, ``st.stop``) derives from ``BaseException``
    and passes through untouched.
    """
    outcome = Outcome()
    try:
        yield outcome
    except Exception as exc:
        outcome.ok = False
        outcome.error = exc
        show_error(exc, action)
