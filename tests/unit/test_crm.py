"""From CSV exports to the engine's tables: load_crm joins and normalises accounts, deals and health;
infer_numeric finds number columns; load_flat_table reads one deals table for backtests. Files are
written in tmp_path so each test shows its input."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from icp_engine.crm import (
    NUMERIC_SHARE,
    accounts_frame,
    infer_numeric,
    load_crm,
    load_flat_table,
    table_frame,
)
from icp_engine.readers import AccountRow, CsvFormatError, read_account_table, read_accounts

ACCOUNTS = """\
Record ID,Company name,Industry,Number of Employees,Annual Revenue,Country/Region,Technologies,Lead Source,Seats
1,Acme Inc,SaaS,5k,$2.5M,USA,Salesforce; HubSpot,Referral,"1,200"
2,Blue LLC,Retail,12,900000,Germany,,Inbound,40
3,Cedar GmbH,Fintech,abc,3,Canada,Slack,Outbound,7
4,Delta Ltd,Education,250,12,UK,jira,Event,n/a
"""
DEALS = """\
Record ID,Associated Company ID,Deal Stage,Amount,Create Date,Close Date
d1,1,closedwon,1000,2024-01-01,2024-02-01
d2,1,closedlost,0,2024-01-05,2024-03-01
d3,2,closedlost,500,2024-02-01,2024-03-15
d4,4,appointmentscheduled,700,2024-03-01,2024-04-01
d5,9,closedwon,300,2024-03-01,2024-04-01
d6,,closedwon,300,2024-03-01,2024-04-01
d7,4,Closed Won,-5,2024-03-01,2024-04-01
d8,4,closedwon,,2024-03-01,2024-04-09
"""
HEALTH = """\
Record ID,Company name,ARR,Churned,NPS
1,Acme Inc,12000,No,40
4,Delta Ltd,5000,Yes,
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def exports(tmp_path: Path) -> dict[str, Path]:
    return {
        "accounts": write(tmp_path, "accounts.csv", ACCOUNTS),
        "deals": write(tmp_path, "deals.csv", DEALS),
        "health": write(tmp_path, "health.csv", HEALTH),
    }


# --- load_crm ---------------------------------------------------------------------------------------


def test_accounts_are_normalised_and_bad_rows_reported(exports: dict[str, Path]) -> None:
    data = load_crm(exports["accounts"], exports["deals"])
    acc = data.accounts.set_index("account_id")
    assert list(acc.index) == ["1", "2", "4"]  # account 3 has employees 'abc' and is left out
    assert acc.loc["1", "name"] == "Acme Inc"
    assert acc.loc["1", "industry"] == "software"
    assert acc.loc["1", "employees"] == 5000.0
    assert acc.loc["1", "annual_revenue"] == 2_500_000.0
    assert acc.loc["1", "country"] == "US"
    assert acc.loc["1", "region"] == "North America"
    assert acc.loc["1", "tech_stack"] == ("hubspot", "salesforce")
    assert acc.loc["1", "employee_band"] == "1001-5000"
    assert acc.loc["2", "revenue_band"] == "<1M"
    assert acc.loc["4", "country"] == "GB"
    assert acc.loc["2", "tech_stack"] is None
    assert acc.loc["1", "Lead Source"] == "Referral"  # a custom field, kept as written
    # 'n/a' means unknown, so Seats is a number column ("1,200" → 1200)
    assert acc["Seats"].dtype == np.float64
    assert acc.loc["1", "Seats"] == 1200.0 and math.isnan(acc.loc["4", "Seats"])
    assert data.attributes == [
        "industry",
        "employees",
        "annual_revenue",
        "country",
        "tech_stack",
        "Lead Source",
        "Seats",
        "employee_band",
        "revenue_band",
        "region",
        "country_region",
    ]
    assert "industry: 'SaaS' -> 'software' (synonym, 1 row)" in data.findings


def test_errors_name_file_line_and_column(exports: dict[str, Path]) -> None:
    data = load_crm(exports["accounts"], exports["deals"])
    assert [str(e) for e in data.errors] == [
        "accounts.csv line 4, column 'Number of Employees': not a number: 'abc'",
        "deals.csv line 8, column 'Amount': negative value: '-5'",
        "deals.csv line 6, column 'Associated Company ID': unknown account id '9'",
    ]
    assert "1 closed deal has no account (lines 7)" in data.findings


