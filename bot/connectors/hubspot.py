"""The HubSpot connector: companies and deals in, the ICP score written back onto companies.

Reading. A full sync lists ``/crm/v3/objects/{companies,deals}`` by ``paging.next.after``; deals
ask for their company associations in the same call. An incremental sync searches
``hs_lastmodifieddate >= since`` sorted ascending (restarting at HubSpot's 10,000-result cap, see
:mod:`bot.connectors.hubspot_transport`); when more than 10,000 records share one modified instant
(a bulk import or mass update) the search cannot page past them, and the records are listed
instead (the sync finds those that did not change unchanged). Search results carry no associations, so each page's
deals get their primary company from the v4 batch associations read.

Removals. Deleted (archived) records are listed with ``archived=true`` and kept when
``archivedAt >= since`` (that list has no date filter, so it is read whole; HubSpot keeps
archived records for 90 days). A merge leaves no archived record: HubSpot deletes the merged-away
records and writes their ids into the survivor's ``hs_merged_object_ids``, which also bumps the
survivor's modified time. So ``removed_*`` searches records modified since the cursor that have
that property and yields each listed id as merged into the survivor; an older merge may come
again when the survivor changes later, which is harmless (the removal is idempotent).

Write-back. ``batch/update`` takes at most 100 inputs. A record deleted meanwhile is reported by
HubSpot either as a 207 multi-status with ``errors[].context.ids`` (the rest were written) or by
rejecting the whole batch with ``OBJECT_NOT_FOUND`` naming the ids; then the batch is sent again
without them. Either way those ids go to ``WriteReport.refused`` and the others are written.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.connectors.errors import CrmRequestError
from bot.connectors.hubspot_errors import api_error_body, is_api_exception
from bot.connectors.hubspot_fields import (
    COMPANY_PROPERTIES,
    DEAL_PROPERTIES,
    MODIFIED,
    Stage,
    company_record,
    deal_record,
    parse_time,
)
from bot.connectors.hubspot_transport import LIST_MAX, Answer, HubSpotTransport, SearchCapExceeded
from bot.connectors.records import SCORE_FIELDS, CrmRecord, Provider, Removal, ScoreUpdate, WriteReport
from bot.connectors.retry import RetryPolicy

__all__ = ["HubSpotConnector", "HubSpotOptions"]

log = logging.getLogger(__name__)

BATCH_UPDATE_MAX = 100
ASSOCIATIONS_BATCH_MAX = 1000
PRIMARY_COMPANY_TYPE_ID = 5  # deal → company "Primary" association (HubSpot-defined)
MERGED = "hs_merged_object_ids"
_SCORE_PROPERTIES: tuple[tuple[str, str, str, str], ...] = (
    # (label, type, fieldType, description) per write-back field, in SCORE_FIELDS order
    ("ICP score", "number", "number", "The account's ICP fit score (0-100), written by the ICP assistant."),
    ("ICP tier", "string", "text", "The account's ICP tier, written by the ICP assistant."),
    ("ICP version", "number", "number", "The ICP version the score was computed with."),
)


@dataclass(frozen=True)
class HubSpotOptions:
    """How to reach one portal. ``search_cap`` is HubSpot's 10,000; smaller only in tests."""

    token: str = field(repr=False)
    base_url: str = "https://api.hubapi.com"
    page_size: int = 100
    timeout_s: float = 30.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    search_cap: int = 10_000


