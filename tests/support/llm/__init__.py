"""Shared LLM test support: the fault stand-in server, the real local model, settings helpers.

Fixtures (``tests.support.plugins.llm_servers``): ``fault_llm_server`` (a fresh scripted stand-in per
test), ``local_llm`` (one SmolLM2 server per session and xdist worker). ``llm_settings`` builds
Settings pointing at either, with short timeouts so fault tests stay fast.
"""

from __future__ import annotations

from typing import Any

from bot.settings import Settings


def llm_settings(base_url: str, **overrides: Any) -> Settings:
    """Settings for an OpenAI-compatible server at ``base_url`` (no .env, no key)."""
    values: dict[str, Any] = {
        "llm_provider": "openai-compatible",
        "llm_base_url": base_url,
        "llm_model": "stand-in",
        "openai_api_key": None,
        "llm_timeout_seconds": 5.0,
        "llm_deadline_seconds": 20.0,
        "llm_max_retries": 2,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]
