"""Fit the token limits to the context a local server actually serves.

A llama.cpp server (``llama-server``, xllamacpp, LM Studio's llama.cpp engine) reports its
per-request context size: ``GET /props`` → ``default_generation_settings.n_ctx``, or ``GET /slots``
→ ``[{"n_ctx": ...}]``. A small local model serves far less than the default prompt budget (4,096
tokens for SmolLM2 against 12,000), so a draft prompt built for the default would be refused by the
server ("request exceeds the available context size") and the draft would fall back to offline.
:func:`fit_to_context` shrinks the output limit and then the prompt budget so both fit, with a
margin because our token counts come from another tokenizer than the server's.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

PROBE_TIMEOUT_SECONDS = 2.0
MIN_OUTPUT_TOKENS = 64
OUTPUT_SHARE = 8  # a served context gives at most 1/8 of itself to the answer ...
MARGIN_SHARE = 16  # ... and keeps 1/16 free for tokenizer differences and chat framing


@dataclass(frozen=True)
class TokenLimits:
    """The limits one client works within; ``served_context`` is what the server reported."""

    prompt_token_budget: int
    max_output_tokens: int
    served_context: int | None = None


def fit_to_context(prompt_token_budget: int, max_output_tokens: int, n_ctx: int | None) -> TokenLimits:
    """``budget = min(setting, n_ctx - output - margin)``, the output cut to a share of ``n_ctx``
    first; unchanged when the context is unknown or large enough."""
    if n_ctx is None or n_ctx <= 0:
        return TokenLimits(prompt_token_budget, max_output_tokens)
    margin = max(MIN_OUTPUT_TOKENS, n_ctx // MARGIN_SHARE)
    output = min(max_output_tokens, max(MIN_OUTPUT_TOKENS, n_ctx // OUTPUT_SHARE))
    prompt = min(prompt_token_budget, n_ctx - output - margin)
    if prompt < 1:
        raise ValueError(f"the served context of {n_ctx} tokens is too small for any prompt")
    return TokenLimits(prompt, output, n_ctx)


def _server_root(base_url: str) -> str:
    """``http://host:port/v1`` → ``http://host:port`` (llama.cpp serves /props beside /v1)."""
    parts = urllib.parse.urlsplit(base_url.rstrip("/"))
    path = parts.path.removesuffix("/v1")
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def _get_json(url: str, timeout: float) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read(1_000_000))


def _positive_int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def served_context(base_url: str, *, timeout: float = PROBE_TIMEOUT_SECONDS) -> int | None:
    """The context size (tokens per request) the server at ``base_url`` reports, or None when it
    reports none (not llama.cpp, unreachable, another shape): then nothing is changed."""
    if not base_url.startswith(("http://", "https://")):
        return None
    root = _server_root(base_url)
    try:
        props = _get_json(f"{root}/props", timeout)
        settings = props.get("default_generation_settings") if isinstance(props, dict) else None
        found = _positive_int(settings.get("n_ctx")) if isinstance(settings, dict) else None
        if found is not None:
            return found
        slots = _get_json(f"{root}/slots", timeout)
        if isinstance(slots, list) and slots and isinstance(slots[0], dict):
            return _positive_int(slots[0].get("n_ctx"))
    except (OSError, ValueError, urllib.error.URLError):
        return None
    return None
