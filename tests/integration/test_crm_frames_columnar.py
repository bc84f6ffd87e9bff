"""``load_crm_frames`` builds the statistics' frames from the SQL store column-wise, on both backends.

Why: the statistics rebuilt after every import read every account and closed deal of a workspace;
they are built on whole columns (no object per row), and must still be the frames the engine's
row-wise path makes of the same accounts (``accounts_frame`` of one ``AccountRow`` per account,
deals joined by a merge), which is the reference here, next to hand-computed expectations.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Callable
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from bot.services.crm.frames import DEAL_COLUMNS, load_crm_frames
from bot.store import read_scope, session_scope
from bot.store.models import Account, AccountCreate, CustomerHealthCreate, DealCreate, DealStage
from bot.store.repo import crm as crm_repo
from bot.store.repo import workspaces as workspaces_repo
from icp_engine.crm import HEALTH_COLUMNS, CrmData, accounts_frame
from icp_engine.normalize import CANONICAL_ATTRIBUTES, DERIVED_ATTRIBUTES
from icp_engine.readers import AccountRow

_TEAMS = itertools.count()


@pytest.fixture
def engine(upgraded_engine: Engine) -> Engine:
    return upgraded_engine


def _store(
    engine: Engine,
    accounts: list[AccountCreate],
    deals: list[DealCreate],
    health: list[CustomerHealthCreate] = [],  # noqa: B006 (read only)
) -> int:
    """A new workspace holding these rows; its id."""
    with session_scope(engine) as session:
        ws = workspaces_repo.get_or_create_workspace(session=session, slack_team_id=f"TFRAMES{next(_TEAMS)}")
        assert ws.id is not None
        crm_repo.bulk_upsert_accounts(session=session, workspace_id=ws.id, rows=accounts)
        crm_repo.bulk_upsert_deals(session=session, workspace_id=ws.id, rows=deals)
        crm_repo.bulk_upsert_health(session=session, workspace_id=ws.id, rows=health)
        return ws.id


def _frames(engine: Engine, workspace_id: int) -> tuple[CrmData, CrmData]:
    """(what ``load_crm_frames`` gives, the row-wise reference) for the workspace."""
    with read_scope(engine) as session:
        return load_crm_frames(session=session, workspace_id=workspace_id), _reference(session, workspace_id)


def _outcome(engine: Engine, workspace_id: int, load: Callable[[Any, int], CrmData]) -> CrmData | str:
    """The frames, or the error that stopped them (the engine cannot analyse every JSON value)."""
    with read_scope(engine) as session:
        try:
            return load(session, workspace_id)
        except (TypeError, ValueError) as exc:
            return f"{type(exc).__name__}: {exc}"


# -- the row-wise reference ----------------------------------------------------------------------

_LEFT_OUT = frozenset({*CANONICAL_ATTRIBUTES, *DERIVED_ATTRIBUTES})


def _key(name: str) -> str:
    return re.sub(r"[\s\-_]+", "_", name.strip().casefold())


def _row_attributes(account: Account) -> dict[str, Any]:
    """One account's attributes as the engine reads a row: typed columns, then the custom ones that
    mean no canonical or id column, nested objects as sorted JSON text."""
    attributes: dict[str, Any] = {
        "industry": account.industry,
        "employees": account.employees,
        "annual_revenue": account.annual_revenue,
        "country": account.country,
        "region": account.region,
        "tech_stack": list(account.tech_stack) or None,
    }
    for name, value in account.custom_attributes.items():
        if _key(name) in _LEFT_OUT or name in ("account_id", "name", "domain"):
            continue
        is_object = isinstance(value, dict)
        attributes[name] = json.dumps(value, sort_keys=True, ensure_ascii=False) if is_object else value
    return attributes


def _reference(session: Any, workspace_id: int) -> CrmData:
    accounts = crm_repo.list_accounts(session=session, workspace_id=workspace_id)
    rows = [
        AccountRow(line, a.crm_id, a.name, a.domain, _row_attributes(a)) for line, a in enumerate(accounts, 1)
    ]
    accounts_df, report = accounts_frame(rows)
    accounts_df["account_id"] = accounts_df["account_id"].astype(object)
    known = {a.crm_id for a in accounts}
    deals = [
        {
            "deal_id": d.crm_id,
            "account_id": d.account_crm_id,
            "stage": d.stage.value,
            "won": d.stage == DealStage.won,
            "amount": np.nan if d.amount is None else d.amount,
            "created_date": d.created_on,
            "close_date": d.closed_on,
        }
        for stage in (DealStage.won, DealStage.lost)
        for d in crm_repo.list_deals(session=session, workspace_id=workspace_id, stage=stage)
        if d.account_crm_id in known
    ]
    deals_df = pd.DataFrame(deals, columns=DEAL_COLUMNS)
    deals_df["account_id"] = deals_df["account_id"].astype(object)
    deals_df = deals_df.merge(accounts_df.drop(columns=["name", "domain"]), on="account_id", how="left")
    attributes = [c for c in accounts_df.columns if c not in ("account_id", "name", "domain")]
    health = crm_repo.list_health(session=session, workspace_id=workspace_id)
    if health:
        health_df = pd.DataFrame(
            [{"account_id": h.crm_id, **{n: getattr(h, n) for n in HEALTH_COLUMNS}} for h in health],
            dtype=object,
        )
        for name in HEALTH_COLUMNS:
            if name != "churned":
                health_df[name] = pd.to_numeric(health_df[name], errors="coerce").astype("float64")
        accounts_df = accounts_df.merge(health_df, on="account_id", how="left")
    return CrmData(accounts_df, deals_df, attributes, findings=report.lines(), normalization=report)


def _assert_same_frame(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Same columns, dtypes, index and values; in object columns also the same kind of missing value."""
    assert list(got.columns) == list(expected.columns)
    assert [str(t) for t in got.dtypes] == [str(t) for t in expected.dtypes]
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    for name in got.columns:
        if got[name].dtype == object:
            assert [type(v) for v in got[name]] == [type(v) for v in expected[name]], name


