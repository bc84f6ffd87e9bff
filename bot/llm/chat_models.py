"""The LangChain chat model for a target, built with ``langchain``'s ``init_chat_model``.

One function per provider supplies that class's own options (field names differ: ``max_tokens``
for ChatOpenAI and ChatAnthropic, ``num_predict`` for ChatOllama); every model gets temperature 0,
the SDK's own retries off where it has them (the client retries within a deadline), the request
timeout from LLM_TIMEOUT_SECONDS and token counting by the on-disk tokenizer (never tiktoken's
downloads). A provider whose package is not installed raises :class:`LlmProviderMissing` naming
the extra, e.g. ``pip install 'icp-assistant[anthropic]'``.
"""

from __future__ import annotations

import importlib
from typing import Any

from langchain_core.language_models import BaseChatModel
from pydantic import SecretStr

from bot.llm.target import NO_KEY, LlmProviderMissing, LlmTarget
from bot.llm.tokens import token_ids
from bot.settings import Settings

DISTRIBUTION = "icp-assistant"
#: provider → (its LangChain package, the extra that installs it or None when always installed,
#: the provider name ``init_chat_model`` knows).
PACKAGES: dict[str, tuple[str, str | None, str]] = {
    "openai": ("langchain_openai", None, "openai"),
    "openai-compatible": ("langchain_openai", None, "openai"),
    "anthropic": ("langchain_anthropic", "anthropic", "anthropic"),
    "ollama": ("langchain_ollama", "ollama", "ollama"),
}


def require_package(provider: str) -> None:
    """Import the provider's LangChain package, or raise one clear line naming what to install."""
    package, extra, _ = PACKAGES[provider]
    try:
        importlib.import_module(package)
    except ImportError:
        name = package.replace("_", "-")
        install = f"pip install '{DISTRIBUTION}[{extra}]'" if extra else f"pip install {name}"
        raise LlmProviderMissing(
            f"LLM_PROVIDER={provider} needs the {name} package, which is not installed: {install}"
        ) from None


def _openai(target: LlmTarget, settings: Settings, max_output_tokens: int) -> tuple[dict[str, Any], str]:
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else ""
    options = {
        "api_key": SecretStr(key or NO_KEY),
        "base_url": target.base_url,
        "timeout": settings.llm_timeout_seconds,
        "max_retries": 0,
        "max_tokens": max_output_tokens,
        "use_responses_api": False,
    }
    return options, key


def _anthropic(target: LlmTarget, settings: Settings, max_output_tokens: int) -> tuple[dict[str, Any], str]:
    key = settings.anthropic_api_key.get_secret_value() if settings.anthropic_api_key else ""
    options: dict[str, Any] = {
        "api_key": SecretStr(key),
        "timeout": settings.llm_timeout_seconds,
        "max_retries": 0,
        "max_tokens": max_output_tokens,
    }
    if target.base_url:
        options["base_url"] = target.base_url
    return options, key


def _ollama(target: LlmTarget, settings: Settings, max_output_tokens: int) -> tuple[dict[str, Any], str]:
    options = {
        "base_url": target.base_url,
        "num_predict": max_output_tokens,
        "client_kwargs": {"timeout": settings.llm_timeout_seconds},
    }
    return options, ""


_OPTIONS = {"openai": _openai, "openai-compatible": _openai, "anthropic": _anthropic, "ollama": _ollama}


def chat_model(target: LlmTarget, settings: Settings, *, max_output_tokens: int) -> tuple[BaseChatModel, str]:
    """The chat model for ``target`` and the secret it carries ("" for none), to scrub from logs."""
    require_package(target.provider)
    from langchain.chat_models import init_chat_model

    options, key = _OPTIONS[target.provider](target, settings, max_output_tokens)
    model = init_chat_model(
        target.model,
        model_provider=PACKAGES[target.provider][2],
        temperature=0.0,
        custom_get_token_ids=token_ids,
        **options,
    )
    if not isinstance(model, BaseChatModel):  # only a configurable model (never asked for) is not
        raise TypeError(f"init_chat_model returned {type(model).__name__}")
    return model, key
