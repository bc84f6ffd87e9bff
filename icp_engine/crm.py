"""From CRM export files to the column tables the engine analyses.

Readers parse structure (ids, stages, amounts, dates) and report bad rows; normalisation turns
raw attribute text into canonical values; this module joins the two into one accounts table
and one deals table with each deal carrying its account's attributes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from icp_engine.normalize import (
    CANONICAL_ATTRIBUTES,
    DERIVED_ATTRIBUTES,
    NormalizationReport,
    _match_columns,
    normalize_frame,
    parse_number,
)
from icp_engine.readers import (
    AccountRow,
    AccountTable,
    CsvFormatError,
    RowError,
    join_deal_table,
    join_health,
    read_account_table,
    read_deal_table,
    read_health,
    read_table,
)

HEALTH_COLUMNS = (
    "arr",
    "acv",
    "tenure_months",
    "churned",
    "nps",
    "health_score",
    "expansion_arr",
    "referrals",
)
NUMERIC_SHARE = 0.95  # a custom column is numeric when this share of its values parse as numbers


@dataclass
class CrmData:
    """Accounts (one row each) and deals (one row each, with the account's attributes)."""

    accounts: pd.DataFrame
    deals: pd.DataFrame
    attributes: list[str]
    errors: list[RowError] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    normalization: NormalizationReport = field(default_factory=NormalizationReport)

    @property
    def closed(self) -> pd.DataFrame:
        """Won and lost deals with an account: what analysis and learning use."""
        return self.deals[self._closed_rows()].reset_index(drop=True)

    def has_closed(self) -> bool:
        """``not closed.empty``, without making the frame (a copy of every closed deal)."""
        return bool(self._closed_rows().any())

    def _closed_rows(self) -> pd.Series:
        d = self.deals
        return d["stage"].isin(["won", "lost"]) & d["account_id"].notna()


def _says_no_value(text: str) -> bool:
    """'n/a', '-', 'unknown', blank: what people write in a number column for "no value"."""
    try:
        return parse_number(text) is None
    except ValueError:
        return False


def infer_numeric(df: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """Turn custom text columns that are (almost) all numbers into float columns.

    Placeholders such as 'n/a' or '-' are unknown values, not text that makes a column categorical.
    """
    out = df.copy(deep=False)  # copy-on-write: a column replaced below is replaced in ``out`` only
    for name in columns:
        col = out[name]
        if col.dtype.kind in "iufb":
            continue
        # Each distinct text is looked at once (a column of a million rows has few of them).
        codes, uniques = pd.factorize(col, use_na_sentinel=True)
        texts = pd.Series(np.asarray(uniques, dtype=object)).astype(str)
        blank = texts.map(_says_no_value).to_numpy(dtype=bool)
        present = (codes >= 0) & ~np.append(blank, True)[codes]
        if not present.any():
            continue
        parsed = pd.to_numeric(texts.str.replace(",", "", regex=False), errors="coerce")
        table = np.append(parsed.to_numpy(dtype="float64", na_value=np.nan), np.nan)
        numbers = np.where(present, table[codes], np.nan)
        if (~np.isnan(numbers[present])).mean() >= NUMERIC_SHARE:
            out[name] = pd.Series(numbers, index=out.index, dtype="float64")
    return out


def _account_key(row: AccountRow) -> str:
    return row.account_id or f"name:{row.name}"


def accounts_frame(
    rows: Sequence[AccountRow], *, revenue_unit: float = 1.0
) -> tuple[pd.DataFrame, NormalizationReport]:
    """Normalised attributes per account; `revenue_unit` scales revenue given in, e.g., millions."""
    if not (math.isfinite(revenue_unit) and revenue_unit > 0):
        raise ValueError(f"revenue unit must be a positive number (1e6 for millions), got {revenue_unit:g}")
    # The domain is an identifier (kept beside account_id below), not an attribute to segment on.
    raw = pd.DataFrame(
        [{k: v for k, v in r.attributes.items() if k != "domain"} for r in rows],
        index=range(len(rows)),
        dtype=object,
    )
    ids = pd.DataFrame(
        {
            "account_id": [_account_key(r) for r in rows],
            "name": [r.name for r in rows],
            "domain": [r.domain for r in rows],
        }
    )
    return _normalised(raw, ids, revenue_unit)


def table_frame(
    table: AccountTable, *, revenue_unit: float = 1.0, only: Iterable[str] | None = None
) -> tuple[pd.DataFrame, NormalizationReport]:
    """``accounts_frame`` of an accounts file read column-wise (the same frame, without row objects).

    ``only``: the normalised attributes wanted (what an ICP reads); columns none of them is made
    from are left out, not normalised for nothing. Every column of the frame is the same either way.
    """
    if not (math.isfinite(revenue_unit) and revenue_unit > 0):
        raise ValueError(f"revenue unit must be a positive number (1e6 for millions), got {revenue_unit:g}")
    frame = table.frame
    if frame.empty:
        return accounts_frame([], revenue_unit=revenue_unit)  # the dtypes pandas gives empty lists
    attributes = table.attributes if only is None else _sources(table.attributes, only)
    raw: dict[str, pd.Series] = {}
    for name in attributes:
        key = re.sub(r"[\s\-_]+", "_", name.strip().casefold())
        plain = table.numbers.get(name)
        if plain is not None and (name in ("employees", "annual_revenue") or key not in _NAMED):
            # every value a plain number: what normalising would make of the texts, read at once
            raw[name] = pd.Series(plain, dtype="float64")
            continue
        raw[name] = frame[name].reset_index(drop=True)
    account_ids = frame["account_id"].reset_index(drop=True)
    names = frame["name"].reset_index(drop=True)
    ids = pd.DataFrame(
        {
            "account_id": account_ids.fillna("name:" + names) if account_ids.hasnans else account_ids,
            "name": _like_a_list(names),
            "domain": _like_a_list(frame["domain"].reset_index(drop=True)),
        }
    )
    # copy=False: columns not stacked into one block (a copy of every value) only to be read apart
    return _normalised(pd.DataFrame(raw, index=range(len(frame)), copy=False), ids, revenue_unit)


_MADE_FROM = {  # a derived attribute and every column it is made from
    "employee_band": ("employee_band", "employees"),
    "revenue_band": ("revenue_band", "annual_revenue"),
    "region": ("region", "country"),
    "country_region": ("country_region", "country", "region"),
}


def _sources(columns: Sequence[str], wanted: Iterable[str]) -> list[str]:
    """The columns (in order) whose normalised attributes make up ``wanted`` and the identity ones.

    Columns are matched to attributes as ``normalize_frame`` matches them, on all of them: two
    columns meaning one attribute are the same error whichever are wanted.
    """
    needed = {"account_id", "name", "domain"}  # a column that would stand beside an identity one
    for name in wanted:
        needed.update(_MADE_FROM.get(name, (name,)))
    matched = _match_columns(columns)
    return [c for c in columns if (matched[c] or c) in needed]


def _like_a_list(texts: pd.Series) -> pd.Series:
    """The column pandas makes of a list of these values: one of None only is an object column."""
    if len(texts) and texts.isna().all():
        return pd.Series([None] * len(texts), dtype=object)
    return texts


_NAMED = frozenset({*CANONICAL_ATTRIBUTES, *DERIVED_ATTRIBUTES})


def _normalised(
    raw: pd.DataFrame, ids: pd.DataFrame, revenue_unit: float
) -> tuple[pd.DataFrame, NormalizationReport]:
    norm, report = normalize_frame(raw)
    if revenue_unit != 1.0 and "annual_revenue" in norm.columns:
        norm["annual_revenue"] = norm["annual_revenue"] * revenue_unit
        again, _ = normalize_frame(norm[["annual_revenue"]])
        norm["revenue_band"] = again["revenue_band"]
    custom = [c for c in norm.columns if c not in CANONICAL_ATTRIBUTES and c not in DERIVED_ATTRIBUTES]
    norm = infer_numeric(norm, custom)
    return pd.concat([ids, norm.reset_index(drop=True)], axis=1), report


def _account_keys(keys: pd.Series, account_of: np.ndarray) -> np.ndarray | pd.api.extensions.ExtensionArray:
    """Each deal's account key (None: no account), as the column pandas makes of those values.

    Texts are taken by Arrow (no str object per deal); with no account matched, the column of
    None only stays an object column.
    """
    if isinstance(keys.dtype, pd.StringDtype) and bool((account_of >= 0).any()):
        taken: pd.api.extensions.ExtensionArray = keys.array.take(account_of, allow_fill=True)
        return taken
    with_none = np.empty(len(keys) + 1, dtype=object)  # the last one: no account
    with_none[:-1] = keys.to_numpy(dtype=object)
    per_deal: np.ndarray = with_none[account_of]
    return per_deal


def _texts_column(texts: pa.Array) -> np.ndarray | pd.api.extensions.ExtensionArray:
    """Arrow texts as the column pandas makes of the same values as ``str`` objects, without making
    them (a ``str`` column; of no values, an object one)."""
    if not len(texts):
        return np.empty(0, dtype=object)
    column: pd.api.extensions.ExtensionArray = pd.array(texts, dtype="str")
    return column


def _with_accounts(deals: pd.DataFrame, accounts: pd.DataFrame, account_of: np.ndarray) -> pd.DataFrame:
    """``deals.merge(accounts, on="account_id", how="left")``, each deal's row taken by its position
    (``account_of``, -1: none) when every account id is one row: no hash join of a million ids."""
    ids = accounts["account_id"]
    shared = set(deals.columns) & set(accounts.columns) - {"account_id"}
    if shared or not isinstance(accounts.index, pd.RangeIndex) or ids.hasnans or not ids.is_unique:
        return deals.merge(accounts, on="account_id", how="left")
    taken = accounts.drop(columns=["account_id"]).reindex(account_of).set_axis(deals.index)
    return pd.concat([deals, taken], axis=1)


def load_crm(
    accounts: str | Path,
    deals: str | Path,
    health: str | Path | None = None,
    *,
    overrides: Mapping[str, Mapping[str, str]] | None = None,
    revenue_unit: float = 1.0,
) -> CrmData:
    """Read, validate, normalise and join CRM exports. Raises CsvFormatError for unusable files."""
    overrides = overrides or {}
    table = read_account_table(accounts, overrides=overrides.get("accounts"))
    dls = read_deal_table(deals, overrides=overrides.get("deals"))
    errors = [*table.errors, *dls.errors]
    findings = [*table.findings]
    accounts_df, report = table_frame(table, revenue_unit=revenue_unit)
    attributes = [c for c in accounts_df.columns if c not in ("account_id", "name", "domain")]

    account_of, join_errors, join_findings = join_deal_table(table, dls)
    errors += join_errors
    findings += [f for f in dict.fromkeys([*dls.findings, *join_findings])]
    deals_df = pd.DataFrame(
        {
            "deal_id": _texts_column(dls.texts.deal_id),
            "account_id": _account_keys(accounts_df["account_id"], account_of),
            "stage": _texts_column(dls.texts.stage),
            "won": dls.is_won,
            "amount": dls.amount,
            "created_date": dls.created_date,
            "close_date": dls.close_date,
        },
        columns=["deal_id", "account_id", "stage", "won", "amount", "created_date", "close_date"],
    )
    deals_df = _with_accounts(deals_df, accounts_df.drop(columns=["name", "domain"]), account_of)

    if health is not None:
        hl = read_health(health, overrides=overrides.get("health"))
        errors += hl.errors
        hj = join_health(table.read_result(attributes=False), hl)
        errors += hj.errors
        findings += [*hl.findings, *hj.findings]
        records = [
            {"account_id": _account_key(a), **{c: getattr(h, c) for c in HEALTH_COLUMNS}}
            for h, a in hj.pairs
            if a is not None
        ]
        health_df = pd.DataFrame(records, columns=["account_id", *HEALTH_COLUMNS])
        health_df = health_df.drop_duplicates("account_id", keep="last")
        accounts_df = accounts_df.merge(health_df, on="account_id", how="left")
    findings += report.lines()
    return CrmData(
        accounts=accounts_df,
        deals=deals_df,
        attributes=attributes,
        errors=errors,
        findings=findings,
        normalization=report,
    )


@dataclass
class FlatTable:
    """A table of closed deals, each row carrying its account's attributes (for backtests)."""

    frame: pd.DataFrame  # `won` (bool) + normalised feature columns + the order column, if any
    features: list[str]
    excluded: int
    errors: list[RowError]
    findings: list[str]


def load_flat_table(
    path: str | Path,
    *,
    outcome: str,
    won: Sequence[str],
    lost: Sequence[str] = (),
    features: Sequence[str] | None = None,
    keep: Sequence[str] = (),
) -> FlatTable:
    """Read one CSV of deals; `won`/`lost` name outcome values (case-insensitive).

    Without `lost`, every row that is not won counts as lost. Features default to every column
    except the outcome and `keep` columns. Canonical attribute names are normalised.
    """
    table = read_table(path)
    header = list(table.header)
    missing = [c for c in [outcome, *(features or []), *keep] if c not in header]
    if missing:
        raise CsvFormatError(
            f"{table.file}: no column {', '.join(repr(m) for m in missing)}; columns are: {', '.join(header)}"
        )
    if not table.rows:
        raise CsvFormatError(f"{table.file} has a header but no readable data rows")
    raw = pd.DataFrame([values for _, values in table.rows], columns=header, dtype=object)
    lines = [line for line, _ in table.rows]
    outcome_values = raw[outcome].fillna("").astype(str).str.strip().str.casefold()
    won_set = {w.strip().casefold() for w in won}
    lost_set = {w.strip().casefold() for w in lost}
    is_won = outcome_values.isin(won_set)
    closed = is_won | (outcome_values.isin(lost_set) if lost_set else True)
    seen = ", ".join(sorted(set(raw[outcome].dropna().astype(str)))[:10])
    if not is_won.any():
        raise CsvFormatError(f"{table.file}: no row has {outcome} = {', '.join(won)}; values seen: {seen}")
    if lost_set and not outcome_values.isin(lost_set).any():
        raise CsvFormatError(f"{table.file}: no row has {outcome} = {', '.join(lost)}; values seen: {seen}")
    if is_won[closed].all():
        raise CsvFormatError(
            f"{table.file}: every row has {outcome} = {', '.join(won)}: no lost deals to compare with; "
            f"values seen: {seen}"
        )
    feats = list(features) if features else [c for c in header if c != outcome and c not in keep]
    norm, report = normalize_frame(raw.loc[closed, feats].reset_index(drop=True))
    norm = infer_numeric(norm, [c for c in norm.columns if c not in CANONICAL_ATTRIBUTES])
    frame = norm.copy()
    frame["won"] = is_won[closed].to_numpy()
    for k in keep:
        frame[k] = raw.loc[closed, k].to_numpy()
    frame["_line"] = np.asarray(lines)[closed.to_numpy()] if len(lines) else []
    used = [c for c in norm.columns]
    return FlatTable(
        frame=frame,
        features=used,
        excluded=int((~closed).sum()),
        errors=list(table.errors),
        findings=report.lines(),
    )