def _assert_same(got: CrmData, expected: CrmData) -> None:
    _assert_same_frame(got.accounts, expected.accounts)
    _assert_same_frame(got.deals, expected.deals)
    assert got.attributes == expected.attributes
    assert got.findings == expected.findings
    assert got.normalization == expected.normalization


# -- hand-computed expectations ------------------------------------------------------------------


def _example_accounts() -> list[AccountCreate]:
    return [
        AccountCreate(
            crm_id="A1",
            name="Ünïcode GmbH",
            domain="unicode.example",
            industry="Software",
            employees=120,
            annual_revenue=5e6,
            country="DE",
            tech_stack=["Salesforce", "HubSpot"],
            custom_attributes={
                "plan": "pro",
                "Industry": "clashes with the typed column",
                "employee band": "so does this",
                "name": "and an id column",
                "meta": {"b": 1, "a": ["x", "ü"]},
                "visits": "12",
            },
        ),
        AccountCreate(crm_id="A2", name="Blank Ltd", custom_attributes={"visits": "n/a", "extra": "e"}),
        AccountCreate(crm_id="A3", name="日本株式会社", country="JP", tech_stack=["Slack"]),
    ]


def _example_deals() -> list[DealCreate]:
    def deal(crm_id: str, account: str | None, stage: DealStage, amount: float | None = None) -> DealCreate:
        return DealCreate(
            crm_id=crm_id,
            account_crm_id=account,
            stage=stage,
            amount=amount,
            created_on=date(2024, 1, 2),
            closed_on=None if stage == DealStage.open else date(2024, 3, 4),
        )

    return [
        deal("D1", "A2", DealStage.lost, 10.5),
        deal("D2", "A1", DealStage.won, 100.0),
        deal("D3", "A1", DealStage.open, 7.0),  # open: left out
        deal("D4", "UNKNOWN", DealStage.won, 1.0),  # no such account: left out
        deal("D5", None, DealStage.lost),  # no account at all: left out
        deal("D6", "A3", DealStage.won),
    ]