def test_deals_carry_their_accounts_attributes(exports: dict[str, Path]) -> None:
    data = load_crm(exports["accounts"], exports["deals"])
    deals = data.deals.set_index("deal_id")
    assert list(deals.index) == ["d1", "d2", "d3", "d4", "d5", "d6", "d8"]  # d7 has a bad amount
    assert deals.loc["d1", ["stage", "won", "amount"]].tolist() == ["won", True, 1000.0]
    assert deals.loc["d4", "stage"] == "open" and not deals.loc["d4", "won"]
    assert math.isnan(deals.loc["d8", "amount"])
    assert deals.loc["d2", "industry"] == "software" and deals.loc["d3", "country"] == "DE"
    assert pd.isna(deals.loc["d5", "account_id"]) and pd.isna(deals.loc["d5", "industry"])
    assert str(deals.loc["d1", "close_date"]) == "2024-02-01"
    # closed: won or lost, with an account
    closed = data.closed
    assert closed["deal_id"].tolist() == ["d1", "d2", "d3", "d8"]
    assert closed["won"].tolist() == [True, False, False, True]
    assert list(closed.index) == [0, 1, 2, 3]


def test_health_joins_onto_accounts(exports: dict[str, Path]) -> None:
    data = load_crm(exports["accounts"], exports["deals"], exports["health"])
    acc = data.accounts.set_index("account_id")
    assert acc.loc["1", "arr"] == 12000.0 and acc.loc["4", "arr"] == 5000.0
    assert acc.loc["1", "churned"] is False and acc.loc["4", "churned"] is True
    assert acc.loc["1", "nps"] == 40.0 and pd.isna(acc.loc["4", "nps"])
    assert pd.isna(acc.loc["2", "arr"])  # no health row
    assert "arr" not in data.deals.columns  # health describes accounts, not deals
    assert "2 health rows joined to an account (2 by account id, 0 by name)" in data.findings


def test_revenue_unit_scales_revenue_and_its_band(exports: dict[str, Path]) -> None:
    plain = load_crm(exports["accounts"], exports["deals"]).accounts.set_index("account_id")
    millions = load_crm(exports["accounts"], exports["deals"], revenue_unit=1e6).accounts
    millions = millions.set_index("account_id")
    assert millions.loc["4", "annual_revenue"] == 12e6
    assert plain.loc["4", "revenue_band"] == "<1M"
    assert millions.loc["4", "revenue_band"] == "10M-50M"
    assert millions["employees"].equals(plain["employees"])  # nothing else changes


@pytest.mark.parametrize("unit", [0.0, -1.0, math.nan, math.inf])
def test_revenue_unit_must_be_positive(exports: dict[str, Path], unit: float) -> None:
    with pytest.raises(ValueError, match="revenue unit must be a positive number"):
        load_crm(exports["accounts"], exports["deals"], revenue_unit=unit)


def test_overrides_map_a_column_per_file(tmp_path: Path) -> None:
    accounts = write(tmp_path, "a.csv", "Account,Headcount,Sector\nAcme,250,SaaS\nBlue,8,Retail\n")
    deals = write(tmp_path, "d.csv", "Opportunity ID,Account,Stage,Value\n1,Acme,Won,10\n2,Blue,Lost,5\n")
    data = load_crm(accounts, deals, overrides={"accounts": {"employees": "Headcount"}})
    assert data.closed[["won", "employees", "industry"]].values.tolist() == [
        [True, 250.0, "software"],
        [False, 8.0, "retail"],
    ]
    assert data.closed["account_id"].tolist() == ["name:Acme", "name:Blue"]  # no ids: keyed by name


def test_unusable_files_raise_naming_the_file(tmp_path: Path, exports: dict[str, Path]) -> None:
    with pytest.raises(CsvFormatError, match=r"nope\.csv: file not found"):
        load_crm(tmp_path / "nope.csv", exports["deals"])
    no_stage = write(tmp_path, "deals2.csv", "Record ID,Amount\n1,5\n")
    with pytest.raises(CsvFormatError, match=r"deals2\.csv: no column for 'stage'"):
        load_crm(exports["accounts"], no_stage)
    with pytest.raises(CsvFormatError, match=r"accounts\.csv: --map employees=Staff: no column 'Staff'"):
        load_crm(exports["accounts"], exports["deals"], overrides={"accounts": {"employees": "Staff"}})


# --- accounts_frame ---------------------------------------------------------------------------------


