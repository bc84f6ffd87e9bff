"""A stand-in for Salesforce's REST API: HTTPS on 127.0.0.1, speaking the wire format simple-salesforce uses.

It serves what the connector calls (SOQL ``query``/``queryAll`` with ``nextRecordsUrl`` paging,
``sobjects/<type>/describe``, the Tooling API's ``CustomField`` create, sObject Collections
``PATCH composite/sobjects`` and the SOAP ``login`` of the username-password flow) with the
paths, JSON shapes, status codes and error bodies (``[{"message", "errorCode"}]``) of the real
API. The SOQL it understands is only the subset the connector sends; anything else is answered
``MALFORMED_QUERY`` so a connector change shows instead of silently matching. Records live in
plain dicts keyed by their Salesforce API names, so a benchmark can seed hundreds of thousands
of them in seconds. simple-salesforce always builds ``https://`` URLs, hence TLS with the
self-signed certificate from :mod:`tests.support.crm.tls` (clients trust ``.ca_file``).
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import xml.dom.minidom
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bot.demo.stand_in.local_server import LocalServer
from tests.support.crm.clock import StandInClock
from tests.support.crm.tls import self_signed_cert

__all__ = ["COLLECTION_LIMIT", "RecordedCall", "StandInSalesforce", "sf_datetime"]

COLLECTION_LIMIT = 200  # sObject Collections: records per request
MIN_BATCH, MAX_BATCH = 200, 2000  # Sforce-Query-Options: batchSize bounds
ORG_ID = "00D000000000001EAA"

# (API name, type) of the standard fields each object's describe lists.
_STANDARD_FIELDS: dict[str, list[tuple[str, str]]] = {
    "Account": [
        ("Id", "id"),
        ("IsDeleted", "boolean"),
        ("MasterRecordId", "reference"),
        ("Name", "string"),
        ("Type", "picklist"),
        ("Website", "url"),
        ("Industry", "picklist"),
        ("NumberOfEmployees", "int"),
        ("AnnualRevenue", "currency"),
        ("BillingCountry", "string"),
        ("OwnerId", "reference"),
        ("CreatedDate", "datetime"),
        ("LastModifiedDate", "datetime"),
        ("SystemModstamp", "datetime"),
    ],
    "Opportunity": [
        ("Id", "id"),
        ("IsDeleted", "boolean"),
        ("AccountId", "reference"),
        ("Name", "string"),
        ("StageName", "picklist"),
        ("Amount", "currency"),
        ("CloseDate", "date"),
        ("IsClosed", "boolean"),
        ("IsWon", "boolean"),
        ("OwnerId", "reference"),
        ("CreatedDate", "datetime"),
        ("LastModifiedDate", "datetime"),
        ("SystemModstamp", "datetime"),
    ],
    "Organization": [("Id", "id"), ("Name", "string"), ("IsSandbox", "boolean")],
}
_PREFIX = {"Account": "001", "Opportunity": "006"}
_RELATIONSHIPS = {"Opportunity": {"Owner.Name"}}  # parent fields a query may name
_CLOSED_STAGES = {"Closed Won": True, "Closed Lost": False}
_DEFAULT_CODES = {
    400: "MALFORMED_QUERY",
    401: "INVALID_SESSION_ID",
    403: "REQUEST_LIMIT_EXCEEDED",
    404: "NOT_FOUND",
    429: "REQUEST_LIMIT_EXCEEDED",
    500: "UNKNOWN_EXCEPTION",
    503: "SERVER_UNAVAILABLE",
}
_DEFAULT_MESSAGES = {
    "INVALID_SESSION_ID": "Session expired or invalid",
    "REQUEST_LIMIT_EXCEEDED": "TotalRequests Limit exceeded.",
    "UNKNOWN_EXCEPTION": "An unexpected error occurred. Please include this ErrorId if you contact support",
    "SERVER_UNAVAILABLE": "Service Unavailable",
}

_SOQL = re.compile(
    r"^\s*SELECT\s+(?P<fields>.+?)\s+FROM\s+(?P<sobject>\w+)"
    r"(?:\s+WHERE\s+(?P<where>.+?))?"
    r"(?:\s+ORDER\s+BY\s+(?P<order>[\w.]+)(?:\s+(?P<direction>ASC|DESC))?)?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_SINCE = re.compile(
    r"^SystemModstamp\s*>=\s*(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,3})?(?:Z|[+-]\d\d:?\d\d))$", re.I
)
_DELETED = re.compile(r"^IsDeleted\s*=\s*(true|false)$", re.I)


def sf_datetime(moment: datetime) -> str:
    """A datetime as Salesforce's JSON writes it: ``2024-01-05T10:00:00.000+0000`` (UTC)."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}+0000"


