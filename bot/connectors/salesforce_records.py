"""SOQL for the Salesforce sync, and Salesforce records turned into the CSV-cell text the importer reads.

The queries name no user data (only field names and a datetime literal), so no SOQL string
escaping is ever needed; names with quotes or non-ASCII arrive as JSON and leave as text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from bot.connectors.records import SCORE_FIELDS, CrmRecord, Provider, Removal

__all__ = [
    "ACCOUNT_SELECT",
    "OPPORTUNITY_SELECT",
    "account_record",
    "custom_fields",
    "deal_record",
    "removal",
    "removed_soql",
    "select_soql",
    "soql_datetime",
]

# Salesforce field → canonical field (records.ACCOUNT_FIELDS / DEAL_FIELDS).
ACCOUNT_SELECT: Mapping[str, str] = {
    "Id": "account_id",
    "Name": "name",
    "Website": "domain",
    "Industry": "industry",
    "NumberOfEmployees": "employees",
    "AnnualRevenue": "annual_revenue",
    "BillingCountry": "country",
}
OPPORTUNITY_SELECT: Mapping[str, str] = {
    "Id": "deal_id",
    "AccountId": "account_id",
    "Name": "deal_name",
    "StageName": "stage",
    "IsClosed": "is_closed",
    "IsWon": "is_won",
    "Amount": "amount",
    "CreatedDate": "created_date",
}
CURRENCY = "CurrencyIsoCode"  # only on multi-currency orgs: selected only when describe lists it
_SCORE = frozenset(SCORE_FIELDS[Provider.salesforce])
# Custom field types that are not a single CSV cell (compound, binary) or cannot be selected in bulk.
_NOT_A_CELL = frozenset({"address", "location", "base64", "complexvalue"})


def custom_fields(describe: Mapping[str, Any]) -> list[str]:
    """The custom fields of a describe answer worth syncing: not the write-back fields themselves."""
    return [
        str(f["name"])
        for f in describe.get("fields", [])
        if f.get("custom") and f["name"] not in _SCORE and f.get("type") not in _NOT_A_CELL
    ]


def soql_datetime(moment: datetime) -> str:
    """A SOQL datetime literal in UTC, floored to the second (so ``>=`` still includes ``moment``)."""
    if moment.tzinfo is None:
        raise ValueError(f"the sync cursor {moment.isoformat()} has no time zone; expected UTC")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def select_soql(sobject: str, fields: Sequence[str], *, since: datetime | None) -> str:
    """``SELECT … FROM sobject``, incremental (``SystemModstamp >= since``, oldest first) when ``since``."""
    soql = f"SELECT {', '.join([*fields, 'SystemModstamp'])} FROM {sobject}"
    if since is not None:
        soql += f" WHERE SystemModstamp >= {soql_datetime(since)} ORDER BY SystemModstamp"
    return soql


def removed_soql(sobject: str, *, since: datetime) -> str:
    """Deleted (recycle bin) records since the cursor, for ``queryAll``; accounts say whom they merged into."""
    fields = "Id, MasterRecordId" if sobject == "Account" else "Id"
    return (
        f"SELECT {fields} FROM {sobject} WHERE IsDeleted = true AND SystemModstamp >= {soql_datetime(since)}"
    )


def account_record(row: Mapping[str, Any], custom: Iterable[str]) -> CrmRecord:
    fields = _cells(row, ACCOUNT_SELECT)
    for name in custom:
        text = _cell(row.get(name))
        if text is not None:
            fields[name] = text
    return CrmRecord(str(row["Id"]), _modstamp(row), fields)


def deal_record(row: Mapping[str, Any]) -> CrmRecord:
    fields = _cells(row, OPPORTUNITY_SELECT)
    if "created_date" in fields:
        fields["created_date"] = fields["created_date"][:10]
    if row.get("IsClosed") and row.get("CloseDate"):
        fields["close_date"] = str(row["CloseDate"])[:10]  # an open deal's CloseDate is only a forecast
    currency = _cell(row.get(CURRENCY))
    if currency is not None:
        fields["currency"] = currency
    owner = row.get("Owner")
    if isinstance(owner, Mapping) and _cell(owner.get("Name")) is not None:
        fields["owner"] = str(owner["Name"])
    return CrmRecord(str(row["Id"]), _modstamp(row), fields)


def removal(row: Mapping[str, Any]) -> Removal:
    master = row.get("MasterRecordId")
    return Removal(str(row["Id"]), merged_into=str(master) if master else None)


def _cells(row: Mapping[str, Any], select: Mapping[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for source, target in select.items():
        text = _cell(row.get(source))
        if text is not None:
            out[target] = text
    return out


def _cell(value: Any) -> str | None:
    """A JSON value as CSV-cell text; None for a missing value or one that is not a single cell."""
    kind = type(value)
    if kind is str:  # the common case first: this runs for every cell of a million-row sync
        return value or None
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return format(Decimal(repr(value)), "f")
    return None


def _modstamp(row: Mapping[str, Any]) -> datetime:
    """SystemModstamp (``2024-01-05T10:00:00.000+0000``) as an aware UTC datetime."""
    moment = datetime.fromisoformat(str(row["SystemModstamp"]))  # C-fast; strptime dominated big syncs
    if moment.tzinfo is None:
        raise ValueError(f"SystemModstamp {row['SystemModstamp']!r} has no time zone")
    return moment.astimezone(UTC)
