"""The local model as a litellm provider: ``local/<name>`` runs in a supervised worker process.

llama-cpp-python runs the GGUF model in a worker process on 127.0.0.1
(``tailor.models.localworker``); this module puts it behind a litellm ``CustomLLM``
registered as provider ``local``, so the local model takes the same path as any other:
litellm for transport, instructor for structure. Data never leaves the machine, and a
crash in native code costs one draft its tailoring, never the process that serves people.
"""

from __future__ import annotations  # noqa: I001  (tailor.config must be imported before litellm)

import asyncio
import json
import re
import time
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import tailor.config  # noqa: F401  (sets LITELLM_LOCAL_MODEL_COST_MAP before litellm is imported)
from tailor.config import Settings, get_settings
from tailor.errors import ModelUnavailable

import litellm
import openai
from litellm import CustomLLM
from litellm.llms.custom_llm import CustomLLMError
from litellm.types.utils import ModelResponse, Usage

from tailor.models import localmodel

from tailor.models import localworker

LOCAL_PROVIDER = "local"
LOCAL_OPTIONS = "tailor_local"
"""Extra litellm kwarg for the local provider: model_path, n_ctx, n_threads (litellm passes it through)."""


def is_local_model(model: str) -> bool:
    """True for the in-process provider: the prompt never leaves this process."""
    return model.startswith(f"{LOCAL_PROVIDER}/")


def local_model_name(model: str) -> str:
    return model.split("/", 1)[1]


def local_options(model: str, settings: Settings) -> dict[str, Any]:
    """What a call on a local model tells the provider: the verified model file and its shape.

    Raises ``ModelUnavailable`` when the file is missing or does not match its pinned sha256.
    """
    path = localmodel.require_model(local_model_name(model), settings)
    return {"model_path": str(path), "n_ctx": settings.local_context, "n_threads": localmodel.thread_count(settings)}


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


def schema_from_response_format(response_format: Any) -> dict[str, Any] | None:
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
        schema = schema_from_response_format(response_format)
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


PROVIDER = LocalLlamaProvider()
