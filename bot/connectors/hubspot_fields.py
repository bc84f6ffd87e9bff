"""HubSpot's property values turned into the CSV-cell text of a canonical record.

HubSpot returns every property as a string (numbers as decimals, dates as ISO 8601 or, in
older portals, epoch milliseconds, multi-selects ``;``-joined) or null; the importer wants plain
decimals, ``YYYY-MM-DD`` dates and missing values left out, so the mapping lives here, apart
from the HTTP paging.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from bot.connectors.records import CrmRecord

__all__ = [
    "COMPANY_PROPERTIES",
    "DEAL_PROPERTIES",
    "MODIFIED",
    "Stage",
    "company_record",
    "deal_record",
    "parse_time",
    "to_ms",
]

MODIFIED = "hs_lastmodifieddate"
# HubSpot property → canonical account field.
COMPANY_PROPERTIES: Mapping[str, str] = {
    "name": "name",
    "domain": "domain",
    "industry": "industry",
    "numberofemployees": "employees",
    "annualrevenue": "annual_revenue",
    "country": "country",
    "web_technologies": "tech_stack",
}
DEAL_PROPERTIES = (
    "dealname",
    "dealstage",
    "pipeline",
    "amount",
    "deal_currency_code",
    "createdate",
    "closedate",
    "hubspot_owner_id",
    MODIFIED,
)
_NUMERIC = frozenset({"employees", "annual_revenue", "amount"})


@dataclass(frozen=True, slots=True)
class Stage:
    """A deal stage as its pipeline defines it; ``is_won`` only means something when closed."""

    label: str
    is_closed: bool
    is_won: bool


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 or epoch-milliseconds value as aware UTC; None when empty or unreadable."""
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    if text.isdigit():
        return datetime.fromtimestamp(int(text) / 1000, tz=UTC)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def to_ms(moment: datetime) -> int:
    """Epoch milliseconds, what HubSpot's search filters compare date properties with."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def _plain_number(text: str) -> str:
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        return text
    if not number.is_finite():
        return text
    plain = format(number, "f")
    if "." in plain:
        plain = plain.rstrip("0").rstrip(".")
    return "0" if plain in ("", "-0") else plain


def _multi(text: str) -> str:
    return ";".join(part.strip() for part in text.split(";") if part.strip())


def _date(value: Any) -> str | None:
    moment = parse_time(value)
    return moment.date().isoformat() if moment else None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text if text != "" else None


def _modified(obj: Mapping[str, Any]) -> datetime:
    properties = obj.get("properties") or {}
    moment = parse_time(properties.get(MODIFIED)) or parse_time(obj.get("updatedAt"))
    if moment is None:
        raise ValueError(f"HubSpot record {obj.get('id')} has no modified time ({MODIFIED} nor updatedAt)")
    return moment


def company_record(obj: Mapping[str, Any], *, custom: Iterable[str]) -> CrmRecord:
    """A company; ``custom`` names the portal's own properties synced under their names."""
    properties: Mapping[str, Any] = obj.get("properties") or {}
    fields: dict[str, str] = {}
    for name in custom:  # canonical names below win over a custom property of the same name
        if name != "account_id" and (value := _text(properties.get(name))) is not None:
            fields[name] = value
    for prop, canonical in COMPANY_PROPERTIES.items():
        value = _text(properties.get(prop))
        if value is None:
            continue
        if canonical in _NUMERIC:
            value = _plain_number(value)
        elif canonical == "tech_stack":
            value = _multi(value)
        if value:
            fields[canonical] = value
    fields["account_id"] = str(obj["id"])
    return CrmRecord(crm_id=str(obj["id"]), modified_at=_modified(obj), fields=fields)


def deal_record(
    obj: Mapping[str, Any],
    *,
    account_id: str | None,
    stages: Mapping[str, Stage],
    owners: Mapping[str, str],
) -> CrmRecord:
    """A deal; an unknown stage id stays as the raw id with open/closed left unknown."""
    properties: Mapping[str, Any] = obj.get("properties") or {}
    fields: dict[str, str] = {"deal_id": str(obj["id"])}
    if account_id:
        fields["account_id"] = account_id
    if (name := _text(properties.get("dealname"))) is not None:
        fields["deal_name"] = name
    stage_id = _text(properties.get("dealstage"))
    stage = stages.get(stage_id) if stage_id else None
    if stage is not None:
        fields["stage"] = stage.label
        fields["is_closed"] = "true" if stage.is_closed else "false"
        fields["is_won"] = "true" if stage.is_closed and stage.is_won else "false"
    elif stage_id:
        fields["stage"] = stage_id
    if (amount := _text(properties.get("amount"))) is not None:
        fields["amount"] = _plain_number(amount)
    if (currency := _text(properties.get("deal_currency_code"))) is not None:
        fields["currency"] = currency
    if created := _date(properties.get("createdate")):
        fields["created_date"] = created
    if stage is not None and stage.is_closed and (closed := _date(properties.get("closedate"))):
        fields["close_date"] = closed
    owner_id = _text(properties.get("hubspot_owner_id"))
    if owner_id and (owner := owners.get(owner_id)):
        fields["owner"] = owner
    return CrmRecord(crm_id=str(obj["id"]), modified_at=_modified(obj), fields=fields)
