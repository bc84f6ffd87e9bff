"""The real plumbing end to end: a real model (SmolLM2-135M, llama.cpp) over the OpenAI HTTP API.

Asserts structure and validation only: a 135M model's prose is weak, its JSON under a bounded
schema is what must hold (with the ``json_schema`` method, temperature 0 and max_tokens of at
least 800 it gave a valid object 20 times out of 20; ``json_mode`` invented keys and
``function_calling`` returned None).
"""

from __future__ import annotations

from typing import Annotated, Literal

from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from bot.llm.factory import build_llm
from tests.support.llm import llm_settings
from tests.support.llm.local_model import LocalModelServer

Short = Annotated[str, Field(min_length=1, max_length=60)]


class PersonaSketch(BaseModel):
    title: Short
    department: Literal["sales", "marketing", "finance", "operations", "it", "other"]
    seniority: Annotated[int, Field(ge=1, le=5)]
    goals: Annotated[list[Short], Field(min_length=1, max_length=3)]


MESSAGES = [
    SystemMessage("You describe B2B buyer personas. Answer with JSON only."),
    HumanMessage(
        "Describe the person who buys accounting software at a 200-person fintech company: "
        "job title, department, seniority from 1 (junior) to 5 (executive), and up to 3 goals."
    ),
]


def test_structured_output_from_the_real_model_is_a_valid_object(local_llm: LocalModelServer) -> None:
    client = build_llm(llm_settings(local_llm.base_url, llm_model="smollm2", llm_timeout_seconds=30))
    assert client is not None
    # The client's output limit is fitted to the 4,096-token context the server reports (512).
    persona = client.structured(PersonaSketch, MESSAGES, max_output_tokens=min(800, client.max_output_tokens))
    assert isinstance(persona, PersonaSketch)
    assert 1 <= persona.seniority <= 5 and 1 <= len(persona.goals) <= 3
    [call] = client.usage.calls
    assert call.ok and call.prompt_tokens > 0


def test_text_from_the_real_model(local_llm: LocalModelServer) -> None:
    client = build_llm(llm_settings(local_llm.base_url, llm_model="smollm2", llm_timeout_seconds=30))
    assert client is not None
    answer = client.text([HumanMessage("Name one thing a sales team needs.")], max_output_tokens=40)
    assert answer.strip()
    assert local_llm.pid is not None
