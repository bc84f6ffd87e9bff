"""No sentence in two personas: find and remove statements one persona repeats from another.

An LLM (or an older drafter) tends to copy the shared pains and goals into every persona, which
makes the personas useless for telling buyers apart. Every drafter's personas go through
:func:`distinct_personas` in ``check``: a statement whose sentences (compared without case,
quotes, punctuation and spacing) already appeared in an earlier persona is removed from the later
one, and the caller notes how many were removed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from bot.services.icp.drafting.models import DraftedPersona, Trait

_SPLIT = re.compile(r"(?<=[.!?;])\s+")
_NOISE = re.compile(r"[^\w\s]+")
MIN_WORDS = 3  # "C-level", "yes" are labels, not sentences


def sentences(text: str) -> list[str]:
    """The sentences of ``text`` in a comparable form; labels of fewer than 3 words are skipped."""
    out = []
    for part in _SPLIT.split(text):
        words = _NOISE.sub(" ", part.casefold()).split()
        if len(words) >= MIN_WORDS:
            out.append(" ".join(words))
    return out


def _statements(p: DraftedPersona) -> Iterable[Trait]:
    for name in DraftedPersona.LIST_FIELDS:
        yield from getattr(p, name)


def shared_sentences(personas: Sequence[DraftedPersona]) -> set[str]:
    """Every sentence that appears in more than one persona (empty when the personas are distinct)."""
    owner: dict[str, int] = {}
    shared: set[str] = set()
    for i, p in enumerate(personas):
        for trait in _statements(p):
            for s in sentences(trait.text):
                if owner.setdefault(s, i) != i:
                    shared.add(s)
    return shared


def distinct_personas(personas: Sequence[DraftedPersona]) -> tuple[list[DraftedPersona], int]:
    """The personas with repeated statements removed from all but the first persona that makes them;
    also how many statements were removed."""
    owner: dict[str, int] = {}
    removed = 0
    out = []
    for i, p in enumerate(personas):
        changes: dict[str, list[Trait]] = {}
        for name in DraftedPersona.LIST_FIELDS:
            kept = []
            for trait in getattr(p, name):
                said = sentences(trait.text)
                if any(owner.get(s, i) != i for s in said):
                    removed += 1
                    continue
                kept.append(trait)
                for s in said:
                    owner.setdefault(s, i)
            changes[name] = kept
        out.append(p.model_copy(update=changes))
    return out, removed
