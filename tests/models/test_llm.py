"""The model caller: parsing, re-asks, transient retries, truncation, error kinds; the local provider.

The fast tests pass a ``ScriptedModel``: its answers go through litellm (a registered provider),
instructor and our classification exactly as a real model's do.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any, Literal

import litellm
import pytest
from pydantic import BaseModel, Field, SecretStr

from tailor.config import Settings, get_settings
from tailor.models import localworker
from tailor.models.llm import (
    LiteLLMModel,
    ModelCallFailed,
    ModelCallResult,
    _call_slot,
    choose_mode,
    is_local_model,
    model_is_private,
    model_status,
    structured_call,
    tighten_gbnf,
)
from tailor.models.local_provider import schema_from_response_format
from tailor.models.scripted import Script, ScriptedModel, ScriptExhausted
from tests.conftest import LiveModelGuard, LiveModelRefused
from tests.fixtures.drafting import CallSpy
from tests.fixtures.faults import connection_error, rate_limit_error, server_error, timeout_error
from tests.fixtures.model import SMALL_LOCAL_MODEL_ID

MSGS = [{"role": "user", "content": "Jane: senior backend engineer, 8 years of Python and Go."}]
VALID = '{"role": "Backend Engineer", "seniority": "senior", "years": 8, "skills": ["Python", "Go"]}'
OUT_OF_RANGE = '{"role": "Backend Engineer", "seniority": "senior", "years": 300, "skills": []}'
# Scripted answers never reach a model: any model string works, and local/ keeps JSON_SCHEMA parsing.
MOCK_MODEL = "local/qwen2.5-coder-0.5b"


class Profile(BaseModel):
    role: str
    seniority: Literal["junior", "mid", "senior", "staff"]
    years: int = Field(ge=0, le=60)
    skills: list[str]


def settings(**update: Any) -> Settings:
    return get_settings().model_copy(update={"model_retries": 1, **update})


def scripted_call(
    answer: Script, *, model: str = MOCK_MODEL, settings_: Settings | None = None, **kwargs: Any
) -> ModelCallResult[Profile]:
    """One call on a scripted model: ``answer`` for every request, or a list, one per request."""
    return ScriptedModel([answer]).call(Profile, MSGS, model=model, settings=settings_ or settings(), **kwargs)


def truncated(content: str = '{"role": "Backend') -> dict[str, Any]:
    return {
        "choices": [{"message": {"role": "assistant", "content": content}, "finish_reason": "length"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }


# --------------------------------------------------------------------------- parsing and re-asks
def test_valid_json_is_parsed_with_usage() -> None:
    result = scripted_call(VALID)
    assert result.value == Profile(role="Backend Engineer", seniority="senior", years=8, skills=["Python", "Go"])
    assert type(result.value) is Profile  # not instructor's subclass
    assert result.model == MOCK_MODEL
    assert result.retries == 0
    assert result.prompt_tokens > 0 and result.completion_tokens > 0


def test_invalid_then_valid_is_reasked_once() -> None:
    result = scripted_call([OUT_OF_RANGE, VALID])
    assert result.value.years == 8
    assert result.retries == 1


def test_integer_bounds_are_enforced_by_validation() -> None:
    with pytest.raises(ModelCallFailed) as info:
        scripted_call(OUT_OF_RANGE, max_retries=2)
    failure = info.value
    assert failure.kind == "validation"
    assert failure.retries == 2
    assert "years" in failure.reason and "60" in failure.reason
    assert "\n" not in str(failure)


def test_hosted_models_use_tool_calls() -> None:
    tool_answer = {
        "choices": [
            {
                "finish_reason": "tool_calls",
                "message": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "Profile", "arguments": VALID},
                        }
                    ],
                },
            }
        ],
        "usage": {"prompt_tokens": 30, "completion_tokens": 12, "total_tokens": 42},
    }
    result = scripted_call(tool_answer, model="anthropic/claude-sonnet-4-5")
    assert result.value.skills == ["Python", "Go"]
    assert (result.prompt_tokens, result.completion_tokens) == (30, 12)


def test_non_json_is_a_validation_failure() -> None:
    with pytest.raises(ModelCallFailed) as info:
        scripted_call("Sure!", max_retries=0)
    assert info.value.kind == "validation"
    assert info.value.retries == 0


# --------------------------------------------------------------------------- the scripted model
def test_a_scripted_model_takes_the_real_callers_path(spy: CallSpy) -> None:
    assert ScriptedModel.call is LiteLLMModel.call, "only where the answers come from differs"
    scripted = ScriptedModel([[OUT_OF_RANGE, VALID], "not json"])
    server = settings(api_base="http://127.0.0.1:9/v1", api_key=SecretStr("sk-none"))  # JSON mode, never reached
    result = scripted.call(Profile, MSGS, model="openai/served", settings=server, max_tokens=99)
    assert result.value.years == 8 and result.retries == 1  # re-asked after our validator refused 300 years
    # litellm saw two requests to the model named, as it would for the real provider.
    assert [(c["model"], c["max_tokens"]) for c in spy.calls] == [("served", 99)] * 2
    assert [r["messages"][0] for r in scripted.requests] == [MSGS[0], MSGS[0]]
    with pytest.raises(ModelCallFailed) as info:
        scripted.call(Profile, MSGS, model=MOCK_MODEL, settings=settings(), max_retries=0)
    assert info.value.kind == "validation"
    with pytest.raises(ScriptExhausted):
        scripted.call(Profile, MSGS, model=MOCK_MODEL, settings=settings())
    assert scripted.remaining == 0 and len(scripted.requests) == 3


def test_live_model_calls_are_refused_in_tests_that_did_not_ask(no_live_model: LiveModelGuard, tmp_path: Any) -> None:
    assert no_live_model.active
    with pytest.raises(LiveModelRefused):
        litellm.completion(model="openai/gpt-4o-mini", messages=MSGS)
    with pytest.raises(LiveModelRefused):
        localworker.LocalWorker(tmp_path / "model.gguf", n_ctx=512, n_threads=1).ensure_running()
    # Scripted answers and the tests' own servers on loopback are not live model calls.
    assert scripted_call(VALID).value.years == 8
    with pytest.raises(ModelCallFailed) as info:
        closed = settings(model="openai/x", api_base="http://127.0.0.1:9/v1", api_key=SecretStr("sk-none"))
        structured_call(Profile, MSGS, settings=closed)
    assert info.value.kind == "connection"
    assert len(no_live_model.refused) == 2
    no_live_model.refused.clear()  # refused as it should be: the test itself passes


@pytest.mark.live_model
def test_a_test_that_asks_may_call_the_model(no_live_model: LiveModelGuard) -> None:
    assert not no_live_model.active


# --------------------------------------------------------------------------- transient failures
def _auth() -> Exception:
    return litellm.AuthenticationError(message="bad key", model="m", llm_provider="openai")


@pytest.mark.parametrize(
    ("make", "kind", "retried"),
    [
        (timeout_error, "timeout", True),
        (connection_error, "connection", True),
        (rate_limit_error, "rate_limit", True),
        (server_error, "server", True),
        (_auth, "auth", False),
        (lambda: RuntimeError("weird failure"), "server", True),  # litellm wraps it as a mock 500
    ],
)
def test_provider_errors_become_model_call_failed(make: Any, kind: str, retried: bool) -> None:
    with pytest.raises(ModelCallFailed) as info:
        scripted_call(make(), model="openai/gpt-4o-mini")
    assert info.value.kind == kind
    assert info.value.transient is retried
    assert info.value.retries == (1 if retried else 0)
    assert "Traceback" not in str(info.value) and "\n" not in str(info.value)


def test_transient_error_then_success() -> None:
    server = settings(model="openai/local", api_base="http://127.0.0.1:9/v1", api_key=SecretStr("sk-none"))
    result = scripted_call([rate_limit_error(), VALID], model=server.model, settings_=server)
    assert result.value.years == 8
    assert result.retries == 1


def test_local_timeouts_are_not_retried() -> None:
    with pytest.raises(ModelCallFailed) as info:
        scripted_call(timeout_error())
    assert info.value.kind == "timeout"
    assert info.value.retries == 0


def test_api_key_never_appears_in_the_message() -> None:
    key = "sk-live-0123456789abcdef"
    leaky = litellm.AuthenticationError(message=f"Incorrect API key provided: {key}", model="m", llm_provider="openai")
    with pytest.raises(ModelCallFailed) as info:
        scripted_call(leaky, model="openai/gpt-4o", settings_=settings(api_key=SecretStr(key)))
    assert key not in str(info.value)
    assert info.value.kind == "auth"


# --------------------------------------------------------------------------- truncation
def test_truncated_output_is_retried_with_a_larger_budget() -> None:
    result = scripted_call([truncated(), VALID])
    assert result.value.role == "Backend Engineer"
    assert result.retries == 1


def test_output_truncated_twice_is_a_typed_failure() -> None:
    with pytest.raises(ModelCallFailed) as info:
        scripted_call(truncated(), max_tokens=64)
    assert info.value.kind == "truncated"
    assert "128 tokens" in info.value.reason


# --------------------------------------------------------------------------- routing and privacy
def test_model_privacy_and_modes() -> None:
    assert is_local_model("local/qwen2.5-coder-1.5b")
    assert not is_local_model("openai/gpt-4o")
    assert model_is_private("local/qwen2.5-coder-1.5b", None)
    assert model_is_private("openai/local", "http://127.0.0.1:8765/v1")
    assert model_is_private("openai/local", "http://localhost:8765/v1")
    assert not model_is_private("openai/gpt-4o", None)
    assert not model_is_private("openai/local", "https://llm.example.com/v1")
    assert choose_mode("local/qwen2.5-coder-1.5b", None).value == "json_schema_mode"
    assert choose_mode("openai/local", "http://127.0.0.1:8765/v1").value == "json_schema_mode"
    assert choose_mode("openai/gpt-4o", None).value == "tool_call"
    assert choose_mode("anthropic/claude-sonnet-4-5", None).value == "tool_call"


def test_response_format_schema_is_found_in_both_shapes() -> None:
    schema = Profile.model_json_schema()
    assert schema_from_response_format({"type": "json_schema", "json_schema": {"name": "P", "schema": schema}}) == (
        schema
    )
    assert schema_from_response_format({"type": "json_object", "schema": schema}) == schema
    assert schema_from_response_format({"type": "json_object"}) is None
    assert schema_from_response_format(None) is None


def test_grammar_forbids_raw_control_characters_in_strings() -> None:
    pytest.importorskip("llama_cpp")
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    grammar = tighten_gbnf(json_schema_to_gbnf(json.dumps(Profile.model_json_schema())))
    char_rule = next(line for line in grammar.splitlines() if line.startswith("char ::="))
    assert "\\x00-\\x1F" in char_rule
    assert tighten_gbnf('root ::= "x"') == 'root ::= "x"'  # no strings, nothing to tighten
    with pytest.raises(ValueError, match="char"):
        tighten_gbnf("root ::= char\nchar ::= [a-z]")


def test_concurrent_calls_are_bounded() -> None:
    active = 0
    peak = 0
    lock = threading.Lock()

    def work() -> None:
        nonlocal active, peak
        with _call_slot(2):
            with lock:
                active += 1
                peak = max(peak, active)
            time.sleep(0.05)
            with lock:
                active -= 1

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak == 2


def test_model_status_reports_configuration() -> None:
    status = model_status(get_settings())
    assert status["model"] == "local/qwen2.5-coder-1.5b"  # the default (see docs/models.md)
    assert status["private"] is True
    assert set(status["local_models"]) == {"qwen2.5-coder-1.5b", "qwen2.5-coder-0.5b"}
    assert status["api_key_set"] is False


def test_missing_local_model_is_unavailable(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = settings(model_dir=tmp_path)
    with pytest.raises(ModelCallFailed) as info:
        structured_call(Profile, MSGS, model="local/qwen2.5-coder-0.5b", settings=empty)
    assert info.value.kind == "unavailable"
    assert "tailor model fetch" in info.value.reason


# --------------------------------------------------------------------------- the real local model
RESUME = (
    "Jane Doe — Senior Backend Engineer. 8 years building payment APIs in Python and Go; "
    "PostgreSQL, Kafka, Kubernetes. Mentored four junior engineers."
)


class HireProfile(BaseModel):
    role: str = Field(description="The job title.")
    seniority: Literal["junior", "mid", "senior", "staff"]
    years_experience: int = Field(ge=0, le=60)
    skills: list[str] = Field(max_length=8)


class Note(BaseModel):
    title: str
    body: str


@pytest.mark.slow
@pytest.mark.xdist_group("local_model")
def test_local_model_extracts_a_profile(local_model_available: Any) -> None:
    messages = [
        {"role": "system", "content": "Extract the hire's profile from the résumé as JSON."},
        {"role": "user", "content": RESUME},
    ]
    result = structured_call(HireProfile, messages, model=SMALL_LOCAL_MODEL_ID, max_tokens=200, temperature=0.0)
    profile = result.value
    assert profile.seniority == "senior"
    assert profile.years_experience == 8
    assert "python" in {s.lower() for s in profile.skills}
    assert result.completion_tokens > 10 and result.prompt_tokens > 20


@pytest.mark.slow
@pytest.mark.xdist_group("local_model")
def test_local_model_string_with_line_break_is_valid_json(local_model_available: Any) -> None:
    """Without the tightened grammar this exact request yields a raw newline inside a JSON string."""
    messages = [
        {
            "role": "user",
            "content": "Return a note whose body is a Python function that adds two numbers (multiple lines of code).",
        }
    ]
    result = structured_call(Note, messages, model=SMALL_LOCAL_MODEL_ID, max_tokens=120, temperature=0.0)
    assert "def " in result.value.body
    assert "\n" in result.value.body  # a real line break, decoded from the escape


@pytest.mark.slow
@pytest.mark.xdist_group("local_model")
def test_local_model_truncation_and_timeout(local_model_available: Any) -> None:
    messages = [{"role": "user", "content": RESUME}]
    small_context = settings(local_context=1024)
    with pytest.raises(ModelCallFailed) as info:
        structured_call(HireProfile, messages, model=SMALL_LOCAL_MODEL_ID, settings=small_context, max_tokens=4)
    assert info.value.kind == "truncated"
    # The call's own settings reach the provider (not just the process-wide ones).
    assert any(worker.n_ctx == 1024 for worker in localworker.workers())

    slow = settings(model_timeout_s=0.01)
    with pytest.raises(ModelCallFailed) as info:
        structured_call(HireProfile, messages, model=SMALL_LOCAL_MODEL_ID, settings=slow, max_tokens=200)
    assert info.value.kind == "timeout"


@pytest.mark.slow
@pytest.mark.xdist_group("local_model")
def test_local_provider_through_plain_litellm(local_model_available: Any) -> None:
    """The provider alone: json_object with a schema, usage, and the async path."""
    schema = {
        "type": "object",
        "properties": {"zq_code": {"type": "integer"}, "colour": {"enum": ["teal", "mauve"]}},
        "required": ["zq_code", "colour"],
    }
    kwargs: dict[str, Any] = {
        "model": SMALL_LOCAL_MODEL_ID,
        "messages": [{"role": "user", "content": "Pick a colour."}],
        "max_tokens": 40,
        "response_format": {"type": "json_object", "schema": schema},
    }
    response = litellm.completion(**kwargs)
    data = json.loads(response.choices[0].message.content)
    assert set(data) == {"zq_code", "colour"} and data["colour"] in {"teal", "mauve"}
    assert response.usage.completion_tokens > 0

    import asyncio

    async_response = asyncio.run(litellm.acompletion(**kwargs))
    assert json.loads(async_response.choices[0].message.content)["colour"] in {"teal", "mauve"}
