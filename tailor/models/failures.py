"""Every way a model call fails, as one ``ModelCallFailed`` with a one-line reason and a ``kind``.

litellm, instructor, the OpenAI SDK, httpx and the local provider each raise their own
errors, often wrapped in one another; :func:`classify` searches the whole chain and names
the failure the engine can act on (``truncated`` and ``validation`` usually mean "flag for
review"; ``timeout``, ``connection``, ``rate_limit`` and ``server`` are worth a retry). Keys
are scrubbed from every message.
"""

from __future__ import annotations  # noqa: I001  (tailor.config must be imported before litellm)

import json
import re
from collections.abc import Iterator

import tailor.config  # noqa: F401  (sets LITELLM_LOCAL_MODEL_COST_MAP before litellm is imported)

import httpx
import openai
from instructor.core.exceptions import InstructorRetryException, ResponseParsingError
from litellm.llms.custom_llm import CustomLLMError
from pydantic import ValidationError

from tailor.models.caller import FailureKind, ModelCallFailed
from tailor.models.local_provider import WorkerCrashedError

_KEYLIKE = re.compile(r"\b(sk|pk|rk|key)-[A-Za-z0-9_\-]{6,}")


def _one_line(text: str, secret: str | None, limit: int = 240) -> str:
    if secret:
        text = text.replace(secret, "***")
    text = _KEYLIKE.sub(lambda m: f"{m.group(1)}-***", text)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _validation_summary(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:3]:
        loc = ".".join(str(p) for p in err.get("loc", ())) or "value"
        parts.append(f"{loc}: {err.get('msg', 'invalid')}")
    more = exc.error_count() - len(parts)
    return "; ".join(parts) + (f" (+{more} more)" if more > 0 else "")


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


# litellm wraps the root cause (a refused connection comes back as a 500 "Connection
# error."), so the whole chain is searched, most specific kinds first.
_PRIORITY: tuple[FailureKind, ...] = ("crashed", "unavailable", "timeout", "connection")


def classify(exc: BaseException, *, model: str, secret: str | None, api_base: str | None = None) -> ModelCallFailed:
    """Map any litellm/instructor/openai error to a ModelCallFailed with a readable reason."""
    chain = list(_causes(exc))
    for err in chain:
        if isinstance(err, ModelCallFailed):
            return err
    kinds = [(err, kind) for err in chain if (kind := _kind_of(err)) is not None]
    picked = next((pair for want in _PRIORITY for pair in kinds if pair[1] == want), None)
    picked = picked or (kinds[0] if kinds else None)
    if picked is None:
        if isinstance(exc, InstructorRetryException):
            return ModelCallFailed(_one_line(str(exc), secret), kind="validation", model=model)
        return ModelCallFailed(_one_line(f"{type(exc).__name__}: {exc}", secret), kind="other", model=model)
    err, kind = picked
    if kind == "validation":
        if isinstance(err, ValidationError):
            reason = "the model's answer did not match the schema: " + _validation_summary(err)
        elif isinstance(err, json.JSONDecodeError):
            reason = f"the model's answer was not valid JSON: {err.msg} at char {err.pos}"
        else:
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            reason = f"the model's answer could not be parsed: {first}"
    elif kind == "connection":
        # The innermost connection error says what happened ("Connection refused").
        root = [e for e, k in kinds if k == "connection"][-1]
        where = f" at {api_base}" if api_base else ""
        reason = f"could not reach the model server{where}: {_plain_message(root)}"
    else:
        reason = _describe(err, kind)
    return ModelCallFailed(_one_line(reason, secret), kind=kind, model=model)


def _kind_of(err: BaseException) -> FailureKind | None:
    if isinstance(err, WorkerCrashedError):
        return "crashed"
    if isinstance(err, openai.APITimeoutError | TimeoutError | httpx.TimeoutException):
        return "timeout"
    if isinstance(err, openai.APIConnectionError | ConnectionError | httpx.TransportError):
        return "connection"
    if isinstance(err, openai.RateLimitError):
        return "rate_limit"
    if isinstance(err, openai.AuthenticationError | openai.PermissionDeniedError):
        return "auth"
    if isinstance(err, ValidationError | json.JSONDecodeError | ResponseParsingError):
        return "validation"
    if isinstance(err, CustomLLMError):
        return "unavailable" if err.status_code == 404 else "server" if err.status_code >= 500 else "other"
    status = getattr(err, "status_code", None)
    if isinstance(err, openai.APIError):
        if isinstance(status, int) and status >= 500:
            return "server"
        if isinstance(status, int) and status == 404 and "not installed" in str(err):
            return "unavailable"
        return "other"
    return None


def _plain_message(err: BaseException) -> str:
    message = str(getattr(err, "message", None) or err or type(err).__name__)
    # litellm prefixes messages with its own class path; keep the part a person can act on.
    return re.sub(r"^(litellm\.)?\w*(Error|Exception|Timeout): (\w+Exception - )?", "", message)


def _describe(err: BaseException, kind: FailureKind) -> str:
    message = _plain_message(err)
    lead = {
        "timeout": "the model did not answer in time",
        "connection": "could not reach the model server",
        "rate_limit": "the model provider is rate limiting",
        "auth": "the model provider rejected the credentials",
        "server": "the model server failed",
        "unavailable": "the model is unavailable",
        "crashed": "local model crashed",
        "other": "the model call was rejected",
    }.get(kind, "the model call failed")
    return f"{lead}: {message}"
