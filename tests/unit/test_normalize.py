"""Normalisation of account attributes: numbers, bands, countries, industries, tech stacks, frames."""

from __future__ import annotations

import math
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from icp_engine.normalize import (
    CANONICAL_ATTRIBUTES,
    DERIVED_ATTRIBUTES,
    EMPLOYEE_BANDS,
    REGIONS,
    REVENUE_BANDS,
    NormalizationReport,
    ValueMapping,
    employee_band,
    normalize_account,
    normalize_country,
    normalize_frame,
    normalize_industry,
    normalize_region,
    parse_number,
    parse_range,
    parse_tech_stack,
    region_of,
    revenue_band,
)

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"

# ---------------------------------------------------------------------------------------------------
# parse_number / parse_range
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5k", 5000.0),
        ("5K", 5000.0),
        ("$2.5M", 2.5e6),
        ("10M+", 1e7),
        ("1,000", 1000.0),
        ("1.2bn", 1.2e9),
        ("1.2B", 1.2e9),
        ("€3.5 m", 3.5e6),
        ("(1,200)", -1200.0),
        ("12%", 12.0),
        ("1,000-5,000", 3000.0),
        ("1000 – 5000", 3000.0),
        ("1000 to 5000", 3000.0),
        ("1.234,5", 1234.5),
        ("1.234.567", 1234567.0),
        ("1 234 567", 1234567.0),
        ("1'000", 1000.0),
        ("1,5", 1.5),
        ("1.1k", 1100.0),
        ("$1-5M", 3e6),
        ("USD 5m", 5e6),
        ("5 million", 5e6),
        ("250 employees", 250.0),
        ("<50", 50.0),
        ("~300", 300.0),
        ("+5", 5.0),
        ("-1,234", -1234.0),
        ("1e-07", 1e-07),
        (".5", 0.5),
        (12, 12.0),
        (3.5, 3.5),
        (np.int64(7), 7.0),
    ],
)
def test_parse_number_reads_what_people_write(text: Any, expected: float) -> None:
    assert parse_number(text) == expected


@pytest.mark.parametrize("text", [None, "", "  ", "n/a", "N/A", "NA", "-", "—", "null", "nan", float("nan")])
def test_parse_number_missing_is_none(text: Any) -> None:
    assert parse_number(text) is None
    assert parse_range(text) == (None, None)


@pytest.mark.parametrize(
    "text", ["abc", "lots", "1,23,4", "1..2", "5kk", "--5", "+-5", "1-2-3", "12%k", "inf", ">5-10", True, [1]]
)
def test_parse_number_rejects_garbage_with_the_value_in_the_message(text: Any) -> None:
    with pytest.raises(ValueError, match=r"^not a number: ") as info:
        parse_number(text)
    assert repr(text) in str(info.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1,000-5,000", (1000.0, 5000.0)),
        ("10M+", (1e7, None)),
        ("<50", (None, 50.0)),
        ("under 50", (None, 50.0)),
        ("over 1000", (1000.0, None)),
        ("50 or more", (50.0, None)),
        ("250", (250.0, 250.0)),
        ("5000-1000", (1000.0, 5000.0)),
        ("500-5M", (500.0, 5e6)),
        ("$1M-$10M", (1e6, 1e7)),
    ],
)
def test_parse_range(text: str, expected: tuple[float | None, float | None]) -> None:
    assert parse_range(text) == expected


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_formatted_integers_round_trip(n: int) -> None:
    assert parse_number(f"{n:,}") == n
    assert parse_number(f"{n:_}".replace("_", " ")) == n
    assert parse_number(str(n)) == n


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_formatted_floats_round_trip(x: float) -> None:
    assert parse_number(f"{x:,}") == x
    assert parse_number(repr(x)) == x


@given(st.integers(min_value=1_000_000, max_value=10**12), st.integers(min_value=0, max_value=99))
def test_european_decimals_round_trip(whole: int, cents: int) -> None:
    text = f"{whole:,}.{cents:02d}".replace(",", "#").replace(".", ",").replace("#", ".")  # 1.234.567,89
    assert parse_number(text) == pytest.approx(whole + cents / 100, rel=1e-15)


