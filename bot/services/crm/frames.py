"""A workspace's CRM rows from the SQL store, as the engine's frames (the same shape as ``load_crm``).

The statistics that go into the knowledge store must be the ones ``icp analyze`` would print for
the same data, so the stored accounts go through the engine's own normalisation (its column-wise
``table_frame``, as an accounts file read by ``icp score --accounts`` does) instead of a second,
drifting copy of it. Everything is done on whole columns: a workspace holds hundreds of thousands
of accounts and a million deals, and an object per row costs more than the rest together.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping
from itertools import compress
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from bot.store.db import Session
from bot.store.models import CustomerHealth, DealStage
from bot.store.repo import crm as crm_repo
from icp_engine.crm import HEALTH_COLUMNS, CrmData, table_frame
from icp_engine.normalize import CANONICAL_ATTRIBUTES, DERIVED_ATTRIBUTES, NormalizationReport
from icp_engine.readers import AccountTable

DEAL_COLUMNS = ["deal_id", "account_id", "stage", "won", "amount", "created_date", "close_date"]
_ID_COLUMNS = ("account_id", "name", "domain")
_RESERVED = frozenset({*CANONICAL_ATTRIBUTES, *DERIVED_ATTRIBUTES})
_TYPED = ("industry", "employees", "annual_revenue", "country", "region")  # read as they are stored
_NUMBERS = ("employees", "annual_revenue")
_LINE = "_line"  # the table's own column, not an attribute: a custom attribute of that name is renamed


def _field_key(name: str) -> str:
    """How the engine matches a column to a canonical attribute (case, spaces, '-' and '_' ignored)."""
    return re.sub(r"[\s\-_]+", "_", name.strip().casefold())


def _custom_value(value: Any) -> Any:
    """Custom attributes as the engine reads them; nested objects become their JSON text."""
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return value


@functools.lru_cache(maxsize=4096)
def _kept_names(names: tuple[Any, ...]) -> tuple[Any, ...]:
    """The custom attribute names that mean no canonical or id column (accounts share their names):
    a custom attribute that would mean a canonical one is left out (the typed column is the
    imported, validated value)."""
    return tuple(
        name for name in names if _field_key(str(name)) not in _RESERVED and str(name) not in _ID_COLUMNS
    )


def _distinct(values: list[Any]) -> tuple[np.ndarray, list[Any]]:
    """(code of each value, the distinct values in order of first appearance), told apart by identity.

    JSON values (tech stacks, custom attribute sets) are not hashable; the store hands equal ones
    over as one shared object where it can, so each is looked at once. Equal values that are
    separate objects are merely looked at more than once.
    """
    codes, _ = pd.factorize(np.fromiter(map(id, values), dtype=np.int64, count=len(values)))
    _, first = np.unique(codes, return_index=True)
    return codes, [values[i] for i in first.tolist()]


def _objects(values: Iterable[Any], size: int) -> np.ndarray:
    """An object array of these values, set one by one (so that lists stay single values)."""
    array = np.empty(size, dtype=object)
    for position, value in enumerate(values):
        array[position] = value
    return array


def _tech_stacks(stacks: list[Any]) -> pd.Series:
    """Each account's tech stack as a list of its own kind, None when empty."""
    codes, distinct = _distinct(stacks)
    return pd.Series(
        _objects((list(stack) or None for stack in distinct), len(distinct))[codes], dtype=object
    )


def _custom_columns(customs: list[Any]) -> dict[str, pd.Series]:
    """One column per kept custom attribute, in order of first appearance (NaN: the account lacks it)."""
    codes, distinct = _distinct(customs)
    tables: dict[str, np.ndarray] = {}  # each attribute's value in each distinct set
    for position, custom in enumerate(distinct):
        for name in _kept_names(tuple(custom or {})):
            if name not in tables:
                tables[name] = np.full(len(distinct), np.nan, dtype=object)
            tables[name][position] = _custom_value(custom[name])
    return {str(name): pd.Series(table[codes], dtype=object) for name, table in tables.items()}


def _plain_numbers(values: list[Any]) -> np.ndarray | None:
    """The column as floats (NaN: none) when normalising it could only convert it: every value a
    finite, non-negative number or none. Otherwise None, and the values are normalised one by one
    (an infinite or negative value is reported there, in its own words)."""
    if any(type(value) not in (int, float) for value in values if value is not None):
        return None
    numbers = np.array(values, dtype=np.float64)
    return None if bool((np.isinf(numbers) | (numbers < 0)).any()) else numbers


def _stand_in(names: Mapping[str, Any]) -> str:
    """A name for the custom attribute ``_line`` in the table, none of the others' (nor canonical)."""
    name = _LINE + "\0"
    while name in names:
        name += "\0"
    return name