def test_frames_hold_the_closed_deals_of_known_accounts_with_their_attributes(engine: Engine) -> None:
    health = [CustomerHealthCreate(crm_id="A1", arr=1000.0, churned=False, nps=9)]
    workspace_id = _store(engine, _example_accounts(), _example_deals(), health)
    got, reference = _frames(engine, workspace_id)
    _assert_same(got, reference)

    assert got.attributes == [
        *CANONICAL_ATTRIBUTES,
        "plan",
        "meta",
        "visits",
        "extra",
        *DERIVED_ATTRIBUTES,
    ]
    accounts = got.accounts
    assert accounts["account_id"].tolist() == ["A1", "A2", "A3"]
    assert accounts["name"].tolist() == ["Ünïcode GmbH", "Blank Ltd", "日本株式会社"]
    assert accounts["meta"].tolist() == ['{"a": ["x", "ü"], "b": 1}', None, None]
    assert accounts["visits"].dtype == np.float64 and accounts["visits"].tolist()[0] == 12.0
    assert accounts["visits"].isna().tolist() == [False, True, True]
    assert accounts["tech_stack"].tolist() == [("hubspot", "salesforce"), None, ("slack",)]
    assert accounts["employees"].tolist()[0] == 120.0 and math.isnan(accounts["employees"].tolist()[1])
    assert accounts["arr"].tolist()[0] == 1000.0 and accounts["arr"].isna().tolist()[1:] == [True, True]

    deals = got.deals
    assert deals["deal_id"].tolist() == ["D2", "D6", "D1"]  # won, then lost, each in stored order
    assert deals["won"].tolist() == [True, True, False]
    assert deals["stage"].tolist() == ["won", "won", "lost"]
    assert deals["amount"].tolist()[::2] == [100.0, 10.5] and math.isnan(deals["amount"].tolist()[1])
    assert deals["close_date"].tolist() == [date(2024, 3, 4)] * 3
    assert deals["plan"].tolist() == ["pro", None, None]
    assert deals["country"].tolist() == ["DE", "JP", None]
    assert list(deals.columns[: len(DEAL_COLUMNS)]) == DEAL_COLUMNS


def test_a_workspace_without_accounts_or_closed_deals_gives_empty_frames(engine: Engine) -> None:
    for accounts in ([], _example_accounts()):
        open_only = [d for d in _example_deals() if d.stage == DealStage.open]
        got, reference = _frames(engine, _store(engine, accounts, open_only))
        _assert_same(got, reference)
        assert got.deals.empty and len(got.accounts) == len(accounts)


def test_custom_attributes_named_like_the_engine_columns_are_kept(engine: Engine) -> None:
    """'_line' names the engine's own column of a table; 'amount' a deal column: both stay attributes."""
    accounts = [
        AccountCreate(crm_id="A1", name="One", custom_attributes={"_line": "7", "amount": "big"}),
        AccountCreate(crm_id="A2", name="Two", custom_attributes={"_line": "8", "_line\0": "x"}),
    ]
    deals = [DealCreate(crm_id="D1", account_crm_id="A1", stage=DealStage.won, amount=3.0)]
    got, reference = _frames(engine, _store(engine, accounts, deals))
    _assert_same(got, reference)
    assert got.accounts["_line"].tolist() == [7.0, 8.0]
    assert got.deals["amount_y"].tolist() == ["big"]


