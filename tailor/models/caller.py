"""The one interface every model sits behind, and what a call gives back.

The engine asks a ``ModelCaller`` for one structured object per call; it never imports
litellm. Three implementations, each passed in, none a test hook:

* ``LiteLLMModel`` (``llm.py``): the real one, litellm for transport and instructor for structure;
* ``ScriptedModel`` (``scripted.py``): a ``LiteLLMModel`` whose answers are written in advance and
  travel the same litellm, instructor, validation and error-classification path (tests, the load
  test, demos);
* ``CachedModel`` (``cached.py``): wraps either, answering from the response cache when every key
  part matches (the eval replay set).

This module imports no litellm, so the engine can name the protocol without paying for it.
"""

from __future__ import annotations

from typing import Generic, Literal, Protocol, TypeVar

from pydantic import BaseModel

from tailor.config import Settings
from tailor.errors import ModelUnavailable

T = TypeVar("T", bound=BaseModel)

FailureKind = Literal[
    "timeout",
    "connection",
    "rate_limit",
    "server",
    "validation",
    "truncated",
    "auth",
    "unavailable",
    "crashed",
    "other",
]
TRANSIENT_KINDS: frozenset[FailureKind] = frozenset({"timeout", "connection", "rate_limit", "server"})


class ModelCallResult(BaseModel, Generic[T]):
    value: T
    model: str
    seconds: float
    prompt_tokens: int
    completion_tokens: int
    retries: int


class ModelCallFailed(ModelUnavailable):
    """A model call that did not produce a valid object. ``kind`` says why, ``reason`` says what."""

    def __init__(self, reason: str, *, kind: FailureKind, model: str, retries: int = 0) -> None:
        super().__init__(f"model call to {model} failed ({kind}): {reason}")
        self.reason = reason
        self.kind: FailureKind = kind
        self.model = model
        self.retries = retries

    @property
    def transient(self) -> bool:
        return self.kind in TRANSIENT_KINDS


class ModelCaller(Protocol):
    """Asks a model for one ``response_model`` object.

    Returns it with timing and usage, or raises ``ModelUnavailable`` (a ``ModelCallFailed``
    with a ``kind`` for the model's own failures); never returns an invalid object.
    ``max_retries`` bounds validation re-asks (``None``: the settings' ``model_retries``).
    """

    def call(
        self,
        response_model: type[T],
        messages: list[dict[str, str]],
        *,
        model: str,
        settings: Settings,
        max_tokens: int = 512,
        temperature: float = 0.2,
        max_retries: int | None = None,
    ) -> ModelCallResult[T]: ...