@given(st.floats(0, 1e12), st.floats(0, 1e12))
def test_ranges_are_ordered_and_midpoint_is_between(a: float, b: float) -> None:
    low, high = parse_range(f"{a:,}-{b:,}")
    assert (low, high) == (min(a, b), max(a, b))
    assert low <= parse_number(f"{a:,}-{b:,}") <= high  # type: ignore[operator]


# ---------------------------------------------------------------------------------------------------
# Bands
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "band"),
    [
        (0, "1-10"),
        (1, "1-10"),
        (10, "1-10"),
        (10.5, "11-50"),
        (11, "11-50"),
        (50, "11-50"),
        (51, "51-200"),
        (200, "51-200"),
        (201, "201-500"),
        (500, "201-500"),
        (501, "501-1000"),
        (1000, "501-1000"),
        (1001, "1001-5000"),
        (5000, "1001-5000"),
        (5001, "5001-10000"),
        (10000, "5001-10000"),
        (10001, "10001+"),
        (10**7, "10001+"),
    ],
)
def test_employee_band_boundaries(n: float, band: str) -> None:
    assert employee_band(n) == band


@pytest.mark.parametrize(
    ("x", "band"),
    [
        (0, "<1M"),
        (999_999.99, "<1M"),
        (1e6, "1M-10M"),
        (9_999_999, "1M-10M"),
        (1e7, "10M-50M"),
        (5e7, "50M-100M"),
        (1e8, "100M-500M"),
        (5e8, "500M-1B"),
        (999_999_999, "500M-1B"),
        (1e9, "1B+"),
        (1e12, "1B+"),
    ],
)
def test_revenue_band_boundaries(x: float, band: str) -> None:
    assert revenue_band(x) == band


def test_bands_of_unknown_are_unknown_and_negatives_are_rejected() -> None:
    assert employee_band(None) is None and employee_band(float("nan")) is None
    assert revenue_band(None) is None
    with pytest.raises(ValueError, match="must not be negative"):
        employee_band(-1)
    with pytest.raises(ValueError, match="must not be negative"):
        revenue_band(-1.0)


@given(st.floats(0, 1e7), st.floats(0, 1e7))
def test_employee_bands_are_monotonic(a: float, b: float) -> None:
    low, high = sorted((a, b))
    assert EMPLOYEE_BANDS.index(employee_band(low)) <= EMPLOYEE_BANDS.index(employee_band(high))  # type: ignore[arg-type]
    assert REVENUE_BANDS.index(revenue_band(low * 1e3)) <= REVENUE_BANDS.index(revenue_band(high * 1e3))  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------------
# Countries and regions
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "iso2", "method"),
    [
        ("United States", "US", "exact"),
        ("USA", "US", "exact"),
        ("U.S.", "US", "exact"),
        ("United States of America", "US", "synonym"),
        ("UK", "GB", "synonym"),
        ("England", "GB", "synonym"),
        ("GBR", "GB", "exact"),
        ("Holland", "NL", "synonym"),
        ("the Netherlands", "NL", "exact"),
        ("South Korea", "KR", "exact"),
        ("Korea", "KR", "synonym"),
        ("Czechia", "CZ", "exact"),
        ("Czech Republic", "CZ", "synonym"),
        ("Côte d’Ivoire", "CI", "exact"),
        ("Ivory Coast", "CI", "synonym"),
        ("St. Lucia", "LC", "exact"),
        ("Philipines", "PH", "fuzzy"),
        ("Germny", "DE", "fuzzy"),
        ("Swizerland", "CH", "fuzzy"),
        ("Frnace", "FR", "fuzzy"),
    ],
)
def test_country_names_codes_and_misspellings(text: str, iso2: str, method: str) -> None:
    code, mapping = normalize_country(text)
    assert code == iso2
    assert mapping is not None and (mapping.method, mapping.raw, mapping.value) == (method, text, iso2)
    assert (mapping.score is not None) == (method == "fuzzy")


