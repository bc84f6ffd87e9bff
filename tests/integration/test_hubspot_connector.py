"""The HubSpot connector against a HubSpot API stand-in over real HTTP on 127.0.0.1.

The connector runs unchanged (hubspot-api-client, urllib3); only the portal is local. Waits go
through an injected clock and sleep, so retry tests take no time and assert what was waited.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.connectors.errors import CrmAuthError, CrmRequestError, CrmUnavailable
from bot.connectors.hubspot import HubSpotConnector, HubSpotOptions
from bot.connectors.records import Removal, ScoreUpdate
from bot.connectors.retry import RetryPolicy
from tests.support.crm.hubspot_api import PipelineStage, StandInHubSpot
from tests.support.fake_time import FakeTime

TOKEN = "pat-na1-11111111-2222-3333-4444-555555555555"


@pytest.fixture
def hs() -> Iterator[StandInHubSpot]:
    with StandInHubSpot(token=TOKEN) as stand_in:
        yield stand_in


def connect(
    base_url: str,
    ticks: FakeTime | None = None,
    *,
    page_size: int = 100,
    deadline_s: float = 60.0,
    search_cap: int = 10_000,
) -> HubSpotConnector:
    ticks = ticks or FakeTime()
    policy = RetryPolicy(deadline_s=deadline_s, clock=ticks.clock, sleep=ticks.sleep)
    options = HubSpotOptions(
        token=TOKEN,
        base_url=base_url,
        page_size=page_size,
        timeout_s=5.0,
        retry=policy,
        search_cap=search_cap,
    )
    return HubSpotConnector(options)


def requests_to(hs: StandInHubSpot, method: str, path: str) -> list[int]:
    """Statuses of the recorded requests to one endpoint."""
    return [c.status for c in hs.calls if c.method == method and c.path.rstrip("/") == path]


# --------------------------------------------------------------------------- reading


def test_full_sync_maps_company_and_deal_fields(hs: StandInHubSpot) -> None:
    hs.add_property("companies", "segment")
    hs.add_property("companies", "region")
    hs.add_property("companies", "icp_score", "number")  # a write-back field is never read back as custom
    acme = hs.add_company(
        properties={
            "name": "Acme GmbH",
            "domain": "acme.example",
            "industry": "Manufacturing",
            "numberofemployees": "250",
            "annualrevenue": "12500000.50",
            "country": "Germany",
            "region": "EMEA",
            "web_technologies": "salesforce; hubspot;slack",
            "segment": "Mid-Market",
            "icp_score": "88",
            "city": "Berlin",  # a HubSpot-defined property outside the mapping is not synced
        }
    )
    bare = hs.add_company(properties={"name": "Bare Inc", "industry": ""})
    owner = hs.add_owner(first="Dana", last="Scully", email="dana@example.com")
    mailer = hs.add_owner(email="fox@example.com")
    won = hs.add_deal(
        properties={
            "dealname": "Acme renewal",
            "dealstage": "closedwon",
            "amount": "4200.00",
            "deal_currency_code": "EUR",
            "closedate": "2025-11-30T15:00:00.000Z",
            "hubspot_owner_id": owner,
        },
        company_id=acme,
    )
    open_deal = hs.add_deal(
        properties={
            "dealname": "Acme upsell",
            "dealstage": "contractsent",
            "closedate": "2026-03-01T00:00:00Z",
            "hubspot_owner_id": mailer,
        },
        company_id=acme,
    )
    orphan = hs.add_deal(properties={"dealname": "Mystery", "dealstage": "9876543"})

    connector = connect(hs.base_url)
    accounts = {r.crm_id: r for r in connector.accounts(since=None)}
    deals = {r.crm_id: r for r in connector.deals(since=None)}

    assert dict(accounts[acme].fields) == {
        "account_id": acme,
        "name": "Acme GmbH",
        "domain": "acme.example",
        "industry": "Manufacturing",
        "employees": "250",
        "annual_revenue": "12500000.5",
        "country": "Germany",
        "region": "EMEA",
        "tech_stack": "salesforce;hubspot;slack",
        "segment": "Mid-Market",
    }
    assert dict(accounts[bare].fields) == {"account_id": bare, "name": "Bare Inc"}
    assert accounts[acme].modified_at == hs.now
    assert dict(deals[won].fields) == {
        "deal_id": won,
        "account_id": acme,
        "deal_name": "Acme renewal",
        "stage": "Closed Won",
        "is_closed": "true",
        "is_won": "true",
        "amount": "4200",
        "currency": "EUR",
        "created_date": hs.now.date().isoformat(),
        "close_date": "2025-11-30",
        "owner": "Dana Scully",
    }
    assert deals[open_deal].fields["stage"] == "Contract Sent"
    assert (deals[open_deal].fields["is_closed"], deals[open_deal].fields["is_won"]) == ("false", "false")
    assert "close_date" not in deals[open_deal].fields  # an expected close date is not a close date
    assert deals[open_deal].fields["owner"] == "fox@example.com"
    assert deals[orphan].fields["stage"] == "9876543"
    assert {"is_closed", "is_won", "account_id"}.isdisjoint(deals[orphan].fields)


def test_whoami_names_the_portal(hs: StandInHubSpot) -> None:
    assert connect(hs.base_url).whoami() == "HubSpot portal 12345"


def test_full_sync_pages_through_every_record(hs: StandInHubSpot) -> None:
    company_ids, deal_ids = hs.seed(companies=23, deals=17)

    connector = connect(hs.base_url, page_size=5)
    accounts = [r.crm_id for r in connector.accounts(since=None)]
    deals = [r.crm_id for r in connector.deals(since=None)]

    assert sorted(accounts) == sorted(company_ids) and len(accounts) == 23
    assert sorted(deals) == sorted(deal_ids) and len(deals) == 17
    listings = [c for c in hs.calls if c.path == "/crm/v3/objects/companies"]
    assert len(listings) == 5 and all(c.query["limit"] == ["5"] for c in listings)


def test_custom_pipeline_stages_map_to_won_lost_and_open(hs: StandInHubSpot) -> None:
    hs.add_pipeline(
        id="778899",
        label="Partner deals",
        stages=[
            PipelineStage("1001001", "Signed", 1.0, closed=True),
            PipelineStage("1001002", "Walked away", 0.0, closed=True),
            PipelineStage("1001003", "Negotiation", 0.5),
        ],
    )
    company = hs.add_company(properties={"name": "Partner Co"})
    signed = hs.add_deal(properties={"dealstage": "1001001", "pipeline": "778899"}, company_id=company)
    lost = hs.add_deal(properties={"dealstage": "1001002", "pipeline": "778899"}, company_id=company)
    talking = hs.add_deal(properties={"dealstage": "1001003", "pipeline": "778899"}, company_id=company)
    default_lost = hs.add_deal(properties={"dealstage": "closedlost"}, company_id=company)

    deals = {r.crm_id: r.fields for r in connect(hs.base_url).deals(since=None)}

    flags = {i: (deals[i]["stage"], deals[i]["is_closed"], deals[i]["is_won"]) for i in deals}
    assert flags == {
        signed: ("Signed", "true", "true"),
        lost: ("Walked away", "true", "false"),
        talking: ("Negotiation", "false", "false"),
        default_lost: ("Closed Lost", "true", "false"),
    }


def test_incremental_sync_returns_only_records_modified_since(hs: StandInHubSpot) -> None:
    old_company, fresh_company = (
        hs.add_company(properties={"name": "Old"}),
        hs.add_company(properties={"name": "F"}),
    )
    old_deal = hs.add_deal(properties={"dealname": "old"}, company_id=old_company)
    changed_deal = hs.add_deal(properties={"dealname": "changing"}, company_id=old_company)
    cursor = hs.advance(hours=2)
    hs.update_company(fresh_company, {"name": "Fresh"})
    new_company = hs.add_company(properties={"name": "New"})
    hs.update("deals", changed_deal, {"dealstage": "closedwon"})
    lone_deal = hs.add_deal(properties={"dealname": "no company"})

    connector = connect(hs.base_url)
    accounts = {r.crm_id: r for r in connector.accounts(since=cursor)}
    deals = {r.crm_id: r for r in connector.deals(since=cursor)}

    assert set(accounts) == {fresh_company, new_company}
    assert accounts[fresh_company].fields["name"] == "Fresh"
    assert all(r.modified_at >= cursor for r in accounts.values())
    assert set(deals) == {changed_deal, lone_deal} and old_deal not in deals
    assert deals[changed_deal].fields["account_id"] == old_company  # from the v4 associations read
    assert deals[changed_deal].fields["is_won"] == "true"
    assert "account_id" not in deals[lone_deal].fields
    assert requests_to(hs, "POST", "/crm/v4/associations/deals/companies/batch/read") == [207]


def test_incremental_sync_crosses_the_search_cap_without_losing_or_repeating() -> None:
    with StandInHubSpot(token=TOKEN, search_cap=10) as hs:
        start = hs.now
        expected = []
        for n in range(37):  # pairs share a modified time, so restarts land inside a tie
            expected.append(
                hs.add_company(properties={"name": f"C{n}"}, modified=start + timedelta(seconds=n // 2))
            )

        records = list(connect(hs.base_url, page_size=4, search_cap=10).accounts(since=start))

        assert sorted(r.crm_id for r in records) == sorted(expected)
        searches = [c for c in hs.calls if c.path.endswith("/search")]
        assert all(c.status == 200 for c in searches)  # never asked past the cap
        assert sum(1 for c in searches if "after" not in c.body) >= 4  # restarted at the cap
        assert all(c.body["limit"] == 4 for c in searches)


def test_more_records_in_one_instant_than_search_can_page_are_listed_instead(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with StandInHubSpot(token=TOKEN, search_cap=10) as hs:
        old = hs.add_company(properties={"name": "older"}, modified=hs.now - timedelta(days=1))
        same = [hs.add_company(properties={"name": f"C{n}"}) for n in range(12)]  # one bulk update
        deals = [hs.add_deal(properties={"dealname": f"D{n}"}, company_id=same[n]) for n in range(12)]
        connector = connect(hs.base_url, page_size=5, search_cap=10)

        companies = list(connector.accounts(since=hs.now))
        found_deals = list(connector.deals(since=hs.now))

    assert {r.crm_id for r in companies} == {old, *same}  # a superset: the sync finds `old` unchanged
    assert {r.crm_id: r.fields.get("account_id") for r in found_deals} == dict(zip(deals, same, strict=True))
    assert "listing every company instead" in caplog.text and "listing every deal instead" in caplog.text
    searches = [c for c in hs.calls if c.path.endswith("/search")]
    assert all(c.status == 200 for c in searches)  # never asked past the cap, never looped


def test_archived_and_merged_records_come_as_removals(hs: StandInHubSpot) -> None:
    long_gone, gone, survivor, merged = (hs.add_company(properties={"name": n}) for n in ("L", "G", "S", "M"))
    deal = hs.add_deal(properties={"dealname": "moves"}, company_id=merged)
    doomed_deal = hs.add_deal(properties={"dealname": "doomed"})
    hs.archive("companies", long_gone)
    cursor = hs.advance(days=1)
    hs.archive("companies", gone)
    hs.merge(survivor, merged)
    hs.archive("deals", doomed_deal)

    connector = connect(hs.base_url)
    removed = list(connector.removed_accounts(since=cursor))
    removed_deals = list(connector.removed_deals(since=cursor))

    assert sorted(removed, key=lambda r: r.crm_id) == sorted(
        [Removal(gone), Removal(merged, merged_into=survivor)], key=lambda r: r.crm_id
    )
    assert removed_deals == [Removal(doomed_deal)]
    moved = {r.crm_id: r for r in connector.deals(since=cursor)}
    assert moved[deal].fields["account_id"] == survivor


# --------------------------------------------------------------------------- write-back


def test_ensure_score_fields_creates_them_once(hs: StandInHubSpot) -> None:
    connector = connect(hs.base_url)

    assert connector.ensure_score_fields() == ["icp_score", "icp_tier", "icp_version"]
    creates = len(requests_to(hs, "POST", "/crm/v3/properties/companies"))
    assert connector.ensure_score_fields() == []

    assert creates == 3 and len(requests_to(hs, "POST", "/crm/v3/properties/companies")) == 3
    created = {c.body["name"]: c.body for c in hs.calls if c.path == "/crm/v3/properties/companies"}
    assert (created["icp_score"]["type"], created["icp_tier"]["type"], created["icp_version"]["type"]) == (
        "number",
        "string",
        "number",
    )
    assert {b["label"] for b in created.values()} == {"ICP score", "ICP tier", "ICP version"}
    assert {b["groupName"] for b in created.values()} == {"companyinformation"}


def test_write_scores_without_the_fields_is_refused_with_hubspots_reason(hs: StandInHubSpot) -> None:
    company = hs.add_company(properties={"name": "A"})

    with pytest.raises(CrmRequestError, match="icp_score"):
        connect(hs.base_url).write_scores([ScoreUpdate(company, 50, "B", 1)])


@pytest.mark.parametrize("missing_in_batch", ["207", "400"])
def test_write_scores_batches_and_reports_a_deleted_record_as_refused(missing_in_batch: str) -> None:
    with StandInHubSpot(token=TOKEN, missing_in_batch=missing_in_batch) as hs:
        company_ids, _ = hs.seed(companies=250)
        deleted = company_ids[123]
        connector = connect(hs.base_url)
        connector.ensure_score_fields()
        hs.archive("companies", deleted)
        updates = [ScoreUpdate(c, n % 101, "Tier 1" if n % 2 else "", 4) for n, c in enumerate(company_ids)]

        report = connector.write_scores(updates)

        assert report.written == 249
        assert [crm_id for crm_id, _ in report.refused] == [deleted]
        assert "deleted" in report.refused[0][1]
        batches = [c for c in hs.calls if c.path == "/crm/v3/objects/companies/batch/update"]
        assert all(len(c.body["inputs"]) <= 100 for c in batches)
        assert sum(1 for c in batches if c.status in (200, 207)) == 3
        for n, crm_id in enumerate(company_ids):
            if crm_id != deleted:
                written = hs.companies[crm_id].properties
                assert (written["icp_score"], written["icp_tier"], written["icp_version"]) == (
                    str(n % 101),
                    "Tier 1" if n % 2 else "",
                    "4",
                )


def test_write_scores_sends_each_company_once_with_its_latest_score(hs: StandInHubSpot) -> None:
    company = hs.add_company(properties={"name": "A"})
    connector = connect(hs.base_url)
    connector.ensure_score_fields()

    report = connector.write_scores([ScoreUpdate(company, 10, "C", 1), ScoreUpdate(company, 90, "A", 2)])

    assert (report.written, report.refused) == (1, [])
    written = hs.companies[company].properties
    assert (written["icp_score"], written["icp_tier"], written["icp_version"]) == ("90", "A", "2")


# --------------------------------------------------------------------------- failures


def test_rate_limit_waits_what_retry_after_says_then_succeeds(hs: StandInHubSpot) -> None:
    hs.add_company(properties={"name": "A"})
    hs.fail_next(429, times=2, retry_after=7)
    ticks = FakeTime()

    records = list(connect(hs.base_url, ticks).accounts(since=None))

    assert [r.fields["name"] for r in records] == ["A"]
    assert ticks.sleeps == [7.0, 7.0]
    assert [c.status for c in hs.calls[:3]] == [429, 429, 200]


def test_server_errors_are_retried_with_backoff_then_succeed(hs: StandInHubSpot) -> None:
    hs.fail_next(500, times=3)
    ticks = FakeTime()

    assert connect(hs.base_url, ticks).whoami() == "HubSpot portal 12345"

    assert ticks.sleeps == [0.5, 1.0, 2.0]
    assert [c.status for c in hs.calls] == [500, 500, 500, 200]


def test_server_errors_until_the_deadline_raise_unavailable(hs: StandInHubSpot) -> None:
    hs.fail_next(503, times=1000)
    ticks = FakeTime()

    with pytest.raises(CrmUnavailable, match="gave up after") as raised:
        connect(hs.base_url, ticks, deadline_s=20).whoami()

    assert sum(ticks.sleeps) <= 20
    assert "503" in str(raised.value)
    assert len(hs.calls) == len(ticks.sleeps) + 1


def test_a_dropped_connection_is_retried(hs: StandInHubSpot) -> None:
    hs.add_company(properties={"name": "A"})
    hs.drop_next(times=2)
    ticks = FakeTime()

    records = list(connect(hs.base_url, ticks).accounts(since=None))

    assert [r.fields["name"] for r in records] == ["A"]
    assert ticks.sleeps == [0.5, 1.0]
    assert [c.status for c in hs.calls[:3]] == [0, 0, 200]


def test_refused_connections_are_retried_until_the_deadline() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound but not listening: connections are refused
        ticks = FakeTime()
        with pytest.raises(CrmUnavailable, match="no answer from HubSpot"):
            connect(f"http://127.0.0.1:{port}", ticks, deadline_s=5).whoami()
    assert len(ticks.sleeps) >= 2


def test_expired_token_fails_after_one_request_without_leaking_it(hs: StandInHubSpot) -> None:
    hs.expire_token()
    ticks = FakeTime()

    with pytest.raises(CrmAuthError) as raised:
        list(connect(hs.base_url, ticks).accounts(since=None))

    assert len(hs.calls) == 1 and ticks.sleeps == []
    assert "expired" in str(raised.value)
    assert TOKEN not in str(raised.value) and TOKEN not in repr(raised.value.__cause__)


def test_wrong_token_and_missing_scope_are_auth_errors(hs: StandInHubSpot) -> None:
    with StandInHubSpot(token="pat-na1-some-other-token") as other:
        with pytest.raises(CrmAuthError, match="reconnect"):
            connect(other.base_url).whoami()
        assert len(other.calls) == 1
    hs.denied_scope = "crm.objects.companies.read"
    with pytest.raises(CrmAuthError, match=re.escape("crm.objects.companies.read")):
        list(connect(hs.base_url).accounts(since=None))
    assert len(hs.calls) == 1


def test_options_never_show_the_token() -> None:
    assert TOKEN not in repr(HubSpotOptions(token=TOKEN))


# --------------------------------------------------------------------------- round trip

_text = st.text(st.characters(codec="utf-8"), min_size=1, max_size=24)
_company = st.fixed_dictionaries(
    {
        "name": _text,
        "domain": st.from_regex(r"[a-z0-9]{1,12}\.(com|io|de)", fullmatch=True),
        "industry": _text,
        "numberofemployees": st.integers(0, 2_000_000).map(str),
        "annualrevenue": st.decimals(0, 10**12, places=2, allow_nan=False, allow_infinity=False).map(str),
        "country": _text,
        "segment": _text,
        "web_technologies": st.lists(
            st.from_regex(r"[A-Za-z][A-Za-z0-9 .]{0,10}[A-Za-z0-9]", fullmatch=True),
            min_size=1,
            max_size=4,
            unique=True,
        ).map(";".join),
    }
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(companies=st.lists(_company, min_size=0, max_size=12))
def test_any_companies_round_trip_through_a_full_sync(companies: list[dict[str, str]]) -> None:
    with StandInHubSpot(token=TOKEN) as hs:
        hs.add_property("companies", "segment")
        ids = [hs.add_company(properties=c, modified=datetime(2025, 6, 1, tzinfo=UTC)) for c in companies]

        synced = {r.crm_id: r.fields for r in connect(hs.base_url, page_size=5).accounts(since=None)}

    assert sorted(synced) == sorted(ids)
    for crm_id, sent in zip(ids, companies, strict=True):
        got = synced[crm_id]
        for prop, field in (
            ("name", "name"),
            ("domain", "domain"),
            ("industry", "industry"),
            ("country", "country"),
            ("segment", "segment"),
            ("numberofemployees", "employees"),
        ):
            assert got[field] == sent[prop]
        assert Decimal(got["annual_revenue"]) == Decimal(sent["annualrevenue"])
        assert "E" not in got["annual_revenue"] and "," not in got["annual_revenue"]
        assert got["tech_stack"] == sent["web_technologies"]


def test_a_record_modified_while_the_sync_pages_does_not_make_another_one_skipped(hs: StandInHubSpot) -> None:
    start = hs.now
    ids = [
        hs.add_company(properties={"name": f"C{n}"}, modified=start + timedelta(minutes=n)) for n in range(12)
    ]
    hs.now = start + timedelta(hours=1)
    records = connect(hs.base_url, page_size=5).accounts(since=start)
    seen = [next(records).crm_id for _ in range(5)]  # the first page
    hs.update_company(ids[0], {"name": "C0 renamed"})  # moves to the end of the modified order
    seen += [r.crm_id for r in records]
    assert set(seen) == set(ids)  # with offset paging, C5 would have been skipped
    assert seen[-1] == ids[0]  # the renamed one comes again, with its new modified time
