"""The live CRM sync from Slack, end to end: `/icp connect` (the modal and its submission), `/icp sync`,
`/icp connect status|remove` and the App Home's "Sync now", over signed HTTP against the stand-in
Slack and a stand-in HubSpot that checks the bearer token as HubSpot does.

The token is typed once, into the modal: it must never come back in anything the app sends to
Slack, in the log, or in plain text in the database.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlmodel import Session, select

from bot.services.crm_sync.connect import connection_status
from bot.slack.listeners.commands.icp.sync import STARTED
from bot.slack.views.crm_sync import (
    CONNECT_MODAL,
    CRM_SYNC_ACTION,
    HUBSPOT_TOKEN_BLOCK,
    SF_TOKEN_BLOCK,
    SF_URL_BLOCK,
    VALUE_ACTION,
)
from bot.store.models import CrmConnection, SyncStatus
from tests.support.crm.hubspot_api import StandInHubSpot
from tests.support.crm.salesforce_api import StandInSalesforce
from tests.support.harness import ADMIN_ID, MEMBER_ID, TEAM_ID, RecordedCall, SlackEnv

TOKEN = "pat-na1-e2e5ecret-0123456789abcdef"
REFUSED = "only ICP owners"


@pytest.fixture
def hubspot() -> Iterator[StandInHubSpot]:
    with StandInHubSpot(token=TOKEN) as hs:
        acme = hs.add_company(
            properties={
                "name": "Acme GmbH",
                "domain": "acme.example",
                "industry": "Manufacturing",
                "numberofemployees": "250",
                "country": "Germany",
            }
        )
        hs.add_company(properties={"name": "Globex Corp", "domain": "globex.example", "industry": "Software"})
        hs.add_deal(
            properties={"dealname": "Acme renewal", "dealstage": "closedwon", "amount": "4200"},
            company_id=acme,
        )
        yield hs


@pytest.fixture
def env(make_slack_env: Callable[..., SlackEnv], hubspot: StandInHubSpot) -> SlackEnv:
    return make_slack_env(hubspot_api_url=hubspot.base_url, crm_call_deadline_seconds=5)


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Everything logged at the levels the server runs with (the app's own loggers at DEBUG)."""
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="bot")
    return caplog


def submit_token(env: SlackEnv, token: str, *, user: str = ADMIN_ID) -> Any:
    fields = {HUBSPOT_TOKEN_BLOCK: {VALUE_ACTION: {"type": "plain_text_input", "value": token}}}
    return env.driver.view_submission(CONNECT_MODAL, values=fields, user=user, private_metadata="hubspot")


def connected_dm(env: SlackEnv) -> RecordedCall:
    return env.stand_in.wait_for("chat.postMessage", lambda c: "HubSpot portal" in c.all_text(), timeout=20)[
        0
    ]


def connect(env: SlackEnv) -> RecordedCall:
    result = submit_token(env, TOKEN)
    assert result.status == 200 and result.body in (b"", b"{}")
    return connected_dm(env)


def slash_outcome(env: SlackEnv, text: str, *, user: str = ADMIN_ID) -> RecordedCall:
    """``/icp <text>`` and the first reply to its response_url that is not the "syncing" note."""
    url = env.stand_in.response_url()
    assert env.driver.slash(text, user_id=user, response_url=url).status == 200
    path = url[url.index("/respond/") :]
    return env.stand_in.wait_for("response_url", lambda c: c.path == path and c.text != STARTED, timeout=60)[
        0
    ]


def assert_token_never_left(env: SlackEnv, logs: pytest.LogCaptureFixture) -> None:
    for call in env.stand_in.calls:
        assert TOKEN not in json.dumps(call.params, default=str), call.method
        assert TOKEN not in json.dumps(call.headers), call.method
    assert TOKEN not in logs.text
    with Session(env.engine) as session:
        (stored,) = session.exec(select(CrmConnection)).all()
    assert TOKEN not in stored.credentials  # a Fernet ciphertext


# --------------------------------------------------------------------------- owners only


