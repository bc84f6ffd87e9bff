"""A stand-in for HubSpot's CRM REST API: a real HTTP server on 127.0.0.1 speaking its wire format.

It serves what the HubSpot connector calls through ``hubspot-api-client``: account info, object
list/search/batch update (companies, deals), properties, deal pipelines, owners and the v4 batch
associations read, with HubSpot's JSON shapes, error bodies (``status``/``message``/
``category``), status codes (207 multi-status for a batch naming a deleted id, 429 with
``Retry-After``) and limits (list ≤100, search ≤200 and its 10,000-result cap, batch update
≤100 inputs, associations ≤1000 inputs) so a connector that oversteps them fails here as it
would there. Records live in plain dicts keyed by id; listings page through a cached sorted id
list and searches through a cached sorted match list, so a benchmark can seed hundreds of
thousands of records in seconds and page them quickly.
"""

from __future__ import annotations

import bisect
import contextlib
import functools
import gc
import itertools
import json
import operator
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bot.demo.stand_in.local_server import LocalServer
from tests.support.crm.clock import StandInClock

__all__ = ["PipelineStage", "RecordedCall", "StandInHubSpot", "StoredObject"]

TYPES = ("companies", "deals")
LIST_LIMIT = 100
SEARCH_LIMIT = 200
SEARCH_CAP = 10_000
BATCH_LIMIT = 100
ASSOCIATIONS_LIMIT = 1000
_COMPUTED = ("hs_object_id", "createdate", "hs_lastmodifieddate")
_DATE_PROPERTIES = frozenset({"createdate", "hs_lastmodifieddate", "closedate"})
_NUMBER_PROPERTIES = frozenset({"hs_object_id", "amount", "numberofemployees", "annualrevenue"})
_SINGULAR = {"companies": "COMPANY", "deals": "DEAL"}
_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "EQ": operator.eq,
    "NEQ": operator.ne,
    "GT": operator.gt,
    "GTE": operator.ge,
    "LT": operator.lt,
    "LTE": operator.le,
}


def _modified_since_only(groups: list[dict[str, Any]], sorts: list[dict[str, Any]]) -> int | None:
    """The ms of a search that is only ``hs_lastmodifieddate GTE ms`` sorted by it ascending."""
    if len(groups) != 1 or len(sorts) != 1:
        return None
    filters = groups[0].get("filters") or []
    sort = sorts[0]
    if len(filters) != 1 or sort.get("propertyName") != "hs_lastmodifieddate":
        return None
    if str(sort.get("direction", "ASCENDING")).upper() != "ASCENDING":
        return None
    only = filters[0]
    if only.get("propertyName") != "hs_lastmodifieddate" or only.get("operator") != "GTE":
        return None
    return _value_ms(str(only.get("value")))


