"""The CRM connect modal submitted: check the form and the owner, ack, then connect off the request.

The owner check is repeated here with the dispatcher's rules (a submission can be forged, and the
person may have lost owner rights since the form opened). Missing fields are shown in the modal
next to the field; checking the credentials against the CRM takes a network call, so it runs on
the commands pool after the ack and the outcome arrives in the person's DM. No credential is
ever logged or echoed: the outcome's message is written without it, and ``CrmCredentials``
leaves secrets out of its ``repr``.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.connectors.records import Provider
from bot.services.crm_sync.connect import connect_crm
from bot.services.crm_sync.credentials import CrmCredentials
from bot.slack.context import AppContext
from bot.slack.failures import submit_safely, with_reference
from bot.slack.messaging.dm import dm_channel
from bot.slack.messaging.drafts import refresh_home, tell
from bot.slack.payload import team_id_of, user_id_of
from bot.slack.people import owner_rules
from bot.slack.views.crm_sync import (
    CONNECT_MODAL,
    HUBSPOT_TOKEN_BLOCK,
    SF_URL_BLOCK,
    connect_outcome_message,
    provider_from_metadata,
    read_credentials,
)

log = logging.getLogger(__name__)

STALE = "This form is out of date; open it again with `/icp connect hubspot` or `/icp connect salesforce`."
NOT_CONNECTED = "Sorry, the CRM could not be connected on our side; nothing was stored. Please try again."


def connect_and_tell(
    *, ctx: AppContext, client: WebClient, team_id: str, user_id: str, credentials: CrmCredentials
) -> None:
    """Check and store the credentials, then DM the outcome (which never holds the token)."""
    outcome = connect_crm(
        engine=ctx.engine, settings=ctx.settings, workspace=team_id, credentials=credentials, actor=user_id
    )
    log.info("CRM connect by %s for %s: %s", user_id, team_id, "connected" if outcome.ok else "refused")
    message = connect_outcome_message(outcome)
    client.chat_postMessage(
        channel=dm_channel(client, user_id), text=message.text, blocks=message.block_dicts()
    )
    if outcome.ok:
        refresh_home(ctx, client, team_id=team_id, user_id=user_id)


def _first_block(provider: Provider) -> str:
    return HUBSPOT_TOKEN_BLOCK if provider is Provider.hubspot else SF_URL_BLOCK


def register(app: App, ctx: AppContext) -> None:
    @app.view(CONNECT_MODAL)
    def on_connect(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        team_id, user_id = team_id_of(body), user_id_of(body)
        provider = provider_from_metadata(str(view.get("private_metadata") or ""))
        if provider is None:  # not a form this app opened: nothing to show an error next to
            ack()
            tell(client, user_id, STALE)
            return
        owners = owner_rules(ctx, client)
        if not owners.is_owner(team_id=team_id, user_id=user_id):
            refusal = owners.refusal(team_id=team_id, action="connect a CRM")
            ack(response_action="errors", errors={_first_block(provider): refusal})
            return
        values = dict((view.get("state") or {}).get("values") or {})
        credentials = read_credentials(provider, values)
        if isinstance(credentials, dict):
            ack(response_action="errors", errors=credentials)
            return
        ack()
        submit_safely(
            ctx.work,
            partial(
                connect_and_tell,
                ctx=ctx,
                client=client,
                team_id=team_id,
                user_id=user_id,
                credentials=credentials,
            ),
            what=f"connecting {provider.label}",
            apologise=lambda reference: tell(client, user_id, with_reference(NOT_CONNECTED, reference)),
        )
