"""Tests for icp_engine.readers: CRM CSV exports in, typed rows and precise errors out."""

from __future__ import annotations

import csv
import io
import string
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from icp_engine.readers import (
    ACCOUNT_FIELDS,
    DEAL_FIELDS,
    HEALTH_FIELDS,
    AccountRow,
    CsvFormatError,
    DealRow,
    RowError,
    join_deals,
    join_health,
    normalize_company_name,
    parse_dates,
    parse_map_options,
    read_accounts,
    read_deals,
    read_health,
    read_table,
    resolve_columns,
)

FIXTURES = Path(__file__).parent / "fixtures" / "readers"
SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
MAVEN = SHARED_DATA / "maven_crm"


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    """Write a CSV exactly as given (no newline translation)."""
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def messages(errors: list[RowError]) -> list[str]:
    return [str(e) for e in errors]


# ---------------------------------------------------------------------------------------------------
# Header auto-mapping for each alias family
# ---------------------------------------------------------------------------------------------------


def test_hubspot_companies_map_and_keep_raw_values() -> None:
    result = read_accounts(FIXTURES / "hubspot_companies.csv")
    assert result.columns == {
        "account_id": "Record ID",
        "name": "Company name",
        "domain": "Company Domain Name",
        "industry": "Industry",
        "employees": "Number of Employees",
        "annual_revenue": "Annual Revenue",
        "country": "Country/Region",
    }
    assert result.errors == []
    acme, globex, initech = result.rows
    assert (acme.line, acme.account_id, acme.name, acme.domain) == (2, "5012", "Acme, Inc.", "acme.com")
    # canonical attributes stay as written; unmapped columns are custom attributes under their header
    assert globex.attributes["employees"] == "1,200"
    assert globex.attributes["annual_revenue"] == "$120M"
    assert globex.attributes["industry"] == "MACHINERY"
    assert globex.attributes["City"] == "Berlin"
    assert globex.attributes["Create Date"] == "2021-05-19 08:00"
    assert "industry" not in initech.attributes  # empty means unknown, not ''
    assert "1 of 3 accounts have no industry (column 'Industry')" in result.findings
    assert "no column found for: region, tech_stack" in result.findings


def test_hubspot_deals_map_stage_amount_dates_and_company() -> None:
    result = read_deals(FIXTURES / "hubspot_deals.csv")
    assert result.columns == {
        "deal_id": "Record ID",
        "account_id": "Associated Company IDs",
        "account_name": "Associated Company",
        "stage": "Deal Stage",
        "amount": "Amount",
        "created_date": "Create Date",
        "close_date": "Close Date",
    }
    won, lost, open_ = result.rows
    assert (won.stage, won.stage_raw, won.amount) == ("won", "Closed won", 12000.0)
    assert (won.created_date, won.close_date) == (date(2022, 1, 10), date(2022, 3, 1))
    assert (lost.stage, lost.amount) == ("lost", 5000.0)  # '5k' read by normalize.parse_number
    assert (open_.stage, open_.amount, open_.close_date, open_.account_name) == ("open", None, None, None)
    assert open_.attributes == {"Deal Name": "Initech new", "Pipeline": "Sales Pipeline"}
    assert result.findings == ["1 open deal has no account"]


def test_salesforce_accounts_report_headers() -> None:
    result = read_accounts(FIXTURES / "salesforce_accounts.csv")
    assert result.columns == {
        "account_id": "Account ID",
        "name": "Account Name",
        "domain": "Website",
        "industry": "Industry",
        "employees": "Employees",
        "annual_revenue": "Annual Revenue",
        "country": "Billing Country",
    }
    assert [r.account_id for r in result.rows] == ["001A000001", "001A000002"]
    assert result.rows[0].attributes["Account Owner"] == "Jane Doe"


def test_salesforce_api_opportunities_use_iswon_and_isclosed() -> None:
    result = read_deals(FIXTURES / "salesforce_opportunities.csv")
    assert result.columns["deal_id"] == "Id"
    assert result.columns["account_id"] == "AccountId"
    assert result.columns["stage"] == "StageName"
    assert (result.columns["is_won"], result.columns["is_closed"]) == ("IsWon", "IsClosed")
    assert [r.stage for r in result.rows] == ["won", "lost", "open"]
    assert result.rows[0].created_date == date(2022, 1, 10)  # ISO with time and Z
    assert result.rows[2].attributes == {"Name": "Acme - upsell"}


def test_salesforce_report_us_dates_proven_by_another_date_column() -> None:
    # 'Created Date' alone (1/10/2022, 2/1/2022) is ambiguous; 'Close Date' 4/15/2022 proves M/D/Y.
    result = read_deals(FIXTURES / "salesforce_report_opportunities.csv")
    assert result.errors == []
    assert [r.created_date for r in result.rows] == [date(2022, 1, 10), date(2022, 2, 1)]
    assert [r.amount for r in result.rows] == [12000.0, 5000.0]


def test_spreadsheet_semicolon_latin_names_and_plain_headers() -> None:
    result = read_accounts(FIXTURES / "sheet_accounts_semicolon.csv")
    assert result.delimiter == ";"
    assert result.columns == {
        "name": "account",
        "industry": "sector",
        "employees": "employees",
        "annual_revenue": "revenue",
        "country": "office_location",
    }
    assert result.rows[1].name == "Société Générale"
    assert result.rows[0].attributes["annual_revenue"] == "12,5"