class HubSpotConnector:
    """One HubSpot portal as a :class:`~bot.connectors.records.CrmConnector`."""

    provider = Provider.hubspot

    def __init__(self, options: HubSpotOptions) -> None:
        self._options = options
        self._api = HubSpotTransport(
            token=options.token,
            base_url=options.base_url,
            timeout_s=options.timeout_s,
            policy=options.retry,
            page_size=options.page_size,
            search_cap=options.search_cap,
        )

    # CrmConnector -----------------------------------------------------------------------
    def whoami(self) -> str:
        api_client = self._api.owners.api_client
        _, details = self._api.call(
            "checking the token",
            api_client.call_api,
            "/account-info/v3/details",
            "GET",
            header_params={"Accept": "application/json"},
            auth_settings=["oauth2"],
            _return_http_data_only=True,
        )
        return f"HubSpot portal {details.get('portalId', '?')}"

    def custom_company_properties(self) -> list[str]:
        """The portal's own company properties (``hubspotDefined`` absent/false), minus write-back.

        Asked afresh on every sync: a property added in HubSpot since the last one is synced too."""
        _, page = self._api.call("listing company properties", self._api.properties.get_all, "companies")
        skip = set(SCORE_FIELDS[Provider.hubspot]) | set(COMPANY_PROPERTIES)
        return sorted(
            str(p["name"])
            for p in page.get("results") or []
            if not p.get("hubspotDefined") and not p.get("archived") and p.get("name") not in skip
        )

    def accounts(self, *, since: datetime | None) -> Iterator[CrmRecord]:
        custom = self.custom_company_properties()
        properties = [*COMPANY_PROPERTIES, MODIFIED, *custom]
        if since is not None:
            try:
                for obj in self._api.search("companies", since=since, properties=properties):
                    yield company_record(obj, custom=custom)
                return
            except SearchCapExceeded as exc:
                log.warning("%s; listing every company instead", exc)
        for obj in self._api.list("companies", "listing companies", properties=properties, archived="false"):
            yield company_record(obj, custom=custom)

    def deals(self, *, since: datetime | None) -> Iterator[CrmRecord]:
        stages, owners = self._stages(), self._owner_names()
        if since is not None:
            try:
                yield from self._searched_deals(since, stages, owners)
                return
            except SearchCapExceeded as exc:
                log.warning("%s; listing every deal instead", exc)
        for obj in self._api.list(
            "deals",
            "listing deals",
            properties=list(DEAL_PROPERTIES),
            associations=["companies"],
            archived="false",
        ):
            yield deal_record(obj, account_id=_primary_from_list(obj), stages=stages, owners=owners)

    def _searched_deals(
        self, since: datetime, stages: Mapping[str, Stage], owners: Mapping[str, str]
    ) -> Iterator[CrmRecord]:
        page: list[dict[str, Any]] = []
        for obj in self._api.search("deals", since=since, properties=DEAL_PROPERTIES):
            page.append(obj)
            if len(page) >= min(self._options.page_size, ASSOCIATIONS_BATCH_MAX):
                yield from self._with_companies(page, stages, owners)
                page = []
        if page:
            yield from self._with_companies(page, stages, owners)

    def removed_accounts(self, *, since: datetime) -> Iterator[Removal]:
        return self._removed("companies", since)

    def removed_deals(self, *, since: datetime) -> Iterator[Removal]:
        return self._removed("deals", since)

    def ensure_score_fields(self) -> list[str]:
        created: list[str] = []
        for name, (label, kind, field_type, description) in zip(
            SCORE_FIELDS[Provider.hubspot], _SCORE_PROPERTIES, strict=True
        ):
            if self._property_exists(name):
                continue
            definition = {
                "name": name,
                "label": label,
                "type": kind,
                "fieldType": field_type,
                "groupName": "companyinformation",
                "description": description,
            }
            self._api.call(f"creating the company property {name}", self._create_property, definition)
            created.append(name)
        return created

    def write_scores(self, updates: Sequence[ScoreUpdate]) -> WriteReport:
        report = WriteReport()
        score, tier, version = SCORE_FIELDS[Provider.hubspot]
        latest = list({u.crm_id: u for u in updates}.values())  # HubSpot refuses a batch naming an id twice
        for start in range(0, len(latest), BATCH_UPDATE_MAX):
            inputs = [
                {
                    "id": u.crm_id,
                    "properties": {score: str(u.score), tier: u.tier, version: str(u.icp_version)},
                }
                for u in latest[start : start + BATCH_UPDATE_MAX]
            ]
            self._write_batch(inputs, report)
        return report

    # helpers ----------------------------------------------------------------------------
    def _write_batch(self, inputs: list[dict[str, Any]], report: WriteReport) -> None:
        batch = self._api.objects["companies"][2]
        while inputs:
            status, answer = self._api.call("writing ICP scores", self._update_or_missing, batch, inputs)
            named: dict[str, str] = {}
            errors = [*(answer.get("errors") or []), *([answer] if status == 0 else [])]
            for error in errors:
                reason = str(error.get("message") or error.get("category") or "refused by HubSpot")
                for crm_id in (error.get("context") or {}).get("ids") or []:
                    named[str(crm_id)] = reason
            if status == 0:  # the whole batch was rejected for the ids it names: send the rest again
                sent = {i["id"] for i in inputs}
                if not named or not set(named) <= sent:
                    raise CrmRequestError(self.provider.label, f"writing ICP scores: {answer.get('message')}")
                report.refused.extend((crm_id, named[crm_id]) for crm_id in sorted(named))
                inputs = [i for i in inputs if i["id"] not in named]
                continue
            written = {str(r.get("id")) for r in answer.get("results") or []}
            report.written += len(written)
            for item in inputs:
                if item["id"] not in written:
                    report.refused.append(
                        (item["id"], named.get(item["id"], "not written by HubSpot (no reason given)"))
                    )
            return

    def _update_or_missing(self, batch: Any, inputs: list[dict[str, Any]], **kwargs: Any) -> Any:
        """``batch/update``, but a whole-batch OBJECT_NOT_FOUND comes back as an answer (status 0)."""
        try:
            return batch.update({"inputs": inputs}, **kwargs)
        except Exception as exc:
            body = api_error_body(exc) if is_api_exception(exc) else {}
            if getattr(exc, "status", None) in (400, 404) and body.get("category") == "OBJECT_NOT_FOUND":
                return Answer(0, body)
            raise

    def _property_exists(self, name: str) -> bool:
        def get(**kwargs: Any) -> Any:
            try:
                return self._api.properties.get_by_name("companies", name, **kwargs)
            except Exception as exc:
                if is_api_exception(exc) and getattr(exc, "status", None) == 404:
                    return Answer(404, {})
                raise

        status, _ = self._api.call(f"checking the company property {name}", get)
        return status != 404

    def _create_property(self, definition: dict[str, Any], **kwargs: Any) -> Any:
        try:
            return self._api.properties.create("companies", definition, **kwargs)
        except Exception as exc:
            if is_api_exception(exc) and getattr(exc, "status", None) == 409:  # created meanwhile
                return Answer(409, {})
            raise

    def _stages(self) -> dict[str, Stage]:
        _, page = self._api.call("listing deal pipelines", self._api.pipelines.get_all, "deals")
        stages: dict[str, Stage] = {}
        for pipeline in page.get("results") or []:
            for stage in pipeline.get("stages") or []:
                metadata = stage.get("metadata") or {}
                closed = str(metadata.get("isClosed", "false")).lower() == "true"
                try:
                    won = closed and float(metadata.get("probability") or 0) >= 1.0
                except ValueError:
                    won = False
                stages[str(stage["id"])] = Stage(
                    label=str(stage.get("label") or stage["id"]), is_closed=closed, is_won=won
                )
        return stages

    def _owner_names(self) -> dict[str, str]:
        names: dict[str, str] = {}
        for archived in ("true", "false"):  # deals of people who left keep their owner's name
            owners = self._api.pages(
                "listing owners", self._api.owners.get_page, limit=LIST_MAX, archived=archived
            )
            for owner in owners:
                full = " ".join(p for p in (owner.get("firstName"), owner.get("lastName")) if p).strip()
                if name := full or str(owner.get("email") or ""):
                    names[str(owner["id"])] = name
        return names

    def _with_companies(
        self, deals: list[dict[str, Any]], stages: Mapping[str, Stage], owners: Mapping[str, str]
    ) -> Iterator[CrmRecord]:
        body = {"inputs": [{"id": str(d["id"])} for d in deals]}
        _, answer = self._api.call(
            "reading deal companies", self._api.associations.get_page, "deals", "companies", body
        )
        primary: dict[str, str] = {}
        for result in answer.get("results") or []:
            targets = result.get("to") or []
            chosen = next(
                (
                    t
                    for t in targets
                    if any(
                        a.get("typeId") == PRIMARY_COMPANY_TYPE_ID for a in t.get("associationTypes") or []
                    )
                ),
                targets[0] if targets else None,
            )
            if chosen is not None:
                primary[str((result.get("from") or {}).get("id"))] = str(chosen.get("toObjectId"))
        for deal in deals:
            yield deal_record(deal, account_id=primary.get(str(deal["id"])), stages=stages, owners=owners)

    def _removed(self, object_type: str, since: datetime) -> Iterator[Removal]:
        for obj in self._api.list(
            object_type, f"listing deleted {object_type}", properties=[MODIFIED], archived="true"
        ):
            archived_at = parse_time(obj.get("archivedAt"))
            if archived_at is None or archived_at >= since:
                yield Removal(str(obj["id"]))
        has_merges = [{"propertyName": MERGED, "operator": "HAS_PROPERTY"}]
        try:
            survivors = list(
                self._api.search(object_type, since=since, properties=[MERGED, MODIFIED], extra=has_merges)
            )
        except SearchCapExceeded as exc:
            log.warning("%s; listing every one of the %s instead", exc, object_type)
            survivors = [
                obj
                for obj in self._api.list(
                    object_type, f"listing {object_type}", properties=[MERGED, MODIFIED], archived="false"
                )
                if (obj.get("properties") or {}).get(MERGED)
            ]
        for obj in survivors:
            for old in str((obj.get("properties") or {}).get(MERGED) or "").split(";"):
                if old.strip() and old.strip() != str(obj["id"]):
                    yield Removal(old.strip(), merged_into=str(obj["id"]))


def _primary_from_list(deal: Mapping[str, Any]) -> str | None:
    """The primary company of a listed deal: the ``deal_to_company`` (not ``_unlabeled``) one."""
    results = (((deal.get("associations") or {}).get("companies") or {}).get("results")) or []
    primary = next(
        (r for r in results if r.get("type") == "deal_to_company"), results[0] if results else None
    )
    return str(primary["id"]) if primary else None
