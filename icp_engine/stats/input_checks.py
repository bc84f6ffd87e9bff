"""Checking and reading the deals and accounts frames analyze is given, with errors that name the row."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from icp_engine.stats.value_keys import _key_of, _numeric

#: Columns that describe the deal or the customer's health, never a segmenting attribute.
ID_COLUMNS = frozenset({"account_id", "deal_id", "id", "record_id", "opportunity_id"})
OUTCOME_COLUMNS = frozenset(
    {"won", "amount", "close_date", "create_date", "created_date", "stage", "deal_stage"}
)
HEALTH_COLUMNS = frozenset(
    {"arr", "acv", "tenure_months", "churned", "nps", "health_score", "expansion_arr", "referrals", "ltv"}
)
NAME_COLUMNS = frozenset({"name", "account_name", "company_name", "deal_name", "domain", "website", "url"})
#: Numeric canonical attributes and the band column that replaces them when present.
BAND_COLUMNS: dict[str, str] = {"employees": "employee_band", "annual_revenue": "revenue_band"}
#: Derived attributes analysed only when they differ from the attribute they may copy: without a
#: region column, `region` is filled from the country and equals `country_region` on every row.
DUPLICATE_OF: dict[str, str] = {"country_region": "region"}

_TRUE = frozenset({"true", "t", "yes", "y", "1", "won", "closedwon", "closed won"})
_FALSE = frozenset({"false", "f", "no", "n", "0", "lost", "closedlost", "closed lost"})


def _where(frame_name: str, df: pd.DataFrame, pos: int) -> str:
    return f"{frame_name} row {pos + 1} (index {df.index[pos]!r})"


def _flags(df: pd.DataFrame, column: str, frame_name: str, *, allow_missing: bool) -> np.ndarray:
    """A yes/no column as floats 1/0 (NaN when missing and allowed), with a clear error otherwise."""
    col = df[column]
    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    mapped: list[float] = []
    for u in uniques:
        key = _key_of(u)
        if key in _TRUE:
            mapped.append(1.0)
        elif key in _FALSE:
            mapped.append(0.0)
        else:
            mapped.append(math.nan)
    lut = np.array(mapped, dtype=np.float64)
    out = np.where(codes >= 0, lut[np.maximum(codes, 0)] if len(lut) else np.nan, np.nan)
    bad = np.flatnonzero((codes >= 0) & np.isnan(out))
    if len(bad):
        pos = int(bad[0])
        raise ValueError(
            f"{_where(frame_name, df, pos)}: {column!r} must be true or false, got {col.iloc[pos]!r}"
        )
    if not allow_missing and np.isnan(out).any():
        pos = int(np.flatnonzero(np.isnan(out))[0])
        raise ValueError(
            f"{_where(frame_name, df, pos)}: {column!r} is missing (pass closed deals only: won or lost)"
        )
    return out


def _numbers(df: pd.DataFrame, column: str, frame_name: str) -> np.ndarray:
    """A numeric column as float64; text that is not a number is an error naming the row."""
    col = df[column]
    x = _numeric(col)
    if not pd.api.types.is_numeric_dtype(col.dtype):
        present = col.map(_key_of, na_action="ignore").notna().to_numpy()
        bad = np.flatnonzero(present & np.isnan(x))
        if len(bad):
            pos = int(bad[0])
            raise ValueError(
                f"{_where(frame_name, df, pos)}: {column!r} must be a number, got {col.iloc[pos]!r}"
            )
    return x


def _default_attributes(frames: Iterable[pd.DataFrame]) -> list[str]:
    """Every column that can describe an account, in column order (deals first)."""
    out: list[str] = []
    for df in frames:
        for c in map(str, df.columns):
            low = c.casefold()
            if (
                c in out
                or low in ID_COLUMNS | OUTCOME_COLUMNS | HEALTH_COLUMNS | NAME_COLUMNS
                or low.endswith(("_id", "_date"))
                or c.startswith("_")
            ):
                continue
            out.append(c)
    return out


def _resolve_attributes(
    attributes: Sequence[str] | None, deals: pd.DataFrame, accounts: pd.DataFrame | None
) -> list[str]:
    frames = [deals] if accounts is None else [deals, accounts]
    available = {str(c) for df in frames for c in df.columns}
    wanted = _default_attributes(frames) if attributes is None else [str(a) for a in attributes]
    out: list[str] = []
    for a in wanted:
        if a not in available:
            raise ValueError(f"attribute {a!r} is not a column of the deals or accounts")
        if a in BAND_COLUMNS and BAND_COLUMNS[a] in available:
            a = BAND_COLUMNS[a]  # canonical bands read better than quantile bins
        if a not in out:
            out.append(a)
    return [a for a in out if not (a in DUPLICATE_OF and _copies(frames, a, DUPLICATE_OF[a], out))]


def _copies(frames: Sequence[pd.DataFrame], a: str, b: str, chosen: Sequence[str]) -> bool:
    """True when attribute `b` is analysed too and holds the same value as `a` on every row."""
    if b not in chosen:
        return False
    for df in frames:
        if a in df.columns and b in df.columns:
            return _same_values(df[a], df[b])
    return False


_HEAD = 1_024


def _same_values(left: pd.Series, right: pd.Series) -> bool:
    """Equal or both missing on every row; the first rows first: columns that differ mostly differ
    there, and then the million others need no comparing."""
    for rows in (slice(0, _HEAD), slice(_HEAD, None)):
        lhs, rhs = left.iloc[rows], right.iloc[rows]
        if not bool(((lhs == rhs) | (lhs.isna() & rhs.isna())).all()):
            return False
    return True


@dataclass(frozen=True)
class _Metrics:
    """Per-account health measures aligned with the accounts frame (NaN where unknown)."""

    churned: np.ndarray
    nps: np.ndarray
    ltv: np.ndarray
    acv: np.ndarray
    health: np.ndarray


def _metrics(accounts: pd.DataFrame) -> _Metrics:
    n = len(accounts)

    def num(c: str) -> np.ndarray:
        return _numbers(accounts, c, "accounts") if c in accounts.columns else np.full(n, np.nan)

    churned = (
        _flags(accounts, "churned", "accounts", allow_missing=True)
        if "churned" in accounts.columns
        else np.full(n, np.nan)
    )
    arr, tenure = num("arr"), num("tenure_months")
    derived = arr * np.maximum(tenure, 1.0) / 12.0
    ltv = num("ltv")
    ltv = np.where(np.isnan(ltv), derived, ltv)
    acv = num("acv")
    acv = np.where(np.isnan(acv), arr, acv)
    return _Metrics(churned, num("nps"), ltv, acv, num("health_score"))


def _accounts_frame(
    accounts: pd.DataFrame | None, deals: pd.DataFrame, attributes: list[str]
) -> pd.DataFrame | None:
    """Accounts with every analysed attribute, taking it from their deals where the accounts lack it."""
    if accounts is None:
        health = [c for c in deals.columns if c in HEALTH_COLUMNS]
        if not health:
            return None
        first = deals.drop_duplicates("account_id")
        return first[["account_id", *[a for a in attributes if a in first.columns], *health]].reset_index(
            drop=True
        )
    if "account_id" not in accounts.columns:
        raise ValueError(f"accounts: no 'account_id' column (have: {', '.join(map(str, accounts.columns))})")
    ids = accounts["account_id"]
    dup = ids[ids.duplicated(keep=False) & ids.notna()]
    if len(dup):
        raise ValueError(
            f"accounts: account_id {dup.iloc[0]!r} appears {int((ids == dup.iloc[0]).sum())} times; "
            "give one row per account"
        )
    out = accounts.reset_index(drop=True)
    missing = [a for a in attributes if a not in out.columns and a in deals.columns]
    if missing:
        first = deals.drop_duplicates("account_id").set_index("account_id")
        out = out.copy()
        for a in missing:
            out[a] = out["account_id"].map(first[a])
    return out