def test_spreadsheet_health_file() -> None:
    result = read_health(FIXTURES / "sheet_health.csv")
    assert result.errors == []
    acme, globex = result.rows
    assert (acme.account_name, acme.arr, acme.acv, acme.tenure_months) == (
        "Acme Inc",
        120000.0,
        40000.0,
        26.0,
    )
    assert (acme.customer_since, acme.churned, acme.nps, acme.health_score) == (
        date(2020, 1, 15),
        False,
        45.0,
        82.0,
    )
    assert (globex.arr, globex.churned, globex.churn_date) == (80000.0, True, date(2022, 6, 1))
    assert (globex.expansion_arr, globex.referrals, globex.nps) == (-5000.0, 0.0, -20.0)
    assert acme.attributes == {"CSM": "Ana"}
    assert result.nps_scale == "score"


@pytest.mark.parametrize("fields", [ACCOUNT_FIELDS, DEAL_FIELDS, HEALTH_FIELDS])
def test_no_alias_belongs_to_two_fields(fields: dict[str, list[str]]) -> None:
    def key(text: str) -> str:
        return "".join(c for c in text.casefold() if c.isalnum())

    owners: dict[str, set[str]] = {}
    for name, aliases in fields.items():
        for alias in (name, *aliases):
            owners.setdefault(key(alias), set()).add(name)
    assert {k: v for k, v in owners.items() if len(v) > 1} == {}


@pytest.mark.parametrize(
    ("header", "field", "fields"),
    [
        ("COMPANY_NAME", "name", ACCOUNT_FIELDS),
        ("  company name ", "name", ACCOUNT_FIELDS),
        ("number-of-employees", "employees", ACCOUNT_FIELDS),
        ("NumberOfEmployees", "employees", ACCOUNT_FIELDS),
        ("AnnualRevenue", "annual_revenue", ACCOUNT_FIELDS),
        ("BillingCountry", "country", ACCOUNT_FIELDS),
        ("country_region", "country", ACCOUNT_FIELDS),
        ("Tech Stack", "tech_stack", ACCOUNT_FIELDS),
        ("deal stage", "stage", DEAL_FIELDS),
        ("Opportunity ID", "deal_id", DEAL_FIELDS),
        ("close value", "amount", DEAL_FIELDS),
        ("Engage Date", "created_date", DEAL_FIELDS),
        ("Became a Customer Date", "customer_since", HEALTH_FIELDS),
        ("nps score", "nps", HEALTH_FIELDS),
    ],
)
def test_matching_ignores_case_spaces_and_punctuation(
    tmp_path: Path, header: str, field: str, fields: dict[str, list[str]]
) -> None:
    table = read_table(write(tmp_path, "x.csv", f"other,{header}\n1,2\n"))
    assert resolve_columns(table, fields)[field] == header.strip()


def test_two_columns_for_one_field_is_an_error(tmp_path: Path) -> None:
    table = read_table(
        write(tmp_path, "deals.csv", "id,stage,Close Date,close_date\n1,won,2020-01-01,2020-01-01\n")
    )
    with pytest.raises(CsvFormatError, match=r"deals.csv: columns 'Close Date', 'close_date' all look like"):
        resolve_columns(table, DEAL_FIELDS)


# ---------------------------------------------------------------------------------------------------
# --map overrides
# ---------------------------------------------------------------------------------------------------


def test_override_maps_a_field_to_any_column(tmp_path: Path) -> None:
    path = write(tmp_path, "accounts.csv", "Client,Segment,Sector\nAcme,software,retail\n")
    result = read_accounts(path, overrides={"name": "Client", "industry": "segment"})
    assert result.columns["name"] == "Client"
    assert result.columns["industry"] == "Segment"  # column matched case-insensitively
    assert result.rows[0].attributes == {"industry": "software", "Sector": "retail"}


def test_override_with_empty_column_switches_a_field_off(tmp_path: Path) -> None:
    path = write(tmp_path, "accounts.csv", "name,sector\nAcme,software\n")
    result = read_accounts(path, overrides={"industry": ""})
    assert "industry" not in result.columns
    assert result.rows[0].attributes == {"sector": "software"}


def test_override_unknown_field_lists_valid_fields(tmp_path: Path) -> None:
    path = write(tmp_path, "accounts.csv", "name\nAcme\n")
    with pytest.raises(CsvFormatError) as err:
        read_accounts(path, overrides={"sector": "name"})
    assert str(err.value).startswith("accounts.csv: --map sector=name: unknown field 'sector'; valid fields:")
    assert "account_id, name, domain, industry" in str(err.value)


def test_override_missing_column_lists_the_files_columns(tmp_path: Path) -> None:
    path = write(tmp_path, "deals.csv", "id,stage\n1,won\n")
    with pytest.raises(CsvFormatError) as err:
        read_deals(path, overrides={"amount": "Deal Value"})
    assert str(err.value) == (
        "deals.csv: --map amount=Deal Value: no column 'Deal Value'; the file's columns are: 'id', 'stage'"
    )


def test_missing_required_column_says_what_was_looked_for(tmp_path: Path) -> None:
    path = write(tmp_path, "deals.csv", "deal_id,Phase\n1,won\n")
    with pytest.raises(CsvFormatError) as err:
        read_deals(path)
    text = str(err.value)
    assert text.startswith(
        "deals.csv: no column for 'stage' (looked for: stage, Deal Stage, Stage, StageName"
    )
    assert "use --map stage=<column>" in text
    assert "The file's columns are: 'deal_id', 'Phase'" in text
    assert read_deals(path, overrides={"stage": "Phase"}).rows[0].stage == "won"