def test_country_code_in_any_case_needs_no_mapping() -> None:
    assert normalize_country("us") == ("US", None)
    assert normalize_country(" DE ") == ("DE", None)
    assert normalize_country("NA") == ("NA", None)  # Namibia: "NA" is not read as "no value" here


@pytest.mark.parametrize("text", ["Atlantis", "Narnia", "Mars", "xyz", "United", "New York"])
def test_unknown_country_is_kept_as_written_and_reported(text: str) -> None:
    code, mapping = normalize_country(f"  {text} ")
    assert code == text
    assert mapping == ValueMapping("country", text, text, "kept")
    assert str(mapping) == f"country: {text!r} kept as written (no canonical match)"
    assert mapping.describe(3) == f"country: {text!r} kept as written (no canonical match, 3 rows)"


@pytest.mark.parametrize("text", [None, "", "  ", "n/a", "-"])
def test_missing_country(text: Any) -> None:
    assert normalize_country(text) == (None, None)


def test_country_table_is_complete() -> None:
    root = Path(__file__).resolve().parents[2] / "icp_engine" / "data" / "countries.yaml"
    rows = yaml.safe_load(root.read_text(encoding="utf-8"))["countries"]
    iso2 = [row["iso2"] for row in rows]
    assert len(iso2) >= 249 and len(set(iso2)) == len(iso2)
    assert all(isinstance(code, str) and len(code) == 2 and code.isupper() for code in iso2)
    assert len({row["iso3"] for row in rows}) == len(rows)
    for row in rows:
        assert normalize_country(row["name"])[0] == row["iso2"], row
        assert normalize_country(row["iso3"])[0] == row["iso2"], row
        assert region_of(row["iso2"]) == row["region"]
    assert {row["region"] for row in rows} == {*REGIONS, None}  # None: Antarctica


@pytest.mark.parametrize(
    ("iso2", "region"),
    [
        ("US", "North America"),
        ("CA", "North America"),
        ("MX", "Latin America"),
        ("BR", "Latin America"),
        ("PA", "Latin America"),
        ("JM", "Latin America"),
        ("DE", "EMEA"),
        ("KE", "EMEA"),
        ("JO", "EMEA"),
        ("JP", "APAC"),
        ("AU", "APAC"),
        ("PH", "APAC"),
        ("us", "North America"),
        ("ZZ", None),
        (None, None),
    ],
)
def test_region_of(iso2: str | None, region: str | None) -> None:
    assert region_of(iso2) == region


@pytest.mark.parametrize(
    ("text", "region"),
    [
        ("NA", "North America"),
        ("NAM", "North America"),
        ("North America", "North America"),
        ("latam", "Latin America"),
        ("Europe, Middle East and Africa", "EMEA"),
        ("emea", "EMEA"),
        ("Asia-Pacific", "APAC"),
        ("APAC", "APAC"),
    ],
)
def test_explicit_region(text: str, region: str) -> None:
    assert normalize_region(text)[0] == region


@pytest.mark.parametrize("territory", ["Mordor", "Midwest", "Pacific", "DACH", "Nordics", "Europe", "ANZ"])
def test_a_region_we_do_not_know_is_kept_as_written_and_reported(territory: str) -> None:
    assert normalize_region(f" {territory} ") == (
        territory,
        ValueMapping("region", territory, territory, "kept"),
    )
    assert normalize_region("north america") == ("North America", None)


