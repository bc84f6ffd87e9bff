"""build_llm: which provider the settings select, and a ChatOpenAI that never needs tiktoken."""

from __future__ import annotations

from typing import Any

import pytest
import tiktoken

from bot.llm.factory import LlmConfigError, build_llm, resolve_target
from bot.settings import Settings

KEY = "sk-test-abcdefghijklmnop"


def settings(**values: Any) -> Settings:
    base: dict[str, Any] = {"openai_api_key": None, "llm_base_url": None, "openai_base_url": None}
    base.update(values)
    return Settings(_env_file=None, **base)  # type: ignore[call-arg]


def test_offline_by_default_and_when_asked() -> None:
    assert build_llm(settings()) is None
    assert build_llm(settings(openai_api_key=KEY, llm_provider="offline")) is None


def test_auto_picks_compatible_then_openai() -> None:
    assert resolve_target(settings(openai_api_key=KEY)).provider == "openai"
    target = resolve_target(settings(openai_api_key=KEY, llm_base_url="http://127.0.0.1:11434/v1"))
    assert (target.provider, target.base_url, target.has_key) == (
        "openai-compatible",
        "http://127.0.0.1:11434/v1",
        True,
    )


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"llm_provider": "openai"}, "needs OPENAI_API_KEY"),
        ({"llm_provider": "openai-compatible"}, "needs LLM_BASE_URL"),
    ],
)
def test_incomplete_settings_name_what_is_missing(values: dict[str, Any], message: str) -> None:
    with pytest.raises(LlmConfigError, match=message):
        build_llm(settings(**values))


def test_client_carries_the_settings_and_hides_the_key() -> None:
    client = build_llm(
        settings(
            openai_api_key=KEY,
            llm_model="gpt-test",
            llm_timeout_seconds=7,
            llm_deadline_seconds=30,
            llm_max_retries=4,
            llm_prompt_token_budget=9_000,
        )
    )
    assert client is not None
    assert (
        client.retry.attempt_timeout_seconds,
        client.retry.deadline_seconds,
        client.retry.max_retries,
    ) == (7, 30, 4)
    assert client.prompt_token_budget == 9_000
    model: Any = client.model
    assert (model.model_name, model.max_retries, model.temperature) == ("gpt-test", 0, 0.0)
    for text in (repr(client), client.label, repr(model), str(model)):
        assert "abcdefghijklmnop" not in text


def test_token_counting_never_touches_tiktoken(monkeypatch: pytest.MonkeyPatch) -> None:
    """tiktoken fetches its encoding files at run time, which fails offline."""

    def no_download(*_: Any, **__: Any) -> Any:
        raise AssertionError("tiktoken was asked for an encoding")

    monkeypatch.setattr(tiktoken, "get_encoding", no_download)
    monkeypatch.setattr(tiktoken, "encoding_for_model", no_download)
    client = build_llm(settings(llm_base_url="http://127.0.0.1:9/v1"))
    assert client is not None
    assert client.model.get_num_tokens("how many tokens is this?") > 0