def test_missing_identity_column_for_accounts(tmp_path: Path) -> None:
    with pytest.raises(CsvFormatError, match=r"accounts.csv: no column for 'name' or 'account_id'"):
        read_accounts(write(tmp_path, "accounts.csv", "sector,employees\nx,5\n"))


def test_parse_map_options() -> None:
    assert parse_map_options(["name=Client ", " stage = Phase", "domain="]) == {
        "name": "Client",
        "stage": "Phase",
        "domain": "",
    }
    with pytest.raises(ValueError, match="--map expects field=column, got 'name'"):
        parse_map_options(["name"])


# ---------------------------------------------------------------------------------------------------
# Encodings, delimiters, quoting, line numbers
# ---------------------------------------------------------------------------------------------------


def test_utf8_bom_is_removed_from_first_header(tmp_path: Path) -> None:
    path = write(tmp_path, "accounts.csv", "\ufeffCompany name,Industry\nAcme,software\n")
    result = read_accounts(path)
    assert result.encoding == "utf-8-sig"
    assert result.columns["name"] == "Company name"


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_delimiters_are_sniffed_from_the_header(tmp_path: Path, delimiter: str) -> None:
    text = (
        delimiter.join(["name", "sector", "revenue"])
        + "\n"
        + delimiter.join(["Acme, Inc.", "soft", "1,5"])
        + "\n"
    )
    table = read_table(write(tmp_path, "a.csv", text))
    assert table.delimiter == delimiter
    assert table.header == ["name", "sector", "revenue"]
    assert table.rows == [(2, {"name": "Acme, Inc.", "sector": "soft", "revenue": "1,5"})]


def test_excel_sep_hint_line(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "a.csv", "sep=;\nname;revenue\nAcme;1,5\n"))
    assert (table.delimiter, table.header, table.rows) == (
        ";",
        ["name", "revenue"],
        [(3, {"name": "Acme", "revenue": "1,5"})],
    )


def test_quoted_commas_newlines_and_physical_line_numbers(tmp_path: Path) -> None:
    text = (
        "name,notes,revenue\r\n"
        '"Acme, Inc.","line one\r\nline two\r\nline three",5\r\n'
        "\r\n"
        'Globex,"say ""hi""",7\r\n'
        'Initech,"a\nb",x\r\n'
    )
    table = read_table(write(tmp_path, "a.csv", text))
    assert [line for line, _ in table.rows] == [2, 6, 7]
    assert table.rows[0][1]["name"] == "Acme, Inc."
    assert table.rows[0][1]["notes"] == "line one\r\nline two\r\nline three"
    assert table.rows[1][1]["notes"] == 'say "hi"'
    result = read_accounts(tmp_path / "a.csv")
    assert messages(result.errors) == ["a.csv line 7, column 'revenue': not a number: 'x'"]


def test_latin1_file_is_decoded(tmp_path: Path) -> None:
    path = write(
        tmp_path, "accounts.csv", "name,country\nSociété Générale,France\nNestlé,Suisse\n", "latin-1"
    )
    result = read_accounts(path)
    assert result.encoding == "cp1252"
    assert [r.name for r in result.rows] == ["Société Générale", "Nestlé"]


def test_cp1252_euro_sign_and_latin1_only_bytes(tmp_path: Path) -> None:
    assert read_table(write(tmp_path, "a.csv", "name,amount\nZürich AG,€5\n", "cp1252")).rows[0][1] == {
        "name": "Zürich AG",
        "amount": "€5",
    }
    table = read_table(write(tmp_path, "b.csv", "name,x\nA\x81é,1\n", "latin-1"))
    assert table.encoding == "latin-1"
    assert table.rows[0][1]["name"] == "A\x81é"


def test_mixed_encodings_are_refused_with_both_lines(tmp_path: Path) -> None:
    data = "name,x\nSociété,1\n".encode() + "Nestlé,2\n".encode("cp1252")
    path = tmp_path / "accounts.csv"
    path.write_bytes(data)
    offset = data.index(b"\xe9,2")
    with pytest.raises(CsvFormatError) as err:
        read_table(path)
    assert str(err.value) == (
        "accounts.csv mixes text encodings: line 2 is UTF-8 but line 3 is not valid UTF-8 "
        f"(byte 0xE9 at byte {offset}); save the whole file again as UTF-8"
    )


def test_bom_with_invalid_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes(b"\xef\xbb\xbfname\nNestl\xe9\n")
    with pytest.raises(CsvFormatError, match=r"a.csv starts with a UTF-8 byte-order mark but line 2"):
        read_table(path)


def test_utf16_excel_unicode_text(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", "name\tcountry\r\nSociété Générale\tFrance\r\n", "utf-16")
    table = read_table(path)
    assert (table.encoding, table.delimiter) == ("utf-16", "\t")
    assert table.rows == [(2, {"name": "Société Générale", "country": "France"})]


def test_blank_lines_are_skipped_but_counted(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "a.csv", "\n\nname,x\n\n ,  \nAcme,1\n,,\n"))
    assert table.header == ["name", "x"]
    assert table.rows == [(6, {"name": "Acme", "x": "1"})]


# ---------------------------------------------------------------------------------------------------
# File-level problems
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf", b"\r\n \r\n\t\n"])
def test_empty_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "accounts.csv"
    path.write_bytes(content)
    with pytest.raises(CsvFormatError, match=r"^accounts.csv is empty$"):
        read_accounts(path)


def test_only_blank_records(tmp_path: Path) -> None:
    with pytest.raises(CsvFormatError, match=r"^a.csv is empty \(only blank lines\)$"):
        read_table(write(tmp_path, "a.csv", ",,\n,\n"))


