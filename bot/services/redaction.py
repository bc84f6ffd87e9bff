"""Find a forgotten person's words and name in free text and replace them.

Why: LLM-written rationales, edited hypotheses and narratives can quote an answer verbatim or
name its author; structured scrubbing (by evidence id) cannot see that. Matching is on whole
answers and on their sentences of at least ``MIN_WORDS`` words, ignoring case and spacing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

REMOVED = "[removed at the person's request]"
MIN_WORDS = 4
_SENTENCES = re.compile(r"(?<=[.!?;\n])\s+|\n+")
_WORD = re.compile(r"\S+")


def _pattern(fragment: str) -> str:
    return r"\s+".join(re.escape(word) for word in _WORD.findall(fragment))


@dataclass(frozen=True)
class Words:
    """What to remove: the person's answer texts (and their sentences) and the ways they are named."""

    fragments: tuple[str, ...]
    names: tuple[str, ...]

    @classmethod
    def of(cls, *, answers: Iterable[str], slack_user_id: str, display_name: str | None = None) -> Words:
        found: set[str] = set()
        for text in answers:
            for piece in (text, *_SENTENCES.split(text)):
                piece = piece.strip().strip("\"“”'")
                if len(_WORD.findall(piece)) >= MIN_WORDS:
                    found.add(piece)
        names = [slack_user_id]
        if display_name and len(display_name.strip()) >= 3:
            names.append(display_name.strip())
        return cls(fragments=tuple(sorted(found, key=len, reverse=True)), names=tuple(names))

    def _regex(self) -> re.Pattern[str] | None:
        parts = [_pattern(f) for f in self.fragments]
        if not parts:
            return None
        return re.compile("|".join(parts), re.IGNORECASE)

    def text(self, value: str, *, replacement: str = REMOVED, name_replacement: str = REMOVED) -> str:
        """``value`` with every quote of the person and every mention of them replaced."""
        regex = self._regex()
        if regex is not None:
            value = regex.sub(replacement, value)
        for name in self.names:
            escaped = re.escape(name)
            value = re.sub(rf"<@{escaped}(?:\|[^>]*)?>", name_replacement, value)
            value = re.sub(rf"(?<![\w@]){escaped}(?!\w)", name_replacement, value, flags=re.IGNORECASE)
        return value

    def json(self, value: Any) -> Any:
        """A copy of a JSON document with :meth:`text` applied to every string value."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.json(v) for v in value]
        if isinstance(value, dict):
            return {k: self.json(v) for k, v in value.items()}
        return value