# ---------------------------------------------------------------------------------------------------
# Industries
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "industry", "method"),
    [
        ("technolgy", "technology", "fuzzy"),
        ("telecomunications", "telecommunications", "fuzzy"),
        ("helthcare", "healthcare", "fuzzy"),
        ("retial", "retail", "fuzzy"),  # a swap of neighbours: one typo
        ("educaiton", "education", "fuzzy"),
        ("SaaS", "software", "synonym"),
        ("Computer Software", "software", "synonym"),
        ("COMPUTER_SOFTWARE", "software", "synonym"),
        ("Hospital & Health Care", "healthcare", "synonym"),
        ("finance", "financial services", "synonym"),
        ("E-Commerce", "ecommerce", "synonym"),
        ("Real-Estate", "real estate", "exact"),
    ],
)
def test_industry_synonyms_and_misspellings(text: str, industry: str, method: str) -> None:
    value, mapping = normalize_industry(text)
    assert value == industry
    assert mapping is not None and (mapping.raw, mapping.value, mapping.method) == (text, industry, method)


@pytest.mark.parametrize("text", ["software", "Software", "  RETAIL ", "medical"])
def test_canonical_industry_in_other_case_needs_no_mapping(text: str) -> None:
    assert normalize_industry(text) == (text.strip().casefold(), None)


def test_unknown_industry_is_kept_casefolded_and_collapsed() -> None:
    kept = ValueMapping("industry", "Widget Makers", "widget makers", "kept")
    assert normalize_industry("  Widget   Makers ") == ("widget makers", kept)
    assert str(kept) == "industry: 'Widget Makers' kept as 'widget makers' (no canonical match)"
    # One letter from a synonym, but too short to be read as a misspelling.
    assert normalize_industry("tower") == ("tower", ValueMapping("industry", "tower", "tower", "kept"))
    assert normalize_industry("") == (None, None)


def test_fuzzy_mapping_prints_its_score() -> None:
    _, mapping = normalize_industry("technolgy")
    assert mapping is not None and mapping.score is not None and 85 <= mapping.score <= 100
    assert str(mapping) == f"industry: 'technolgy' -> 'technology' (fuzzy {mapping.score:.0f})"


# ---------------------------------------------------------------------------------------------------
# Tech stack
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Salesforce; HubSpot", ("hubspot", "salesforce")),
        ("SFDC | G Suite and Slack", ("google workspace", "salesforce", "slack")),
        ("Hubspot CRM, Google Workspace", ("google workspace", "hubspot")),
        ("Office 365/ AWS", ("aws", "microsoft 365")),
        ("Salesforce, salesforce.com; SFDC", ("salesforce",)),
        ("Some Internal Tool", ("some internal tool",)),
        (["Slack", "HubSpot"], ("hubspot", "slack")),
        ("", ()),
        (None, ()),
        (" ; , ", ()),
    ],
)
def test_tech_stack_splitting(text: Any, expected: tuple[str, ...]) -> None:
    assert parse_tech_stack(text) == expected


# ---------------------------------------------------------------------------------------------------
# One account
# ---------------------------------------------------------------------------------------------------


def test_normalize_account_full_example() -> None:
    account, mappings = normalize_account(
        {
            "Industry": "technolgy",
            "EMPLOYEES": "1,000-5,000",
            "Annual Revenue": "$2.5M",
            "country": "Philipines",
            "tech_stack": "SFDC; Slack",
            "year_established": 1996,
            "Owner": "  Ana ",
            "notes": "  ",
            "parent": None,
        }
    )
    assert account == {
        "industry": "technology",
        "employees": 3000.0,
        "annual_revenue": 2.5e6,
        "country": "PH",
        "region": "APAC",
        "tech_stack": ("salesforce", "slack"),
        "employee_band": "1001-5000",
        "revenue_band": "1M-10M",
        "country_region": "APAC",
        "year_established": 1996,
        "Owner": "Ana",
    }
    assert [str(m) for m in mappings] == [
        "industry: 'technolgy' -> 'technology' (fuzzy 95)",
        "employees: '1,000-5,000' -> 3,000 (parsed)",
        "annual_revenue: '$2.5M' -> 2,500,000 (parsed)",
        "country: 'Philipines' -> 'PH' (fuzzy 95)",
        "tech_stack: 'SFDC' -> 'salesforce' (synonym)",
        "region: 'PH' -> 'APAC' (derived)",
    ]


