"""A model whose answers are written in advance, for tests, the load test and demos.

``ScriptedModel`` is a real ``LiteLLMModel``: instructor builds each request for the model
named (JSON schema or tool calls, as for the real one), litellm sends it, and a litellm
provider registered as ``scripted`` (the same plugin hook as the local model) answers with the
next scripted answer. Our validators check the answer and a failure is classified like any
other, so a scripted draft exercises the code a live one does::

    engine = Engine(settings, corpus=corpus, model=ScriptedModel([summary_json, tasks_json]))

An answer is consumed per call, in order:

* a string: the model's text (JSON in JSON mode);
* a dict: a whole OpenAI-style response, e.g. ``finish_reason: "length"`` for truncated
  output, or ``tool_calls`` for a hosted model in TOOLS mode;
* an exception: what the provider raises (``litellm.Timeout``, ``litellm.RateLimitError`` ...;
  any other exception arrives as a provider's 500);
* a list or tuple of those: one per request within the call (re-asks, transient retries,
  the truncation retry), the last repeating.

A single answer repeats for every request of its call, like a model that keeps answering the
same. A call with no answer left raises ``ScriptExhausted``: a script shorter than the calls
made is a mistake in the script, never a model that is down.
"""

from __future__ import annotations  # noqa: I001  (tailor.config must be imported before litellm)

import asyncio
import copy
import threading
import uuid
from collections import deque
from collections.abc import Iterable
from typing import Any

import tailor.config  # noqa: F401  (sets LITELLM_LOCAL_MODEL_COST_MAP before litellm is imported)
from tailor.config import Settings

import litellm
import openai
from litellm import CustomLLM
from litellm.llms.custom_llm import CustomLLMError
from litellm.types.utils import ModelResponse, Usage

from tailor.models.llm import LiteLLMModel, Send, send_to_litellm

SCRIPTED_PROVIDER = "scripted"
SCRIPT_OPTION = "tailor_script"
"""Extra litellm kwarg of a scripted request: the ticket of the answer it carries."""

Answer = str | dict[str, Any] | BaseException
Script = Answer | list[Answer] | tuple[Answer, ...]


class ScriptExhausted(AssertionError):
    """The scripted model was called more often than it has answers."""


class ScriptedModel(LiteLLMModel):
    """Answers from a script, through the real litellm and instructor path. Thread-safe."""

    def __init__(self, answers: Iterable[Script] = ()) -> None:
        self._answers: deque[Script] = deque(answers)
        self._lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []
        """Every request sent, in order: model, messages, max_tokens (retries included)."""

    @property
    def remaining(self) -> int:
        return len(self._answers)

    def load(self, answers: Iterable[Script]) -> None:
        """Replace the answers not yet given (a long-lived engine scripting one draft after another)."""
        with self._lock:
            self._answers = deque(answers)

    def sender(self) -> Send:
        with self._lock:
            if not self._answers:
                raise ScriptExhausted(f"the scripted model has no answer left ({len(self.requests)} requests so far)")
            script = self._answers.popleft()
        attempts: list[Answer] = list(script) if isinstance(script, list | tuple) else [script]
        if not attempts:
            raise ScriptExhausted("an empty list of answers for one call")

        def send(**kwargs: Any) -> Any:
            with self._lock:
                answer = attempts.pop(0) if len(attempts) > 1 else attempts[0]
                self.requests.append({key: kwargs.get(key) for key in ("model", "messages", "max_tokens")})
            with _pending(answer) as ticket:
                scripted = {**kwargs, "model": f"{SCRIPTED_PROVIDER}/{kwargs['model']}", SCRIPT_OPTION: ticket}
                return send_to_litellm(**scripted)

        return send

    def local_options(self, model: str, settings: Settings) -> dict[str, Any] | None:
        """No model file: the answers are written, not generated."""
        return None


# --------------------------------------------------------------------------- the provider
_PENDING: dict[str, Answer] = {}
_PENDING_LOCK = threading.Lock()


class _pending:
    """Hands one answer to the provider for the length of one request."""

    def __init__(self, answer: Answer) -> None:
        self.ticket = uuid.uuid4().hex
        self.answer = answer

    def __enter__(self) -> str:
        with _PENDING_LOCK:
            _PENDING[self.ticket] = self.answer
        return self.ticket

    def __exit__(self, *exc: object) -> None:
        with _PENDING_LOCK:
            _PENDING.pop(self.ticket, None)


class ScriptedProvider(CustomLLM):
    """litellm provider ``scripted``: answers a request with the answer its ticket names.

    Callbacks see the request as one to the model named (the same model name and parameters),
    and the answer comes back as a provider's would: a response with usage, or the error raised.
    """

    def completion(self, *args: Any, **kwargs: Any) -> ModelResponse:
        """litellm calls this with keywords only (model, messages, model_response, optional_params ...)."""
        model: str = kwargs["model"]
        messages: list[dict[str, Any]] = kwargs["messages"]
        optional_params: dict[str, Any] = kwargs["optional_params"]
        logging_obj: Any = kwargs["logging_obj"]
        with _PENDING_LOCK:
            answer = _PENDING.get(str(optional_params.get(SCRIPT_OPTION)))
        if answer is None:
            raise CustomLLMError(status_code=400, message="a scripted request without an answer")
        logging_obj.model = _provider_model_name(model)
        logging_obj.pre_call(input=messages, api_key="scripted")
        if isinstance(answer, openai.APIError | CustomLLMError):
            raise answer
        if isinstance(answer, BaseException):
            raise CustomLLMError(status_code=500, message=f"{type(answer).__name__}: {answer}") from answer
        if isinstance(answer, dict):
            response = ModelResponse(**copy.deepcopy(answer))
        else:
            response = kwargs["model_response"]
            response.choices[0].message.content = answer
            response.choices[0].finish_reason = "stop"
            prompt = sum(len(str(m.get("content") or "").split()) for m in messages)
            completion = max(1, len(answer.split()))
            response.usage = Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion)
        response.model = model
        return response

    async def acompletion(self, *args: Any, **kwargs: Any) -> ModelResponse:
        return await asyncio.to_thread(self.completion, *args, **kwargs)


def _provider_model_name(model: str) -> str:
    """The model name litellm reports for a real call to ``model`` (``openai/gpt-4o`` -> ``gpt-4o``)."""
    try:
        return str(litellm.get_llm_provider(model)[0])
    except Exception:  # an unknown provider: report the name as given
        return model


_SETUP_LOCK = threading.Lock()


def register() -> None:
    """Register the ``scripted`` provider with litellm. Safe to call any number of times."""
    with _SETUP_LOCK:
        if not any(item.get("provider") == SCRIPTED_PROVIDER for item in litellm.custom_provider_map):
            litellm.custom_provider_map.append({"provider": SCRIPTED_PROVIDER, "custom_handler": ScriptedProvider()})


register()
