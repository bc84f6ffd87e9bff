"""The Salesforce connector against a Salesforce REST stand-in over real HTTPS on 127.0.0.1.

The connector runs unchanged (simple-salesforce, requests, TLS); only the org is local. Waits go
through an injected clock and sleep, so retry tests take no time and assert what was waited.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.connectors.errors import CrmAuthError, CrmRateLimited, CrmRequestError, CrmUnavailable
from bot.connectors.records import Removal, ScoreUpdate
from bot.connectors.retry import RetryPolicy
from bot.connectors.salesforce import SalesforceConnector, SalesforceOptions
from tests.support.crm.salesforce_api import StandInSalesforce
from tests.support.fake_time import FakeTime

TOKEN = "00D000000000001!test-secret-token"
T0 = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture
def org() -> Iterator[StandInSalesforce]:
    with StandInSalesforce(access_token=TOKEN) as stand_in:
        yield stand_in


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


def connect(
    org: StandInSalesforce, fake_time: FakeTime | None = None, **overrides: object
) -> SalesforceConnector:
    ticks = fake_time or FakeTime()
    options: dict[str, object] = {
        "instance_url": org.instance_url,
        "access_token": TOKEN,
        "ca_bundle": org.ca_file,
        "timeout_s": 10.0,
        "retry": RetryPolicy(deadline_s=30.0, clock=ticks.clock, sleep=ticks.sleep),
        **overrides,
    }
    return SalesforceConnector(SalesforceOptions(**options))  # type: ignore[arg-type]


# --------------------------------------------------------------------------- reading


def test_full_sync_maps_accounts_opportunities_and_custom_fields(org: StandInSalesforce) -> None:
    org.add_custom_field("Account", "Segment__c")
    org.add_custom_field("Account", "Seats__c", "double")
    org.add_custom_field("Account", "ICP_Score__c", "double")  # a write-back field: never synced in
    acme = org.add_account(
        "Acme GmbH",
        Website="acme.example",
        Industry="Software",
        NumberOfEmployees=250,
        AnnualRevenue=12500000.0,
        BillingCountry="Germany",
        Segment__c="Mid-market",
        Seats__c=42.5,
        ICP_Score__c=77.0,
    )
    bare = org.add_account("Bare Ltd")
    org.now = T0 + timedelta(days=3)
    won = org.add_opportunity(
        "Acme renewal",
        account_id=acme,
        StageName="Closed Won",
        Amount=48000.0,
        CloseDate="2024-02-01",
        **{"Owner.Name": "Dana Rep"},
    )
    open_deal = org.add_opportunity(
        "Acme expansion", account_id=acme, StageName="Negotiation", CloseDate="2024-09-30"
    )
    connector = connect(org)

    assert connector.whoami() == "Salesforce org Stand-in Org"
    accounts = {r.crm_id: r for r in connector.accounts(since=None)}
    deals = {r.crm_id: r for r in connector.deals(since=None)}

    assert dict(accounts[acme].fields) == {
        "account_id": acme,
        "name": "Acme GmbH",
        "domain": "acme.example",
        "industry": "Software",
        "employees": "250",
        "annual_revenue": "12500000",
        "country": "Germany",
        "Segment__c": "Mid-market",
        "Seats__c": "42.5",
    }
    assert dict(accounts[bare].fields) == {"account_id": bare, "name": "Bare Ltd"}
    assert accounts[acme].modified_at == T0
    assert dict(deals[won].fields) == {
        "deal_id": won,
        "account_id": acme,
        "deal_name": "Acme renewal",
        "stage": "Closed Won",
        "is_closed": "true",
        "is_won": "true",
        "amount": "48000",
        "created_date": "2024-01-04",
        "close_date": "2024-02-01",
        "owner": "Dana Rep",
    }
    # An open deal's CloseDate is a forecast, not a close date; no owner, no amount: left out.
    assert dict(deals[open_deal].fields) == {
        "deal_id": open_deal,
        "account_id": acme,
        "deal_name": "Acme expansion",
        "stage": "Negotiation",
        "is_closed": "false",
        "is_won": "false",
        "created_date": "2024-01-04",
    }
    assert deals[won].modified_at == T0 + timedelta(days=3)
    opportunity_soql = [
        c.query["q"] for c in org.requests_to("/query") if "FROM Opportunity" in c.query.get("q", "")
    ]
    assert opportunity_soql and all("CurrencyIsoCode" not in q for q in opportunity_soql)


def test_multi_currency_org_syncs_the_deal_currency() -> None:
    with StandInSalesforce(access_token=TOKEN, multi_currency=True) as org:
        deal = org.add_opportunity("Euro deal", StageName="Closed Lost", Amount=900.0, CurrencyIsoCode="EUR")
        (record,) = list(connect(org).deals(since=None))
    assert record.crm_id == deal
    assert record.fields["currency"] == "EUR"
    assert record.fields["is_won"] == "false"
    assert record.fields["is_closed"] == "true"


def test_full_sync_pages_through_next_records_url(org: StandInSalesforce) -> None:
    ids, _ = org.seed(accounts=450)
    records = list(connect(org, page_size=200).accounts(since=None))

    assert sorted(r.crm_id for r in records) == sorted(ids)
    pages = [c for c in org.calls if "/query" in c.path]
    assert len(pages) == 3  # query + two query_more (200 + 200 + 50)
    assert all(c.headers.get("sforce-query-options") == "batchSize=200" for c in pages)
    assert [urlsplit(c.path).path.rsplit("-", 1)[-1] for c in pages[1:]] == ["200", "400"]


def test_incremental_sync_returns_only_records_modified_since(org: StandInSalesforce) -> None:
    untouched = org.add_account("Untouched")
    org.now = T0 + timedelta(hours=1)
    changed = org.add_account("Changed later")
    org.now = T0 + timedelta(hours=2)
    org.update(untouched, Industry="Retail")  # modified after the cursor: comes again
    org.add_opportunity("Old")
    org.now = T0 + timedelta(hours=3)
    org.update(changed, Website="changed.example")

    since = T0 + timedelta(hours=2)
    records = list(connect(org).accounts(since=since))
    deals = list(connect(org).deals(since=T0 + timedelta(hours=2, seconds=1)))

    assert [r.crm_id for r in records] == [untouched, changed]  # ORDER BY SystemModstamp
    assert [r.modified_at for r in records] == [since, T0 + timedelta(hours=3)]
    assert records[0].fields["industry"] == "Retail"
    assert deals == []
    soql = [c.query["q"] for c in org.requests_to("/query") if "FROM Account" in c.query.get("q", "")]
    assert soql[-1].endswith("WHERE SystemModstamp >= 2024-01-01T02:00:00Z ORDER BY SystemModstamp")


def test_deleted_and_merged_records_come_back_as_removals(org: StandInSalesforce) -> None:
    gone_early = org.add_account("Deleted before the cursor")
    org.delete(gone_early)
    org.now = T0 + timedelta(days=1)
    kept, deleted, master, loser = (org.add_account(n) for n in ("Kept", "Deleted", "Master", "Loser"))
    deal, deleted_deal = org.add_opportunity("Kept deal"), org.add_opportunity("Deleted deal")
    org.now = T0 + timedelta(days=2)
    org.delete(deleted)
    org.merge(master, loser)
    org.delete(deleted_deal)
    connector = connect(org)
    since = T0 + timedelta(days=1)

    assert sorted(connector.removed_accounts(since=since), key=lambda r: r.crm_id) == sorted(
        [Removal(deleted), Removal(loser, merged_into=master)], key=lambda r: r.crm_id
    )
    assert list(connector.removed_deals(since=since)) == [Removal(deleted_deal)]
    assert {r.crm_id for r in connector.accounts(since=None)} == {kept, master}
    assert {r.crm_id for r in connector.deals(since=None)} == {deal}
    assert {
        c.path.rstrip("/").rsplit("/", 1)[-1] for c in org.calls if "IsDeleted" in c.query.get("q", "")
    } == {"queryAll"}


# --------------------------------------------------------------------------- write-back


def test_ensure_score_fields_creates_them_once_and_describe_lists_them(org: StandInSalesforce) -> None:
    org.add_account("Acme")
    connector = connect(org)

    assert connector.ensure_score_fields() == ["ICP_Score__c", "ICP_Tier__c", "ICP_Version__c"]
    assert connector.ensure_score_fields() == []

    creates = [
        c for c in org.calls if c.method == "POST" and c.path.endswith("/tooling/sobjects/CustomField")
    ]
    assert [c.body["FullName"] for c in creates] == [
        "Account.ICP_Score__c",
        "Account.ICP_Tier__c",
        "Account.ICP_Version__c",
    ]
    assert creates[0].body["Metadata"]["precision"] == 3 and creates[0].body["Metadata"]["scale"] == 0
    assert creates[1].body["Metadata"]["length"] == 40
    described = requests.get(
        f"{org.instance_url}/services/data/v59.0/sobjects/Account/describe",
        headers={"Authorization": f"Bearer {TOKEN}"},
        verify=org.ca_file,
        timeout=10,
    ).json()
    custom = {f["name"] for f in described["fields"] if f["custom"]}
    assert {"ICP_Score__c", "ICP_Tier__c", "ICP_Version__c"} <= custom
    (account,) = list(connector.accounts(since=None))
    assert not any(name.startswith("ICP_") for name in account.fields)


def test_a_score_field_the_user_cannot_see_is_named_with_the_fix(org: StandInSalesforce) -> None:
    org.add_custom_field("Account", "ICP_Tier__c", visible=False)  # exists, no field-level security
    with pytest.raises(CrmRequestError, match=r"Account\.ICP_Tier__c exists but .*field-level security"):
        connect(org).ensure_score_fields()


def test_write_scores_in_batches_with_a_deleted_account_refused(org: StandInSalesforce) -> None:
    ids, _ = org.seed(accounts=450)
    connector = connect(org)
    connector.ensure_score_fields()
    org.delete(ids[300])
    updates = [
        ScoreUpdate(i, score=n % 101, tier="Tier 1" if n % 2 else "", icp_version=3)
        for n, i in enumerate(ids)
    ]

    report = connector.write_scores(updates)

    assert report.written == 449
    assert report.refused == [(ids[300], "ENTITY_IS_DELETED: entity is deleted")]
    batches = [c for c in org.calls if c.method == "PATCH"]
    assert [len(c.body["records"]) for c in batches] == [200, 200, 50]
    assert all(c.body["allOrNone"] is False for c in batches)
    assert org.accounts[ids[1]]["ICP_Score__c"] == 1
    assert org.accounts[ids[1]]["ICP_Tier__c"] == "Tier 1"
    assert org.accounts[ids[2]]["ICP_Tier__c"] is None  # no tier clears the field
    assert org.accounts[ids[449]]["ICP_Version__c"] == 3
    assert "ICP_Score__c" not in org.accounts[ids[300]]


def test_write_scores_before_the_fields_exist_is_refused_by_name(org: StandInSalesforce) -> None:
    account = org.add_account("Acme")
    with pytest.raises(CrmRequestError, match="INVALID_FIELD: No such column 'ICP_Score__c'"):
        connect(org).write_scores([ScoreUpdate(account, score=80, tier="Tier 1", icp_version=1)])


def test_the_stand_in_rejects_an_oversize_collection_and_unknown_soql(org: StandInSalesforce) -> None:
    """Guards the stand-in itself: a connector bug (201 records, new SOQL) must show, not pass."""
    auth = {"Authorization": f"Bearer {TOKEN}"}
    base = f"{org.instance_url}/services/data/v59.0"
    records: list[Any] = [{"attributes": {"type": "Account"}, "id": f"001{n:015d}"} for n in range(201)]
    too_many = requests.patch(
        f"{base}/composite/sobjects",
        json={"allOrNone": False, "records": records},
        headers=auth,
        verify=org.ca_file,
        timeout=10,
    )
    assert too_many.status_code == 400
    assert too_many.json()[0]["errorCode"] == "EXCEEDED_ID_LIMIT"
    odd = requests.get(
        f"{base}/query",
        params={"q": "SELECT Id FROM Account LIMIT 5"},
        headers=auth,
        verify=org.ca_file,
        timeout=10,
    )
    assert odd.status_code == 400 and odd.json()[0]["errorCode"] == "MALFORMED_QUERY"


# --------------------------------------------------------------------------- failures


def test_503_is_retried_with_backoff_then_succeeds(org: StandInSalesforce, fake_time: FakeTime) -> None:
    org.add_account("Acme")
    org.fail_next(503, times=2)
    records = list(connect(org, fake_time).accounts(since=None))
    assert [r.fields["name"] for r in records] == ["Acme"]
    assert fake_time.sleeps == [0.5, 1.0]
    assert [c.status for c in org.calls[:3]] == [503, 503, 200]


def test_5xx_until_the_deadline_is_unavailable(org: StandInSalesforce, fake_time: FakeTime) -> None:
    org.fail_next(500, times=1000)
    with pytest.raises(CrmUnavailable, match=r"checking the connection: Salesforce answered 500") as caught:
        connect(org, fake_time).whoami()
    assert "gave up after" in str(caught.value)
    assert sum(fake_time.sleeps) <= 30.0
    assert len(org.calls) == len(fake_time.sleeps) + 1


def test_a_refused_connection_is_retried_then_unavailable(fake_time: FakeTime) -> None:
    with StandInSalesforce(access_token=TOKEN) as org:
        pass  # stopped: its port now refuses connections
    with pytest.raises(CrmUnavailable, match="could not connect to Salesforce"):
        connect(org, fake_time).whoami()
    assert len(fake_time.sleeps) >= 2


def test_429_waits_what_retry_after_says(org: StandInSalesforce, fake_time: FakeTime) -> None:
    org.fail_next(429, times=1, retry_after=7)
    assert connect(org, fake_time).whoami() == "Salesforce org Stand-in Org"
    assert fake_time.sleeps == [7.0]


def test_daily_request_limit_fails_at_once(org: StandInSalesforce, fake_time: FakeTime) -> None:
    org.fail_next(403, times=5, error_code="REQUEST_LIMIT_EXCEEDED")
    with pytest.raises(CrmRateLimited, match="the org's daily API request limit is spent"):
        list(connect(org, fake_time).accounts(since=None))
    assert len(org.calls) == 1
    assert fake_time.sleeps == []


def test_insufficient_access_is_an_auth_error(org: StandInSalesforce, fake_time: FakeTime) -> None:
    org.fail_next(403, error_code="INSUFFICIENT_ACCESS", message="insufficient access rights on object id")
    with pytest.raises(CrmAuthError, match=r"lacks access \(INSUFFICIENT_ACCESS"):
        connect(org, fake_time).ensure_score_fields()
    assert len(org.calls) == 1


def test_expired_session_is_an_auth_error_after_one_request(
    org: StandInSalesforce, fake_time: FakeTime
) -> None:
    org.add_account("Acme")
    org.expire_token()
    with pytest.raises(CrmAuthError) as caught:
        list(connect(org, fake_time).accounts(since=None))
    assert len(org.calls) == 1
    assert "INVALID_SESSION_ID" in str(caught.value) and "reconnect Salesforce" in str(caught.value)
    assert TOKEN not in str(caught.value)
    assert fake_time.sleeps == []


def test_a_wrong_token_is_an_auth_error(org: StandInSalesforce, fake_time: FakeTime) -> None:
    with pytest.raises(CrmAuthError, match="INVALID_SESSION_ID") as caught:
        connect(org, fake_time, access_token="00D000000000001!wrong").whoami()
    assert "wrong" not in str(caught.value)


def test_options_never_show_secrets() -> None:
    options = SalesforceOptions(
        instance_url="https://example.my.salesforce.com",
        username="u",
        password="hunter2",
        security_token="tok123",
    )
    assert "hunter2" not in repr(options) and "tok123" not in repr(options)
    with pytest.raises(ValueError, match="access token, or a username, password and security token"):
        SalesforceOptions(instance_url="https://example.my.salesforce.com", username="u", password="p")


# --------------------------------------------------------------------------- username-password flow


def _login_domain(org: StandInSalesforce) -> str:
    """simple-salesforce logs in at ``https://{domain}.salesforce.com/services/Soap/u/{v}``; ending the
    domain in ``#`` turns the ``.salesforce.com/...`` tail into a URL fragment, which is never sent."""
    return f"{urlsplit(org.instance_url).netloc}/services/Soap/u/59.0#"


