"""A workspace's CRM rows from the SQL store, as the engine's frames (the same shape as ``load_crm``).

The statistics that go into the knowledge store must be the ones ``icp analyze`` would print for
the same data, so the stored rows are turned back into the engine's ``AccountRow`` objects and
go through the engine's own normalisation and join, instead of a second, drifting copy of it.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from bot.store.db import Session
from bot.store.models import CustomerHealth, DealStage
from bot.store.repo import crm as crm_repo
from icp_engine.crm import HEALTH_COLUMNS, CrmData, accounts_frame
from icp_engine.normalize import CANONICAL_ATTRIBUTES, DERIVED_ATTRIBUTES
from icp_engine.readers import AccountRow

DEAL_COLUMNS = ["deal_id", "account_id", "stage", "won", "amount", "created_date", "close_date"]
_ID_COLUMNS = ("account_id", "name", "domain")
_RESERVED = frozenset({*CANONICAL_ATTRIBUTES, *DERIVED_ATTRIBUTES})


def _field_key(name: str) -> str:
    """How the engine matches a column to a canonical attribute (case, spaces, '-' and '_' ignored)."""
    return re.sub(r"[\s\-_]+", "_", name.strip().casefold())


def _custom_value(value: Any) -> Any:
    """Custom attributes as the engine reads them; nested objects become their JSON text."""
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return value


def _raw_attributes(values: Sequence[Any]) -> dict[str, Any]:
    """Canonical columns first; a custom attribute that would mean a canonical one is left out
    (the typed column is the imported, validated value). ``values``: a row of ``account_values``."""
    _, _, _, industry, employees, annual_revenue, country, region, tech_stack, custom = values
    raw: dict[str, Any] = {
        "industry": industry,
        "employees": employees,
        "annual_revenue": annual_revenue,
        "country": country,
        "region": region,
        "tech_stack": list(tech_stack) or None,
    }
    custom = custom or {}
    for name in _kept_names(tuple(custom)):
        raw[str(name)] = _custom_value(custom[name])
    return raw


@functools.lru_cache(maxsize=4096)
def _kept_names(names: tuple[Any, ...]) -> tuple[Any, ...]:
    """The custom attribute names that mean no canonical or id column (accounts share their names)."""
    return tuple(
        name for name in names if _field_key(str(name)) not in _RESERVED and str(name) not in _ID_COLUMNS
    )


def _account_rows(accounts: Iterable[Sequence[Any]]) -> list[AccountRow]:
    """Rows of ``account_values`` as the engine's account rows (positions, not names: a
    million name lookups cost more than the rest)."""
    return [
        AccountRow(
            line=position,
            account_id=values[0],
            name=values[1],
            domain=values[2],
            attributes=_raw_attributes(values),
        )
        for position, values in enumerate(accounts, start=1)
    ]


def _deal_frame(deals: Iterable[tuple[Any, ...]], known_accounts: set[str]) -> pd.DataFrame:
    """Closed deals of known accounts; a deal whose account is not in the store has no attributes
    to analyse, like a deal the file import could not join.

    ``deals``: (crm_id, account_crm_id, stage, amount, created_on, closed_on) values."""
    records = [
        {
            "deal_id": crm_id,
            "account_id": account_crm_id,
            "stage": DealStage(stage).value,
            "won": DealStage(stage) == DealStage.won,
            "amount": np.nan if amount is None else float(amount),
            "created_date": created_on,
            "close_date": closed_on,
        }
        for crm_id, account_crm_id, stage, amount, created_on, closed_on in deals
        if account_crm_id is not None and account_crm_id in known_accounts
    ]
    frame = pd.DataFrame(records, columns=DEAL_COLUMNS)
    frame["account_id"] = frame["account_id"].astype(object)
    return frame


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
    accounts = crm_repo.account_values(session=session, workspace_id=workspace_id)
    known = {values[0] for values in accounts}
    rows = _account_rows(accounts)
    del accounts  # each step's input is let go once used: the peak is what a workspace can load
    accounts_df, report = accounts_frame(rows)
    del rows
    accounts_df["account_id"] = accounts_df["account_id"].astype(object)  # also when there are none
    attributes = [c for c in accounts_df.columns if c not in _ID_COLUMNS]
    deals_df = _deal_frame(crm_repo.closed_deal_values(session=session, workspace_id=workspace_id), known)
    deals_df = deals_df.merge(accounts_df.drop(columns=["name", "domain"]), on="account_id", how="left")
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
