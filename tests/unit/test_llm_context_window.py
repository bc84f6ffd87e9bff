"""The token limits fitted to a served context: budget = min(setting, n_ctx - output - margin)."""

from __future__ import annotations

import pytest

from bot.llm.context_window import TokenLimits, fit_to_context, served_context


def test_unknown_or_large_contexts_change_nothing() -> None:
    assert fit_to_context(12_000, 4_000, None) == TokenLimits(12_000, 4_000)
    assert fit_to_context(12_000, 4_000, 131_072) == TokenLimits(12_000, 4_000, 131_072)


def test_a_small_context_shrinks_the_output_then_the_prompt() -> None:
    limits = fit_to_context(12_000, 4_000, 4_096)
    assert limits.max_output_tokens == 512  # an eighth of the context
    assert limits.prompt_token_budget == 4_096 - 512 - 256  # a sixteenth kept as margin
    assert limits.served_context == 4_096


@pytest.mark.parametrize("n_ctx", [512, 2_048, 4_096, 8_192, 32_768])
def test_prompt_and_output_always_fit(n_ctx: int) -> None:
    limits = fit_to_context(12_000, 4_000, n_ctx)
    assert limits.prompt_token_budget > 0 and limits.max_output_tokens > 0
    assert limits.prompt_token_budget + limits.max_output_tokens < n_ctx


def test_settings_below_the_context_are_kept() -> None:
    assert fit_to_context(1_200, 300, 4_096) == TokenLimits(1_200, 300, 4_096)


def test_a_server_that_reports_nothing_changes_nothing() -> None:
    assert served_context("http://127.0.0.1:9/v1", timeout=0.5) is None  # nothing listens
    assert served_context("unix:///tmp/socket") is None