def test_plain_numbers_are_not_reported() -> None:
    account, mappings = normalize_account({"employees": "1,200", "annual_revenue": 5_000_000})
    assert account["employees"] == 1200.0 and mappings == []


def test_explicit_region_wins_over_country() -> None:
    account, mappings = normalize_account({"country": "Mexico", "region": "NAM"})
    assert (account["country"], account["region"]) == ("MX", "North America")
    assert account["country_region"] == "Latin America"
    assert [m.method for m in mappings] == ["exact", "synonym"]


def test_a_sales_territory_is_never_replaced_by_the_countrys_region() -> None:
    account, mappings = normalize_account({"country": "US", "region": "Midwest"})
    assert (account["region"], account["country_region"]) == ("Midwest", "North America")
    assert mappings == [ValueMapping("region", "Midwest", "Midwest", "kept")]
    # A blank region in a file that has the column stays unknown; the country's region is beside it.
    account, mappings = normalize_account({"country": "US", "region": " "})
    assert "region" not in account and account["country_region"] == "North America" and mappings == []
    # Without a region column, region is filled from the country as before (and reported).
    account, mappings = normalize_account({"country": "US"})
    assert (account["region"], account["country_region"]) == ("North America", "North America")
    assert mappings == [ValueMapping("region", "US", "North America", "derived")]


def test_empty_values_are_omitted_never_empty_strings() -> None:
    account, mappings = normalize_account(
        {"industry": " ", "employees": "n/a", "country": None, "tech_stack": "", "custom": ""}
    )
    assert account == {} and mappings == []


def test_unknown_country_is_kept_without_a_region() -> None:
    account, mappings = normalize_account({"country": "Atlantis"})
    assert account == {"country": "Atlantis"}
    assert mappings == [ValueMapping("country", "Atlantis", "Atlantis", "kept")]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"employees": "lots"}, "employees: not a number: 'lots'"),
        ({"Annual_Revenue": "a few"}, "annual_revenue: not a number: 'a few'"),
        ({"employees": "(1,200)"}, "employees: must not be negative: '(1,200)'"),
        ({"employees": -3}, "employees: must not be negative: -3"),
    ],
)
def test_bad_numbers_name_the_field(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError) as info:
        normalize_account(raw)
    assert str(info.value) == message


def test_duplicate_canonical_columns_are_rejected() -> None:
    with pytest.raises(ValueError, match="columns 'Industry' and 'industry' both mean 'industry'"):
        normalize_account({"Industry": "software", "industry": "retail"})


def test_input_band_is_used_only_when_the_number_is_unknown() -> None:
    assert normalize_account({"employee_band": "51 - 200"})[0] == {"employee_band": "51-200"}
    assert normalize_account({"employees": 12, "employee_band": "51-200"})[0]["employee_band"] == "11-50"
    account, mappings = normalize_account({"revenue_band": "huge"})
    assert account == {} and mappings == [ValueMapping("revenue_band", "huge", None, "unknown")]


def test_normalisation_is_idempotent_and_deterministic() -> None:
    raw = {
        "industry": "SaaS",
        "employees": "5k",
        "country": "Holland",
        "tech_stack": "SFDC, G Suite",
        "x": "y",
    }
    first, _ = normalize_account(raw)
    again, mappings = normalize_account(first)
    assert again == first and mappings == []
    assert normalize_account(raw) == normalize_account(dict(raw))


def test_attribute_name_constants() -> None:
    assert set(CANONICAL_ATTRIBUTES) == {
        "industry",
        "employees",
        "annual_revenue",
        "country",
        "region",
        "tech_stack",
    }
    assert DERIVED_ATTRIBUTES == ("employee_band", "revenue_band", "country_region")


# ---------------------------------------------------------------------------------------------------
# Frames
# ---------------------------------------------------------------------------------------------------


def _row_from_frame(frame: pd.DataFrame, i: int) -> dict[str, object]:
    """A frame row with unknown cells left out, as normalize_account returns it."""
    row: dict[str, object] = {}
    for column in frame.columns:
        value = frame[column].iloc[i]
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        row[str(column)] = value.item() if isinstance(value, np.generic) else value
    return row


