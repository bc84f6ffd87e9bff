"""HubSpot's client APIs, each call through the retry policy, with list and search paging.

Built on the official client (``hubspot-api-client``), with its urllib3 retries switched off so
:func:`bot.connectors.retry.call` is the only retry policy, and ``_preload_content=False`` so
pages are decoded as plain JSON (the generated models cost more than the HTTP at a million deals).
Search stops at 10,000 results per query (``search_cap``): when the cursor reaches it a new
search starts at the last modified time seen, skipping the records already yielded at that
instant; if the whole window shares one instant there is no way forward, and that is said.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hubspot import HubSpot

from bot.connectors.errors import CrmRequestError
from bot.connectors.hubspot_errors import classifier
from bot.connectors.hubspot_fields import MODIFIED, parse_time, to_ms
from bot.connectors.records import Provider
from bot.connectors.retry import RetryPolicy, call

__all__ = ["Answer", "HubSpotTransport"]

PROVIDER = Provider.hubspot.label
LIST_MAX = 100  # HubSpot's page limit for list endpoints
SEARCH_MAX = 200  # ... and for search


class HubSpotTransport:
    """One portal's APIs; ``page_size`` is capped at each endpoint's documented maximum."""

    def __init__(
        self,
        *,
        token: str,
        base_url: str,
        timeout_s: float,
        policy: RetryPolicy,
        page_size: int,
        search_cap: int,
    ) -> None:
        client = HubSpot(access_token=token, host=base_url.rstrip("/"), retry=False)
        crm = client.crm
        self.objects = {
            "companies": (crm.companies.basic_api, crm.companies.search_api, crm.companies.batch_api),
            "deals": (crm.deals.basic_api, crm.deals.search_api, crm.deals.batch_api),
        }
        self.properties = crm.properties.core_api
        self.pipelines = crm.pipelines.pipelines_api
        self.owners = crm.owners.owners_api
        self.associations = crm.associations.v4.batch_api
        self._classify = classifier(token)
        self._timeout_s = timeout_s
        self._policy = policy
        self._page_size = page_size
        self._search_cap = search_cap

    def call(
        self, what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> tuple[int, dict[str, Any]]:
        """One API call through the retry policy: (HTTP status, decoded JSON body)."""

        def attempt() -> tuple[int, dict[str, Any]]:
            response = fn(*args, _preload_content=False, _request_timeout=self._timeout_s, **kwargs)
            try:
                data = response.data
            finally:
                response.release_conn()
            return int(response.status), (json.loads(data) if data else {})

        return call(
            attempt,
            provider=PROVIDER,
            what=what,
            classify=self._classify,
            policy=self._policy,
        )

    def _list_limit(self) -> int:
        return max(1, min(self._page_size, LIST_MAX))

    def list(self, object_type: str, what: str, **params: Any) -> Iterator[dict[str, Any]]:
        basic = self.objects[object_type][0]
        return self.pages(what, basic.get_page, limit=self._list_limit(), **params)

    def pages(self, what: str, get_page: Callable[..., Any], **params: Any) -> Iterator[dict[str, Any]]:
        """Every result of a listing endpoint, following ``paging.next.after`` page by page."""
        after: str | None = None
        while True:
            _, page = self.call(what, get_page, after=after, **params)
            yield from page.get("results") or []
            after = ((page.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return

    def search(
        self,
        object_type: str,
        *,
        since: datetime,
        properties: Sequence[str],
        extra: Sequence[dict[str, str]] = (),
    ) -> Iterator[dict[str, Any]]:
        """Records modified at/after ``since``, ascending.

        Each page after the first is a new search from the newest modified time seen (skipping the
        ids already yielded at that instant), not the next offset: a record modified while the
        sync pages moves to the end of the order, and offset paging would then skip the record
        after it (and the cursor would move past it for good). Offsets (``after``) are used only
        within one instant, up to HubSpot's 10,000-result cap.
        """
        search = self.objects[object_type][1]
        limit = max(1, min(self._page_size, SEARCH_MAX))
        start = to_ms(since)
        done_at_start: set[str] = set()  # ids already yielded whose modified time == start
        while True:
            last, at_last = start, set(done_at_start)
            after: str | None = None
            while True:
                body: dict[str, Any] = {
                    "filterGroups": [
                        {
                            "filters": [
                                {"propertyName": MODIFIED, "operator": "GTE", "value": str(start)},
                                *extra,
                            ]
                        }
                    ],
                    "sorts": [{"propertyName": MODIFIED, "direction": "ASCENDING"}],
                    "properties": list(properties),
                    "limit": limit,
                }
                if after:
                    body["after"] = after
                _, page = self.call(f"searching {object_type}", search.do_search, body)
                for obj in page.get("results") or []:
                    moment = parse_time((obj.get("properties") or {}).get(MODIFIED)) or parse_time(
                        obj.get("updatedAt")
                    )
                    ms = to_ms(moment) if moment else start
                    if ms == start and str(obj["id"]) in done_at_start:
                        continue
                    if ms != last:
                        last, at_last = ms, set()
                    at_last.add(str(obj["id"]))
                    yield obj
                after = ((page.get("paging") or {}).get("next") or {}).get("after")
                if not after:
                    return
                if last != start or int(after) >= self._search_cap:
                    break  # search again from the newest instant seen
            if last == start and at_last == done_at_start:
                raise SearchCapExceeded(
                    PROVIDER,
                    f"searching {object_type}: more than {self._search_cap} records share the modified time "
                    f"{datetime.fromtimestamp(start / 1000, tz=UTC).isoformat()}; HubSpot's search cannot page "
                    "past them",
                )
            start, done_at_start = last, at_last


class SearchCapExceeded(CrmRequestError):
    """More records share one modified instant than HubSpot's search can page through (10,000):
    a bulk import or a mass update. The connector lists every record instead."""


@dataclass(frozen=True, slots=True)
class Answer:
    """A response stand-in for answers we turn from exceptions into data (404, 409, ...)."""

    status: int
    body: dict[str, Any]

    @property
    def data(self) -> bytes:
        return json.dumps(self.body).encode()

    def release_conn(self) -> None:
        return None