def test_accounts_frame_keys_accounts_without_ids_by_name() -> None:
    rows = [
        AccountRow(2, None, "Acme", "acme.com", {"industry": "Computer Software", "employees": "1,000"}),
        AccountRow(3, "7", "Blue", None, {"employees": "10-50", "Tier": "gold"}),
    ]
    frame, report = accounts_frame(rows, revenue_unit=1.0)
    assert frame["account_id"].tolist() == ["name:Acme", "7"]
    assert frame["domain"].iloc[0] == "acme.com" and pd.isna(frame["domain"].iloc[1])
    assert frame["employees"].tolist() == [1000.0, 30.0]
    assert frame["industry"].tolist()[0] == "software"
    assert frame["Tier"].tolist() == [None, "gold"]
    assert report.lines()


def test_accounts_frame_from_reader(exports: dict[str, Path]) -> None:
    read = read_accounts(exports["accounts"])
    frame, _ = accounts_frame(read.rows, revenue_unit=1e3)
    assert frame["annual_revenue"].tolist() == [2.5e9, 9e8, 12e3]
    assert frame["revenue_band"].tolist() == ["1B+", "500M-1B", "<1M"]


def test_accounts_frame_with_no_rows() -> None:
    frame, _ = accounts_frame([])
    assert len(frame) == 0
    assert {"account_id", "name", "domain"} <= set(frame.columns)


# --- infer_numeric ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("only", "kept"),
    [
        ([], set()),
        (["industry"], {"industry"}),
        (["employee_band"], {"employees", "employee_band"}),
        (["region"], {"country", "region", "country_region"}),  # derived from the country
        (["Seats", "tech_stack"], {"Seats", "tech_stack"}),
    ],
)
def test_table_frame_normalises_only_the_columns_wanted(
    exports: dict[str, Path], only: list[str], kept: set[str]
) -> None:
    table = read_account_table(exports["accounts"])
    full, _ = table_frame(table)
    part, _ = table_frame(table, only=only)
    assert set(part.columns) == {"account_id", "name", "domain", *kept}
    pd.testing.assert_frame_equal(part, full[list(part.columns)])  # each column as it is in the whole


def test_table_frame_two_columns_meaning_one_attribute_fail_whichever_are_wanted(tmp_path: Path) -> None:
    path = write(
        tmp_path, "a.csv", "Record ID,Company name,Plan,Employee Band,employee_band\n1,Acme,gold,1-10,1-10\n"
    )
    table = read_account_table(path)
    for only in (None, ["Plan"]):
        with pytest.raises(ValueError, match="both mean"):
            table_frame(table, only=only)


def test_infer_numeric_by_hand() -> None:
    df = pd.DataFrame(
        {
            "seats": pd.Series(["1,200", "3", None, "", "n/a", "-"], dtype=object),
            "plan": pd.Series(["gold", "1", "2", "3", "4", "5"], dtype=object),
            "ints": [1, 2, 3, 4, 5, 6],
            "flags": [True, False, True, True, False, True],
            "blank": pd.Series([None, "", "n/a", None, None, None], dtype=object),
        }
    )
    out = infer_numeric(df, ["seats", "plan", "ints", "flags", "blank"])
    assert out["seats"].dtype == np.float64
    assert out["seats"].tolist()[:2] == [1200.0, 3.0] and out["seats"].iloc[2:].isna().all()
    assert out["plan"].tolist() == ["gold", "1", "2", "3", "4", "5"]  # 5 of 6 is below 95%
    assert out["ints"].dtype.kind == "i" and out["flags"].dtype == bool
    assert out["blank"].tolist() == df["blank"].tolist()  # nothing to go on: left as it is
    assert df["seats"].tolist()[0] == "1,200"  # the input frame is not changed


def test_infer_numeric_only_touches_the_named_columns() -> None:
    df = pd.DataFrame({"a": ["1", "2"], "b": ["3", "4"]}, dtype=object)
    out = infer_numeric(df, ["a"])
    assert out["a"].tolist() == [1.0, 2.0] and out["b"].tolist() == ["3", "4"]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(-10_000, 10_000), min_size=1, max_size=60),
    st.integers(0, 5),
    st.integers(0, 5),
)
def test_infer_numeric_threshold(numbers: list[int], words: int, blanks: int) -> None:
    """Numeric exactly when at least 95% of the values that are there read as numbers."""
    values: list[object] = [f"{n:,}" for n in numbers] + ["abc"] * words + [None, "n/a", ""][:blanks] * 2
    out = infer_numeric(pd.DataFrame({"x": pd.Series(values, dtype=object)}), ["x"])
    numeric = len(numbers) / (len(numbers) + words) >= NUMERIC_SHARE
    assert (out["x"].dtype == np.float64) == numeric
    if numeric:
        assert out["x"].iloc[: len(numbers)].tolist() == [float(n) for n in numbers]
        assert out["x"].iloc[len(numbers) :].isna().all()


