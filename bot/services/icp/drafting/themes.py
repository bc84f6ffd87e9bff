"""Extractive themes: the words and phrases people repeat, and the answer that says them best.

Deterministic (counts and stable tie-breaks), so the offline drafter gives the same draft for the
same answers, and the LLM path selects the same answers when a prompt must be cut to budget.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from bot.services.icp.drafting.gather import AnswerEvidence

_WORD = re.compile(r"[a-z][a-z0-9&+'-]*[a-z0-9+]|[a-z]")
STOPWORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "also",
        "always",
        "am",
        "an",
        "and",
        "any",
        "are",
        "around",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "don",
        "done",
        "down",
        "during",
        "each",
        "else",
        "even",
        "ever",
        "every",
        "few",
        "for",
        "from",
        "further",
        "get",
        "gets",
        "getting",
        "got",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "him",
        "his",
        "how",
        "however",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "know",
        "like",
        "lot",
        "lots",
        "make",
        "makes",
        "many",
        "may",
        "me",
        "might",
        "more",
        "most",
        "much",
        "must",
        "my",
        "need",
        "needs",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "often",
        "on",
        "once",
        "one",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "out",
        "over",
        "own",
        "per",
        "quite",
        "rather",
        "really",
        "same",
        "say",
        "says",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "then",
        "there",
        "these",
        "they",
        "thing",
        "things",
        "think",
        "this",
        "those",
        "though",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "us",
        "usually",
        "very",
        "want",
        "wants",
        "was",
        "way",
        "we",
        "well",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "yes",
        "yet",
        "you",
        "your",
        "yours",
        "usually",
        "mostly",
        "pretty",
        "kind",
        "sort",
        "maybe",
        "customers",
        "customer",
        "people",
        "ones",
        "usually",
        "them",
        "get",
    ]
)


def terms(text: str) -> set[str]:
    """Content words and two-word phrases of a text (lowercased, stop words left out)."""
    words = [w.strip("'-") for w in _WORD.findall(text.casefold())]
    out: set[str] = set()
    previous: str | None = None
    for word in words:
        if len(word) < 3 or word in STOPWORDS:
            previous = None
            continue
        out.add(word)
        if previous is not None:
            out.add(f"{previous} {word}")
        previous = word
    return out


@dataclass(frozen=True)
class Theme:
    """A repeated term, the answers that use it, and the one quoted for it."""

    term: str
    answers: tuple[AnswerEvidence, ...]
    quote: AnswerEvidence

    @property
    def people(self) -> int:
        return len({a.stakeholder for a in self.answers})

    @property
    def evidence(self) -> list[str]:
        return [a.id for a in self.answers]


def _frequencies(answers: Sequence[AnswerEvidence]) -> tuple[list[set[str]], Counter[str]]:
    sets = [terms(a.text) for a in answers]
    df: Counter[str] = Counter()
    for s in sets:
        df.update(s)
    return sets, df


def rank_answers(answers: Sequence[AnswerEvidence]) -> list[AnswerEvidence]:
    """Answers from most to least representative of the group (shared terms, not length)."""
    sets, df = _frequencies(answers)

    def score(i: int) -> float:
        shared = sum(df[t] - 1 for t in sets[i])
        return shared / math.sqrt(1 + len(sets[i]))

    order = sorted(range(len(answers)), key=lambda i: (-score(i), answers[i].answer_id))
    return [answers[i] for i in order]


def themes(answers: Sequence[AnswerEvidence], *, k: int = 3) -> list[Theme]:
    """Up to ``k`` themes, most repeated first; each quotes a different answer.

    A theme needs two answers using the term when there are several answers; with a single answer
    that answer is its own theme (its first content words).
    """
    if not answers:
        return []
    answers = sorted(answers, key=lambda a: a.answer_id)  # the same themes whatever the input order
    sets, df = _frequencies(answers)
    ranked = rank_answers(answers)
    position = {a.answer_id: n for n, a in enumerate(ranked)}
    minimum = 2 if len(answers) > 1 else 1
    candidates = sorted(
        (t for t, n in df.items() if n >= minimum),
        key=lambda t: (-df[t], -t.count(" "), t),
    )
    chosen: list[Theme] = []
    quoted: set[int] = set()
    covered: list[set[int]] = []
    for term in candidates:
        having = [a for a, s in zip(answers, sets, strict=True) if term in s]
        ids = {a.answer_id for a in having}
        if any(len(ids & seen) >= 0.8 * len(ids) for seen in covered):
            continue  # the same answers as a theme already chosen ("routing" and "routing hand")
        best = min(
            (a for a in having if a.answer_id not in quoted),
            key=lambda a: position[a.answer_id],
            default=None,
        )
        if best is None:
            continue
        chosen.append(Theme(term=term, answers=tuple(having), quote=best))
        quoted.add(best.answer_id)
        covered.append(ids)
        if len(chosen) == k:
            break
    if not chosen:
        best = ranked[0]
        chosen.append(
            Theme(term=next(iter(sorted(sets[answers.index(best)])), "answer"), answers=(best,), quote=best)
        )
    return chosen