def _stamps(now: datetime, spread: timedelta, count: int) -> list[str]:
    """``count`` SystemModstamps, oldest first, ``spread`` apart and ending at ``now``."""
    if not spread:
        return [sf_datetime(now)] * count
    return [sf_datetime(now - spread * (count - n)) for n in range(count)]


def _literal_datetime(text: str) -> str:
    """A SOQL datetime literal in the stored form, so comparisons are plain string comparisons."""
    return sf_datetime(datetime.fromisoformat(text.replace("Z", "+00:00")))


class SoqlError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class _Query:
    sobject: str
    fields: tuple[str, ...]
    since: str | None
    deleted: bool | None
    ordered: bool


@dataclass
class RecordedCall:
    """One request the client made: what a test asserts on."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    status: int = 200


@dataclass
class _Failure:
    status: int
    remaining: int
    retry_after: str | None
    error_code: str
    message: str


@dataclass
class _Cursor:
    sobject: str
    fields: tuple[str, ...]
    rows: list[dict[str, Any]]
    batch: int
    all_rows: bool  # queryAll


@dataclass
class _Answer:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json;charset=UTF-8"


class StandInSalesforce(StandInClock):
    """A local org: accounts, opportunities, describe metadata, and programmable failures."""

    def __init__(
        self,
        access_token: str = "00D000000000001!test",
        *,
        api_version: str = "59.0",
        org_name: str = "Stand-in Org",
        multi_currency: bool = False,
        username: str | None = None,
        password: str | None = None,
        security_token: str | None = None,
    ) -> None:
        self.access_token = access_token
        self.api_version = api_version
        self.org_name = org_name
        self.username, self.password, self.security_token = username, password, security_token
        super().__init__(datetime(2024, 1, 1, tzinfo=UTC))
        self.accounts: dict[str, dict[str, Any]] = {}
        self.opportunities: dict[str, dict[str, Any]] = {}
        self.custom_fields: dict[str, dict[str, dict[str, Any]]] = {"Account": {}, "Opportunity": {}}
        if multi_currency:
            self.custom_fields["Opportunity"]["CurrencyIsoCode"] = _describe_field(
                "CurrencyIsoCode", "picklist", custom=False
            )
        self.hidden_fields: set[str] = set()  # "Account.X__c": exists, but not readable by the API user
        self.calls: list[RecordedCall] = []
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self._cursors: dict[str, _Cursor] = {}
        self._failures: list[_Failure] = []
        self._expired = False
        self._http: LocalServer | None = None

    # lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> StandInSalesforce:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> StandInSalesforce:
        self._http = LocalServer(self._serve, name="stand-in-salesforce", tls=self_signed_cert())
        self._http.start()
        return self

    def stop(self) -> None:
        if self._http is not None:
            self._http.stop()

    @property
    def instance_url(self) -> str:
        assert self._http is not None, "start() the stand-in first"
        return f"https://127.0.0.1:{self._http.port}"

    base_url = instance_url

    @property
    def ca_file(self) -> str:
        return str(self_signed_cert()[0])

    # seeding ---------------------------------------------------------------------------
    def add_custom_field(
        self, sobject: str, name: str, type: str = "string", *, visible: bool = True
    ) -> None:
        """A custom field (``name`` ends in ``__c``) that describe lists and queries may select.

        ``visible=False`` is a field the API user has no field-level security for: it exists (the
        Tooling API refuses a second one) but describe, queries and updates do not know it.
        """
        with self._lock:
            if visible:
                self.custom_fields[sobject][name] = _describe_field(name, type, custom=True)
            else:
                self.hidden_fields.add(f"{sobject}.{name}")

    def add_account(self, name: str, **fields: Any) -> str:
        """A new account (fields by API name); its Id. SystemModstamp/CreatedDate are ``now``."""
        return self._add("Account", {"Name": name, **fields})

    def add_opportunity(self, name: str, *, account_id: str | None = None, **fields: Any) -> str:
        """A new opportunity; ``StageName`` "Closed Won"/"Closed Lost" set IsClosed/IsWon."""
        stage = fields.setdefault("StageName", "Prospecting")
        fields.setdefault("IsClosed", stage in _CLOSED_STAGES)
        fields.setdefault("IsWon", _CLOSED_STAGES.get(stage, False))
        fields.setdefault("CloseDate", self.now.date().isoformat())
        return self._add("Opportunity", {"Name": name, "AccountId": account_id, **fields})

    def seed(
        self, *, accounts: int = 0, opportunities: int = 0, spread: timedelta = timedelta(0)
    ) -> tuple[list[str], list[str]]:
        """Many plain records fast (benchmarks); opportunities spread over the accounts.

        With a ``spread``, record n of each kind was last modified n × spread before ``now`` (as
        records edited over time, not all in one import): an incremental sync then reads only
        those modified since, instead of every record sharing the cursor's instant.
        """
        with self._lock:
            account_ids = [self._new_id("Account") for _ in range(accounts)]
            stamps = _stamps(self.now, spread, accounts)
            for n, record_id in enumerate(account_ids):
                stamp = stamps[n]
                self.accounts[record_id] = {
                    "Id": record_id,
                    "IsDeleted": False,
                    "MasterRecordId": None,
                    "CreatedDate": stamp,
                    "LastModifiedDate": stamp,
                    "SystemModstamp": stamp,
                    "Name": f"Account {n}",
                    "Website": f"account{n}.example",
                    "Industry": ("Software", "Retail", "Manufacturing")[n % 3],
                    "NumberOfEmployees": 10 + n % 5000,
                    "AnnualRevenue": float(100_000 * (1 + n % 900)),
                    "BillingCountry": ("Germany", "France", "United States")[n % 3],
                }
            opportunity_ids = [self._new_id("Opportunity") for _ in range(opportunities)]
            stamps = _stamps(self.now, spread, opportunities)
            for n, record_id in enumerate(opportunity_ids):
                stamp = stamps[n]
                stage = ("Closed Won", "Closed Lost", "Negotiation")[n % 3]
                self.opportunities[record_id] = {
                    "Id": record_id,
                    "IsDeleted": False,
                    "CreatedDate": stamp,
                    "LastModifiedDate": stamp,
                    "SystemModstamp": stamp,
                    "Name": f"Deal {n}",
                    "AccountId": account_ids[n % len(account_ids)] if account_ids else None,
                    "StageName": stage,
                    "IsClosed": stage in _CLOSED_STAGES,
                    "IsWon": stage == "Closed Won",
                    "Amount": float(1000 + n % 100_000),
                    "CloseDate": self.now.date().isoformat(),
                    "Owner.Name": "Sam Seller",
                }
        return account_ids, opportunity_ids

    def update(self, record_id: str, **fields: Any) -> None:
        """Change a record as a user would: SystemModstamp moves to ``now``."""
        with self._lock:
            record = self._store(record_id)[record_id]
            record.update(fields)
            record["SystemModstamp"] = record["LastModifiedDate"] = sf_datetime(self.now)

    def delete(self, record_id: str) -> None:
        """Move a record to the recycle bin: only ``queryAll`` sees it, with IsDeleted = true."""
        self.update(record_id, IsDeleted=True)

    def merge(self, master: str, loser: str) -> None:
        """Merge two accounts: the loser is deleted with MasterRecordId = the master."""
        self.update(master)
        self.update(loser, IsDeleted=True, MasterRecordId=master)

    # scripting -------------------------------------------------------------------------
    def fail_next(
        self,
        status: int,
        times: int = 1,
        *,
        retry_after: float | None = None,
        error_code: str | None = None,
        message: str | None = None,
    ) -> None:
        """Answer the next ``times`` requests with ``status`` and Salesforce's error body."""
        code = error_code or _DEFAULT_CODES.get(status, "UNKNOWN_EXCEPTION")
        text = message or _DEFAULT_MESSAGES.get(code, f"stand-in failure {status}")
        after = None if retry_after is None else f"{retry_after:g}"
        with self._lock:
            self._failures.append(_Failure(status, times, after, code, text))

    def expire_token(self) -> None:
        """From now on every request with the token is answered 401 INVALID_SESSION_ID."""
        self._expired = True

    def requests_to(self, fragment: str) -> list[RecordedCall]:
        with self._lock:
            return [c for c in self.calls if fragment in c.path]

    # store helpers ---------------------------------------------------------------------
    def _new_id(self, sobject: str) -> str:
        return f"{_PREFIX[sobject]}{next(self._ids):015d}"

    def _add(self, sobject: str, fields: Mapping[str, Any]) -> str:
        with self._lock:
            record_id = self._new_id(sobject)
            stamp = sf_datetime(self.now)
            store = self.accounts if sobject == "Account" else self.opportunities
            store[record_id] = {**_base(record_id, stamp), **fields}
            return record_id

    def _store(self, record_id: str) -> dict[str, dict[str, Any]]:
        if record_id in self.accounts:
            return self.accounts
        if record_id in self.opportunities:
            return self.opportunities
        raise KeyError(f"no account or opportunity {record_id!r} in the stand-in")

    def _field_names(self, sobject: str) -> set[str]:
        names = {name for name, _ in _STANDARD_FIELDS[sobject]}
        return names | set(self.custom_fields.get(sobject, {})) | _RELATIONSHIPS.get(sobject, set())

    # serving ---------------------------------------------------------------------------
    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        split = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        headers = {k.lower(): v for k, v in handler.headers.items()}
        body: Any = raw.decode("utf-8", "replace") if raw else None
        if raw and "json" in headers.get("content-type", ""):
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw.decode("utf-8", "replace")
        call = RecordedCall(handler.command, split.path, query, headers, body)
        answer = self._answer(call)
        call.status = answer.status
        with self._lock:
            self.calls.append(call)
        payload = answer.body if isinstance(answer.body, bytes) else json.dumps(answer.body).encode()
        handler.send_response(answer.status)
        handler.send_header("Content-Type", answer.content_type)
        handler.send_header("Content-Length", str(len(payload)))
        for key, value in answer.headers.items():
            handler.send_header(key, value)
        handler.end_headers()
        handler.wfile.write(payload)

    def _answer(self, call: RecordedCall) -> _Answer:
        soap = f"/services/Soap/u/{self.api_version}"
        if call.method == "POST" and call.path.rstrip("/") == soap:
            return self._soap_login(call)
        with self._lock:
            failure = self._failures[0] if self._failures else None
            if failure is not None:
                failure.remaining -= 1
                if failure.remaining <= 0:
                    self._failures.pop(0)
        if failure is not None:
            extra = {"Retry-After": failure.retry_after} if failure.retry_after is not None else {}
            return _error(failure.status, failure.error_code, failure.message, extra)
        if self._expired or call.headers.get("authorization") != f"Bearer {self.access_token}":
            return _error(401, "INVALID_SESSION_ID", "Session expired or invalid")
        prefix = f"/services/data/v{self.api_version}/"
        if not call.path.startswith(prefix):
            return _error(404, "NOT_FOUND", "The requested resource does not exist")
        rest = call.path[len(prefix) :].rstrip("/")
        try:
            return self._route(call, rest)
        except SoqlError as exc:
            return _error(400, exc.code, exc.message)

    def _route(self, call: RecordedCall, rest: str) -> _Answer:
        parts = rest.split("/")
        if call.method == "GET" and parts[0] in ("query", "queryAll"):
            if len(parts) == 1:
                return self._query(call.query.get("q", ""), call.headers, all_rows=parts[0] == "queryAll")
            if len(parts) == 2:
                return self._query_more(parts[1])
        if call.method == "GET" and len(parts) == 3 and parts[0] == "sobjects" and parts[2] == "describe":
            return self._describe(parts[1])
        if call.method == "GET" and rest == "limits":
            return _Answer(200, {"DailyApiRequests": {"Max": 15000, "Remaining": 14999}})
        if call.method == "POST" and rest == "tooling/sobjects/CustomField":
            return self._create_field(call.body)
        if call.method == "PATCH" and rest == "composite/sobjects":
            return self._update_collection(call.body)
        return _error(404, "NOT_FOUND", "The requested resource does not exist")

    # SOQL ------------------------------------------------------------------------------
    def _parse(self, soql: str) -> _Query:
        match = _SOQL.match(soql)
        if match is None:
            raise SoqlError("MALFORMED_QUERY", f"unexpected token in query: {soql[:80]}")
        sobject = match["sobject"]
        if sobject not in _STANDARD_FIELDS:
            raise SoqlError("INVALID_TYPE", f"sObject type '{sobject}' is not supported.")
        fields = tuple(f.strip() for f in match["fields"].split(","))
        known = self._field_names(sobject)
        for name in fields:
            if name not in known:
                raise SoqlError("INVALID_FIELD", f"No such column '{name}' on entity '{sobject}'.")
        if len(set(fields)) != len(fields):
            raise SoqlError("MALFORMED_QUERY", "duplicate field selected")
        since: str | None = None
        deleted: bool | None = None
        for condition in re.split(r"\s+AND\s+", match["where"] or "", flags=re.I) if match["where"] else []:
            if (found := _SINCE.match(condition.strip())) is not None and since is None:
                since = _literal_datetime(found[1])
            elif (found := _DELETED.match(condition.strip())) is not None and deleted is None:
                deleted = found[1].lower() == "true"
            else:
                raise SoqlError("MALFORMED_QUERY", f"unexpected condition: {condition.strip()[:80]}")
        order = match["order"]
        if order is not None and (
            order != "SystemModstamp" or (match["direction"] or "ASC").upper() != "ASC"
        ):
            raise SoqlError("MALFORMED_QUERY", f"unexpected ORDER BY {order}")
        return _Query(sobject, fields, since, deleted, order is not None)

    def _query(self, soql: str, headers: Mapping[str, str], *, all_rows: bool) -> _Answer:
        parsed = self._parse(soql)
        batch = _batch_size(headers.get("sforce-query-options", ""))
        with self._lock:
            if parsed.sobject == "Organization":
                rows: list[dict[str, Any]] = [{"Id": ORG_ID, "Name": self.org_name, "IsSandbox": False}]
            else:
                store = self.accounts if parsed.sobject == "Account" else self.opportunities
                rows = [
                    r
                    for r in store.values()
                    if (all_rows or not r["IsDeleted"])
                    and (parsed.deleted is None or r["IsDeleted"] is parsed.deleted)
                    and (parsed.since is None or r["SystemModstamp"] >= parsed.since)
                ]
            if parsed.ordered:
                rows.sort(key=lambda r: r["SystemModstamp"])
            cursor = _Cursor(parsed.sobject, parsed.fields, rows, batch, all_rows)
            return self._page(cursor, 0)

    def _query_more(self, locator: str) -> _Answer:
        key, _, offset = locator.rpartition("-")
        with self._lock:
            cursor = self._cursors.get(key)
            if cursor is None or not offset.isdigit():
                return _error(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
            return self._page(cursor, int(offset))

    def _page(self, cursor: _Cursor, offset: int) -> _Answer:
        rows = cursor.rows[offset : offset + cursor.batch]
        body: dict[str, Any] = {
            "totalSize": len(cursor.rows),
            "done": offset + cursor.batch >= len(cursor.rows),
            "records": [self._project(cursor.sobject, cursor.fields, r) for r in rows],
        }
        if not body["done"]:
            key = next((k for k, c in self._cursors.items() if c is cursor), None)
            if key is None:
                key = f"01g{next(self._ids):015d}"
                self._cursors[key] = cursor
            endpoint = "queryAll" if cursor.all_rows else "query"
            body["nextRecordsUrl"] = (
                f"/services/data/v{self.api_version}/{endpoint}/{key}-{offset + cursor.batch}"
            )
        return _Answer(200, body)

    def _project(self, sobject: str, fields: Iterable[str], record: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"attributes": self._attributes(sobject, record["Id"])}
        for name in fields:
            if name == "Owner.Name":
                owner = record.get("Owner.Name")
                out["Owner"] = (
                    None
                    if owner is None
                    else {
                        "attributes": {"type": "User", "url": self._url("User", "005000000000001")},
                        "Name": owner,
                    }
                )
            else:
                out[name] = record.get(name)
        return out

    def _attributes(self, sobject: str, record_id: str) -> dict[str, str]:
        return {"type": sobject, "url": self._url(sobject, record_id)}

    def _url(self, sobject: str, record_id: str) -> str:
        return f"/services/data/v{self.api_version}/sobjects/{sobject}/{record_id}"

    # describe and metadata -------------------------------------------------------------
    def _describe(self, sobject: str) -> _Answer:
        if sobject not in ("Account", "Opportunity"):
            return _error(404, "NOT_FOUND", "The requested resource does not exist")
        with self._lock:
            fields = [_describe_field(n, t, custom=False) for n, t in _STANDARD_FIELDS[sobject]]
            fields += [dict(f) for f in self.custom_fields[sobject].values()]
        return _Answer(
            200,
            {
                "name": sobject,
                "label": sobject,
                "custom": False,
                "queryable": True,
                "updateable": True,
                "keyPrefix": _PREFIX[sobject],
                "fields": fields,
                "urls": {"describe": f"/services/data/v{self.api_version}/sobjects/{sobject}/describe"},
            },
        )

    def _create_field(self, body: Any) -> _Answer:
        if not isinstance(body, dict) or not isinstance(body.get("Metadata"), dict):
            return _error(400, "JSON_PARSER_ERROR", "Metadata is required")
        full_name = str(body.get("FullName") or "")
        sobject, _, name = full_name.partition(".")
        meta = body["Metadata"]
        if sobject not in self.custom_fields or not re.fullmatch(r"[A-Za-z]\w*__c", name):
            return _error(400, "FIELD_INTEGRITY_EXCEPTION", f"invalid FullName: {full_name}")
        kind = meta.get("type")
        needs = {"Number": ("precision", "scale"), "Text": ("length",)}.get(str(kind))
        if needs is None or not meta.get("label") or any(not isinstance(meta.get(k), int) for k in needs):
            return _error(400, "FIELD_INTEGRITY_EXCEPTION", f"invalid Metadata for a {kind} field")
        with self._lock:
            if name in self.custom_fields[sobject] or full_name in self.hidden_fields:
                return _error(
                    400, "DUPLICATE_DEVELOPER_NAME", f"There is already a field named {name} on {sobject}."
                )
            described = _describe_field(name, "double" if kind == "Number" else "string", custom=True)
            described.update(
                label=meta["label"], precision=meta.get("precision", 0), length=meta.get("length", 0)
            )
            self.custom_fields[sobject][name] = described
            field_id = f"00N{next(self._ids):015d}"
        return _Answer(201, {"id": field_id, "success": True, "errors": [], "warnings": [], "infos": []})

    def _update_collection(self, body: Any) -> _Answer:
        if not isinstance(body, dict) or not isinstance(body.get("records"), list):
            return _error(400, "JSON_PARSER_ERROR", "records is required")
        records = body["records"]
        if len(records) > COLLECTION_LIMIT:
            return _error(
                400,
                "EXCEEDED_ID_LIMIT",
                f"record limit reached. cannot submit more than {COLLECTION_LIMIT} records into this call",
            )
        if body.get("allOrNone", False) is not False:
            return _error(400, "INVALID_INPUT", "this stand-in only serves allOrNone: false")
        results: list[dict[str, Any]] = []
        with self._lock:
            for record in records:
                sobject = (record.get("attributes") or {}).get("type")
                if sobject not in ("Account", "Opportunity"):
                    return _error(400, "INVALID_TYPE", "attributes.type is required")
                known = self._field_names(sobject)
                unknown = [k for k in record if k not in ("attributes", "id") and k not in known]
                if unknown:
                    return _error(
                        400, "INVALID_FIELD", f"No such column '{unknown[0]}' on sobject of type {sobject}"
                    )
            for record in records:
                record_id = str(record.get("id") or "")
                store = self.accounts if record["attributes"]["type"] == "Account" else self.opportunities
                target = store.get(record_id)
                if target is None:
                    results.append(
                        _save_error(record_id, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")
                    )
                elif target["IsDeleted"]:
                    results.append(_save_error(record_id, "ENTITY_IS_DELETED", "entity is deleted"))
                else:
                    target.update({k: v for k, v in record.items() if k not in ("attributes", "id")})
                    target["SystemModstamp"] = target["LastModifiedDate"] = sf_datetime(self.now)
                    results.append({"id": record_id, "success": True, "errors": []})
        return _Answer(200, results)

    # SOAP login (username-password flow) -------------------------------------------------
    def _soap_login(self, call: RecordedCall) -> _Answer:
        text = call.body if isinstance(call.body, str) else ""
        try:
            dom = xml.dom.minidom.parseString(text)
            username = _xml_text(dom, "n1:username")
            password = _xml_text(dom, "n1:password")
        except Exception:
            username = password = None
        expected = (self.password or "") + (self.security_token or "")
        if self.username is None or username != self.username or password != expected:
            fault = (
                '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '
                'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
                'xmlns:sf="urn:fault.partner.soap.sforce.com"><soapenv:Body><soapenv:Fault>'
                "<faultcode>sf:INVALID_LOGIN</faultcode><faultstring>INVALID_LOGIN: Invalid username, "
                "password, security token; or user locked out.</faultstring><detail><sf:LoginFault>"
                "<sf:exceptionCode>INVALID_LOGIN</sf:exceptionCode><sf:exceptionMessage>Invalid username, "
                "password, security token; or user locked out.</sf:exceptionMessage></sf:LoginFault></detail>"
                "</soapenv:Fault></soapenv:Body></soapenv:Envelope>"
            )
            return _Answer(500, fault.encode(), content_type="text/xml;charset=UTF-8")
        server_url = f"{self.instance_url}/services/Soap/u/{self.api_version}/{ORG_ID}"
        ok = (
            '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '
            'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="urn:partner.soap.sforce.com">'
            "<soapenv:Body><loginResponse><result>"
            f"<passwordExpired>false</passwordExpired><sandbox>false</sandbox><serverUrl>{server_url}</serverUrl>"
            f"<sessionId>{self.access_token}</sessionId><userId>005000000000001AAA</userId>"
            "</result></loginResponse></soapenv:Body></soapenv:Envelope>"
        )
        return _Answer(200, ok.encode(), content_type="text/xml;charset=UTF-8")


def _xml_text(dom: xml.dom.minidom.Document, tag: str) -> str | None:
    nodes = dom.getElementsByTagName(tag)
    if not nodes or nodes[0].firstChild is None:
        return None
    return str(nodes[0].firstChild.nodeValue)


def _base(record_id: str, stamp: str) -> dict[str, Any]:
    return {
        "Id": record_id,
        "IsDeleted": False,
        "MasterRecordId": None,
        "CreatedDate": stamp,
        "LastModifiedDate": stamp,
        "SystemModstamp": stamp,
    }


def _describe_field(name: str, type: str, *, custom: bool) -> dict[str, Any]:
    return {
        "name": name,
        "label": name.removesuffix("__c").replace("_", " "),
        "type": type,
        "custom": custom,
        "nillable": name != "Id",
        "updateable": custom or name not in ("Id", "IsDeleted", "CreatedDate", "SystemModstamp"),
        "calculated": False,
    }


def _batch_size(options: str) -> int:
    """``Sforce-Query-Options: batchSize=N``: Salesforce clamps N to 200..2000 (default 2000)."""
    found = re.search(r"batchSize\s*=\s*(\d+)", options)
    if found is None:
        return MAX_BATCH
    return max(MIN_BATCH, min(MAX_BATCH, int(found[1])))


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> _Answer:
    return _Answer(status, [{"message": message, "errorCode": code}], headers or {})


def _save_error(record_id: str, code: str, message: str) -> dict[str, Any]:
    return {
        "id": record_id,
        "success": False,
        "errors": [{"statusCode": code, "message": message, "fields": []}],
    }