def _account_or_without_bad_fields(raw: dict[str, object]) -> tuple[dict[str, object], list[str]]:
    """normalize_account, dropping each field it rejects (the frame turns those into NaN)."""
    dropped: list[str] = []
    while True:
        try:
            return normalize_account(raw)[0], dropped
        except ValueError as exc:
            field = str(exc).split(":", 1)[0]
            dropped.append(field)
            raw = {k: v for k, v in raw.items() if k.casefold().replace(" ", "_") != field}


_POOLS: dict[str, list[object]] = {
    "Industry": [
        "technolgy",
        "SaaS",
        "software",
        "Widgets",
        "",
        None,
        "n/a",
        " Retail ",
        "COMPUTER_SOFTWARE",
    ],
    "employees": ["5k", "1,000-5,000", "250", 10, 10.5, None, "", "lots", "(3)", "10001+", 51],
    "annual revenue": ["$2.5M", "1B+", 999_999.0, "<1M", None, "n/a", "?!", 1e9],
    "country": ["United States", "Philipines", "us", "Atlantis", None, "Korea", "NA", ""],
    "region": ["EMEA", "NAM", None, "Mordor", ""],
    "tech_stack": ["Salesforce; HubSpot", "SFDC | G Suite", "", None, "slack and zoom"],
    "segment": [" smb ", "", None, "enterprise", 3],
}


@settings(max_examples=60, deadline=None)
@given(
    st.sets(st.sampled_from(sorted(_POOLS)), min_size=1),
    st.integers(min_value=1, max_value=12),
    st.randoms(use_true_random=False),
)
def test_frame_matches_account_row_by_row(columns: set[str], n_rows: int, rnd: Any) -> None:
    data = {
        c: pd.Series([rnd.choice(_POOLS[c]) for _ in range(n_rows)], dtype=object) for c in sorted(columns)
    }
    frame, report = normalize_frame(pd.DataFrame(data))
    expected_mappings: Counter[ValueMapping] = Counter()
    bad_rows = 0
    for i in range(n_rows):
        raw = {c: data[c].iloc[i] for c in data}
        account, dropped = _account_or_without_bad_fields(raw)
        assert _row_from_frame(frame, i) == account, raw
        bad_rows += bool(dropped)
        if not dropped:
            expected_mappings.update(normalize_account(raw)[1])
    assert bool(report.bad_values) == (bad_rows > 0)
    if not report.bad_values:
        assert dict(report.mappings) == dict(expected_mappings)


def test_frame_dtypes_and_report() -> None:
    df = pd.DataFrame(
        {
            "Industry": ["technolgy", "technolgy", "software", None],
            "Employees": ["5k", "lots", 12, None],
            "annual_revenue": [1e6, 2e6, np.nan, -5.0],
            "country": ["Philipines", "US", None, "US"],
            "tech_stack": ["SFDC; Slack", "", None, "hubspot"],
            "score": [1, 2, 3, 4],
            "owner": [" ann ", "", None, "bo"],
        }
    )
    frame, report = normalize_frame(df)
    assert list(frame.columns) == [
        "industry",
        "employees",
        "annual_revenue",
        "country",
        "tech_stack",
        "score",
        "owner",
        "employee_band",
        "revenue_band",
        "region",
        "country_region",
    ]
    assert frame["employees"].dtype == np.float64 and frame["annual_revenue"].dtype == np.float64
    for column in (
        "industry",
        "country",
        "region",
        "country_region",
        "employee_band",
        "revenue_band",
        "tech_stack",
        "owner",
    ):
        assert frame[column].dtype == object, column
    assert frame["score"].dtype == np.int64
    assert frame["tech_stack"].tolist() == [("salesforce", "slack"), None, None, ("hubspot",)]
    assert frame["owner"].tolist() == ["ann", None, None, "bo"]
    assert frame["industry"].tolist() == ["technology", "technology", "software", None]
    assert frame["employee_band"].tolist() == ["1001-5000", None, "11-50", None]
    assert math.isnan(frame["employees"][1]) and math.isnan(frame["annual_revenue"][3])
    assert frame["region"].tolist() == ["APAC", "North America", None, "North America"]
    assert frame["country_region"].tolist() == frame["region"].tolist()
    assert report.bad_values == [
        ("employees", "lots", 1, "not a number: 'lots'"),
        ("annual_revenue", "-5.0", 1, "must not be negative: -5.0"),
    ]
    lines = report.lines()
    assert lines[0].startswith("industry: 'technolgy' -> 'technology' (fuzzy 95, 2 rows)")
    assert "region: 'US' -> 'North America' (derived, 2 rows)" in lines
    assert "employees: 'lots' rejected in 1 row: not a number: 'lots'" in lines