def test_username_password_flow_logs_in_then_queries() -> None:
    with StandInSalesforce(
        access_token=TOKEN, username="ops@example.com", password="pa<ss", security_token="SEC"
    ) as org:
        org.add_account("Acme")
        connector = connect(
            org,
            access_token=None,
            instance_url="https://unused.invalid",
            username="ops@example.com",
            password="pa<ss",
            security_token="SEC",
            domain=_login_domain(org),
        )
        assert [r.fields["name"] for r in connector.accounts(since=None)] == ["Acme"]
        assert [c.method for c in org.calls][:1] == ["POST"] and "Soap/u/59.0" in org.calls[0].path


def test_username_password_flow_with_a_wrong_password_is_an_auth_error(fake_time: FakeTime) -> None:
    with StandInSalesforce(
        access_token=TOKEN, username="ops@example.com", password="right", security_token="SEC"
    ) as org:
        connector = connect(
            org,
            fake_time,
            access_token=None,
            username="ops@example.com",
            password="wrong-pass",
            security_token="SEC",
            domain=_login_domain(org),
        )
        with pytest.raises(CrmAuthError, match="INVALID_LOGIN") as caught:
            connector.whoami()
    assert "wrong-pass" not in str(caught.value) and "SEC" not in str(caught.value)
    assert len(org.calls) == 1


