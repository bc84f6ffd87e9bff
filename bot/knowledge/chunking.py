"""Split long text into chunks that fit the embedding model's token window.

The model truncates silently at its window (256 tokens for all-MiniLM-L6-v2), so a long interview
answer would lose its end. Chunks follow sentence boundaries where possible, fall back to words and
then characters for run-on text, and repeat a little of the previous chunk (``overlap_tokens``) so
a thought split across a boundary is still found. Pure: token counting is passed in.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

# A sentence ends at . ! ? … (with closing quotes/brackets) followed by whitespace, or at a line break.
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+|\n\s*")
_WORD = re.compile(r"\S+")


@dataclass(frozen=True, slots=True)
class Chunk:
    """A slice ``text[start:end]`` of the original text (no leading or trailing whitespace)."""

    text: str
    start: int
    end: int


def _strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans, stripped, empty ones dropped."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        spans.append(_strip_span(text, start, match.start()))
        start = match.end()
    spans.append(_strip_span(text, start, len(text)))
    return [(s, e) for s, e in spans if e > s]


def _split_long(text: str, span: tuple[int, int], fits: Callable[[int, int], bool]) -> list[tuple[int, int]]:
    """Cut a span that does not fit into word runs that do; a word that alone is too long is
    cut by characters (binary search on the real token count)."""
    start, end = span
    words = [(m.start(), m.end()) for m in _WORD.finditer(text, start, end)]
    pieces: list[tuple[int, int]] = []
    for w_start, w_end in words:
        if fits(w_start, w_end):
            pieces.append((w_start, w_end))
            continue
        cut = w_start
        while cut < w_end:
            lo, hi = cut + 1, w_end
            while lo < hi:  # largest end such that text[cut:end] fits
                mid = (lo + hi + 1) // 2
                if fits(cut, mid):
                    lo = mid
                else:
                    hi = mid - 1
            pieces.append((cut, lo))
            cut = lo
    return pieces


def chunk_text(
    text: str,
    *,
    count_tokens: Callable[[str], int],
    max_tokens: int = 256,
    overlap_tokens: int = 32,
) -> list[Chunk]:
    """Chunks of ``text`` whose token count (as ``count_tokens`` says) is at most ``max_tokens``.

    Guarantees: chunks are in order, each is a slice of ``text``, every non-space character lies
    in at least one chunk, and consecutive chunks share at most ``overlap_tokens`` worth of whole
    units (sentences or words). A single character that alone exceeds the limit is impossible
    with a real tokenizer (limit >= 3 with [CLS] and [SEP]); such a character is kept on its own.
    """
    if max_tokens < 1:
        raise ValueError(f"max_tokens must be at least 1, got {max_tokens}")
    if overlap_tokens < 0:
        raise ValueError(f"overlap_tokens must be 0 or more, got {overlap_tokens}")

    def fits(start: int, end: int, limit: int = max_tokens) -> bool:
        return count_tokens(text[start:end]) <= limit

    units: list[tuple[int, int]] = []
    for span in _sentences(text):
        units.extend([span] if fits(*span) else _split_long(text, span, fits))
    if not units:
        return []

    chunks: list[tuple[int, int]] = []
    first = 0  # index of the first unit of the chunk being built
    while first < len(units):
        last = first
        while last + 1 < len(units) and fits(units[first][0], units[last + 1][1]):
            last += 1
        chunks.append((units[first][0], units[last][1]))
        if last + 1 >= len(units):
            break
        # Start the next chunk with the tail of this one that fits in the overlap budget, as long
        # as the next new unit still fits after it; otherwise start fresh.
        nxt = last + 1
        back = nxt
        while (
            back - 1 > first
            and overlap_tokens > 0
            and fits(units[back - 1][0], units[last][1], overlap_tokens)
            and fits(units[back - 1][0], units[nxt][1])
        ):
            back -= 1
        first = back
    return [Chunk(text[s:e], s, e) for s, e in chunks]
