"""Errors a person can act on. Each carries the CLI exit code and a one-line message.

Anything that is not a ``TailorError`` is a bug: the CLI and the UI show a short
message and log the traceback, never print it at the user.
"""

from __future__ import annotations


class TailorError(Exception):
    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class BadInput(TailorError):
    exit_code = 2


class ModelUnavailable(TailorError):
    exit_code = 3


class NotFound(TailorError):
    exit_code = 4


class PermissionDenied(TailorError):
    exit_code = 5


class Conflict(TailorError):
    """Someone else changed the record since it was opened (optimistic locking)."""

    exit_code = 6


class IllegalTransition(TailorError):
    exit_code = 7


class StorageUnavailable(TailorError):
    exit_code = 8


class IndexUnavailable(TailorError):
    exit_code = 9
