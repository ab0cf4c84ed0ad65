"""Every model call goes through here: litellm for transport, instructor for structure.

``LiteLLMModel`` is the real ``ModelCaller`` (see ``caller.py``); ``structured_call`` is one
call on it. Three kinds of model, one path:

* ``local/<name>``: the offline GGUF model, run by llama-cpp-python in a supervised worker
  process on 127.0.0.1, behind a litellm ``CustomLLM`` registered as provider ``local``
  (``local_provider.py``). Data never leaves the machine, and a crash in native code costs
  one draft its tailoring, never the process that serves people.
* ``openai/<anything>`` with ``api_base`` set: an OpenAI-compatible server, typically
  ``tailor model serve`` (``python -m llama_cpp.server``). That server rejects
  ``response_format`` ``json_schema`` but accepts ``json_object`` with a ``schema`` key,
  so requests are translated on the way out.
* anything else litellm knows (hosted OpenAI, Anthropic, ...): instructor's TOOLS mode.

Failures of every kind become ``ModelCallFailed`` with a one-line reason and a ``kind``
the engine can act on (``failures.py``).
"""

from __future__ import annotations  # noqa: I001  (tailor.config must be imported before litellm)

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import tailor.config  # noqa: F401  (sets LITELLM_LOCAL_MODEL_COST_MAP before litellm is imported)
from tailor.config import Settings, get_settings
from tailor.errors import ModelUnavailable

import instructor
import litellm
from instructor.core.exceptions import IncompleteOutputException
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from tailor.models import localmodel
from tailor.models.caller import TRANSIENT_KINDS, FailureKind, ModelCaller, ModelCallFailed, ModelCallResult, T
from tailor.models.failures import classify
from tailor.models.local_provider import (
    LOCAL_OPTIONS,
    LOCAL_PROVIDER,
    PROVIDER,
    is_local_model,
    load_local_model,
    local_model_name,
    local_options,
    local_worker,
    schema_from_response_format,
    tighten_gbnf,
    unload_local_models,
)

__all__ = [
    "TRANSIENT_KINDS",
    "FailureKind",
    "LiteLLMModel",
    "ModelCallFailed",
    "ModelCallResult",
    "ModelCaller",
    "astructured_call",
    "choose_mode",
    "complete_text",
    "is_local_model",
    "load_local_model",
    "local_model_name",
    "local_worker",
    "model_is_private",
    "model_status",
    "setup_litellm",
    "structured_call",
    "tighten_gbnf",
    "unload_local_models",
]

log = logging.getLogger(__name__)

_LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "0.0.0.0"})
_BACKOFF_S = 0.5
_TRUNCATION_GROWTH = 2

Send = Callable[..., Any]
"""Sends one request of a call: ``litellm.completion``'s signature."""


def model_is_private(model: str, api_base: str | None) -> bool:
    """True when the data stays on this machine (in-process, or a server on loopback)."""
    if is_local_model(model):
        return True
    if api_base:
        host = urlsplit(api_base).hostname or ""
        return host in _LOCAL_HOSTS or host.startswith("127.")
    # litellm's ollama providers default to a local server.
    return model.startswith(("ollama/", "ollama_chat/"))


_SETUP_LOCK = threading.Lock()


def setup_litellm() -> None:
    """Register the ``local`` provider and quiet litellm. Safe to call any number of times."""
    with _SETUP_LOCK:
        if not any(item.get("provider") == LOCAL_PROVIDER for item in litellm.custom_provider_map):
            litellm.custom_provider_map.append({"provider": LOCAL_PROVIDER, "custom_handler": PROVIDER})
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


def send_to_litellm(**kwargs: Any) -> Any:
    """One request through litellm (looked up at call time, so litellm's own hooks apply)."""
    return litellm.completion(**kwargs)


