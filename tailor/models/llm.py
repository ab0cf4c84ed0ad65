"""Every model call goes through here: litellm for transport, instructor for structure.

Three kinds of model, one entry point (``structured_call``):

* ``local/<name>``: the offline GGUF model, run by llama-cpp-python in a supervised worker
  process on 127.0.0.1 (``tailor.models.localworker``), behind a litellm ``CustomLLM`` registered
  as provider ``local``. Data never leaves the machine, and a crash in native code costs
  one draft its tailoring, never the process that serves people.
* ``openai/<anything>`` with ``api_base`` set: an OpenAI-compatible server, typically
  ``tailor model serve`` (``python -m llama_cpp.server``). That server rejects
  ``response_format`` ``json_schema`` but accepts ``json_object`` with a ``schema`` key,
  so requests are translated on the way out.
* anything else litellm knows (hosted OpenAI, Anthropic, ...): instructor's TOOLS mode.

Failures of every kind become ``ModelCallFailed`` with a one-line reason and a ``kind``
the engine can act on (``truncated`` and ``validation`` usually mean "flag for review").
"""

from __future__ import annotations  # noqa: I001  (tailor.config must be imported before litellm)

import asyncio
import copy
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar
from urllib.parse import urlsplit

import tailor.config  # noqa: F401  (sets LITELLM_LOCAL_MODEL_COST_MAP before litellm is imported)
from tailor.config import Settings, get_settings
from tailor.errors import ModelUnavailable

import httpx
import instructor
import litellm
import openai
from instructor.core.exceptions import (
    IncompleteOutputException,
    InstructorRetryException,
    ResponseParsingError,
)
from litellm import CustomLLM
from litellm.llms.custom_llm import CustomLLMError
from litellm.types.utils import ModelResponse, Usage
from pydantic import BaseModel, ValidationError
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from tailor.models import localmodel

from tailor.models import localworker

log = logging.getLogger(__name__)

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
LOCAL_PROVIDER = "local"
LOCAL_OPTIONS = "tailor_local"
"""Extra litellm kwarg for the local provider: model_path, n_ctx, n_threads (litellm passes it through)."""
_LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "0.0.0.0"})
_BACKOFF_S = 0.5
_TRUNCATION_GROWTH = 2


# --------------------------------------------------------------------------- public types
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


MockResponse = str | Exception | dict[str, Any]


def is_local_model(model: str) -> bool:
    """True for the in-process provider: the prompt never leaves this process."""
    return model.startswith(f"{LOCAL_PROVIDER}/")


def model_is_private(model: str, api_base: str | None) -> bool:
    """True when the data stays on this machine (in-process, or a server on loopback)."""
    if is_local_model(model):
        return True
    if api_base:
        host = urlsplit(api_base).hostname or ""
        return host in _LOCAL_HOSTS or host.startswith("127.")
    # litellm's ollama providers default to a local server.
    return model.startswith(("ollama/", "ollama_chat/"))


def local_model_name(model: str) -> str:
    return model.split("/", 1)[1]


# --------------------------------------------------------------------------- the in-process provider
def tighten_gbnf(grammar: str) -> str:
    """Forbid raw control characters inside JSON strings.

    llama-cpp-python 0.3.36's schema grammar allows any byte but ``"`` and ``\\`` in a
    string, so the model can emit a literal newline, which is not valid JSON. Upstream
    llama.cpp's json.gbnf excludes ``\\x00-\\x1F`` and ``\\x7F``; do the same.
    """
    loose = 'char ::= [^"\\\\]'
    if loose in grammar:
        return grammar.replace(loose, 'char ::= [^"\\\\\\x7F\\x00-\\x1F]')
    if re.search(r"^char ::=", grammar, re.M):
        raise ValueError("unexpected `char` rule from llama_cpp's schema converter; cannot tighten it")
    return grammar  # no free-form strings in this schema


@lru_cache(maxsize=64)
def _schema_gbnf(schema_json: str) -> str:
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    return tighten_gbnf(json_schema_to_gbnf(schema_json))


@lru_cache(maxsize=1)
def _json_gbnf() -> str:
    from llama_cpp.llama_grammar import JSON_GBNF

    return tighten_gbnf(JSON_GBNF)


