"""Build the LLM client from Settings, or ``None`` when the assistant runs offline.

Providers (``LLM_PROVIDER``): ``openai`` (OPENAI_API_KEY, optional OPENAI_BASE_URL), ``anthropic``
(ANTHROPIC_API_KEY, optional ANTHROPIC_BASE_URL; the ``[anthropic]`` extra), ``ollama`` (LLM_BASE_URL,
default http://127.0.0.1:11434; the ``[ollama]`` extra), ``openai-compatible`` (LLM_BASE_URL, key
optional: vLLM, llama.cpp, LM Studio, Ollama's /v1), ``offline`` (no model), and ``auto`` (the
default: the provider named in ``LLM_MODEL=provider:model``, else compatible if a base URL is set,
else OpenAI or Anthropic if its key is set, else offline). Switching provider is a settings change:
the chat model is built by LangChain's ``init_chat_model`` (``bot.llm.chat_models``), with its own
retries off (the client retries within a deadline) and token counting routed to the on-disk
tokenizer. A llama.cpp server's served context size fits the token limits (``context_window``).
"""

from __future__ import annotations

from bot.llm.client import LlmClient, RetryPolicy
from bot.llm.context_window import fit_to_context, served_context
from bot.llm.target import (
    NO_KEY,
    LlmConfigError,
    LlmProviderMissing,
    LlmTarget,
    Provider,
    resolve_target,
    split_model,
)
from bot.llm.tracing import apply_tracing_setting
from bot.metrics import Metrics
from bot.settings import Settings

__all__ = [
    "NO_KEY",
    "LlmConfigError",
    "LlmProviderMissing",
    "LlmTarget",
    "Provider",
    "build_llm",
    "check_llm_settings",
    "resolve_target",
    "split_model",
]


def check_llm_settings(settings: Settings) -> LlmTarget:
    """The target, checked without a network call: settings complete and the provider's package
    importable (:class:`LlmProviderMissing` names the extra). ``icp serve`` runs it at start."""
    from bot.llm.chat_models import require_package

    target = resolve_target(settings)
    if target.provider != "offline":
        require_package(target.provider)
    return target


def build_llm(settings: Settings, *, metrics: Metrics | None = None) -> LlmClient | None:
    """The client for the configured provider, or ``None`` to run offline; it counts its calls,
    tokens, errors and retries in ``metrics`` when given. Tracing follows LLM_TRACING (off)."""
    apply_tracing_setting(settings)
    target = resolve_target(settings)
    if target.provider == "offline":
        return None
    from bot.llm.chat_models import chat_model

    # Only a compatible server can be llama.cpp, which reports the context it serves.
    n_ctx = (
        served_context(target.base_url)
        if target.provider == "openai-compatible" and target.base_url
        else None
    )
    limits = fit_to_context(settings.llm_prompt_token_budget, settings.llm_max_output_tokens, n_ctx)
    if n_ctx is not None and "llm_timeout_seconds" not in settings.model_fields_set:
        # A llama.cpp server is slow, not lost: an attempt cut off at the network timeout throws
        # its generation away and the retry starts it again. Unless LLM_TIMEOUT_SECONDS is set,
        # one attempt may use the whole deadline.
        settings = settings.model_copy(update={"llm_timeout_seconds": settings.llm_deadline_seconds})
    model, key = chat_model(target, settings, max_output_tokens=limits.max_output_tokens)
    return LlmClient(
        model,
        prompt_token_budget=limits.prompt_token_budget,
        max_output_tokens=limits.max_output_tokens,
        retry=RetryPolicy(
            max_retries=settings.llm_max_retries,
            attempt_timeout_seconds=settings.llm_timeout_seconds,
            deadline_seconds=settings.llm_deadline_seconds,
        ),
        label=target.describe(),
        secrets=(key,) if key else (),
        metrics=metrics,
        served_context=limits.served_context,
    )