def test_header_only_file(tmp_path: Path) -> None:
    path = write(tmp_path, "deals.csv", "deal_id,stage,amount\n")
    assert read_table(path).rows == []
    with pytest.raises(CsvFormatError, match=r"^deals.csv has a header but no data rows$"):
        read_deals(path)


def test_binary_file_reports_the_offset(tmp_path: Path) -> None:
    path = tmp_path / "accounts.csv"
    path.write_bytes(b"name,x\nAcme,1\n\x89PNG\x00\x01")
    with pytest.raises(CsvFormatError) as err:
        read_accounts(path)
    assert str(err.value) == "accounts.csv is not a text CSV file (binary content at byte 18)"


def test_excel_workbook_is_named(tmp_path: Path) -> None:
    path = tmp_path / "accounts.xlsx"
    path.write_bytes(b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256)))
    with pytest.raises(CsvFormatError, match=r"accounts.xlsx is an Excel workbook .* export it as CSV"):
        read_table(path)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(CsvFormatError, match=r"^nope.csv: file not found"):
        read_table(tmp_path / "nope.csv")
    with pytest.raises(CsvFormatError, match=r"is a folder, not a CSV file"):
        read_table(tmp_path)


def test_huge_single_line_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "deals.csv"
    with path.open("wb") as handle:
        handle.write(b"deal_id,stage,notes\n1,won,")
        chunk = b"x" * 2**20
        for _ in range(20):
            handle.write(chunk)
        handle.write(b"\n")
    limit_before = csv.field_size_limit()
    with pytest.raises(CsvFormatError) as err:
        read_deals(path)
    assert str(err.value) == "deals.csv line 2: field larger than 10 MB (the line is over 10 MB long)"
    assert csv.field_size_limit() == limit_before


def test_huge_quoted_field_over_many_lines(tmp_path: Path) -> None:
    text = 'name,notes\nAcme,"' + "0123456789\n" * 200 + '"\n'
    limit_before = csv.field_size_limit()
    with pytest.raises(CsvFormatError, match=r"^a.csv line 2: field larger than 1 KB$"):
        read_table(write(tmp_path, "a.csv", text), max_field_bytes=1024)
    assert csv.field_size_limit() == limit_before
    notes = read_table(tmp_path / "a.csv").rows[0][1]["notes"]  # the default cap is 10 MB
    assert notes == ("0123456789\n" * 200).strip()


def test_unclosed_quote(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", 'name,notes\nAcme,ok\nGlobex,"never closed\nInitech,x\n')
    with pytest.raises(CsvFormatError, match=r"^a.csv line 3: a quoted field is never closed"):
        read_table(path)


def test_malformed_quoting_is_a_row_error(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "a.csv", 'name,x\n"Acme"Inc,1\nGlobex,2\n'))
    assert messages(table.errors) == ["a.csv line 2: malformed quoting (',' expected after '\"')"]
    assert table.rows == [(3, {"name": "Globex", "x": "2"})]


def test_header_separated_by_one_delimiter_and_rows_by_another(tmp_path: Path) -> None:
    path = write(tmp_path, "deals.csv", "deal_id;stage;amount\n1,won,5\n2,lost,7\n3,won,9\n")
    with pytest.raises(CsvFormatError) as err:
        read_deals(path)
    assert str(err.value) == (
        "deals.csv: the header line is separated by semicolons (3 columns) but the data rows by commas; "
        "check the delimiter"
    )


def test_single_column_header_with_delimited_rows(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", "name amount stage\n1;won;5\n2;lost;7\n")
    with pytest.raises(
        CsvFormatError,
        match=r"single column \('name amount stage'\) but the data rows are "
        r"separated by semicolons",
    ):
        read_table(path)


def test_title_line_above_the_header(tmp_path: Path) -> None:
    path = write(tmp_path, "deals.csv", "Opportunities Report\n\ndeal_id,stage\n1,won\n2,lost\n")
    with pytest.raises(CsvFormatError, match=r"remove any title lines above the header"):
        read_deals(path)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("<!DOCTYPE html>\n<html><body>hi</body></html>\n", "an HTML or XML document"),
        ('[{"name": "Acme"}, {"name": "B"}]\n', "a JSON document"),
        ('{"accounts": []}\n', "a JSON document"),
    ],
)
def test_other_text_formats_are_named(tmp_path: Path, text: str, kind: str) -> None:
    with pytest.raises(CsvFormatError, match=rf"^accounts.csv looks like {kind}, not a CSV file$"):
        read_accounts(write(tmp_path, "accounts.csv", text))


def test_old_mac_line_endings(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "a.csv", "name,x\rAcme,1\rGlobex,2\r"))
    assert table.rows == [(2, {"name": "Acme", "x": "1"}), (3, {"name": "Globex", "x": "2"})]


def test_single_column_file_is_fine(tmp_path: Path) -> None:
    result = read_accounts(write(tmp_path, "a.csv", "Company\nAcme\nGlobex\n"))
    assert [r.name for r in result.rows] == ["Acme", "Globex"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name,,x\n1,2,3\n", "a.csv line 1: column 2 of the header has no name"),
        ("name,x,name\n1,2,3\n", "a.csv line 1: the header names column 'name' twice (columns 1 and 3)"),
        ("1,2020-01-01,5.5\n2,2020-01-02,6\n", "a.csv line 1: the first line looks like data, not a header"),
    ],
)
def test_bad_headers(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(CsvFormatError) as err:
        read_table(write(tmp_path, "a.csv", text))
    assert str(err.value).startswith(message)


def test_trailing_empty_header_columns_are_dropped(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "a.csv", "name,x,,\nAcme,1,,\nGlobex,2\n"))
    assert table.header == ["name", "x"]
    assert [values for _, values in table.rows] == [{"name": "Acme", "x": "1"}, {"name": "Globex", "x": "2"}]


