"""The CRM sync's Slack views: valid Block Kit, no secret in the modal, every CRM-given text escaped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.connectors.records import Provider
from bot.services.crm_sync.connect import ConnectionStatus, ConnectOutcome
from bot.services.crm_sync.credentials import CrmCredentials
from bot.services.crm_sync.sync import SkippedRecord, SyncSummary
from bot.services.crm_sync.write_back import WriteBackSummary
from bot.services.home import HomeData
from bot.services.imports.service import ImportSummary
from bot.slack.views.crm_sync import (
    CONNECT_MODAL,
    CRM_SYNC_ACTION,
    HUBSPOT_TOKEN_BLOCK,
    SF_PASSWORD_BLOCK,
    SF_SECURITY_BLOCK,
    SF_TOKEN_BLOCK,
    SF_URL_BLOCK,
    SF_USERNAME_BLOCK,
    VALUE_ACTION,
    CrmMessage,
    connect_modal,
    connect_outcome_message,
    home_crm_blocks,
    provider_from_metadata,
    read_credentials,
    status_message,
    sync_message,
)
from bot.slack.views.home import home_view
from bot.store.models import SyncStatus
from icp_engine.readers.results import RowError
from tests.support.blockkit_checks import all_text, check_blocks, check_view
from tests.support.harness import assert_valid_view

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
HOSTILE = "<!channel> Acme & <https://evil.example|click> >"
ESCAPED = "&lt;!channel&gt; Acme &amp; &lt;https://evil.example|click&gt; &gt;"


def status(**changes: Any) -> ConnectionStatus:
    values: dict[str, Any] = {
        "provider": Provider.hubspot,
        "label": "HubSpot portal 12345",
        "connected_by": "U0ADMIN",
        "connected_at": NOW - timedelta(days=2),
        "last_sync_at": NOW - timedelta(hours=3),
        "last_sync_status": SyncStatus.succeeded,
        "last_sync_message": "HubSpot incremental sync synced: accounts: 2 added",
        "next_sync_at": NOW + timedelta(hours=21),
        "token_refused": False,
        "runs": 4,
    }
    values.update(changes)
    return ConnectionStatus(**values)


def imported(
    kind: str, *, added: int, updated: int = 0, unchanged: int = 0, errors: int = 0
) -> ImportSummary:
    return ImportSummary(
        kind=kind,
        file=f"{kind}.csv",
        workspace="T1",
        status="imported",
        added=added,
        updated=updated,
        unchanged=unchanged,
        rejected=errors,
        errors=[RowError(f"{kind}.csv", n + 2, "employees", f"'-{n}' is negative") for n in range(errors)],
    )


def message_dicts(message: CrmMessage) -> list[dict[str, Any]]:
    return check_blocks(message.blocks)


def values(**fields: str) -> dict[str, Any]:
    return {
        block: {VALUE_ACTION: {"type": "plain_text_input", "value": value}} for block, value in fields.items()
    }


# --------------------------------------------------------------------------- the connect modal


@pytest.mark.parametrize("provider", list(Provider))
def test_the_connect_modal_is_valid_starts_empty_and_carries_only_the_provider(provider: Provider) -> None:
    view = connect_modal(provider).to_dict()
    assert_valid_view(view)
    assert view["callback_id"] == CONNECT_MODAL
    assert view["private_metadata"] == provider.value
    assert provider_from_metadata(view["private_metadata"]) is provider
    inputs = [block for block in view["blocks"] if block["type"] == "input"]
    assert inputs and all("initial_value" not in block["element"] for block in inputs)
    assert "never shown again" in all_text(view["blocks"])


def test_metadata_this_app_did_not_write_is_no_provider() -> None:
    assert provider_from_metadata("") is None
    assert provider_from_metadata('{"provider": "hubspot"}') is None


def test_a_hubspot_submission_gives_checked_credentials_or_an_error_on_the_token_field() -> None:
    credentials = read_credentials(Provider.hubspot, values(**{HUBSPOT_TOKEN_BLOCK: "  pat-na1-secret  "}))
    assert isinstance(credentials, CrmCredentials) and credentials.token == "pat-na1-secret"
    errors = read_credentials(Provider.hubspot, values(**{HUBSPOT_TOKEN_BLOCK: "   "}))
    assert isinstance(errors, dict) and list(errors) == [HUBSPOT_TOKEN_BLOCK]
    assert "private app access token" in errors[HUBSPOT_TOKEN_BLOCK]


def test_salesforce_errors_land_next_to_the_field_at_fault() -> None:
    url = "https://acme.my.salesforce.com"
    assert read_credentials(Provider.salesforce, values(**{SF_TOKEN_BLOCK: "00Dtoken"})) == {
        SF_URL_BLOCK: "Salesforce needs the instance URL, e.g. https://yourcompany.my.salesforce.com"
    }
    insecure = read_credentials(
        Provider.salesforce, values(**{SF_URL_BLOCK: "http://acme.example", SF_TOKEN_BLOCK: "x"})
    )
    assert (
        isinstance(insecure, dict)
        and list(insecure) == [SF_URL_BLOCK]
        and "https://" in insecure[SF_URL_BLOCK]
    )
    missing = read_credentials(Provider.salesforce, values(**{SF_URL_BLOCK: url}))
    assert isinstance(missing, dict) and list(missing) == [SF_TOKEN_BLOCK]
    no_password = read_credentials(
        Provider.salesforce, values(**{SF_URL_BLOCK: url, SF_USERNAME_BLOCK: "me"})
    )
    assert isinstance(no_password, dict) and list(no_password) == [SF_PASSWORD_BLOCK]
    no_security = read_credentials(
        Provider.salesforce, values(**{SF_URL_BLOCK: url, SF_USERNAME_BLOCK: "me", SF_PASSWORD_BLOCK: "pw"})
    )  # the connector logs in with all three (it used to fail there with a bare ValueError)
    assert isinstance(no_security, dict) and list(no_security) == [SF_SECURITY_BLOCK]
    assert "security token" in no_security[SF_SECURITY_BLOCK]
    signed_in = read_credentials(
        Provider.salesforce,
        values(
            **{SF_URL_BLOCK: url, SF_USERNAME_BLOCK: "me", SF_PASSWORD_BLOCK: "pw", SF_SECURITY_BLOCK: "st"}
        ),
    )
    assert isinstance(signed_in, CrmCredentials) and signed_in.username == "me" and signed_in.token is None


def test_the_connect_outcome_is_escaped() -> None:
    good = message_dicts(
        connect_outcome_message(ConnectOutcome(True, f"connected {HOSTILE}", Provider.hubspot))
    )
    assert ESCAPED in all_text(good) and "<!channel>" not in all_text(good)
    bad = connect_outcome_message(
        ConnectOutcome(False, "HubSpot refused these credentials", Provider.hubspot)
    )
    assert bad.text.startswith("⚠️") and "/icp connect hubspot" in all_text(message_dicts(bad))


# --------------------------------------------------------------------------- sync summaries


def test_a_synced_summary_counts_lists_five_skipped_records_and_the_notes() -> None:
    summary = SyncSummary(
        workspace="T1",
        provider="hubspot",
        mode="full",
        status="synced",
        message="HubSpot full sync synced",
        accounts=imported("accounts", added=3, updated=1, unchanged=2, errors=7),
        deals=imported("deals", added=4),
        accounts_removed=2,
        deals_removed=1,
        write_back=WriteBackSummary(status="written", written=3, message="3 scores written"),
        skipped=[SkippedRecord(f"HubSpot company {n}", "employees", f"'-{n}' is negative") for n in range(7)],
        notes=[f"statistics not refreshed: {HOSTILE}"],
    )
    text = all_text(message_dicts(sync_message(summary)))
    assert "Synced" in text and "HubSpot" in text and "full" in text
    assert "3 added, 1 updated, 2 unchanged, 7 skipped" in text
    assert "4 added, 0 updated, 0 unchanged, 0 skipped" in text
    assert "2 accounts, 1 deal" in text and "Scores written to the CRM*: 3" in text
    assert text.count("is negative") == 5 and "…and 2 more" in text
    assert "HubSpot company 0: employees: '-0' is negative" in text
    assert ESCAPED in text and "<!channel>" not in text


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("auth_failed", "refused the token"),
        ("busy", "already running"),
        ("not_connected", "No CRM connected"),
        ("failed", "Sync failed"),
    ],
)
def test_an_unsuccessful_sync_says_which_outcome_and_escapes_the_message(state: str, expected: str) -> None:
    summary = SyncSummary(workspace="T1", provider="hubspot", status=state, message=f"because {HOSTILE}")  # type: ignore[arg-type]
    message = sync_message(summary)
    text = all_text(message_dicts(message))
    assert expected in text and expected in message.text
    assert ESCAPED in text and "<!channel>" not in text and "<!channel>" not in message.text
    assert "added" not in text  # no counts for a sync that applied nothing


# --------------------------------------------------------------------------- status and App Home


def test_status_escapes_the_crm_label_and_message() -> None:
    current = status(label=HOSTILE, last_sync_message=HOSTILE)
    text = all_text(message_dicts(status_message(current)))
    assert text.count(ESCAPED) == 2 and "<!channel>" not in text
    assert "Next sync" in text and "<@U0ADMIN>" in text and "4 sync runs" in text
    assert "No CRM is connected" in status_message(None).text
    from_cli = all_text(message_dicts(status_message(status(connected_by="alice"))))
    assert "Connected by alice" in from_cli and "<@alice>" not in from_cli


def test_a_refused_token_is_a_warning_instead_of_the_next_sync() -> None:
    text = all_text(check_blocks(home_crm_blocks(status(token_refused=True), is_owner=False)))
    assert "refused the stored token" in text and "/icp connect hubspot" in text and "Next sync" not in text


def test_the_home_shows_the_connection_with_a_sync_button_for_owners_only() -> None:
    data = HomeData(now=NOW, crm=status(label=HOSTILE))
    owner = check_view(home_view(data, is_owner=True))
    reader = check_view(home_view(data, is_owner=False))
    assert ESCAPED in all_text(owner["blocks"]) and "<!channel>" not in all_text(owner["blocks"])

    def buttons(view: dict[str, Any]) -> list[str]:
        return [e["action_id"] for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]

    assert CRM_SYNC_ACTION in buttons(owner) and CRM_SYNC_ACTION not in buttons(reader)


def test_an_unconnected_home_tells_owners_how_to_connect() -> None:
    owner = all_text(check_view(home_view(HomeData(now=NOW), is_owner=True))["blocks"])
    assert "Run `/icp connect hubspot` or `/icp connect salesforce`" in owner
    reader = all_text(check_view(home_view(HomeData(now=NOW), is_owner=False))["blocks"])
    assert "an ICP owner can connect one" in reader
