"""LangSmith tracing: off unless the LLM_TRACING setting turns it on.

A trace carries every prompt and answer of a model call, so interview answers would leave the
machine. LangChain sends traces whenever ``LANGSMITH_TRACING`` or ``LANGCHAIN_TRACING_V2`` is
``true`` in the environment, which a developer may have set for another project; that alone must
not switch it on here. :func:`apply_tracing_setting` therefore decides for the whole process:
with the setting off it writes ``false`` over those variables and tells LangSmith's process-wide
switch (``langsmith.configure(enabled=False)``), which wins over the environment; with it on, it
enables tracing (endpoint, key and project then come from the usual ``LANGSMITH_*`` variables).
The CLI applies it as soon as it reads the settings, and :func:`bot.llm.factory.build_llm` too.
"""

from __future__ import annotations

import os
import sys

from bot.settings import Settings

#: Every variable LangChain and LangSmith read to decide whether to trace.
TRACING_VARIABLES = ("LANGSMITH_TRACING", "LANGSMITH_TRACING_V2", "LANGCHAIN_TRACING", "LANGCHAIN_TRACING_V2")


def apply_tracing_setting(settings: Settings) -> bool:
    """Make this process trace exactly when ``LLM_TRACING`` says so; returns whether it does.

    Off, it costs no import: the variables are overwritten, and LangSmith's cache of them and its
    process-wide switch are reset only if LangSmith is already loaded (else it reads them fresh)."""
    enabled = settings.llm_tracing
    if enabled:
        os.environ.setdefault("LANGSMITH_TRACING", "true")
    else:
        for name in TRACING_VARIABLES:
            os.environ[name] = "false"
    utils = sys.modules.get("langsmith.utils")
    if utils is not None:
        utils.get_env_var.cache_clear()  # it caches the variables read before this point
    if enabled or "langsmith.run_trees" in sys.modules:
        import langsmith

        langsmith.configure(enabled=enabled)
    return enabled