# ---------------------------------------------------------------------------------------------------
# Row-level problems
# ---------------------------------------------------------------------------------------------------


def test_ragged_rows(tmp_path: Path) -> None:
    table = read_table(
        write(tmp_path, "a.csv", "name,x,y\nAcme,1,2\nGlobex,1\nInitech,1,2,3\nUmbrella,1,2,,\n")
    )
    assert messages(table.errors) == [
        "a.csv line 3: has 2 fields but the header has 3 columns",
        "a.csv line 4: has 4 fields but the header has 3 columns (an unquoted comma inside a value?)",
    ]
    assert [line for line, _ in table.rows] == [2, 5]


def test_bad_and_negative_amounts(tmp_path: Path) -> None:
    text = "deal_id,stage,Amount\n1,won,5k\n2,won,abc\n3,lost,-20\n4,open,\n5,won,n/a\n"
    result = read_deals(write(tmp_path, "deals.csv", text))
    assert messages(result.errors) == [
        "deals.csv line 3, column 'Amount': not a number: 'abc'",
        "deals.csv line 4, column 'Amount': negative value: '-20'",
    ]
    assert [(r.deal_id, r.amount) for r in result.rows] == [("1", 5000.0), ("4", None), ("5", None)]


def test_bad_account_numbers(tmp_path: Path) -> None:
    text = "name,employees,revenue\nAcme,50-200,$2.5M\nGlobex,lots,1\nInitech,-3,1\n"
    result = read_accounts(write(tmp_path, "accounts.csv", text))
    assert messages(result.errors) == [
        "accounts.csv line 3, column 'employees': not a number: 'lots'",
        "accounts.csv line 4, column 'employees': negative value: '-3'",
    ]
    assert result.rows[0].attributes["employees"] == "50-200"


def test_bad_dates(tmp_path: Path) -> None:
    text = (
        "deal_id,stage,created,close_date\n"
        "1,won,2020-01-15,2020-02-30\n"
        "2,won,soon,2020-03-01\n"
        "3,won,03/04/2020,2020-03-01 12:00:00\n"
        "4,won,1850-01-01,\n"
    )
    result = read_deals(write(tmp_path, "deals.csv", text))
    assert messages(result.errors) == [
        "deals.csv line 2, column 'close_date': not a valid date: '2020-02-30' (read as YYYY-MM-DD)",
        "deals.csv line 3, column 'created': not a date: 'soon'",
        "deals.csv line 4, column 'created': date '03/04/2020' is not in this column's format (YYYY-MM-DD)",
        "deals.csv line 5, column 'created': implausible year in date '1850-01-01'",
    ]
    assert result.rows == []


def test_ambiguous_date_column(tmp_path: Path) -> None:
    text = "deal_id,stage,close_date\n1,won,03/04/2020\n2,won,05/05/2020\n"
    result = read_deals(write(tmp_path, "deals.csv", text))
    assert messages(result.errors) == [
        "deals.csv line 2, column 'close_date': ambiguous date '03/04/2020': day and month cannot be told "
        "apart (no value in this column has a day above 12); write dates as YYYY-MM-DD"
    ]
    assert [r.close_date for r in result.rows] == [date(2020, 5, 5)]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["03/04/2020", "25/12/2020"], [date(2020, 4, 3), date(2020, 12, 25)]),  # day > 12 proves D/M/Y
        (["03/04/2020", "12/25/2020"], [date(2020, 3, 4), date(2020, 12, 25)]),  # day > 12 proves M/D/Y
        (["03.04.2020", "01.02.2021"], [date(2020, 4, 3), date(2021, 2, 1)]),  # dots mean D.M.Y
        (["2018-02-26 19:58:54", "2018-03-01"], [date(2018, 2, 26), date(2018, 3, 1)]),
        (["2018-02-26T19:58:54.120+02:00", "2018/3/1"], [date(2018, 2, 26), date(2018, 3, 1)]),
        (["3/14/23 9:05 PM", "1/2/23"], [date(2023, 3, 14), date(2023, 1, 2)]),
        (
            ["1 Mar 2017", "March 14, 2017", "01-Feb-2017"],
            [date(2017, 3, 1), date(2017, 3, 14), date(2017, 2, 1)],
        ),
    ],
)
def test_date_formats(values: list[str], expected: list[date]) -> None:
    parsed, problems = parse_dates(list(enumerate(values, 2)))
    assert problems == {}
    assert [parsed[line] for line in range(2, 2 + len(values))] == expected


def test_date_column_with_conflicting_proofs() -> None:
    parsed, problems = parse_dates(
        [(2, "13/01/2020"), (3, "01/13/2020"), (4, "02/03/2020"), (5, "04/04/2020")]
    )
    assert set(problems) == {2, 3, 4}
    assert "mixes day-first and month-first dates" in problems[4]
    assert parsed == {5: date(2020, 4, 4)}


@settings(max_examples=60, deadline=None)
@given(
    days=st.lists(st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31)), min_size=1, max_size=8),
    style=st.sampled_from(["%Y-%m-%d", "%m/%d/%Y", "%d/%m/%Y", "%d.%m.%Y", "%Y-%m-%d %H:%M:%S"]),
)
def test_dates_round_trip_in_each_format(days: list[date], style: str) -> None:
    proof = date(2020, 12, 25)  # a day above 12 settles the day/month order
    values = [*days, proof]
    texts = [d.strftime(style) if "%H" not in style else f"{d:%Y-%m-%d} 10:20:30" for d in values]
    parsed, problems = parse_dates(list(enumerate(texts, 2)))
    assert problems == {}
    assert [parsed[i] for i in range(2, 2 + len(values))] == values