# --------------------------------------------------------------------------- property


_names = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=40)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    accounts=st.lists(
        st.tuples(
            _names,
            st.one_of(st.none(), st.integers(0, 2_000_000)),
            st.one_of(st.none(), st.integers(0, 10**13)),  # annual revenue in cents
            st.one_of(st.none(), _names),
        ),
        max_size=6,
    )
)
@example(accounts=[("O'Brien \"Ltd\" \\ Zürich 東京 ' OR Name != ''", 5, 150, "Côte d'Ivoire")])
def test_random_accounts_round_trip_through_a_full_sync(
    org: StandInSalesforce, accounts: list[tuple[str, int | None, int | None, str | None]]
) -> None:
    org.accounts.clear()
    expected = {}
    for name, employees, cents, country in accounts:
        fields: dict[str, object] = {"NumberOfEmployees": employees, "BillingCountry": country}
        if cents is not None:
            fields["AnnualRevenue"] = cents / 100
        expected[org.add_account(name, **fields)] = (name, employees, cents, country)

    synced = {r.crm_id: r.fields for r in connect(org).accounts(since=None)}

    assert set(synced) == set(expected)
    for crm_id, (name, employees, cents, country) in expected.items():
        cells = synced[crm_id]
        assert cells["name"] == name
        assert cells.get("employees") == (None if employees is None else str(employees))
        assert cells.get("country") == country
        if cents is None:
            assert "annual_revenue" not in cells
        else:
            text = cells["annual_revenue"]
            assert re.fullmatch(r"\d+(\.\d+)?", text), text
            assert Decimal(text) == Decimal(str(cents / 100))