def test_numbers_the_engine_would_reject_are_reported_as_before(engine: Engine) -> None:
    accounts = [
        AccountCreate(crm_id="A1", name="One", employees=10, annual_revenue=math.inf),
        AccountCreate(crm_id="A2", name="Two", employees=None, annual_revenue=2.5),
    ]
    deals = [DealCreate(crm_id="D1", account_crm_id="A2", stage=DealStage.lost)]
    got, reference = _frames(engine, _store(engine, accounts, deals))
    _assert_same(got, reference)
    assert [bad[0] for bad in got.normalization.bad_values] == ["annual_revenue"]


# -- random stores -------------------------------------------------------------------------------

_TEXT = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\0"), max_size=8)
_NAMES = [
    "plan",
    "Plan",
    "Industry",
    "employees",
    "Country-Region",
    "name",
    "domain",
    "account_id",
    "_line",
    "Région",
    "visits",
]
_JSON: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 5)
    | st.floats(-10, 10, allow_nan=False)
    | _TEXT
    | st.sampled_from(["12", "n/a", "3,5"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=5,
)


@st.composite
def _accounts(draw: st.DrawFn) -> list[AccountCreate]:
    size = draw(st.integers(0, 6))
    return [
        AccountCreate(
            crm_id=f"A{i}",
            name=draw(_TEXT.filter(bool)),
            domain=draw(st.none() | st.just(f"a{i}.example")),
            industry=draw(st.none() | st.sampled_from(["Software", "saas", "  ", "Fintech", "Ünïcode"])),
            employees=draw(st.none() | st.integers(0, 100_000)),
            annual_revenue=draw(st.none() | st.floats(0, 1e12) | st.just(math.inf)),
            country=draw(st.none() | st.sampled_from(["US", "de", "Germany", "xx"])),
            region=draw(st.none() | st.sampled_from(["EMEA", "north america", ""])),
            tech_stack=draw(st.lists(st.sampled_from(["Salesforce", "HubSpot", "Slack"]), max_size=3)),
            custom_attributes=draw(st.dictionaries(st.sampled_from(_NAMES), _JSON, max_size=4)),
        )
        for i in range(size)
    ]


@st.composite
def _deals(draw: st.DrawFn, accounts: int) -> list[DealCreate]:
    size = draw(st.integers(0, 10))
    owners = st.none() | st.sampled_from(["UNKNOWN", *(f"A{i}" for i in range(accounts))])
    days = st.none() | st.dates(date(2020, 1, 1), date(2025, 12, 31))
    return [
        DealCreate(
            crm_id=f"D{i}",
            account_crm_id=draw(owners),
            stage=draw(st.sampled_from(list(DealStage))),
            amount=draw(st.none() | st.floats(0, 1e9)),
            created_on=draw(days),
            closed_on=draw(days),
        )
        for i in range(size)
    ]


@st.composite
def _stores(draw: st.DrawFn) -> tuple[list[AccountCreate], list[DealCreate], list[CustomerHealthCreate]]:
    accounts = draw(_accounts())
    ids = sorted(draw(st.sets(st.sampled_from(["UNKNOWN", *(a.crm_id for a in accounts)]), max_size=3)))
    health = [
        CustomerHealthCreate(
            crm_id=crm_id, arr=draw(st.none() | st.floats(0, 1e6)), churned=draw(st.none() | st.booleans())
        )
        for crm_id in ids
    ]
    return accounts, draw(_deals(len(accounts))), health


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(store=_stores())
def test_frames_equal_the_row_wise_ones_for_any_store(
    engine: Engine, store: tuple[list[AccountCreate], list[DealCreate], list[CustomerHealthCreate]]
) -> None:
    workspace_id = _store(engine, *store)
    got = _outcome(
        engine, workspace_id, lambda session, ws: load_crm_frames(session=session, workspace_id=ws)
    )
    reference = _outcome(engine, workspace_id, _reference)
    if isinstance(got, str) or isinstance(reference, str):
        assert got == reference  # the same error either way
    else:
        _assert_same(got, reference)