def _schema_from_response_format(response_format: Any) -> dict[str, Any] | None:
    """The JSON schema inside an OpenAI ``response_format``, whichever shape it came in."""
    if not isinstance(response_format, dict):
        return None
    if response_format.get("type") == "json_schema":
        inner = response_format.get("json_schema") or {}
        schema = inner.get("schema")
        return schema if isinstance(schema, dict) else None
    if response_format.get("type") == "json_object":
        schema = response_format.get("schema")
        return schema if isinstance(schema, dict) else None
    return None


class WorkerCrashedError(CustomLLMError):
    """The local model's worker process died mid-call: not retried, the draft keeps its grounded plan."""


def _worker(path: Path, settings: Settings, n_ctx: int, n_threads: int) -> localworker.LocalWorker:
    return localworker.worker_for(path, n_ctx, n_threads, log_dir=settings.data_dir / "logs")


def load_local_model(name: str, settings: Settings | None = None) -> float:
    """Start (or find running) the worker for a local model; the seconds it took, 0.0 if it was up."""
    settings = settings or get_settings()
    path = localmodel.require_model(name, settings)
    return _worker(path, settings, settings.local_context, localmodel.thread_count(settings)).ensure_running()


def local_worker(name: str, settings: Settings | None = None) -> localworker.LocalWorker:
    """This process's worker for a local model (created, not started): its queue, pid and health."""
    settings = settings or get_settings()
    path = localmodel.model_path(name, settings)
    return _worker(path, settings, settings.local_context, localmodel.thread_count(settings))


def unload_local_models() -> None:
    """Stop every local model worker (tests, long-lived processes switching models)."""
    localworker.stop_all()