@pytest.mark.security
def test_members_are_refused_connect_sync_and_a_forged_submission(
    env: SlackEnv, hubspot: StandInHubSpot
) -> None:
    for text in ("connect hubspot", "connect status", "connect remove", "sync"):
        assert REFUSED in env.driver.slash_reply(text, user_id=MEMBER_ID).text, text
    assert not env.stand_in.calls_to("views.open")

    answer = submit_token(env, TOKEN, user=MEMBER_ID).json()  # the modal's payload can be forged
    assert answer["response_action"] == "errors" and REFUSED in answer["errors"][HUBSPOT_TOKEN_BLOCK]
    assert connection_status(engine=env.engine, workspace=TEAM_ID) is None
    assert hubspot.calls == []  # nothing reached the CRM either

    env.driver.block_actions(CRM_SYNC_ACTION, user=MEMBER_ID, view={"type": "home"})  # the home button
    refusal = env.stand_in.wait_for("chat.postMessage", lambda c: REFUSED in c.text)[0]
    assert "/icp sync" in refusal.text and hubspot.calls == []


def test_connect_without_a_known_provider_shows_the_usage(env: SlackEnv) -> None:
    for text in ("connect", "connect pipedrive"):
        reply = env.driver.slash_reply(text, user_id=ADMIN_ID).text
        assert reply.startswith("Usage: `/icp connect hubspot`"), text
    assert "No CRM is connected" in env.driver.slash_reply("connect status", user_id=ADMIN_ID).text
    assert "nothing changed" in env.driver.slash_reply("connect remove", user_id=ADMIN_ID).text
    assert not env.stand_in.calls_to("views.open")


# --------------------------------------------------------------------------- connect, sync, status


def test_an_owner_connects_hubspot_and_syncs_without_the_token_ever_leaving(
    env: SlackEnv, hubspot: StandInHubSpot, logs: pytest.LogCaptureFixture
) -> None:
    trigger = "12345.trigger-for-connect"
    assert env.driver.slash("connect hubspot", user_id=ADMIN_ID, trigger_id=trigger).status == 200
    (opened,) = env.stand_in.wait_for("views.open")
    assert opened.params["trigger_id"] == trigger
    modal = opened.view
    assert (
        modal is not None and modal["callback_id"] == CONNECT_MODAL and modal["private_metadata"] == "hubspot"
    )
    (field,) = [b for b in modal["blocks"] if b.get("block_id") == HUBSPOT_TOKEN_BLOCK]
    assert "initial_value" not in field["element"] and "never shown again" in field["hint"]["text"]

    empty = submit_token(env, "   ").json()
    assert empty["response_action"] == "errors" and "access token" in empty["errors"][HUBSPOT_TOKEN_BLOCK]

    done = connect(env)
    assert done.text.startswith("✅") and "connected HubSpot portal 12345" in done.text
    assert connection_status(engine=env.engine, workspace=TEAM_ID) is not None

    synced = slash_outcome(env, "sync")
    text = synced.all_text()
    assert "Synced" in text and "HubSpot" in text
    assert "*Accounts*: 2 added" in text and "*Deals*: 1 added" in text
    status = connection_status(engine=env.engine, workspace=TEAM_ID)
    assert status is not None and status.last_sync_status is SyncStatus.succeeded
    assert env.knowledge().count(workspace=TEAM_ID, kind="statistic") > 0  # refreshed as after an upload

    again = slash_outcome(env, "connect status")
    assert "HubSpot portal 12345" in again.all_text() and "Last sync" in again.all_text()
    assert_token_never_left(env, logs)


def test_an_expired_token_is_reported_as_refused(
    env: SlackEnv, hubspot: StandInHubSpot, logs: pytest.LogCaptureFixture
) -> None:
    connect(env)
    hubspot.expire_token()
    refused = slash_outcome(env, "sync")
    assert "refused the token" in refused.text and "/icp connect hubspot" in refused.all_text()
    status = connection_status(engine=env.engine, workspace=TEAM_ID)
    assert status is not None and status.token_refused
    assert "refused the stored token" in slash_outcome(env, "connect status").all_text()
    assert_token_never_left(env, logs)