def test_duplicate_deal_ids(tmp_path: Path) -> None:
    result = read_deals(write(tmp_path, "deals.csv", "deal_id,stage\nA1,won\nA2,lost\nA1,open\n,won\n"))
    assert messages(result.errors) == [
        "deals.csv line 4, column 'deal_id': duplicate deal id 'A1' (first seen on line 2)",
        "deals.csv line 5, column 'deal_id': no deal id",
    ]
    assert [r.deal_id for r in result.rows] == ["A1", "A2"]


def test_duplicate_accounts_by_id_and_by_name(tmp_path: Path) -> None:
    by_id = read_accounts(
        write(tmp_path, "a.csv", "Account ID,Account Name\n1,Acme\n2,Globex\n1,Other\n3,ACME\n")
    )
    assert messages(by_id.errors) == [
        "a.csv line 4, column 'Account ID': duplicate account id '1' (first seen on line 2)"
    ]
    assert (
        by_id.findings[0]
        == "1 account name appears on several accounts; deals naming them need an account id"
    )
    by_name = read_accounts(write(tmp_path, "b.csv", 'company,x\n"Acme, Inc.",1\nGlobex,2\nacme inc,3\n,4\n'))
    assert messages(by_name.errors) == [
        "b.csv line 4, column 'company': duplicate account 'acme inc' "
        "(same company as 'Acme, Inc.' on line 2)",
        "b.csv line 5, column 'company': no account name or id",
    ]


@pytest.mark.parametrize(
    ("raw", "stage"),
    [
        ("Closed Won", "won"),
        ("closedwon", "won"),
        ("Won", "won"),
        ("won", "won"),
        ("Closed-Won", "won"),
        ("Closed Won - signed", "won"),
        ("Closed Lost", "lost"),
        ("closedlost", "lost"),
        ("Lost", "lost"),
        ("Lost - no budget", "lost"),
        ("lost: went with a competitor", "lost"),
        ("Won – expansion", "won"),
        ("Negotiation (win plan)", "open"),
        ("Winter pipeline", "open"),
        ("Lostwithiel office", "open"),
        ("Engaging", "open"),
        ("Prospecting", "open"),
        ("Negotiation/Review", "open"),
        ("appointmentscheduled", "open"),
    ],
)
def test_stage_mapping(tmp_path: Path, raw: str, stage: str) -> None:
    row = read_deals(write(tmp_path, "deals.csv", f"deal_id,stage\n1,{raw}\n")).rows[0]
    assert (row.stage, row.stage_raw) == (stage, raw)


@pytest.mark.parametrize(
    ("is_won", "is_closed", "stage"),
    [
        ("true", "true", "won"),
        ("TRUE", "", "won"),
        ("false", "true", "lost"),
        ("false", "false", "open"),
        ("0", "0", "open"),
    ],
)
def test_stage_from_iswon_and_isclosed_only(tmp_path: Path, is_won: str, is_closed: str, stage: str) -> None:
    row = read_deals(write(tmp_path, "deals.csv", f"Id,IsWon,IsClosed\n1,{is_won},{is_closed}\n")).rows[0]
    assert row.stage == stage
    assert row.stage_raw.startswith("IsWon=")


def test_iswon_overrides_contradicting_stage_text_and_bad_flags_are_errors(tmp_path: Path) -> None:
    text = "Id,StageName,IsWon,IsClosed\n1,Negotiation,true,true\n2,Closed Won,maybe,true\n3,,,\n1,,,\n"
    result = read_deals(write(tmp_path, "deals.csv", text))
    assert result.rows[0].stage == "won"
    assert messages(result.errors) == [
        "deals.csv line 3, column 'IsWon': not a yes/no value: 'maybe'",
        "deals.csv line 4, column 'StageName': no stage",
        "deals.csv line 5, column 'Id': duplicate deal id '1' (first seen on line 2)",
        "deals.csv line 5, column 'StageName': no stage",
    ]


def test_deals_closing_before_creation_are_a_finding(tmp_path: Path) -> None:
    text = "deal_id,stage,created_date,close_date\n1,won,2020-05-01,2020-04-01\n2,won,2020-05-01,2020-06-01\n"
    assert (
        "1 deal closes before they were created (lines 2)"
        in read_deals(write(tmp_path, "d.csv", text)).findings
    )


def test_health_values_are_checked(tmp_path: Path) -> None:
    text = (
        "account_id,NPS,churned,ARR,Referrals\n"
        "1,120,no,5,1\n"
        "2,9,maybe,5,1\n"
        "3,8,yes,-5,1\n"
        "1,7,active,5,1\n"
        ",7,no,5,1\n"
        "4,10,Churned,5,1\n"
    )
    result = read_health(write(tmp_path, "health.csv", text))
    assert messages(result.errors) == [
        "health.csv line 2, column 'NPS': above 100: '120'",
        "health.csv line 3, column 'churned': not a yes/no value: 'maybe'",
        "health.csv line 4, column 'ARR': negative value: '-5'",
        "health.csv line 5, column 'account_id': duplicate account '1' (first seen on line 2)",
        "health.csv line 6, column 'account_id': no account id or name",
    ]
    assert [(r.account_id, r.churned) for r in result.rows] == [("4", True)]
    assert result.nps_scale == "response"
    assert result.findings == ["column 'NPS' holds 0–10 values: read as survey responses, not NPS scores"]


