"""What a connector hands to the sync: records, removals and score updates, the same for every CRM."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

__all__ = [
    "ACCOUNT_FIELDS",
    "DEAL_FIELDS",
    "RECORD_NOUNS",
    "SCORE_FIELDS",
    "CrmConnector",
    "CrmRecord",
    "Provider",
    "Removal",
    "ScoreUpdate",
    "WriteReport",
]


class Provider(StrEnum):
    hubspot = "hubspot"
    salesforce = "salesforce"

    @property
    def label(self) -> str:
        return "HubSpot" if self is Provider.hubspot else "Salesforce"


# The canonical field names of a synced record: the CSV importer's own field names (each field's
# name is also one of its column aliases), so a staged file maps without any --map.
ACCOUNT_FIELDS = (
    "account_id",
    "name",
    "domain",
    "industry",
    "employees",
    "annual_revenue",
    "country",
    "region",
    "tech_stack",
)
DEAL_FIELDS = (
    "deal_id",
    "account_id",
    "deal_name",
    "stage",
    "is_closed",
    "is_won",
    "amount",
    "currency",
    "created_date",
    "close_date",
    "owner",
)
# What each CRM calls its records, for messages: (an account, a deal).
RECORD_NOUNS: Mapping[Provider, tuple[str, str]] = {
    Provider.hubspot: ("company", "deal"),
    Provider.salesforce: ("account", "opportunity"),
}
# What is written back onto a company/account, by provider: (score, tier, ICP version).
SCORE_FIELDS: Mapping[Provider, tuple[str, str, str]] = {
    Provider.hubspot: ("icp_score", "icp_tier", "icp_version"),
    Provider.salesforce: ("ICP_Score__c", "ICP_Tier__c", "ICP_Version__c"),
}


@dataclass(frozen=True, slots=True)
class CrmRecord:
    """One company/account or deal/opportunity as the CRM holds it now.

    ``fields`` maps a canonical field name (``ACCOUNT_FIELDS`` / ``DEAL_FIELDS``) or a custom
    field's own name to the text a CSV cell would hold: numbers as plain decimals, dates as ISO
    8601, booleans as ``true``/``false``, several technologies joined by ``;``. A field the CRM
    leaves empty is absent or ``""``.
    """

    crm_id: str
    modified_at: datetime  # timezone-aware UTC: the incremental sync's cursor
    fields: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Removal:
    """A record deleted in the CRM since the cursor, or merged into another (``merged_into``)."""

    crm_id: str
    merged_into: str | None = None


@dataclass(frozen=True, slots=True)
class ScoreUpdate:
    """The score to write onto one company/account."""

    crm_id: str
    score: int  # 0-100
    tier: str  # the tier's name, or "" when the account is not in any tier
    icp_version: int


@dataclass
class WriteReport:
    """What a write-back did: records written, and those the CRM refused with its reason."""

    written: int = 0
    refused: list[tuple[str, str]] = field(default_factory=list)  # (crm_id, the CRM's reason)


class CrmConnector(Protocol):
    """One connected CRM. Iterators page lazily; every call may raise ``bot.connectors.errors``."""

    provider: Provider

    def whoami(self) -> str:
        """Check the credentials with one cheap call; the portal/org name for status lines."""
        ...

    def accounts(self, *, since: datetime | None) -> Iterator[CrmRecord]:
        """Companies/accounts modified at or after ``since`` (every one when None), in any order."""
        ...

    def deals(self, *, since: datetime | None) -> Iterator[CrmRecord]:
        """Deals/opportunities modified at or after ``since`` (every one when None), in any order."""
        ...

    def removed_accounts(self, *, since: datetime) -> Iterator[Removal]:
        """Companies/accounts deleted or merged away at or after ``since``."""
        ...

    def removed_deals(self, *, since: datetime) -> Iterator[Removal]:
        """Deals/opportunities deleted or merged away at or after ``since``."""
        ...

    def ensure_score_fields(self) -> list[str]:
        """Create the write-back fields (``SCORE_FIELDS``) where missing; the names created."""
        ...

    def write_scores(self, updates: Sequence[ScoreUpdate]) -> WriteReport:
        """Write scores in batches within the API's limits; a refused record does not stop the rest."""
        ...