def test_a_token_hubspot_refuses_is_not_stored(env: SlackEnv, hubspot: StandInHubSpot) -> None:
    assert submit_token(env, "pat-na1-wrong-token").status == 200
    told = env.stand_in.wait_for(
        "chat.postMessage", lambda c: "refused these credentials" in c.text, timeout=20
    )[0]
    assert told.text.startswith("⚠️") and "pat-na1-wrong-token" not in told.all_text()
    assert connection_status(engine=env.engine, workspace=TEAM_ID) is None


def test_the_home_shows_the_connection_and_sync_now_syncs(env: SlackEnv, hubspot: StandInHubSpot) -> None:
    connect(env)
    env.driver.app_home_opened(user=ADMIN_ID)
    home = env.stand_in.wait_for(
        "views.publish",
        lambda c: c.params.get("user_id") == ADMIN_ID and "Sync now" in c.all_text(),
        timeout=20,
    )[-1]
    assert "HubSpot portal 12345" in home.all_text()

    env.driver.block_actions(CRM_SYNC_ACTION, user=ADMIN_ID, view={"type": "home"})
    synced = env.stand_in.wait_for("chat.postMessage", lambda c: "Synced" in c.all_text(), timeout=60)[0]
    assert "*Accounts*: 2 added" in synced.all_text()

    assert "disconnected" in env.driver.slash_reply("connect remove", user_id=ADMIN_ID).text
    assert connection_status(engine=env.engine, workspace=TEAM_ID) is None


def test_salesforce_connects_with_an_instance_url_and_token_and_its_org_name_is_escaped(
    make_slack_env: Callable[..., SlackEnv], logs: pytest.LogCaptureFixture
) -> None:
    sf_token = "00D000000000042!e2e5ecretSalesforceToken"
    with StandInSalesforce(access_token=sf_token, org_name="<!channel> Acme & Co") as org:
        acme = org.add_account("Acme GmbH", Website="acme.example", Industry="Manufacturing")
        org.add_account("Globex Corp")
        org.add_opportunity("Acme renewal", account_id=acme, StageName="Closed Won", Amount=4200.0)
        env = make_slack_env(crm_ca_bundle=org.ca_file, crm_call_deadline_seconds=5)

        env.driver.slash("connect salesforce", user_id=ADMIN_ID)
        (opened,) = env.stand_in.wait_for("views.open")
        assert opened.view is not None and opened.view["private_metadata"] == "salesforce"
        fields = {
            SF_URL_BLOCK: {VALUE_ACTION: {"type": "plain_text_input", "value": "http://insecure.example"}},
            SF_TOKEN_BLOCK: {VALUE_ACTION: {"type": "plain_text_input", "value": sf_token}},
        }
        answer = env.driver.view_submission(
            CONNECT_MODAL, values=fields, user=ADMIN_ID, private_metadata="salesforce"
        ).json()
        assert answer["response_action"] == "errors" and "https://" in answer["errors"][SF_URL_BLOCK]

        fields[SF_URL_BLOCK] = {VALUE_ACTION: {"type": "plain_text_input", "value": org.instance_url}}
        env.driver.view_submission(CONNECT_MODAL, values=fields, user=ADMIN_ID, private_metadata="salesforce")
        done = env.stand_in.wait_for(
            "chat.postMessage", lambda c: "Salesforce org" in c.all_text(), timeout=20
        )[0]
        assert "Salesforce org &lt;!channel&gt; Acme &amp; Co" in done.all_text()
        assert "<!channel>" not in done.all_text()

        synced = slash_outcome(env, "sync")
        assert "Synced" in synced.all_text() and "*Accounts*: 2 added" in synced.all_text()
        for call in env.stand_in.calls:
            assert sf_token not in json.dumps(call.params, default=str), call.method
        assert sf_token not in logs.text
