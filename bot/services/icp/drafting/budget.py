"""Fitting evidence into a prompt: untrusted text delimited, lines kept in a deterministic order
until the token budget is spent (never cut silently: callers note what was left out)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeVar

from bot.llm.prompts import untrusted as escape_tags
from bot.llm.tokens import count_tokens
from bot.services.icp.drafting.gather import AnswerEvidence

T = TypeVar("T")
ANSWER_CHARS = 600  # an answer longer than this is cut in the prompt (the citation keeps its id)


def untrusted(text: str, limit: int = ANSWER_CHARS) -> str:
    """Text a person wrote, safe to put between tags: one line, no tag characters, bounded."""
    flat = escape_tags(" ".join(text.split()))
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def answer_line(a: AnswerEvidence) -> str:
    return f'{a.id} <answer role="{a.role}" topic="{a.topic}">{untrusted(a.text)}</answer>'


def fit(lines: Iterable[str], budget: int) -> tuple[list[str], int]:
    """The leading lines whose tokens (one newline each) fit ``budget``; and how many did not."""
    kept: list[str] = []
    used = 0
    left_out = 0
    for line in lines:
        cost = count_tokens(line) + 1
        if left_out == 0 and used + cost <= budget:
            kept.append(line)
            used += cost
        else:
            left_out += 1
    return kept, left_out


def round_robin(groups: Sequence[Sequence[T]]) -> list[T]:
    """One item of each group in turn: [[a1, a2], [b1]] → [a1, b1, a2]."""
    out: list[T] = []
    depth = max((len(g) for g in groups), default=0)
    for i in range(depth):
        out.extend(g[i] for g in groups if i < len(g))
    return out


def unique(items: Iterable[T]) -> list[T]:
    return list(dict.fromkeys(items))