def test_frame_without_canonical_columns_is_unchanged_but_for_stripping() -> None:
    df = pd.DataFrame({"a": [" x ", "y"], "b": [1.5, np.nan]})
    frame, report = normalize_frame(df)
    assert frame["a"].tolist() == ["x", "y"] and frame["b"].equals(df["b"])
    assert report == NormalizationReport()


def test_frame_accepts_list_cells_and_is_idempotent() -> None:
    df = pd.DataFrame(
        {"tech_stack": [["SFDC", "Slack"], None], "country": ["Holland", "JP"], "employees": [5, 5000]}
    )
    first, _ = normalize_frame(df)
    again, report = normalize_frame(first)
    pd.testing.assert_frame_equal(first, again)
    assert first["tech_stack"].tolist() == [("salesforce", "slack"), None]
    assert report == NormalizationReport()  # already canonical: nothing changed, nothing derived


def test_frame_is_fast_for_many_rows_with_few_distinct_values() -> None:
    n = 200_000
    rng = np.random.default_rng(7)
    pool = np.array(["technolgy", "SaaS", "retail", *[f"industry {i}" for i in range(97)]], dtype=object)
    df = pd.DataFrame({"industry": pool[rng.integers(0, len(pool), n)]})
    start = time.perf_counter()
    _, report = normalize_frame(df)
    assert time.perf_counter() - start < 1.0
    assert (
        sum(rows for m, rows in report.mappings if m.raw == "technolgy")
        == (df["industry"] == "technolgy").sum()
    )


# ---------------------------------------------------------------------------------------------------
# Real data: Maven CRM accounts
# ---------------------------------------------------------------------------------------------------


@pytest.mark.shared_data
def test_maven_sectors_and_locations_map_sensibly() -> None:
    path = SHARED_DATA / "maven_crm" / "accounts.csv"
    if not path.exists():
        pytest.skip(f"shared data not found at {path}")
    df = pd.read_csv(path).rename(columns={"sector": "industry", "office_location": "country"})
    frame, report = normalize_frame(df)
    assert set(frame["industry"]) == {
        "technology",
        "medical",
        "retail",
        "software",
        "marketing",
        "entertainment",
        "financial services",
        "services",
        "telecommunications",
        "employment",
    }
    countries = dict(zip(df["country"], frame["country"], strict=True))
    assert countries == {
        "United States": "US",
        "Philipines": "PH",
        "Kenya": "KE",
        "Italy": "IT",
        "Panama": "PA",
        "Japan": "JP",
        "Korea": "KR",
        "Jordan": "JO",
        "Norway": "NO",
        "Belgium": "BE",
        "China": "CN",
        "Poland": "PL",
        "Romania": "RO",
        "Brazil": "BR",
        "Germany": "DE",
    }
    assert frame["region"].notna().all() and report.bad_values == []
    assert frame["employee_band"].notna().all()


@given(st.from_regex(r"\d{1,15}(\.\d{1,15})?", fullmatch=True))
def test_plain_digits_fast_path_reads_like_the_general_parser(text: str) -> None:
    # A leading space skips the fast path, so both readings are compared.
    assert parse_number(text) == parse_number(f" {text}")
    assert parse_range(text) == parse_range(f" {text}")