def test_health_churn_date_implies_churned_without_churned_column(tmp_path: Path) -> None:
    text = "company,churn_date\nAcme,2021-01-05\nGlobex,\n"
    result = read_health(write(tmp_path, "health.csv", text))
    assert [(r.account_name, r.churned) for r in result.rows] == [("Acme", True), ("Globex", False)]


# ---------------------------------------------------------------------------------------------------
# Joining deals to accounts
# ---------------------------------------------------------------------------------------------------


def test_join_by_name_ignores_legal_suffixes_and_punctuation(tmp_path: Path) -> None:
    accounts = read_accounts(
        write(tmp_path, "accounts.csv", 'name\n"Acme, Inc."\nGlobex GmbH\nThe Initech Co.\n')
    )
    deals = read_deals(
        write(
            tmp_path,
            "deals.csv",
            "deal_id,stage,account\n1,won,acme inc\n2,lost,GLOBEX\n3,won,Initech\n4,open,\n5,won,\n",
        )
    )
    joined = join_deals(accounts, deals)
    assert joined.errors == []
    assert [(d.deal_id, a.name if a else None) for d, a in joined.pairs] == [
        ("1", "Acme, Inc."),
        ("2", "Globex GmbH"),
        ("3", "The Initech Co."),
        ("4", None),
        ("5", None),
    ]
    assert joined.findings == [
        "3 deals joined to an account (0 by account id, 3 by name)",
        "1 open deal has no account",
        "1 closed deal has no account (lines 6)",
    ]


def test_unknown_account_in_a_deal(tmp_path: Path) -> None:
    accounts = read_accounts(write(tmp_path, "accounts.csv", "name\nAcme Corporation\nGlobex\n"))
    text = "deal_id,stage,account\n1,won,Acme Inc\n2,won,Initech\n3,lost,Globx Ltd\n"
    joined = join_deals(accounts, read_deals(write(tmp_path, "deals.csv", text)))
    assert messages(joined.errors) == [
        "deals.csv line 3, column 'account': unknown account 'Initech'",
        "deals.csv line 4, column 'account': unknown account 'Globx Ltd' (did you mean 'Globex'?)",
    ]
    assert [a.name if a else None for _, a in joined.pairs] == ["Acme Corporation", None, None]


def test_did_you_mean_picks_the_closest_of_many_accounts(tmp_path: Path) -> None:
    names = [f"Northwind {city} Traders" for city in ("Lisbon", "Lisburn", "Leeds", "Lyon")]
    names += [f"Company {i:04d} Holdings" for i in range(2000)]
    accounts = read_accounts(write(tmp_path, "accounts.csv", "name\n" + "\n".join(names) + "\n"))
    text = "deal_id,stage,account\n1,won,Northwind Lisbn Traders\n2,won,Blue Harbour Shipping\n"
    joined = join_deals(accounts, read_deals(write(tmp_path, "deals.csv", text)))
    assert messages(joined.errors) == [
        "deals.csv line 2, column 'account': unknown account 'Northwind Lisbn Traders' "
        "(did you mean 'Northwind Lisbon Traders'?)",
        "deals.csv line 3, column 'account': unknown account 'Blue Harbour Shipping'",
    ]


def test_join_by_id_first_then_by_name(tmp_path: Path) -> None:
    accounts = read_accounts(FIXTURES / "hubspot_companies.csv")
    text = (
        "Record ID,Deal Stage,Associated Company IDs,Associated Company\n"
        "1,closedwon,5013;5012,\n"  # HubSpot lists several ids; the first known one wins
        "2,closedwon,,Initech\n"
        "3,closedwon,999,Acme Inc\n"  # unknown id but a known name
        "4,closedwon,998,\n"
    )
    joined = join_deals(accounts, read_deals(write(tmp_path, "deals.csv", text)))
    assert [a.name if a else None for _, a in joined.pairs] == ["Globex GmbH", "Initech", "Acme, Inc.", None]
    assert messages(joined.errors) == [
        "deals.csv line 5, column 'Associated Company IDs': unknown account id '998'"
    ]


def test_ambiguous_name_join(tmp_path: Path) -> None:
    accounts = read_accounts(
        write(tmp_path, "accounts.csv", "Account ID,Account Name\n1,Acme Inc\n2,ACME LLC\n")
    )
    deals = [DealRow(9, "d1", None, "acme", "won", "Won", None, None, None, {})]
    joined = join_deals(accounts, deals, file="deals.csv")
    assert messages(joined.errors) == [
        "deals.csv line 9, column 'account_name': ambiguous account 'acme': matches accounts on lines 2, 3"
    ]


def test_join_health(tmp_path: Path) -> None:
    accounts = [AccountRow(2, None, "Acme Inc", None, {}), AccountRow(3, None, "Globex", None, {})]
    health = read_health(FIXTURES / "sheet_health.csv")
    joined = join_health(accounts, health)
    assert [a.name if a else None for _, a in joined.pairs] == ["Acme Inc", "Globex"]
    assert joined.errors == []


# ---------------------------------------------------------------------------------------------------
# Properties: name normaliser and CSV round trip
# ---------------------------------------------------------------------------------------------------

NAME_CHARS = string.ascii_letters + string.digits + " .,&-'éÉüÜçß"
names = st.text(alphabet=NAME_CHARS, max_size=30)
suffixes = st.sampled_from(
    ["Inc.", "Inc", "LLC", "Ltd", "Ltd.", "GmbH", "Corp.", "Co", "S.A.", "Limited", "plc"]
)


