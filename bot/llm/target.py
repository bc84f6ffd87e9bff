"""Which language model the settings select: provider, model, URL, checked and safe to print.

``LLM_PROVIDER`` and ``LLM_MODEL`` (which may name the provider: ``anthropic:claude-3-5-haiku-latest``,
``ollama:llama3.2``) resolve to an :class:`LlmTarget`, or an :class:`LlmConfigError` that names the
setting to fix. ``bot.llm.chat_models`` builds the LangChain model for a target.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from bot.settings import Settings

Provider = Literal["openai", "anthropic", "ollama", "openai-compatible", "offline"]
PROVIDERS: tuple[str, ...] = get_args(Provider)
#: Sent as the API key to compatible servers that need none (the OpenAI SDK insists on one).
NO_KEY = "not-needed"
DEFAULT_OLLAMA_URL = "http://127.0.0.1:11434"
_DEFAULT_HOSTS = {"openai": "api.openai.com", "anthropic": "api.anthropic.com"}
#: Example models, named when LLM_MODEL is left at its OpenAI default for another provider.
_EXAMPLE_MODELS = {"anthropic": "claude-3-5-haiku-latest", "ollama": "llama3.2"}


class LlmConfigError(ValueError):
    """The LLM settings contradict each other; the message names the setting to fix."""


class LlmProviderMissing(LlmConfigError):
    """The provider's LangChain package is not installed; the message names the extra to install."""


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
        where = self.base_url or _DEFAULT_HOSTS.get(self.provider, "?")
        return f"{self.provider} model {self.model} at {where}"


def split_model(model: str) -> tuple[str | None, str]:
    """``anthropic:claude-3-5-haiku-latest`` → (``anthropic``, ``claude-3-5-haiku-latest``); a name
    whose prefix is no provider (Ollama's ``llama3.2:3b``) is kept whole."""
    prefix, sep, rest = model.partition(":")
    if sep and prefix in PROVIDERS and prefix != "offline" and rest:
        return prefix, rest
    return None, model


def _secret(value: object) -> str:
    getter = getattr(value, "get_secret_value", None)
    return str(getter()) if getter is not None else ""


def resolve_target(settings: Settings) -> LlmTarget:
    """Which provider the settings select, checked; raises :class:`LlmConfigError` if incomplete."""
    openai_key = _secret(settings.openai_api_key)
    anthropic_key = _secret(settings.anthropic_api_key)
    named, model = split_model(settings.llm_model)
    provider: str = settings.llm_provider
    if provider == "offline":
        return LlmTarget("offline")
    if provider == "auto":
        provider = named or (
            "openai-compatible"
            if settings.llm_base_url
            else "openai"
            if openai_key
            else "anthropic"
            if anthropic_key
            else "offline"
        )
    elif named is not None and named != provider:
        raise LlmConfigError(
            f"LLM_MODEL={settings.llm_model} names the provider {named!r} but LLM_PROVIDER={provider}"
        )
    if provider == "offline":
        return LlmTarget("offline")
    default_model = Settings.model_fields["llm_model"].default
    if provider in _EXAMPLE_MODELS and model == default_model:
        raise LlmConfigError(
            f"LLM_PROVIDER={provider} needs LLM_MODEL (e.g. {provider}:{_EXAMPLE_MODELS[provider]})"
        )
    if provider == "openai":
        if not openai_key:
            raise LlmConfigError("LLM_PROVIDER=openai needs OPENAI_API_KEY")
        return LlmTarget("openai", model, settings.openai_base_url, True)
    if provider == "anthropic":
        if not anthropic_key:
            raise LlmConfigError("LLM_PROVIDER=anthropic needs ANTHROPIC_API_KEY")
        return LlmTarget("anthropic", model, settings.anthropic_base_url, True)
    if provider == "ollama":
        return LlmTarget("ollama", model, settings.llm_base_url or DEFAULT_OLLAMA_URL, False)
    if not settings.llm_base_url:
        raise LlmConfigError(
            "LLM_PROVIDER=openai-compatible needs LLM_BASE_URL (e.g. http://127.0.0.1:8080/v1)"
        )
    return LlmTarget("openai-compatible", model, settings.llm_base_url, bool(openai_key))