@functools.lru_cache(maxsize=65_536)  # seeded records share timestamps; rendering is the hot path
def _iso(ms: int) -> str:
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _value_ms(value: str) -> int | None:
    if value.isdigit():
        return int(value)
    try:
        return _ms(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return None


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Bulk seeding allocates a million small objects; the cyclic GC would rescan them all repeatedly."""
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class StoredObject:
    """One company or deal as the stand-in holds it (tests read ``properties`` to assert writes)."""

    __slots__ = ("archived_at", "company", "created", "id", "modified", "properties")

    def __init__(
        self, id: str, properties: dict[str, str], created: int, modified: int, company: str | None
    ) -> None:
        self.id = id
        self.properties = properties
        self.created = created
        self.modified = modified
        self.company = company
        self.archived_at: int | None = None

    def value(self, name: str) -> str | None:
        if name == "hs_object_id":
            return self.id
        if name == "createdate":
            return _iso(self.created)
        if name == "hs_lastmodifieddate":
            return _iso(self.modified)
        return self.properties.get(name)


@dataclass(frozen=True)
class PipelineStage:
    """A deal stage: HubSpot's metadata says ``isClosed`` and ``probability`` (1.0 won, 0.0 lost)."""

    id: str
    label: str
    probability: float
    closed: bool = False


DEFAULT_STAGES = (
    PipelineStage("appointmentscheduled", "Appointment Scheduled", 0.2),
    PipelineStage("qualifiedtobuy", "Qualified To Buy", 0.4),
    PipelineStage("presentationscheduled", "Presentation Scheduled", 0.6),
    PipelineStage("decisionmakerboughtin", "Decision Maker Bought-In", 0.8),
    PipelineStage("contractsent", "Contract Sent", 0.9),
    PipelineStage("closedwon", "Closed Won", 1.0, closed=True),
    PipelineStage("closedlost", "Closed Lost", 0.0, closed=True),
)
_COMPANY_DEFAULTS = {
    "name": "string",
    "domain": "string",
    "industry": "enumeration",
    "numberofemployees": "number",
    "annualrevenue": "number",
    "country": "string",
    "city": "string",
    "web_technologies": "enumeration",
    "hubspot_owner_id": "enumeration",
    "hs_merged_object_ids": "enumeration",
    "hs_object_id": "number",
    "createdate": "datetime",
    "hs_lastmodifieddate": "datetime",
}
_DEAL_DEFAULTS = {
    "dealname": "string",
    "dealstage": "enumeration",
    "pipeline": "enumeration",
    "amount": "number",
    "deal_currency_code": "enumeration",
    "closedate": "datetime",
    "hubspot_owner_id": "enumeration",
    "hs_merged_object_ids": "enumeration",
    "hs_object_id": "number",
    "createdate": "datetime",
    "hs_lastmodifieddate": "datetime",
}


@dataclass
class RecordedCall:
    """One request the client made: method, path, query (every value a list) and JSON body."""

    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    status: int = 0


@dataclass
class _Failure:
    status: int
    remaining: int
    retry_after: float | None


class _HttpError(Exception):
    def __init__(self, status: int, message: str, category: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {
            "status": "error",
            "message": message,
            "correlationId": str(uuid.uuid4()),
            "category": category,
            **extra,
        }


@dataclass
class _Store:
    active: dict[str, StoredObject] = field(default_factory=dict)
    archived: dict[str, StoredObject] = field(default_factory=dict)
    properties: dict[str, dict[str, Any]] = field(default_factory=dict)
    sorted_ids: dict[bool, list[int]] = field(default_factory=dict)  # cache: archived? → ids ascending
    # cache: active records in (modified, id) order and their modified times, for the sync's search
    by_modified: tuple[list[StoredObject], list[int]] | None = None


class StandInHubSpot(StandInClock):
    """A local HubSpot API; use as a context manager (``with StandInHubSpot() as hs: hs.base_url``)."""

    def __init__(
        self,
        token: str = "pat-test-0123456789abcdef",
        *,
        portal_id: int = 12345,
        search_cap: int = SEARCH_CAP,
        missing_in_batch: str = "207",
    ) -> None:
        self.token = token
        self.portal_id = portal_id
        self.search_cap = search_cap
        self.missing_in_batch = missing_in_batch  # "207" (partial success) or "400" (whole batch refused)
        super().__init__(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
        self.calls: list[RecordedCall] = []
        self.pipelines: dict[str, dict[str, Any]] = {}
        self.owners: dict[str, dict[str, Any]] = {}
        self.denied_scope: str | None = None
        self._stores = {t: _Store() for t in TYPES}
        for object_type, defaults in (("companies", _COMPANY_DEFAULTS), ("deals", _DEAL_DEFAULTS)):
            for name, kind in defaults.items():
                self._stores[object_type].properties[name] = self._property(
                    name, name, kind, hubspot_defined=True
                )
        self._ids = itertools.count(1001)
        self._version = 0
        self._search_cache: dict[tuple[str, str], tuple[int, list[StoredObject]]] = {}
        self._failures: list[_Failure] = []
        self._expired = False
        self._expires_at: Callable[[RecordedCall], bool] | None = None
        self._drops = 0
        self._lock = threading.RLock()
        self._http = LocalServer(self._handle, name="stand-in-hubspot")
        self.add_pipeline(id="default", label="Sales Pipeline", stages=DEFAULT_STAGES)

    # lifecycle ------------------------------------------------------------------------
    def __enter__(self) -> StandInHubSpot:
        self._http.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._http.port}"

    # seeding and scripting ---------------------------------------------------------------
    @property
    def companies(self) -> dict[str, StoredObject]:
        return self._stores["companies"].active

    @property
    def deals(self) -> dict[str, StoredObject]:
        return self._stores["deals"].active

    def _touch(self, object_type: str) -> None:
        self._version += 1
        self._stores[object_type].sorted_ids.clear()
        self._stores[object_type].by_modified = None

    def _add(
        self,
        object_type: str,
        id: str | int | None,
        properties: Mapping[str, str] | None,
        modified: datetime | None,
        company: str | None,
    ) -> str:
        with self._lock:
            crm_id = str(id if id is not None else next(self._ids))
            at = _ms(modified or self.now)
            self._stores[object_type].active[crm_id] = StoredObject(
                crm_id, dict(properties or {}), at, at, company
            )
            self._touch(object_type)
            return crm_id

    def add_company(
        self,
        id: str | int | None = None,
        properties: Mapping[str, str] | None = None,
        modified: datetime | None = None,
    ) -> str:
        return self._add("companies", id, properties, modified, None)

    def add_deal(
        self,
        id: str | int | None = None,
        properties: Mapping[str, str] | None = None,
        modified: datetime | None = None,
        company_id: str | None = None,
    ) -> str:
        return self._add("deals", id, properties, modified, company_id)

    def update(
        self, object_type: str, crm_id: str, properties: Mapping[str, str], modified: datetime | None = None
    ) -> None:
        with self._lock:
            record = self._stores[object_type].active[crm_id]
            record.properties.update(properties)
            record.modified = _ms(modified or self.now)
            self._touch(object_type)

    def update_company(
        self, crm_id: str, properties: Mapping[str, str], modified: datetime | None = None
    ) -> None:
        self.update("companies", crm_id, properties, modified)

    def archive(self, object_type: str, crm_id: str) -> None:
        """Delete a record the way HubSpot does: it moves to the archived list with ``archivedAt``."""
        with self._lock:
            store = self._stores[object_type]
            record = store.active.pop(crm_id)
            record.archived_at = _ms(self.now)
            store.archived[crm_id] = record
            self._touch(object_type)

    def merge(self, primary: str, secondary: str, object_type: str = "companies") -> None:
        """Merge ``secondary`` into ``primary``: it vanishes, its id joins hs_merged_object_ids."""
        with self._lock:
            store = self._stores[object_type]
            gone = store.active.pop(secondary)
            survivor = store.active[primary]
            merged = [i for i in (survivor.properties.get("hs_merged_object_ids") or "").split(";") if i]
            merged += [i for i in (gone.properties.get("hs_merged_object_ids") or "").split(";") if i] + [
                secondary
            ]
            survivor.properties["hs_merged_object_ids"] = ";".join(merged)
            survivor.modified = _ms(self.now)
            if object_type == "companies":
                for deal in self.deals.values():
                    if deal.company == secondary:
                        deal.company, deal.modified = primary, _ms(self.now)
                self._touch("deals")
            self._touch(object_type)

    def add_property(
        self, object_type: str, name: str, kind: str = "string", label: str | None = None
    ) -> None:
        """A custom (portal-defined) property: no ``hubspotDefined`` flag, as HubSpot answers."""
        with self._lock:
            self._stores[object_type].properties[name] = self._property(
                name, label or name, kind, hubspot_defined=False
            )

    def add_pipeline(self, *, id: str, label: str, stages: Iterable[PipelineStage]) -> None:
        stamp = _iso(_ms(self.now))
        self.pipelines[id] = {
            "id": id,
            "label": label,
            "displayOrder": len(self.pipelines),
            "stages": [
                {
                    "id": s.id,
                    "label": s.label,
                    "displayOrder": n,
                    "metadata": {
                        "isClosed": "true" if s.closed else "false",
                        "probability": f"{s.probability:.1f}",
                    },
                    "createdAt": stamp,
                    "updatedAt": stamp,
                    "archived": False,
                }
                for n, s in enumerate(stages)
            ],
            "createdAt": stamp,
            "updatedAt": stamp,
            "archived": False,
        }

    def add_owner(
        self,
        *,
        first: str = "",
        last: str = "",
        email: str = "",
        id: str | None = None,
        archived: bool = False,
    ) -> str:
        owner_id = id or str(next(self._ids))
        self.owners[owner_id] = {
            "id": owner_id,
            "email": email,
            "firstName": first,
            "lastName": last,
            "userId": int(owner_id),
            "createdAt": _iso(_ms(self.now)),
            "updatedAt": _iso(_ms(self.now)),
            "archived": archived,
        }
        return owner_id

    def seed(
        self,
        *,
        companies: int = 0,
        deals: int = 0,
        modified: datetime | None = None,
        spread: timedelta = timedelta(0),
    ) -> tuple[list[str], list[str]]:
        """Bulk records with plausible values, fast enough for a benchmark's hundreds of thousands.

        With a ``spread``, record n of each kind was last modified n × spread before ``modified``
        (records edited over time rather than in one import), so an incremental sync reads only
        those changed since its cursor.
        """
        industries = ("Software", "Manufacturing", "Retail", "Healthcare", "Finance")
        countries = ("United States", "Germany", "France", "United Kingdom", "Japan")
        stage_ids = [s.id for s in DEFAULT_STAGES]
        with self._lock, _gc_paused():
            at = _ms(modified or self.now)
            close = _iso(at)
            company_store, deal_store = self.companies, self.deals
            company_ids = [str(next(self._ids)) for _ in range(companies)]
            step = int(spread.total_seconds() * 1000)
            for n, crm_id in enumerate(company_ids):
                stamp = at - step * (companies - n)
                company_store[crm_id] = StoredObject(
                    crm_id,
                    {
                        "name": f"Company {crm_id}",
                        "domain": f"company{crm_id}.example",
                        "industry": industries[n % 5],
                        "numberofemployees": str(10 + n % 5000),
                        "annualrevenue": str(100_000 * (1 + n % 900)),
                        "country": countries[n % 5],
                    },
                    stamp,
                    stamp,
                    None,
                )
            pool = company_ids or list(company_store)
            deal_ids = [str(next(self._ids)) for _ in range(deals)]
            for n, crm_id in enumerate(deal_ids):
                stage = stage_ids[n % 7]
                props = {
                    "dealname": f"Deal {crm_id}",
                    "dealstage": stage,
                    "pipeline": "default",
                    "amount": str(1000 + n),
                }
                if stage.startswith("closed"):
                    props["closedate"] = close
                stamp = at - step * (deals - n)
                deal_store[crm_id] = StoredObject(
                    crm_id, props, stamp, stamp, pool[n % len(pool)] if pool else None
                )
            self._touch("companies")
            self._touch("deals")
            return company_ids, deal_ids

    def fail_next(self, status: int, times: int = 1, retry_after: float | None = None) -> None:
        """Answer the next ``times`` requests with ``status`` (a 429 carries ``Retry-After``)."""
        with self._lock:
            self._failures.append(_Failure(status, times, retry_after))

    def drop_next(self, times: int = 1) -> None:
        """Close the connection of the next ``times`` requests without answering."""
        with self._lock:
            self._drops += times

    def expire_token(self, *, at: Callable[[RecordedCall], bool] | None = None) -> None:
        """From now on every request is refused as HubSpot refuses an expired OAuth token; with
        ``at``, from the first request for which it is true (that one refused too) on."""
        with self._lock:
            if at is None:
                self._expired = True
            else:
                self._expires_at = at

    def renew_token(self) -> None:
        """The owner reconnected with a fresh token: requests are accepted again."""
        with self._lock:
            self._expired, self._expires_at = False, None

    # HTTP -------------------------------------------------------------------------------
    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        call = RecordedCall(handler.command, parts.path, query, body)
        headers: dict[str, str] = {}
        with self._lock:
            self.calls.append(call)
            if self._drops > 0:  # hang up without an answer, as a dropped connection does
                self._drops -= 1
                handler.close_connection = True
                return
            try:
                status, answer = self._answer(handler, call, headers)
            except _HttpError as error:
                status, answer = error.status, error.body
            call.status = status
        payload = json.dumps(answer).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json;charset=utf-8")
        handler.send_header("Content-Length", str(len(payload)))
        for key, value in headers.items():
            handler.send_header(key, value)
        handler.end_headers()
        handler.wfile.write(payload)

    def _answer(
        self, handler: BaseHTTPRequestHandler, call: RecordedCall, headers: dict[str, str]
    ) -> tuple[int, Any]:
        if self._failures:
            failure = self._failures[0]
            failure.remaining -= 1
            if failure.remaining <= 0:
                self._failures.pop(0)
            if failure.status == 429:
                if failure.retry_after is not None:
                    headers["Retry-After"] = f"{failure.retry_after:g}"
                raise _HttpError(
                    429,
                    "You have reached your ten_secondly_rolling limit.",
                    "RATE_LIMITS",
                    errorType="RATE_LIMIT",
                    policyName="TEN_SECONDLY_ROLLING",
                )
            raise _HttpError(failure.status, "internal error", "INTERNAL_ERROR")
        auth = handler.headers.get("Authorization") or ""
        if auth != f"Bearer {self.token}":
            raise _HttpError(
                401,
                "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find "
                "more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
                "INVALID_AUTHENTICATION",
            )
        if self._expires_at is not None and self._expires_at(call):
            self._expired, self._expires_at = True, None
        if self._expired:
            raise _HttpError(
                401, "The OAuth token used to make this call expired 1 hour(s) ago.", "EXPIRED_AUTHENTICATION"
            )
        if self.denied_scope:
            raise _HttpError(
                403,
                "This app hasn't been granted all required scopes to make this call.",
                "MISSING_SCOPES",
                errors=[
                    {
                        "message": "One or more of the following scopes are required.",
                        "context": {"requiredGranularScopes": [self.denied_scope]},
                    }
                ],
            )
        return self._route(call)

    def _route(self, call: RecordedCall) -> tuple[int, Any]:
        segments = [s for s in call.path.split("/") if s]
        method = call.method
        if segments == ["account-info", "v3", "details"] and method == "GET":
            return 200, self._account_info()
        if segments[:3] == ["crm", "v3", "objects"] and len(segments) >= 4:
            object_type = self._type(segments[3])
            rest = segments[4:]
            if not rest and method == "GET":
                return 200, self._list(object_type, call.query)
            if rest == ["search"] and method == "POST":
                return 200, self._search(object_type, call.body or {})
            if rest == ["batch", "update"] and method == "POST":
                return self._batch_update(object_type, call.body or {})
        if segments[:3] == ["crm", "v3", "properties"] and len(segments) >= 4:
            store = self._stores[self._type(segments[3])]
            if len(segments) == 4 and method == "GET":
                return 200, {"results": list(store.properties.values())}
            if len(segments) == 4 and method == "POST":
                return 201, self._create_property(segments[3], call.body or {})
            if len(segments) == 5 and method == "GET":
                if segments[4] not in store.properties:
                    raise _HttpError(404, f"Unable to find property {segments[4]}", "OBJECT_NOT_FOUND")
                return 200, store.properties[segments[4]]
        if segments[:4] == ["crm", "v3", "pipelines", "deals"] and len(segments) == 4 and method == "GET":
            return 200, {"results": list(self.pipelines.values())}
        if segments[:3] == ["crm", "v3", "owners"] and len(segments) == 3 and method == "GET":
            return 200, self._owners(call.query)
        if (
            segments[:3] == ["crm", "v4", "associations"]
            and segments[5:] == ["batch", "read"]
            and method == "POST"
        ):
            return self._associations(segments[3], segments[4], call.body or {})
        raise _HttpError(404, f"Unable to route {method} request: {call.path}", "OBJECT_NOT_FOUND")

    # endpoints --------------------------------------------------------------------------
    @staticmethod
    def _type(name: str) -> str:
        aliases = {"company": "companies", "0-2": "companies", "deal": "deals", "0-3": "deals"}
        object_type = aliases.get(name, name)
        if object_type not in TYPES:
            raise _HttpError(400, f"Unable to infer object type from: {name}", "VALIDATION_ERROR")
        return object_type

    def _account_info(self) -> dict[str, Any]:
        return {
            "portalId": self.portal_id,
            "accountType": "STANDARD",
            "timeZone": "US/Eastern",
            "companyCurrency": "USD",
            "additionalCurrencies": [],
            "utcOffset": "-05:00",
            "utcOffsetMilliseconds": -18_000_000,
            "uiDomain": "app.hubspot.com",
            "dataHostingLocation": "na1",
        }

    def _render(
        self, record: StoredObject, properties: Iterable[str], associations: bool = False
    ) -> dict[str, Any]:
        wanted = dict.fromkeys([*_COMPUTED, *properties])
        rendered: dict[str, Any] = {
            "id": record.id,
            "properties": {name: record.value(name) for name in wanted},
            "createdAt": _iso(record.created),
            "updatedAt": _iso(record.modified),
            "archived": record.archived_at is not None,
        }
        if record.archived_at is not None:
            rendered["archivedAt"] = _iso(record.archived_at)
        if associations and record.company is not None:
            rendered["associations"] = {
                "companies": {
                    "results": [
                        {"id": record.company, "type": "deal_to_company"},
                        {"id": record.company, "type": "deal_to_company_unlabeled"},
                    ]
                }
            }
        return rendered

    @staticmethod
    def _names(query: Mapping[str, list[str]], key: str) -> list[str]:
        return [name for value in query.get(key, []) for name in value.split(",") if name]

    def _sorted_ids(self, object_type: str, archived: bool) -> list[int]:
        store = self._stores[object_type]
        if archived not in store.sorted_ids:
            store.sorted_ids[archived] = sorted(
                int(i) for i in (store.archived if archived else store.active)
            )
        return store.sorted_ids[archived]

    def _list(self, object_type: str, query: Mapping[str, list[str]]) -> dict[str, Any]:
        limit = int((query.get("limit") or ["10"])[0])
        if not 1 <= limit <= LIST_LIMIT:
            raise _HttpError(
                400, f"limit must be between 1 and {LIST_LIMIT}, was {limit}", "VALIDATION_ERROR"
            )
        archived = (query.get("archived") or ["false"])[0].lower() == "true"
        store = self._stores[object_type]
        records = store.archived if archived else store.active
        ids = self._sorted_ids(object_type, archived)
        after = (query.get("after") or [""])[0]
        start = bisect.bisect_left(ids, int(after)) if after else 0
        page = ids[start : start + limit]
        properties = self._names(query, "properties")
        with_associations = "companies" in self._names(query, "associations") and object_type == "deals"
        answer: dict[str, Any] = {
            "results": [self._render(records[str(i)], properties, with_associations) for i in page]
        }
        if start + limit < len(ids):
            next_id = str(ids[start + limit])
            answer["paging"] = {"next": {"after": next_id, "link": f"?after={next_id}"}}
        return answer

    def _search(self, object_type: str, body: Mapping[str, Any]) -> dict[str, Any]:
        limit = int(body.get("limit") or 10)
        if not 1 <= limit <= SEARCH_LIMIT:
            raise _HttpError(
                400, f"limit must be between 1 and {SEARCH_LIMIT}, was {limit}", "VALIDATION_ERROR"
            )
        after = int(body.get("after") or 0)
        if after >= self.search_cap:
            raise _HttpError(
                400,
                f"There was a problem with the request. Search results are limited to {self.search_cap} records; "
                "paging past them is not possible.",
                "VALIDATION_ERROR",
            )
        groups = body.get("filterGroups") or []
        if len(groups) > 5 or any(len(g.get("filters") or []) > 6 for g in groups):
            raise _HttpError(400, "Too many filter groups or filters", "VALIDATION_ERROR")
        store = self._stores[object_type]
        for group in groups:
            for condition in group.get("filters") or []:
                if condition.get("propertyName") not in store.properties:
                    raise _HttpError(
                        400, f"Property {condition.get('propertyName')!r} does not exist", "VALIDATION_ERROR"
                    )
        since = _modified_since_only(groups, body.get("sorts") or [])
        if since is not None:  # the incremental sync's query: answered from an index, as HubSpot does
            records, stamps = self._by_modified(object_type)
            first = bisect.bisect_left(stamps, since)
            return self._search_page(records[first:], after, limit, list(body.get("properties") or []))
        key = (object_type, json.dumps([groups, body.get("sorts") or []], sort_keys=True))
        cached = self._search_cache.get(key)
        if cached is None or cached[0] != self._version:
            compiled = [[self._predicate(c) for c in g.get("filters") or []] for g in groups]
            matches = [
                r
                for r in store.active.values()
                if not compiled or any(all(p(r) for p in g) for g in compiled)
            ]
            sort = (body.get("sorts") or [{"propertyName": "hs_object_id"}])[0]
            name = str(sort.get("propertyName"))
            descending = str(sort.get("direction", "ASCENDING")).upper() == "DESCENDING"
            matches.sort(key=lambda r: (self._sort_key(r, name), int(r.id)), reverse=descending)
            cached = (self._version, matches)
            self._search_cache = {key: cached}
        return self._search_page(cached[1], after, limit, list(body.get("properties") or []))

    def _by_modified(self, object_type: str) -> tuple[list[StoredObject], list[int]]:
        store = self._stores[object_type]
        if store.by_modified is None:
            ordered = sorted(store.active.values(), key=lambda r: (r.modified, int(r.id)))
            store.by_modified = (ordered, [r.modified for r in ordered])
        return store.by_modified

    def _search_page(
        self, matches: list[StoredObject], after: int, limit: int, properties: list[str]
    ) -> dict[str, Any]:
        end = min(after + limit, self.search_cap)
        answer: dict[str, Any] = {
            "total": len(matches),
            "results": [self._render(r, properties) for r in matches[after:end]],
        }
        if end < len(matches):
            answer["paging"] = {"next": {"after": str(end), "link": None}}
        return answer

    @staticmethod
    def _sort_key(record: StoredObject, name: str) -> Any:
        if name == "hs_lastmodifieddate":
            return record.modified
        if name == "createdate":
            return record.created
        if name == "hs_object_id":
            return int(record.id)
        return record.value(name) or ""

    @staticmethod
    def _predicate(condition: Mapping[str, Any]) -> Callable[[StoredObject], bool]:
        """One filter compiled once per search (a benchmark searches a million deals)."""
        name, op = str(condition.get("propertyName")), str(condition.get("operator"))
        if op in ("HAS_PROPERTY", "NOT_HAS_PROPERTY"):
            wanted_present = op == "HAS_PROPERTY"
            return lambda r: bool(r.value(name)) is wanted_present
        compare = _OPERATORS.get(op)
        if compare is None:
            raise _HttpError(400, f"Unsupported operator {op}", "VALIDATION_ERROR")
        wanted = str(condition.get("value", ""))
        if name in ("hs_lastmodifieddate", "createdate"):
            bound = _value_ms(wanted)
            if bound is None:
                raise _HttpError(400, f"{wanted!r} is not a valid date for {name}", "VALIDATION_ERROR")
            if name == "hs_lastmodifieddate":
                return lambda r: compare(r.modified, bound)
            return lambda r: compare(r.created, bound)

        def test(record: StoredObject) -> bool:
            actual = record.value(name)
            if actual is None:
                return False
            left: Any = actual
            right: Any = wanted
            if name in _DATE_PROPERTIES:
                left, right = _value_ms(actual), _value_ms(wanted)
                if left is None or right is None:
                    return False
            elif name in _NUMBER_PROPERTIES:
                try:
                    left, right = float(actual), float(wanted)
                except ValueError:
                    return False
            return compare(left, right)

        return test

    def _batch_update(self, object_type: str, body: Mapping[str, Any]) -> tuple[int, Any]:
        inputs = list(body.get("inputs") or [])
        if len(inputs) > BATCH_LIMIT:
            raise _HttpError(
                400, f"Batch input limit of {BATCH_LIMIT} exceeded: {len(inputs)} inputs", "VALIDATION_ERROR"
            )
        ids = [str(item.get("id")) for item in inputs]
        if len(set(ids)) != len(ids):
            duplicates = sorted({i for i in ids if ids.count(i) > 1})
            raise _HttpError(
                400,
                f"Duplicate IDs found in batch input: {duplicates}. IDs must be unique",
                "VALIDATION_ERROR",
            )
        store = self._stores[object_type]
        problems = []
        for item in inputs:
            for name, value in (item.get("properties") or {}).items():
                definition = store.properties.get(name)
                if definition is None:
                    problems.append(
                        {
                            "isValid": False,
                            "message": f'Property "{name}" does not exist',
                            "error": "PROPERTY_DOESNT_EXIST",
                            "name": name,
                        }
                    )
                elif definition["type"] == "number" and value not in ("", None):
                    try:
                        float(value)
                    except (TypeError, ValueError):
                        problems.append(
                            {
                                "isValid": False,
                                "message": f"{value!r} is not a valid number",
                                "error": "INVALID_FLOAT",
                                "name": name,
                            }
                        )
        if problems:
            raise _HttpError(
                400, f"Property values were not valid: {json.dumps(problems)}", "VALIDATION_ERROR"
            )
        missing = [str(item.get("id")) for item in inputs if str(item.get("id")) not in store.active]
        not_found = {
            "status": "error",
            "category": "OBJECT_NOT_FOUND",
            "message": f"Could not get some {_SINGULAR[object_type]} objects, they may be deleted or not exist. "
            "Check that ids are valid.",
            "context": {"ids": missing},
        }
        if missing and self.missing_in_batch == "400":
            raise _HttpError(400, str(not_found["message"]), "OBJECT_NOT_FOUND", context={"ids": missing})
        started = _iso(_ms(self.now))
        results = []
        for item in inputs:
            record = store.active.get(str(item.get("id")))
            if record is None:
                continue
            record.properties.update({k: str(v) for k, v in (item.get("properties") or {}).items()})
            record.modified = _ms(self.now)
            results.append(self._render(record, list(item.get("properties") or {})))
        self._touch(object_type)
        answer: dict[str, Any] = {
            "status": "COMPLETE",
            "results": results,
            "startedAt": started,
            "completedAt": started,
        }
        if missing:
            answer["numErrors"] = 1
            answer["errors"] = [not_found]
            return 207, answer
        return 200, answer

    def _create_property(self, type_name: str, body: Mapping[str, Any]) -> dict[str, Any]:
        store = self._stores[self._type(type_name)]
        for key in ("name", "label", "type", "fieldType", "groupName"):
            if not body.get(key):
                raise _HttpError(400, f"Property definition is missing {key}", "VALIDATION_ERROR")
        name = str(body["name"])
        if name in store.properties:
            raise _HttpError(409, f"Property {name} already exists", "OBJECT_ALREADY_EXISTS")
        definition = self._property(name, str(body["label"]), str(body["type"]), hubspot_defined=False)
        definition.update(
            {
                "fieldType": body["fieldType"],
                "groupName": body["groupName"],
                "description": body.get("description", ""),
            }
        )
        store.properties[name] = definition
        return definition

    def _property(self, name: str, label: str, kind: str, *, hubspot_defined: bool) -> dict[str, Any]:
        field_type = {"number": "number", "datetime": "date", "enumeration": "select"}.get(kind, "text")
        definition: dict[str, Any] = {
            "name": name,
            "label": label,
            "type": kind,
            "fieldType": field_type,
            "description": "",
            "groupName": "companyinformation",
            "options": [],
            "displayOrder": -1,
            "calculated": False,
            "externalOptions": False,
            "hasUniqueValue": False,
            "hidden": False,
            "formField": True,
            "createdAt": _iso(_ms(self.now)),
            "updatedAt": _iso(_ms(self.now)),
            "archived": False,
        }
        if hubspot_defined:
            definition["hubspotDefined"] = True
        return definition

    def _owners(self, query: Mapping[str, list[str]]) -> dict[str, Any]:
        limit = int((query.get("limit") or ["100"])[0])
        if not 1 <= limit <= 500:
            raise _HttpError(400, f"limit must be between 1 and 500, was {limit}", "VALIDATION_ERROR")
        archived = (query.get("archived") or ["false"])[0].lower() == "true"
        owners = [o for o in self.owners.values() if o["archived"] == archived]
        start = int((query.get("after") or ["0"])[0] or 0)
        answer: dict[str, Any] = {"results": owners[start : start + limit]}
        if start + limit < len(owners):
            answer["paging"] = {"next": {"after": str(start + limit)}}
        return answer

    def _associations(self, from_type: str, to_type: str, body: Mapping[str, Any]) -> tuple[int, Any]:
        if (self._type(from_type), self._type(to_type)) != ("deals", "companies"):
            raise _HttpError(400, "The stand-in serves deal → company associations only", "VALIDATION_ERROR")
        inputs = list(body.get("inputs") or [])
        if len(inputs) > ASSOCIATIONS_LIMIT:
            raise _HttpError(
                400,
                f"Batch input limit of {ASSOCIATIONS_LIMIT} exceeded: {len(inputs)} inputs",
                "VALIDATION_ERROR",
            )
        results, errors = [], []
        for item in inputs:
            deal = self.deals.get(str(item.get("id")))
            if deal is None or deal.company is None:
                errors.append(
                    {
                        "status": "error",
                        "category": "VALIDATION_ERROR",
                        "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND",
                        "context": {"fromObjectId": [str(item.get("id"))]},
                        "message": f"No company is associated with deal {item.get('id')}.",
                    }
                )
                continue
            results.append(
                {
                    "from": {"id": deal.id},
                    "to": [
                        {
                            "toObjectId": int(deal.company),
                            "associationTypes": [
                                {"category": "HUBSPOT_DEFINED", "typeId": 5, "label": "Primary"},
                                {"category": "HUBSPOT_DEFINED", "typeId": 341, "label": None},
                            ],
                        }
                    ],
                }
            )
        stamp = _iso(_ms(self.now))
        answer: dict[str, Any] = {
            "status": "COMPLETE",
            "results": results,
            "startedAt": stamp,
            "completedAt": stamp,
        }
        if errors:
            answer["numErrors"] = len(errors)
            answer["errors"] = errors
            return 207, answer
        return 200, answer