def _account_table(values: Mapping[str, list[Any]]) -> tuple[AccountTable, str | None]:
    """The stored accounts as the table the engine reads accounts files into, and the name a custom
    attribute called ``_line`` has in it (None: there is none).

    Attribute columns hold objects (numbers, texts, lists), as the row-wise frame always had them;
    pandas would make texts of columns of texts. The numbers are read at once where they can be.
    """
    size = len(values["crm_id"])
    numbers = {name: found for name in _NUMBERS if (found := _plain_numbers(values[name])) is not None}
    raw = {name: pd.Series(values[name], dtype=object) for name in _TYPED}
    raw.update({name: pd.Series(column) for name, column in numbers.items()})
    raw["tech_stack"] = _tech_stacks(values["tech_stack"])
    custom = _custom_columns(values["custom_attributes"])
    renamed = None
    if _LINE in custom:
        renamed = _stand_in(custom)
        custom = {renamed if name == _LINE else name: column for name, column in custom.items()}
    raw.update(custom)
    ids = {  # the columns pandas makes of these lists (the account ids end up as objects anyway)
        "account_id": pd.Series(values["crm_id"], dtype=object),
        "name": pd.Series(values["name"]),
        "domain": pd.Series(values["domain"]),
    }
    frame = pd.DataFrame({_LINE: np.arange(1, size + 1), **ids, **raw}, index=range(size))
    return AccountTable("store", frame, [], [], {}, "utf-8", ",", numbers), renamed


def _accounts_frame(values: Mapping[str, list[Any]]) -> tuple[pd.DataFrame, NormalizationReport]:
    """The normalised accounts frame and the normalisation report of the stored accounts."""
    table, renamed = _account_table(values)
    frame, report = table_frame(table)
    if renamed is not None:
        frame = frame.rename(columns={renamed: _LINE})
    frame["account_id"] = frame["account_id"].astype(object)  # also when there are none
    return frame, report


def _deal_frame(deals: Mapping[str, list[Any]], account_of: np.ndarray) -> pd.DataFrame:
    """The closed deals of known accounts (``account_of``: each deal's account row, -1: none); a
    deal whose account is not in the store has no attributes to analyse, like a deal the file
    import could not join."""
    known = account_of >= 0
    if not known.any():
        return pd.DataFrame([], columns=DEAL_COLUMNS)  # the dtypes pandas gives no deals
    mask = None if known.all() else known.tolist()

    def kept(name: str) -> list[Any]:
        return deals[name] if mask is None else list(compress(deals[name], mask))

    stages = kept("stage")
    return pd.DataFrame(
        {
            "deal_id": kept("crm_id"),
            "account_id": pd.Series(kept("account_crm_id"), dtype=object),
            "stage": stages,
            "won": np.array(stages, dtype=object) == DealStage.won.value,
            "amount": np.array(kept("amount"), dtype=np.float64),
            "created_date": kept("created_on"),
            "close_date": kept("closed_on"),
        }
    )


def _positions(keys: pd.Series, wanted: list[Any]) -> np.ndarray:
    """The position of each wanted key among ``keys`` (unique texts), -1 where it is none of them
    (hashed by Arrow: a million deals' account ids looked up without a Python object each)."""
    found = pc.index_in(pa.array(wanted, pa.string()), value_set=pa.array(keys, pa.string()))
    positions: np.ndarray = found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    return positions


def _with_accounts(deals: pd.DataFrame, accounts: pd.DataFrame, account_of: np.ndarray) -> pd.DataFrame:
    """``deals.merge(accounts, on="account_id", how="left")``, each deal's account row taken by its
    position (every deal has one): no hash join of a million ids."""
    shared = set(deals.columns) & set(accounts.columns) - {"account_id"}
    if shared or deals.empty:
        return deals.merge(accounts, on="account_id", how="left")
    taken = accounts.drop(columns=["account_id"]).take(account_of).reset_index(drop=True)
    return pd.concat([deals, taken], axis=1)


def _health_frame(rows: Iterable[CustomerHealth]) -> pd.DataFrame:
    records = [
        {"account_id": row.crm_id, **{name: getattr(row, name) for name in HEALTH_COLUMNS}} for row in rows
    ]
    frame = pd.DataFrame(records, columns=["account_id", *HEALTH_COLUMNS], dtype=object)
    for name in HEALTH_COLUMNS:
        if name != "churned":
            frame[name] = pd.to_numeric(frame[name], errors="coerce").astype("float64")
    return frame


def load_crm_frames(*, session: Session, workspace_id: int) -> CrmData:
    """The workspace's accounts (with health) and closed deals, ready for ``icp_engine.stats.analyze``.

    ``CrmData.closed`` holds the won and lost deals of accounts that are in the store; open deals
    and deals of unknown accounts are left out, as ``load_crm`` leaves them out of analysis.
    """
    accounts_df, report = _accounts_frame(crm_repo.account_values(session=session, workspace_id=workspace_id))
    attributes = [c for c in accounts_df.columns if c not in _ID_COLUMNS]
    deals = crm_repo.closed_deal_values(session=session, workspace_id=workspace_id)
    account_of = _positions(accounts_df["account_id"], deals["account_crm_id"])
    deals_df = _deal_frame(deals, account_of)
    del deals  # each step's input is let go once used: the peak is what a workspace can load
    deals_df = _with_accounts(
        deals_df, accounts_df.drop(columns=["name", "domain"]), account_of[account_of >= 0]
    )
    health = crm_repo.list_health(session=session, workspace_id=workspace_id)
    if health:
        health_df = _health_frame(health)
        accounts_df = accounts_df.merge(health_df, on="account_id", how="left")
    return CrmData(
        accounts=accounts_df,
        deals=deals_df,
        attributes=attributes,
        findings=report.lines(),
        normalization=report,
    )


def load_account_frame(*, session: Session, workspace_id: int) -> pd.DataFrame:
    """The stored accounts alone as the engine's normalised frame: what scoring all of them needs."""
    frame, _ = _accounts_frame(crm_repo.account_values(session=session, workspace_id=workspace_id))
    return frame
