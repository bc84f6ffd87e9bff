"""Refusing the outcome, or a column derived from it, as a feature.

A feature that records the outcome (the stage, a status, a 'closed value' that is 0 for every lost
deal) scores its own answer: the backtest reports an AUC near 1.0 and the ICP is useless on open
deals. Two kinds of evidence, both deterministic and cheap:

- the name: the outcome column itself, a name CRMs use for the outcome (stage, status, won, result,
  loss reason ...), or the outcome's name with an id/code/label suffix;
- the data, on closed deals: every value's deals are all won or all lost (with at least
  `min_deals` deals in an all-won value and in an all-lost value), or a numeric column is 0 or empty
  for every lost deal (or every won deal) while set on won (lost) deals, or a numeric column
  separates won from lost deals perfectly.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from icp_engine.stats.input_checks import _default_attributes
from icp_engine.stats.value_keys import _key_of

__all__ = [
    "OUTCOME_NAMES",
    "Leak",
    "OutcomeLeakError",
    "find_leaks",
    "leak_message",
    "refuse_leaks",
    "screen_default_features",
]

#: Column names (lowercase, letters and digits only) that hold a deal's outcome or what follows it.
OUTCOME_NAMES = frozenset(
    {
        "won",
        "win",
        "iswon",
        "isclosed",
        "closedwon",
        "closedlost",
        "wonlost",
        "winloss",
        "outcome",
        "dealoutcome",
        "stage",
        "dealstage",
        "stagename",
        "opportunitystage",
        "status",
        "dealstatus",
        "opportunitystatus",
        "result",
        "dealresult",
        "closestatus",
        "closereason",
        "closedreason",
        "lossreason",
        "lostreason",
        "winreason",
        "wonreason",
        "forecastcategory",
        "forecastcategoryname",
    }
)
# Suffixes that keep a column the same thing as the outcome: 'deal_stage_id', 'status_label'.
_SAME_THING = frozenset({"id", "code", "label", "name", "flag", "text", "value", "raw", "num", "number"})
MIN_DEALS = 10


@dataclass(frozen=True)
class Leak:
    """One feature that is, or is derived from, the outcome, and why we think so."""

    column: str
    reason: str

    def __str__(self) -> str:
        return f"{self.column!r} {self.reason}"


class OutcomeLeakError(ValueError):
    """A feature list holds the outcome or a column derived from it (bad input, like a bad column)."""


def _tokens(name: str) -> list[str]:
    return [t for t in re.split(r"[^0-9a-z]+", name.casefold()) if t]


def _name_leak(column: str, outcome: str | None) -> str | None:
    tokens = _tokens(column)
    compact = "".join(tokens)
    if outcome is not None:
        goal = _tokens(outcome)
        if compact == "".join(goal):
            return "is the outcome column"
        if goal and tokens[: len(goal)] == goal and set(tokens[len(goal) :]) <= _SAME_THING:
            return f"is named after the outcome column {outcome!r}"
    while tokens and tokens[-1] in _SAME_THING and "".join(tokens) not in OUTCOME_NAMES:
        tokens = tokens[:-1]
    if "".join(tokens) in OUTCOME_NAMES:
        return "names a deal outcome (like stage, status, won or result)"
    return None


def _hashable(value: object) -> object:
    return tuple(value) if isinstance(value, list) else value


def _shown(value: object) -> str:
    return "empty" if value is None else repr(value)


def _factorized(values: pd.Series) -> tuple[np.ndarray, np.ndarray | pd.Index]:
    try:
        return pd.factorize(values, use_na_sentinel=True)
    except TypeError:  # list cells (JSON imports) are not hashable
        return pd.factorize(values.map(_hashable), use_na_sentinel=True)


def _mixed(codes: np.ndarray, n_uniques: int, won: np.ndarray) -> bool:
    """Whether a raw value (or the missing cells, code -1) has both won and lost deals."""
    raw_n = np.bincount(codes + 1, minlength=n_uniques + 1)
    raw_wins = np.bincount(codes + 1, weights=won.astype(float), minlength=n_uniques + 1)
    return not ((raw_wins == 0) | (raw_wins == raw_n)).all()


_HEAD = 1_024


def _categorical_leak(values: pd.Series, won: np.ndarray, min_deals: int) -> str | None:
    """Every value (empty counts as one) pure won or pure lost, with a big pure value on each side."""
    # A key's group joins raw values (and empty joins the missing cells): one mixed raw value (or
    # mixed missing cells) makes a mixed group, so the common answer needs no key per distinct value.
    # Mixed among the first rows is mixed in the whole column: most columns need no more reading.
    head_codes, head_uniques = _factorized(values.iloc[:_HEAD])
    if _mixed(head_codes, len(head_uniques), won[:_HEAD]):
        return None
    raw_codes, raw_uniques = _factorized(values)
    if _mixed(raw_codes, len(raw_uniques), won):
        return None
    # Group by the comparison key (case and spacing do not split a value); empty is a group too.
    index: dict[str | None, int] = {}
    of_unique = np.array([index.setdefault(_key_of(u), len(index)) for u in raw_uniques], dtype=np.int64)
    empty = index.setdefault(None, len(index))
    uniques: list[object] = [None] * len(index)
    for u, code in zip(raw_uniques, of_unique, strict=True):
        if uniques[code] is None:
            uniques[code] = u
    codes = np.where(raw_codes >= 0, of_unique[np.maximum(raw_codes, 0)] if len(of_unique) else empty, empty)
    n = np.bincount(codes, minlength=len(uniques))
    wins = np.bincount(codes, weights=won.astype(float), minlength=len(uniques)).astype(int)
    if not ((wins == 0) | (wins == n)).all():
        return None
    all_won = np.flatnonzero((wins == n) & (n >= min_deals))
    all_lost = np.flatnonzero((wins == 0) & (n >= min_deals))
    if not len(all_won) or not len(all_lost):
        return None
    w, lo = int(all_won[np.argmax(n[all_won])]), int(all_lost[np.argmax(n[all_lost])])
    example = (
        f"{_shown(uniques[w])}: {n[w]:,} won, none lost; {_shown(uniques[lo])}: {n[lo]:,} lost, none won"
    )
    return f"determines the outcome: each of its values has only won or only lost deals ({example})"


def _numeric_leak(x: np.ndarray, won: np.ndarray, min_deals: int) -> str | None:
    lost = ~won
    unset = np.isnan(x) | (x == 0)
    for side, other, side_name, other_name in ((lost, won, "lost", "won"), (won, lost, "won", "lost")):
        if side.sum() >= min_deals and unset[side].all() and (~unset[other]).sum() >= min_deals:
            return (
                f"is 0 or empty for every {side_name} deal ({int(side.sum()):,}) and set on "
                f"{int((~unset[other]).sum()):,} {other_name} deals: it is recorded from the outcome "
                "(like a closed value)"
            )
    known = ~np.isnan(x)
    xw, xl = x[known & won], x[known & lost]
    if len(xw) >= min_deals and len(xl) >= min_deals and (xl.max() < xw.min() or xw.max() < xl.min()):
        return "separates won from lost deals perfectly (every won deal on one side of a threshold)"
    return None


def find_leaks(
    frame: pd.DataFrame,
    features: Sequence[str],
    won: Sequence[bool] | np.ndarray | pd.Series | str = "won",
    *,
    outcome: str | None = None,
    min_deals: int = MIN_DEALS,
) -> list[Leak]:
    """The features that are the outcome or derived from it, in feature order (pure: no I/O).

    `frame` holds closed deals; `won` is a bool column name of it or an aligned array; `outcome` is
    the name of the column the outcome was read from, when known. Features missing from the frame
    are checked by name only.
    """
    flags = np.asarray(frame[won] if isinstance(won, str) else won, dtype=bool)
    if len(flags) != len(frame):
        raise ValueError(f"won has {len(flags)} values for {len(frame)} rows")
    leaks: list[Leak] = []
    for column in dict.fromkeys(features):
        reason = _name_leak(column, outcome)
        if reason is None and column in frame.columns and not (isinstance(won, str) and column == won):
            values = frame[column]
            numeric = pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(
                values.dtype
            )
            reason = _categorical_leak(values, flags, min_deals)
            if reason is None and numeric:
                reason = _numeric_leak(values.to_numpy(dtype=float, na_value=np.nan), flags, min_deals)
        elif isinstance(won, str) and column == won:
            reason = reason or "is the outcome column"
        if reason is not None:
            leaks.append(Leak(column, reason))
    return leaks


def leak_message(leaks: Sequence[Leak], *, option: str) -> str:
    """One line naming each refused column and why, and what to do."""
    found = "; ".join(str(leak) for leak in leaks)
    return (
        f"{option}: {found}. A feature must not be the outcome or derived from it (it would predict its "
        "own answer); leave it out, or rename the column if it does not describe the deal's outcome"
    )


def refuse_leaks(
    frame: pd.DataFrame,
    features: Sequence[str],
    won: Sequence[bool] | np.ndarray | pd.Series | str = "won",
    *,
    outcome: str | None = None,
    option: str = "--features",
    min_deals: int = MIN_DEALS,
) -> None:
    """Raise OutcomeLeakError (a ValueError) when a feature the user chose is the outcome."""
    leaks = find_leaks(frame, features, won, outcome=outcome, min_deals=min_deals)
    if leaks:
        raise OutcomeLeakError(leak_message(leaks, option=option))


def screen_default_features(
    frame: pd.DataFrame,
    won: Sequence[bool] | np.ndarray | pd.Series | str = "won",
    *,
    outcome: str | None = None,
    min_deals: int = MIN_DEALS,
) -> tuple[list[str], list[Leak]]:
    """The columns `analyze` would pick by default, without those that leak the outcome, and the
    leaks left out (for a note: the user did not choose them, so they are dropped, not refused)."""
    candidates = [c for c in _default_attributes([frame]) if not (isinstance(won, str) and c == won)]
    leaks = find_leaks(frame, candidates, won, outcome=outcome, min_deals=min_deals)
    dropped = {leak.column for leak in leaks}
    return [c for c in candidates if c not in dropped], leaks
