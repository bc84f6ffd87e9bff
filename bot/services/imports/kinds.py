"""What a shared CRM file holds (accounts, deals or customer health), read from its comment or
name, and whether its sharer asked to import only the good rows; the same rules for every way
a file comes in."""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Literal

Kind = Literal["accounts", "deals", "health"]
#: In import order: deals and health rows join stored accounts, so accounts go first.
KINDS: tuple[Kind, ...] = ("accounts", "deals", "health")
KIND_WORDS: dict[str, frozenset[str]] = {
    "accounts": frozenset(
        {"account", "accounts", "company", "companies", "organisation", "organisations", "organization"}
        | {"organizations", "orgs"}
    ),
    "deals": frozenset({"deal", "deals", "opportunity", "opportunities", "opp", "opps"}),
    "health": frozenset({"health"}),
}
_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+")
_SKIP_BAD_ROWS = re.compile(r"\bskip[\s_-]*(?:the\s+)?(?:bad|invalid|broken)[\s_-]*rows?\b", re.IGNORECASE)


def _words(text: str) -> set[str]:
    return {w.lower() for w in _WORDS.findall(text)}


def kind_in(text: str) -> str | None:
    """The one kind of data ``text`` names (accounts, deals, health), or None if none or several."""
    words = _words(text)
    found = [kind for kind in KINDS if words & KIND_WORDS[kind]]
    return found[0] if len(found) == 1 else None


def detect_kind(file_name: str, comment: str = "") -> str | None:
    """What a file holds: the comment decides, else the file name; None means ask."""
    return kind_in(comment) or kind_in(PurePosixPath(file_name).stem)


def wants_skip_bad_rows(comment: str) -> bool:
    """True when the comment asks to import the good rows of a file with bad ones."""
    return bool(_SKIP_BAD_ROWS.search(comment))


def kind_order(file_name: str, comment: str = "") -> int:
    """Accounts before deals before health (deals and health join stored accounts); unknown last."""
    kind = detect_kind(file_name, comment)
    return KINDS.index(kind) if kind is not None else len(KINDS)