def _text_content(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return "" if content is None else str(content)


class LocalLlamaProvider(CustomLLM):
    """litellm provider ``local``: llama-cpp-python in this process.

    Translates ``response_format`` (``json_schema`` from instructor, or ``json_object``
    with a ``schema``) into a tightened GBNF grammar, enforces the call's timeout between
    tokens, and reports usage like any other litellm provider.
    """

    def completion(
        self,
        model: str,
        messages: list[dict[str, Any]],
        api_base: str | None,
        custom_prompt_dict: dict[str, Any],
        model_response: ModelResponse,
        print_verbose: Callable[..., Any],
        encoding: Any,
        api_key: Any,
        logging_obj: Any,
        optional_params: dict[str, Any],
        acompletion: Any = None,
        litellm_params: dict[str, Any] | None = None,
        logger_fn: Any = None,
        headers: dict[str, Any] | None = None,
        timeout: float | Any | None = None,
        client: Any = None,
    ) -> ModelResponse:
        try:
            return self._complete(model, messages, model_response, optional_params, timeout)
        except (openai.APIError, CustomLLMError):
            raise
        except Exception as exc:
            # Anything else would reach the caller as litellm's generic "connection error".
            raise CustomLLMError(status_code=500, message=f"local model failed: {type(exc).__name__}: {exc}") from exc

    def _complete(
        self,
        model: str,
        messages: list[dict[str, Any]],
        model_response: ModelResponse,
        optional_params: dict[str, Any],
        timeout: Any,
    ) -> ModelResponse:
        name = local_model_name(model) if model.startswith(f"{LOCAL_PROVIDER}/") else model
        if optional_params.get("stream"):
            raise CustomLLMError(status_code=400, message="the local provider does not stream")
        if optional_params.get("tools") or optional_params.get("functions"):
            raise CustomLLMError(status_code=400, message="the local provider takes response_format, not tools")
        # structured_call passes its own settings' choices (LOCAL_OPTIONS); plain litellm
        # callers get the process settings.
        settings = get_settings()
        local = optional_params.get(LOCAL_OPTIONS) or {}
        n_ctx = int(local.get("n_ctx") or settings.local_context)
        n_threads = int(local.get("n_threads") or localmodel.thread_count(settings))
        try:
            path = Path(local["model_path"]) if local.get("model_path") else localmodel.require_model(name, settings)
        except ModelUnavailable as exc:
            raise CustomLLMError(status_code=404, message=exc.message) from exc
        worker = _worker(path, settings, n_ctx, n_threads)

        options: dict[str, Any] = {}
        for key in ("top_p", "seed", "stop", "presence_penalty", "frequency_penalty"):
            if optional_params.get(key) is not None:
                options[key] = optional_params[key]
        response_format = optional_params.get("response_format")
        schema = _schema_from_response_format(response_format)
        grammar: str | None = None
        if schema is not None:
            try:
                grammar = _schema_gbnf(json.dumps(schema, sort_keys=True))
            except Exception as exc:
                raise CustomLLMError(status_code=400, message=f"cannot turn the schema into a grammar: {exc}") from exc
        elif isinstance(response_format, dict) and response_format.get("type") == "json_object":
            grammar = _json_gbnf()

        seconds = _timeout_seconds(timeout)
        request = localworker.GenerateRequest(
            messages=[{"role": m.get("role", "user"), "content": _text_content(m.get("content"))} for m in messages],
            max_tokens=int(optional_params.get("max_tokens") or optional_params.get("max_completion_tokens") or 512),
            temperature=float(optional_params.get("temperature", 0.2)),
            grammar=grammar,
            deadline_s=seconds,
            options=options,
        )
        load_s = 0.0
        try:
            load_s = worker.ensure_running()
            result = worker.generate(request)
        except (localworker.WorkerDeadline, localworker.WorkerHung) as exc:
            raise litellm.Timeout(message=exc.reason, model=model, llm_provider="local") from None
        except localworker.WorkerCrashed as exc:
            raise WorkerCrashedError(status_code=503, message=exc.reason) from None
        except localworker.WorkerError as exc:
            if "context window" in exc.reason:
                raise litellm.ContextWindowExceededError(
                    message=f"prompt and max_tokens exceed the local context ({n_ctx} tokens)",
                    model=model,
                    llm_provider="local",
                ) from None
            raise CustomLLMError(status_code=500, message=f"local model failed: {exc.reason}") from None
        text, finish = result.text, result.finish_reason
        prompt_tokens, completion_tokens = result.prompt_tokens, result.completion_tokens
        model_response.choices[0].message.content = text
        model_response.choices[0].finish_reason = finish  # type: ignore[assignment]
        model_response.model = f"{LOCAL_PROVIDER}/{name}"
        model_response.created = int(time.time())
        model_response.usage = Usage(  # type: ignore[attr-defined]
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            total_tokens=prompt_tokens + completion_tokens,
        )
        model_response._hidden_params["local_load_seconds"] = load_s
        model_response._hidden_params["local_decode_seconds"] = result.decode_seconds
        return model_response

    async def acompletion(self, *args: Any, **kwargs: Any) -> ModelResponse:
        return await asyncio.to_thread(self.completion, *args, **kwargs)


def _timeout_seconds(timeout: Any) -> float | None:
    if isinstance(timeout, int | float):
        return float(timeout)
    read = getattr(timeout, "read", None)
    return float(read) if isinstance(read, int | float) else None


_PROVIDER = LocalLlamaProvider()
_SETUP_LOCK = threading.Lock()


def setup_litellm() -> None:
    """Register the ``local`` provider and quiet litellm. Safe to call any number of times."""
    with _SETUP_LOCK:
        if not any(item.get("provider") == LOCAL_PROVIDER for item in litellm.custom_provider_map):
            litellm.custom_provider_map.append({"provider": LOCAL_PROVIDER, "custom_handler": _PROVIDER})
        litellm.suppress_debug_info = True
        # instructor logs every failed attempt at ERROR with the provider's message; we
        # report failures ourselves, once, as ModelCallFailed.
        logging.getLogger("instructor").setLevel(logging.CRITICAL)


setup_litellm()


# --------------------------------------------------------------------------- structured calls
def choose_mode(model: str, api_base: str | None) -> instructor.Mode:
    """How instructor asks for structure, per provider (see the module docstring)."""
    if is_local_model(model):
        return instructor.Mode.JSON_SCHEMA
    if api_base and model.startswith("openai/"):
        return instructor.Mode.JSON_SCHEMA  # translated to json_object+schema in _Transport
    if model.startswith(("ollama/", "ollama_chat/")):
        return instructor.Mode.JSON_SCHEMA
    return instructor.Mode.TOOLS


_SEMAPHORES: dict[int, threading.BoundedSemaphore] = {}
_SEMAPHORES_LOCK = threading.Lock()


@contextmanager
def _call_slot(limit: int) -> Iterator[None]:
    """Bound concurrent model calls process-wide (``settings.max_concurrent_model_calls``)."""
    limit = max(1, limit)
    with _SEMAPHORES_LOCK:
        sem = _SEMAPHORES.setdefault(limit, threading.BoundedSemaphore(limit))
    with sem:
        yield


class _Transport:
    """The completion function handed to instructor: counts calls and tokens, feeds mocks,
    and rewrites ``response_format`` for llama.cpp's OpenAI-compatible server."""

    def __init__(self, *, schema_as_json_object: bool, mocks: Sequence[MockResponse] | None) -> None:
        self.schema_as_json_object = schema_as_json_object
        self.mocks = list(mocks) if mocks is not None else None
        self.calls = 0
        self.prompt_tokens = 0
        self.completion_tokens = 0

    def __call__(self, **kwargs: Any) -> Any:
        self.calls += 1
        if self.schema_as_json_object:
            schema = _schema_from_response_format(kwargs.get("response_format"))
            if schema is not None:
                kwargs["response_format"] = {"type": "json_object", "schema": schema}
        if self.mocks is not None:
            # One mock per call; the last one repeats, like a model that keeps answering the same.
            mock = self.mocks.pop(0) if len(self.mocks) > 1 else self.mocks[0]
            kwargs["mock_response"] = copy.deepcopy(mock) if isinstance(mock, dict) else mock
        # Our own retry loop is the only one: the OpenAI SDK would otherwise retry twice inside
        # every attempt, sending a failing server three times the requests settings allow.
        kwargs.setdefault("max_retries", 0)
        response = litellm.completion(**kwargs)
        usage = getattr(response, "usage", None)
        if usage is not None:
            self.prompt_tokens += int(getattr(usage, "prompt_tokens", 0) or 0)
            self.completion_tokens += int(getattr(usage, "completion_tokens", 0) or 0)
        return response


def structured_call(
    response_model: type[T],
    messages: list[dict[str, str]],
    *,
    model: str | None = None,
    settings: Settings | None = None,
    max_tokens: int = 512,
    temperature: float = 0.2,
    max_retries: int | None = None,
    mock_response: MockResponse | Sequence[MockResponse] | None = None,
) -> ModelCallResult[T]:
    """Ask the model for one ``response_model`` object; return it with timing and usage.

    ``max_retries`` bounds validation re-asks (instructor shows the model its error);
    transient failures (timeout, connection, rate limit, 5xx) are retried separately,
    ``settings.model_retries`` times with exponential backoff; output cut off at
    ``max_tokens`` is retried once with twice the budget. ``mock_response`` is passed to
    litellm (tests): one value for every call, or a sequence consumed one per call.
    Raises ``ModelCallFailed``; never returns an invalid object.
    """
    settings = settings or get_settings()
    model = model or settings.model
    reasks = settings.model_retries if max_retries is None else max_retries
    mocks: Sequence[MockResponse] | None
    if mock_response is None:
        mocks = None
    elif isinstance(mock_response, str | Exception | dict):
        mocks = [mock_response]
    else:
        mocks = list(mock_response)
    secret = settings.api_key.get_secret_value() if settings.api_key else None

    local_options: dict[str, Any] | None = None
    if is_local_model(model) and mocks is None:
        try:
            path = localmodel.require_model(local_model_name(model), settings)
        except ModelUnavailable as exc:
            raise ModelCallFailed(exc.message, kind="unavailable", model=model) from None
        local_options = {
            "model_path": str(path),
            "n_ctx": settings.local_context,
            "n_threads": localmodel.thread_count(settings),
        }

    transport = _Transport(schema_as_json_object=bool(settings.api_base) and model.startswith("openai/"), mocks=mocks)
    client = instructor.from_litellm(transport, mode=choose_mode(model, settings.api_base))
    base_kwargs: dict[str, Any] = {"model": model, "temperature": temperature, **settings.litellm_kwargs()}
    if is_local_model(model):
        base_kwargs.pop("api_base", None)
        base_kwargs.pop("api_key", None)
    if local_options is not None:
        base_kwargs[LOCAL_OPTIONS] = local_options

    budget = max_tokens
    truncations = 0
    started = time.perf_counter()

    def attempt() -> T:
        # strict=False: lax pydantic coercion ("8" -> 8) costs nothing and saves re-asks.
        return client.create(
            response_model=response_model,
            messages=messages,  # type: ignore[arg-type]
            max_tokens=budget,
            max_retries=reasks,
            strict=False,
            **base_kwargs,
        )

    def should_retry(exc: BaseException) -> bool:
        failure = _classify(exc, model=model, secret=secret, api_base=settings.api_base)
        # A local timeout is the machine being slow, not a blip: retrying doubles the wait.
        return failure.transient and not (failure.kind == "timeout" and is_local_model(model))

    retrying = Retrying(
        stop=stop_after_attempt(max(0, settings.model_retries) + 1),
        wait=wait_exponential(multiplier=_BACKOFF_S, max=8),
        retry=retry_if_exception(should_retry),
        reraise=True,
    )
    with _call_slot(settings.max_concurrent_model_calls):
        while True:
            try:
                value = retrying(attempt)
                break
            except IncompleteOutputException:
                truncations += 1
                if truncations > 1:
                    raise ModelCallFailed(
                        f"output was cut off at {budget} tokens, even after one retry with a larger budget",
                        kind="truncated",
                        model=model,
                        retries=transport.calls - 1,
                    ) from None
                budget *= _TRUNCATION_GROWTH
                log.info("model output truncated; retrying with max_tokens=%d", budget)
            except Exception as exc:
                failure = _classify(exc, model=model, secret=secret, api_base=settings.api_base)
                failure.retries = max(0, transport.calls - 1)
                # The message is already scrubbed of keys; a traceback would repeat the provider's raw error.
                log.debug("model call failed: %s", failure.message)
                raise failure from None

    seconds = time.perf_counter() - started
    # instructor returns an instance of its own subclass with the raw response attached;
    # callers get exactly ``response_model`` (clean equality, copies and type checks).
    value = response_model.model_validate(value.model_dump(by_alias=True))
    return ModelCallResult[response_model](  # type: ignore[valid-type]
        value=value,
        model=model,
        seconds=round(seconds, 3),
        prompt_tokens=transport.prompt_tokens,
        completion_tokens=transport.completion_tokens,
        retries=max(0, transport.calls - 1),
    )


async def astructured_call(
    response_model: type[T],
    messages: list[dict[str, str]],
    **kwargs: Any,
) -> ModelCallResult[T]:
    """``structured_call`` off the event loop (it blocks: llama.cpp and retries sleep)."""
    return await asyncio.to_thread(lambda: structured_call(response_model, messages, **kwargs))


# --------------------------------------------------------------------------- error translation
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


def _classify(exc: BaseException, *, model: str, secret: str | None, api_base: str | None = None) -> ModelCallFailed:
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


# --------------------------------------------------------------------------- status
def model_status(settings: Settings | None = None) -> dict[str, Any]:
    """What is configured, whether it is private, and the state of each local model file."""
    settings = settings or get_settings()
    try:
        import llama_cpp

        llama_version: str | None = llama_cpp.__version__
    except ImportError:
        llama_version = None
    files: dict[str, dict[str, Any]] = {
        name: localmodel.status(name, settings).model_dump() for name in localmodel.MODELS
    }
    configured_local = is_local_model(settings.model)
    ready = True
    if configured_local:
        entry = files.get(local_model_name(settings.model))
        ready = llama_version is not None and bool(entry and entry["verified"])
    return {
        "model": settings.model,
        "api_base": settings.api_base,
        "api_key_set": settings.api_key is not None,
        "local": configured_local,
        "private": model_is_private(settings.model, settings.api_base),
        "mode": choose_mode(settings.model, settings.api_base).value,
        "llama_cpp": llama_version,
        "ready": bool(ready),
        "model_dir": str(settings.model_dir),
        "local_models": files,
    }
