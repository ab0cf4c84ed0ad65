"""structured_call against a real OpenAI-compatible ``llama_cpp.server`` (what `tailor model serve` runs)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Literal

import pytest
from pydantic import BaseModel, Field, SecretStr

from tailor.config import Settings, get_settings
from tailor.models.llm import ModelCallFailed, ModelCallResult, model_is_private, structured_call
from tests.fixtures.model import free_port, start_llama_server, stop_process


class HireProfile(BaseModel):
    role: str = Field(description="The job title.")
    seniority: Literal["junior", "mid", "senior", "staff"]
    years_experience: int = Field(ge=0, le=60)
    skills: list[str] = Field(max_length=8)


MESSAGES = [
    {"role": "system", "content": "Extract the hire's profile from the résumé as JSON."},
    {
        "role": "user",
        "content": "Jane Doe — Senior Backend Engineer. 8 years building payment APIs in Python and Go; "
        "PostgreSQL, Kafka, Kubernetes.",
    },
]


class Essay(BaseModel):
    text: str


ESSAY_PROMPT = [{"role": "user", "content": "Write a 300-word essay on onboarding new engineers."}]


def server_settings(api_base: str, **update: object) -> Settings:
    return get_settings().model_copy(
        update={"model": "openai/local", "api_base": api_base, "api_key": SecretStr("sk-none"), **update}
    )


@pytest.mark.slow
@pytest.mark.xdist_group("local_model")
def test_structured_call_through_the_server(llama_server_settings: Settings) -> None:
    assert model_is_private(llama_server_settings.model, llama_server_settings.api_base)
    result = structured_call(HireProfile, MESSAGES, settings=llama_server_settings, max_tokens=200, temperature=0.0)
    assert isinstance(result, ModelCallResult)
    assert result.model == "openai/local"
    assert 0 <= result.value.years_experience <= 60
    assert result.value.skills
    assert result.completion_tokens > 10


@pytest.mark.slow
@pytest.mark.xdist_group("local_model")
def test_server_enforces_the_schema_grammar(llama_server_settings: Settings) -> None:
    """Field names the prompt never mentions only appear if the schema reached the server's grammar."""

    class Odd(BaseModel):
        zq_code: int
        colour: Literal["teal", "mauve"]

    result = structured_call(
        Odd, [{"role": "user", "content": "Pick a colour."}], settings=llama_server_settings, max_tokens=40
    )
    assert result.value.colour in {"teal", "mauve"}


def test_closed_port_is_a_connection_failure() -> None:
    closed = server_settings(f"http://127.0.0.1:{free_port()}/v1", model_retries=1)
    with pytest.raises(ModelCallFailed) as info:
        structured_call(HireProfile, MESSAGES, settings=closed)
    assert info.value.kind == "connection"
    assert info.value.retries == 1
    assert "Connection refused" in info.value.reason
    assert "sk-none" not in str(info.value)


@pytest.mark.slow
@pytest.mark.xdist_group("local_model")
def test_server_killed_mid_flight_is_a_connection_failure(local_model_available: Path, tmp_path: Path) -> None:
    proc, base_url = start_llama_server(local_model_available, tmp_path / "server.log")
    try:
        settings = server_settings(base_url, model_retries=0)
        outcome: list[BaseException] = []

        def call() -> None:
            try:
                # A long answer, so the server is certainly still generating when it dies.
                structured_call(Essay, ESSAY_PROMPT, settings=settings, max_tokens=400, max_retries=0)
            except BaseException as exc:
                outcome.append(exc)

        worker = threading.Thread(target=call)
        worker.start()
        time.sleep(1.5)
        proc.kill()
        worker.join(timeout=60)
    finally:
        stop_process(proc)

    assert not worker.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], ModelCallFailed)
    assert outcome[0].kind == "connection"