@given(st.text(max_size=40))
def test_normaliser_is_idempotent(name: str) -> None:
    once = normalize_company_name(name)
    assert normalize_company_name(once) == once


@given(names, suffixes)
def test_normaliser_ignores_a_legal_suffix(name: str, suffix: str) -> None:
    if normalize_company_name(name):
        assert normalize_company_name(f"{name}, {suffix}") == normalize_company_name(name)
        assert normalize_company_name(f"{name} {suffix.upper()}") == normalize_company_name(name)


@given(names)
def test_normaliser_ignores_case_and_spacing(name: str) -> None:
    expected = normalize_company_name(name)
    assert normalize_company_name("  " + "   ".join(name.upper().split()) + " ") == expected
    assert normalize_company_name(name.lower()) == expected


def test_normaliser_examples() -> None:
    assert normalize_company_name("Acme, Inc.") == normalize_company_name("acme inc") == "acme"
    assert normalize_company_name("Société Générale S.A.") == "societe generale"
    assert normalize_company_name("Gekko & Co") == normalize_company_name("Gekko and Company") == "gekko"
    assert normalize_company_name("Procter & Gamble") == normalize_company_name("Procter and Gamble")
    assert normalize_company_name("The New York Inquirer") == "new york inquirer"
    assert normalize_company_name("Inc.") == "inc"  # never reduced to nothing
    assert normalize_company_name("Acme Holdings") != normalize_company_name("Acme")


ASCII_VALUE = st.text(
    alphabet=string.printable.replace("\r", "").replace("\x0b", "").replace("\x0c", ""), max_size=20
)
UNICODE_VALUE = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters="\ufeff")
    | st.just("\n"),
    max_size=20,
)
# Legacy (cp1252) exports hold Western words. Arbitrary accented letters ("ÉÉÉ" is also Shift-JIS
# "ﾉﾉﾉ" and Arabic "ةةة") cannot be told apart from other code pages, and the reader refuses or
# detects such files by design (tests/unit/test_reader_encodings.py covers that), so the values
# mix real Western words with ASCII text, separators, quotes and line breaks.
WESTERN_WORDS = [
    "Société",
    "Générale",
    "Müller",
    "Straße",
    "Çava",
    "coûte",
    "Zürich",
    "Málaga",
    "Øresund",
    "Île",
]
CP1252_VALUE = st.lists(
    st.one_of(
        st.sampled_from(WESTERN_WORDS),
        st.text(alphabet=string.ascii_letters + string.digits + ' ,;"\n\t', max_size=6),
    ),
    max_size=4,
).map("".join)


@st.composite
def csv_files(draw: st.DrawFn) -> tuple[str, str, str, list[list[str]]]:
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]))
    value = CP1252_VALUE if encoding == "cp1252" else draw(st.sampled_from([ASCII_VALUE, UNICODE_VALUE]))
    clean = value.map(str.strip).filter(lambda v: "\ufeff" not in v)
    first = clean.filter(bool)
    rows = draw(st.lists(st.tuples(first, clean, clean).map(list), min_size=1, max_size=12))
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    return encoding, delimiter, draw(st.sampled_from(["\n", "\r\n"])), rows


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(csv_files())
def test_rows_round_trip_through_csv_writing_and_reading(
    tmp_path: Path, case: tuple[str, str, str, list[list[str]]]
) -> None:
    encoding, delimiter, terminator, rows = case
    header = ["account", "sector", "notes"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=terminator)
    writer.writerow(header)
    writer.writerows(rows)
    path = tmp_path / "roundtrip.csv"
    path.write_bytes(buffer.getvalue().encode(encoding))
    table = read_table(path)
    assert table.header == header
    assert table.errors == []
    assert [list(values.values()) for _, values in table.rows] == rows
    expected_lines, line = [], 2
    for row in rows:  # a record starts after every newline of the records before it
        expected_lines.append(line)
        line += 1 + sum(v.count("\n") for v in row)
    assert [n for n, _ in table.rows] == expected_lines
    assert table.delimiter == delimiter


# ---------------------------------------------------------------------------------------------------
# Real data: Maven CRM sample
# ---------------------------------------------------------------------------------------------------

needs_maven = pytest.mark.skipif(not MAVEN.is_dir(), reason=f"shared data folder absent: {MAVEN}")


@pytest.mark.shared_data
@needs_maven
def test_maven_crm_accounts_and_pipeline() -> None:
    accounts = read_accounts(MAVEN / "accounts.csv")
    deals = read_deals(MAVEN / "sales_pipeline.csv")
    assert (len(accounts.rows), accounts.errors) == (85, [])
    assert (len(deals.rows), deals.errors) == (8800, [])
    assert accounts.columns == {
        "name": "account",
        "industry": "sector",
        "employees": "employees",
        "annual_revenue": "revenue",
        "country": "office_location",
    }
    assert accounts.rows[0].attributes["year_established"] == "1996"
    stages = Counter(d.stage for d in deals.rows)
    assert (stages["won"], stages["lost"], stages["open"]) == (4238, 2473, 2089)
    assert deals.rows[0].created_date == date(2016, 10, 20)
    assert deals.rows[0].attributes["product"] == "GTX Plus Basic"
    joined = join_deals(accounts, deals)
    assert joined.errors == []
    assert all(account is not None for deal, account in joined.pairs if deal.stage != "open")
    assert sum(account is None for _, account in joined.pairs) == 1425
    assert "1,425 open deals have no account" in joined.findings
    assert "1,425 open deals have no account" in deals.findings
    assert not any("closed deal" in f for f in joined.findings)