# --- load_flat_table --------------------------------------------------------------------------------

FLAT = """\
id,Outcome,Industry,employees,Seats,Notes,date
1,Won,SaaS,50,10,a,2024-01-01
2,lost,Retail,"1,000",20,b,2024-01-02
3,open,Fintech,5k,n/a,c,2024-01-03
4,WON ,media,,30,d,2024-01-04
5,Lost,retail,12,40,e,2024-01-05,extra

6,lost,x,1,50,f
7,won,software,300,60,g,2024-01-07
"""


def test_flat_table_outcomes_lines_and_errors(tmp_path: Path) -> None:
    path = write(tmp_path, "flat.csv", FLAT)
    table = load_flat_table(path, outcome="Outcome", won=["won"], lost=["LOST"], keep=["date"])
    frame = table.frame
    assert frame["won"].tolist() == [True, False, True, True]  # case and spaces do not matter
    assert frame["_line"].tolist() == [2, 3, 5, 9]  # physical lines, after the blank line
    assert frame["date"].tolist() == ["2024-01-01", "2024-01-02", "2024-01-04", "2024-01-07"]
    assert table.excluded == 1  # 'open' is neither won nor lost
    assert table.features == ["id", "industry", "employees", "Seats", "Notes", "employee_band"]
    assert frame["industry"].tolist() == ["software", "retail", "media", "software"]
    assert frame["employees"].tolist()[:2] == [50.0, 1000.0]
    assert frame["employee_band"].tolist() == ["11-50", "501-1000", None, "201-500"]
    assert frame["Seats"].tolist() == [10.0, 20.0, 30.0, 60.0]
    assert frame["Notes"].tolist() == ["a", "b", "d", "g"]
    assert [str(e) for e in table.errors] == [
        "flat.csv line 6: has 8 fields but the header has 7 columns (an unquoted comma inside a value?)",
        "flat.csv line 8: has 6 fields but the header has 7 columns",
    ]
    assert "industry: 'SaaS' -> 'software' (synonym, 1 row)" in table.findings


def test_flat_table_without_lost_values_counts_every_other_row_as_lost(tmp_path: Path) -> None:
    path = write(tmp_path, "flat.csv", FLAT)
    table = load_flat_table(path, outcome="Outcome", won=["won"], features=["Seats", "employees"])
    assert table.excluded == 0
    assert table.frame["won"].tolist() == [True, False, False, True, True]
    assert table.features == ["Seats", "employees", "employee_band"]
    # 'n/a' is an unknown number, not text
    assert table.frame["Seats"].iloc[2] != table.frame["Seats"].iloc[2]
    assert table.frame["employees"].tolist()[2] == 5000.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"outcome": "Result", "won": ["won"]},
            r"flat\.csv: no column 'Result'; columns are: id, Outcome, Industry",
        ),
        (
            {"outcome": "Outcome", "won": ["won"], "features": ["Industry", "Size"]},
            r"flat\.csv: no column 'Size'",
        ),
        (
            {"outcome": "Outcome", "won": ["yes"]},
            r"flat\.csv: no row has Outcome = yes; values seen: WON, Won, lost, open, won",
        ),
        (
            {"outcome": "Outcome", "won": ["won"], "lost": ["lsot"]},
            r"flat\.csv: no row has Outcome = lsot; values seen: ",
        ),
        (
            {"outcome": "Outcome", "won": ["won", "lost", "open"]},
            r"flat\.csv: every row has Outcome = won, lost, open: no lost deals to compare with",
        ),
    ],
)
def test_flat_table_errors_name_the_file(tmp_path: Path, kwargs: dict[str, object], message: str) -> None:
    path = write(tmp_path, "flat.csv", FLAT)
    with pytest.raises(CsvFormatError, match=message):
        load_flat_table(path, **kwargs)  # type: ignore[arg-type]


def test_flat_table_with_a_header_only(tmp_path: Path) -> None:
    path = write(tmp_path, "empty.csv", "id,Outcome\n")
    with pytest.raises(CsvFormatError, match=r"empty\.csv has a header but no readable data rows"):
        load_flat_table(path, outcome="Outcome", won=["won"])


def test_domain_is_one_identifier_column_not_an_attribute(tmp_path: Path) -> None:
    accounts = tmp_path / "a.csv"
    accounts.write_text("Account ID,Name,Website,Industry\nA1,Acme,acme.com,software\n", encoding="utf-8")
    frame, _ = accounts_frame(read_accounts(accounts).rows)
    assert list(frame.columns).count("domain") == 1
    assert frame["domain"].tolist() == ["acme.com"]