class _Transport:
    """The completion function handed to instructor: counts calls and tokens, and rewrites
    ``response_format`` for llama.cpp's OpenAI-compatible server."""

    def __init__(self, send: Send, *, schema_as_json_object: bool) -> None:
        self.send = send
        self.schema_as_json_object = schema_as_json_object
        self.calls = 0
        self.prompt_tokens = 0
        self.completion_tokens = 0

    def __call__(self, **kwargs: Any) -> Any:
        self.calls += 1
        if self.schema_as_json_object:
            schema = schema_from_response_format(kwargs.get("response_format"))
            if schema is not None:
                kwargs["response_format"] = {"type": "json_object", "schema": schema}
        # Our own retry loop is the only one: the OpenAI SDK would otherwise retry twice inside
        # every attempt, sending a failing server three times the requests settings allow.
        kwargs.setdefault("max_retries", 0)
        response = self.send(**kwargs)
        usage = getattr(response, "usage", None)
        if usage is not None:
            self.prompt_tokens += int(getattr(usage, "prompt_tokens", 0) or 0)
            self.completion_tokens += int(getattr(usage, "completion_tokens", 0) or 0)
        return response


class LiteLLMModel:
    """The real ``ModelCaller``: one structured object per call, through litellm and instructor.

    ``max_retries`` bounds validation re-asks (instructor shows the model its error);
    transient failures (timeout, connection, rate limit, 5xx) are retried separately,
    ``settings.model_retries`` times with exponential backoff; output cut off at
    ``max_tokens`` is retried once with twice the budget. Raises ``ModelCallFailed``;
    never returns an invalid object.

    Two methods say where a call's requests go, and ``ScriptedModel`` overrides just those:
    :meth:`sender` (litellm, for real) and :meth:`local_options` (the verified local model file).
    """

    def sender(self) -> Send:
        """What sends each request of one call (asked once per call)."""
        return send_to_litellm

    def local_options(self, model: str, settings: Settings) -> dict[str, Any] | None:
        """The local provider's model file and shape; ``None`` for other models."""
        if not is_local_model(model):
            return None
        try:
            return local_options(model, settings)
        except ModelUnavailable as exc:
            raise ModelCallFailed(exc.message, kind="unavailable", model=model) from None

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
    ) -> ModelCallResult[T]:
        send = self.sender()
        local = self.local_options(model, settings)
        reasks = settings.model_retries if max_retries is None else max_retries
        secret = settings.api_key.get_secret_value() if settings.api_key else None
        transport = _Transport(send, schema_as_json_object=bool(settings.api_base) and model.startswith("openai/"))
        client = instructor.from_litellm(transport, mode=choose_mode(model, settings.api_base))
        base_kwargs: dict[str, Any] = {"model": model, "temperature": temperature, **settings.litellm_kwargs()}
        if is_local_model(model):
            base_kwargs.pop("api_base", None)
            base_kwargs.pop("api_key", None)
        if local is not None:
            base_kwargs[LOCAL_OPTIONS] = local

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
            failure = classify(exc, model=model, secret=secret, api_base=settings.api_base)
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
                    failure = classify(exc, model=model, secret=secret, api_base=settings.api_base)
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


def structured_call(
    response_model: type[T],
    messages: list[dict[str, str]],
    *,
    model: str | None = None,
    settings: Settings | None = None,
    max_tokens: int = 512,
    temperature: float = 0.2,
    max_retries: int | None = None,
) -> ModelCallResult[T]:
    """Ask the real model (``settings.model`` unless ``model``) for one ``response_model`` object.

    One :meth:`LiteLLMModel.call`; see there for retries, truncation and failures.
    """
    settings = settings or get_settings()
    return LiteLLMModel().call(
        response_model,
        messages,
        model=model or settings.model,
        settings=settings,
        max_tokens=max_tokens,
        temperature=temperature,
        max_retries=max_retries,
    )


async def astructured_call(
    response_model: type[T],
    messages: list[dict[str, str]],
    **kwargs: Any,
) -> ModelCallResult[T]:
    """``structured_call`` off the event loop (it blocks: llama.cpp and retries sleep)."""
    return await asyncio.to_thread(lambda: structured_call(response_model, messages, **kwargs))


def complete_text(messages: list[dict[str, str]], *, model: str, settings: Settings | None = None) -> str:
    """One free-text answer (the eval's LLM judge reads its own verdict format): no schema, no retries."""
    settings = settings or get_settings()
    response = litellm.completion(model=model, messages=messages, **settings.litellm_kwargs())
    return str(response.choices[0].message.content or "")


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
