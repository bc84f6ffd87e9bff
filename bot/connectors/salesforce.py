"""The Salesforce connector: accounts and opportunities in by SOQL, the ICP score written back on accounts.

Built on the official ``simple_salesforce`` client over one ``requests`` session. Every HTTP call
goes through :func:`bot.connectors.retry.call`, and paging is lazy (one ``query_more`` per page),
so a page that fails is retried alone. Two ways in: a connected app's OAuth access token (with
the instance URL it came with), or the username-password flow (SOAP login at
``https://{domain}.salesforce.com``). The session's response hook remembers the last
Retry-After, since simple-salesforce's exceptions carry no headers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import requests
from simple_salesforce.api import Salesforce

from bot.connectors.errors import CrmRequestError
from bot.connectors.records import SCORE_FIELDS, CrmRecord, Provider, Removal, ScoreUpdate, WriteReport
from bot.connectors.retry import RetryPolicy, call
from bot.connectors.salesforce_errors import classifier
from bot.connectors.salesforce_records import (
    ACCOUNT_SELECT,
    CURRENCY,
    OPPORTUNITY_SELECT,
    account_record,
    custom_fields,
    deal_record,
    removal,
    removed_soql,
    select_soql,
)
from bot.retry_after import retry_after_seconds

__all__ = ["COLLECTION_LIMIT", "SalesforceConnector", "SalesforceOptions"]

T = TypeVar("T")
COLLECTION_LIMIT = 200  # sObject Collections: records per request (Salesforce's documented maximum)
_SCORE, _TIER, _VERSION = SCORE_FIELDS[Provider.salesforce]
# Tooling API CustomField metadata of the write-back fields: Number(3,0), Text(40), Number(6,0).
_SCORE_METADATA: Mapping[str, Mapping[str, Any]] = {
    _SCORE: {"label": "ICP Score", "type": "Number", "precision": 3, "scale": 0},
    _TIER: {"label": "ICP Tier", "type": "Text", "length": 40},
    _VERSION: {"label": "ICP Version", "type": "Number", "precision": 6, "scale": 0},
}
_DESCRIPTION = "Written by the ICP assistant; edits are overwritten at the next score write-back."


@dataclass(frozen=True)
class SalesforceOptions:
    """How to reach one org. Give ``access_token`` (OAuth), or username, password and security token."""

    instance_url: str  # https://yourorg.my.salesforce.com (unused by the username-password flow)
    access_token: str | None = field(default=None, repr=False)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    security_token: str | None = field(default=None, repr=False)
    domain: str = "login"  # "login" for production orgs, "test" for sandboxes
    api_version: str = "59.0"
    ca_bundle: str | None = None  # a CA file to trust instead of the system's (the tests' stand-in)
    page_size: int = 2000  # Sforce-Query-Options batchSize: Salesforce accepts 200..2000
    timeout_s: float = 30.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    def __post_init__(self) -> None:
        password_flow = (self.username, self.password, self.security_token)
        if not self.access_token and not all(password_flow):
            raise ValueError(
                "Salesforce needs an access token, or a username, password and security token together"
            )
        if not 200 <= self.page_size <= 2000:
            raise ValueError(f"page_size {self.page_size} is outside Salesforce's batch sizes 200..2000")


class SalesforceConnector:
    """One org, through simple-salesforce; see ``bot.connectors.records.CrmConnector``."""

    provider = Provider.salesforce

    def __init__(self, options: SalesforceOptions) -> None:
        self._options = options
        self._session = _Session(timeout_s=options.timeout_s)
        if options.ca_bundle is not None:
            self._session.verify = options.ca_bundle
        self._session.hooks["response"].append(self._remember_retry_after)
        self._retry_after: float | None = None
        self._classify = classifier(retry_after=lambda: self._retry_after)
        self._client: Salesforce | None = None

    # CrmConnector ------------------------------------------------------------------------
    def whoami(self) -> str:
        rows = list(self._query("SELECT Name FROM Organization", what="checking the connection"))
        name = str(rows[0].get("Name") or "") if rows else ""
        return f"Salesforce org {name}".rstrip()

    def accounts(self, *, since: datetime | None) -> Iterator[CrmRecord]:
        custom = custom_fields(self._describe("Account", what="reading account fields"))
        soql = select_soql("Account", [*ACCOUNT_SELECT, *custom], since=since)
        for row in self._query(soql, what="reading accounts"):
            yield account_record(row, custom)

    def deals(self, *, since: datetime | None) -> Iterator[CrmRecord]:
        described = self._describe("Opportunity", what="reading opportunity fields")
        currency = [CURRENCY] if any(f.get("name") == CURRENCY for f in described.get("fields", [])) else []
        fields = [*OPPORTUNITY_SELECT, *currency, "CloseDate", "Owner.Name"]
        for row in self._query(select_soql("Opportunity", fields, since=since), what="reading opportunities"):
            yield deal_record(row)

    def removed_accounts(self, *, since: datetime) -> Iterator[Removal]:
        for row in self._query(
            removed_soql("Account", since=since), what="reading deleted accounts", deleted=True
        ):
            yield removal(row)

    def removed_deals(self, *, since: datetime) -> Iterator[Removal]:
        soql = removed_soql("Opportunity", since=since)
        for row in self._query(soql, what="reading deleted opportunities", deleted=True):
            yield removal(row)

    def ensure_score_fields(self) -> list[str]:
        described = self._describe("Account", what="checking the ICP fields")
        existing = {str(f.get("name")) for f in described.get("fields", [])}
        created: list[str] = []
        for name, metadata in _SCORE_METADATA.items():
            if name in existing:
                continue
            body = {"FullName": f"Account.{name}", "Metadata": {**metadata, "description": _DESCRIPTION}}
            try:
                result = self._call(
                    f"creating the field Account.{name}",
                    lambda body=body: self._sf().toolingexecute(  # type: ignore[misc]
                        "sobjects/CustomField", method="POST", data=body
                    ),
                )
            except CrmRequestError as exc:
                if "DUPLICATE_DEVELOPER_NAME" not in exc.reason:
                    raise
                # It exists, yet describe did not list it: the user has no field-level security on it.
                raise CrmRequestError(
                    self.provider.label,
                    f"the field Account.{name} exists but this Salesforce user cannot see it; "
                    "grant the user read and edit access to it (field-level security)",
                ) from exc
            if not (isinstance(result, Mapping) and result.get("success")):
                raise CrmRequestError(
                    self.provider.label, f"creating the field Account.{name}: Salesforce did not confirm it"
                )
            created.append(name)
        return created

    def write_scores(self, updates: Sequence[ScoreUpdate]) -> WriteReport:
        report = WriteReport()
        for start in range(0, len(updates), COLLECTION_LIMIT):
            batch = updates[start : start + COLLECTION_LIMIT]
            body = {
                "allOrNone": False,  # one deleted account must not roll back the other 199
                "records": [
                    {
                        "attributes": {"type": "Account"},
                        "id": u.crm_id,
                        _SCORE: u.score,
                        _TIER: u.tier or None,
                        _VERSION: u.icp_version,
                    }
                    for u in batch
                ],
            }
            results = self._call(
                "writing ICP scores",
                lambda body=body: self._sf().restful(  # type: ignore[misc]
                    "composite/sobjects", method="PATCH", json=body
                ),
            )
            results = results if isinstance(results, list) else []
            for index, update in enumerate(batch):
                result = results[index] if index < len(results) else None  # SaveResults come in request order
                if isinstance(result, Mapping) and result.get("success"):
                    report.written += 1
                else:
                    report.refused.append((update.crm_id, _save_error(result)))
        return report

    # plumbing ----------------------------------------------------------------------------
    def _sf(self) -> Salesforce:
        """The client; the username-password flow logs in here, on first use."""
        if self._client is None:
            o = self._options
            if o.access_token:
                self._client = Salesforce(
                    instance_url=o.instance_url,
                    session_id=o.access_token,
                    version=o.api_version,
                    session=self._session,
                    object_pairs_hook=dict,  # the default OrderedDict slows every large page down
                )
            else:
                self._client = Salesforce(
                    username=o.username,
                    password=o.password,
                    security_token=o.security_token,
                    domain=o.domain,
                    version=o.api_version,
                    session=self._session,
                    object_pairs_hook=dict,
                )
        return self._client

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        def attempt() -> T:
            self._sf()  # inside the retry, so a failed login is classified like any call
            return fn()

        return call(
            attempt,
            provider=self.provider.label,
            what=what,
            classify=self._classify,
            policy=self._options.retry,
        )

    def _describe(self, sobject: str, *, what: str) -> dict[str, Any]:
        result = self._call(what, lambda: self._sf().restful(f"sobjects/{sobject}/describe"))
        return dict(result or {})

    def _query(self, soql: str, *, what: str, deleted: bool = False) -> Iterator[dict[str, Any]]:
        """Rows of a SOQL query, a page at a time (``queryAll`` when ``deleted``: the recycle bin too)."""
        headers = {"Sforce-Query-Options": f"batchSize={self._options.page_size}"}
        page = self._call(what, lambda: self._sf().query(soql, include_deleted=deleted, headers=headers))
        while True:
            yield from page.get("records", [])
            next_url = page.get("nextRecordsUrl")
            if page.get("done", True) or not next_url:
                return
            page = self._call(
                what,
                lambda url=next_url: self._sf().query_more(  # type: ignore[misc]
                    url, identifier_is_url=True, headers=headers
                ),
            )

    def _remember_retry_after(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self._retry_after = retry_after_seconds(response.headers.get("Retry-After"))


class _Session(requests.Session):
    """A session with a default timeout, whose own ``verify`` (the CA bundle) wins over REQUESTS_CA_BUNDLE.

    simple-salesforce's SOAP login passes neither ``timeout`` nor ``verify`` per request, and plain
    requests lets those environment variables override ``Session.verify``, so an explicit
    ``ca_bundle`` would be ignored wherever they are set.
    """

    def __init__(self, *, timeout_s: float) -> None:
        super().__init__()
        self.timeout_s = timeout_s

    def request(self, method: str, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout_s)
        return super().request(method, url, *args, **kwargs)

    def merge_environment_settings(
        self, url: str, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> dict[str, Any]:
        settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
        if verify is None and self.verify is not True:
            settings["verify"] = self.verify
        return settings


def _save_error(result: Any) -> str:
    """Salesforce's reason for one refused record, e.g. ``ENTITY_IS_DELETED: entity is deleted``."""
    if not isinstance(result, Mapping):
        return "Salesforce returned no result for this record"
    errors = result.get("errors") or []
    if errors and isinstance(errors[0], Mapping):
        code, message = errors[0].get("statusCode") or "", errors[0].get("message") or ""
        return f"{code}: {message}" if code and message else str(code or message)
    return "Salesforce did not save this record"
