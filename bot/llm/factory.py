"""Build the LLM client from Settings, or ``None`` when the assistant runs offline.

Providers: ``openai`` (OPENAI_API_KEY, LLM_MODEL, optional OPENAI_BASE_URL), ``openai-compatible``
(LLM_BASE_URL + LLM_MODEL, key optional: Ollama, vLLM, llama.cpp, LM Studio), ``offline`` (no
model), and ``auto`` (the default: compatible if a base URL is set, else OpenAI if a key is set,
else offline). Both real providers use LangChain's ChatOpenAI over chat completions, with its own
retries off (the client retries within a deadline) and token counting routed to the on-disk
tokenizer, so nothing ever reaches for tiktoken's downloads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.llm.client import LlmClient, RetryPolicy
from bot.llm.tokens import token_ids
from bot.metrics import Metrics
from bot.settings import Settings

Provider = Literal["openai", "openai-compatible", "offline"]
#: Sent as the API key to compatible servers that need none (the OpenAI SDK insists on one).
NO_KEY = "not-needed"


class LlmConfigError(ValueError):
    """The LLM settings contradict each other; the message names the setting to fix."""


@dataclass(frozen=True)
class LlmTarget:
    """Where LLM calls go, safe to print: never carries the key."""

    provider: Provider
    model: str | None = None
    base_url: str | None = None
    has_key: bool = False

    def describe(self) -> str:
        if self.provider == "offline":
            return "offline (no language model)"
        where = self.base_url or "api.openai.com"
        return f"{self.provider} model {self.model} at {where}"


def resolve_target(settings: Settings) -> LlmTarget:
    """Which provider the settings select, checked; raises :class:`LlmConfigError` if incomplete."""
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else ""
    provider = settings.llm_provider
    if provider == "auto":
        provider = "openai-compatible" if settings.llm_base_url else "openai" if key else "offline"
    if provider == "offline":
        return LlmTarget("offline")
    if provider == "openai":
        if not key:
            raise LlmConfigError("LLM_PROVIDER=openai needs OPENAI_API_KEY")
        return LlmTarget("openai", settings.llm_model, settings.openai_base_url, True)
    if not settings.llm_base_url:
        raise LlmConfigError(
            "LLM_PROVIDER=openai-compatible needs LLM_BASE_URL (e.g. http://127.0.0.1:11434/v1)"
        )
    return LlmTarget("openai-compatible", settings.llm_model, settings.llm_base_url, bool(key))


def build_llm(settings: Settings, *, metrics: Metrics | None = None) -> LlmClient | None:
    """The client for the configured provider, or ``None`` to run offline; it counts its calls,
    tokens, errors and retries in ``metrics`` when given."""
    target = resolve_target(settings)
    if target.provider == "offline":
        return None
    from langchain_openai import ChatOpenAI
    from pydantic import SecretStr

    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else NO_KEY
    model = ChatOpenAI(
        model=target.model or settings.llm_model,
        api_key=SecretStr(key),
        base_url=target.base_url,
        timeout=settings.llm_timeout_seconds,
        max_retries=0,
        temperature=0.0,
        use_responses_api=False,
        custom_get_token_ids=token_ids,
    )
    return LlmClient(
        model,
        prompt_token_budget=settings.llm_prompt_token_budget,
        max_output_tokens=settings.llm_max_output_tokens,
        retry=RetryPolicy(
            max_retries=settings.llm_max_retries,
            attempt_timeout_seconds=settings.llm_timeout_seconds,
            deadline_seconds=settings.llm_deadline_seconds,
        ),
        label=target.describe(),
        secrets=(key,) if key != NO_KEY else (),
        metrics=metrics,
    )
