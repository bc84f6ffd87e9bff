"""Settings → provider and chat model through ``init_chat_model``: ``provider:model`` names,
each class's own output-limit field, and a missing provider package as one line naming the extra."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from bot.llm.factory import LlmConfigError, LlmProviderMissing, build_llm, check_llm_settings, resolve_target
from bot.settings import Settings

KEY = "sk-ant-unit-abcdefghijkl"


def settings(**values: Any) -> Settings:
    base: dict[str, Any] = {
        "openai_api_key": None,
        "anthropic_api_key": None,
        "llm_base_url": None,
        "openai_base_url": None,
        "anthropic_base_url": None,
    }
    base.update(values)
    return Settings(_env_file=None, **base)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("values", "provider", "model"),
    [
        (
            {"llm_model": "anthropic:claude-3-5-haiku-latest", "anthropic_api_key": KEY},
            "anthropic",
            "claude-3-5-haiku-latest",
        ),
        ({"llm_model": "ollama:llama3.2:3b"}, "ollama", "llama3.2:3b"),
        ({"llm_provider": "ollama", "llm_model": "llama3.2:3b"}, "ollama", "llama3.2:3b"),
        ({"llm_model": "openai:gpt-4o-mini", "openai_api_key": "sk-x"}, "openai", "gpt-4o-mini"),
        (
            {"anthropic_api_key": KEY, "llm_model": "claude-3-5-haiku-latest"},
            "anthropic",
            "claude-3-5-haiku-latest",
        ),
        (
            {"llm_provider": "anthropic", "llm_model": "anthropic:claude-x", "anthropic_api_key": KEY},
            "anthropic",
            "claude-x",
        ),
    ],
)
def test_provider_from_settings_and_model_prefix(values: dict[str, Any], provider: str, model: str) -> None:
    target = resolve_target(settings(**values))
    assert (target.provider, target.model) == (provider, model)


def test_old_values_keep_working() -> None:
    assert resolve_target(settings()).provider == "offline"
    target = resolve_target(settings(llm_base_url="http://127.0.0.1:8080/v1", llm_model="smollm2"))
    assert (target.provider, target.model) == ("openai-compatible", "smollm2")
    assert resolve_target(settings(openai_api_key="sk-x")).model == "gpt-4o-mini"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"llm_provider": "anthropic", "llm_model": "claude-x"}, "needs ANTHROPIC_API_KEY"),
        ({"llm_provider": "anthropic", "anthropic_api_key": KEY}, "needs LLM_MODEL"),
        ({"llm_provider": "ollama"}, "needs LLM_MODEL"),
        ({"llm_provider": "openai", "llm_model": "anthropic:claude-x"}, "names the provider 'anthropic'"),
    ],
)
def test_incomplete_or_contradictory_settings(values: dict[str, Any], message: str) -> None:
    with pytest.raises(LlmConfigError, match=message):
        build_llm(settings(**values))


def test_each_provider_gets_its_own_limit_field_and_no_sdk_retries() -> None:
    anthropic = build_llm(
        settings(llm_model="anthropic:claude-x", anthropic_api_key=KEY, llm_max_output_tokens=900)
    )
    assert anthropic is not None
    model: Any = anthropic.model
    assert (type(model).__name__, model.max_tokens, model.max_retries, model.temperature) == (
        "ChatAnthropic",
        900,
        0,
        0.0,
    )
    assert anthropic._limited(120).max_tokens == 120  # type: ignore[attr-defined]
    assert "abcdefghijkl" not in repr(anthropic) + anthropic.label

    ollama = build_llm(settings(llm_model="ollama:llama3.2", llm_base_url="http://127.0.0.1:9"))
    assert ollama is not None
    model = ollama.model
    assert (type(model).__name__, model.base_url, model.num_predict) == (
        "ChatOllama",
        "http://127.0.0.1:9",
        4_000,
    )
    limited: Any = ollama._limited(120)
    assert (limited.num_predict, limited.temperature) == (120, 0.0)


def test_a_missing_provider_package_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "langchain_anthropic", None)  # as if not installed
    with pytest.raises(LlmProviderMissing) as caught:
        check_llm_settings(settings(llm_model="anthropic:claude-x", anthropic_api_key=KEY))
    message = str(caught.value)
    assert "pip install 'icp-assistant[anthropic]'" in message and "\n" not in message
    assert isinstance(caught.value, LlmConfigError)
