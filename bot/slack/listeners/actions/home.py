"""App Home buttons: each runs the same ``/icp`` subcommand as typing it, answering in a DM.

Going through the slash router keeps one set of rules: owner-only subcommands are refused
politely to non-owners (the buttons are shown to owners only, but a click payload can be
forged), and a failing subcommand is answered with an apology, never a trace (anything else
failing is only logged: an App Home click has no response_url to apologise through). The CRM
section's "Sync now" runs `/icp sync` the same way, on the commands pool after the ack: a sync
can take minutes, far longer than a Bolt listener thread may be held.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.slack.context import AppContext
from bot.slack.failures import reported, submit_safely
from bot.slack.listeners.commands.icp.dispatch import route
from bot.slack.messaging.dm import dm_channel
from bot.slack.payload import first_action, team_id_of, user_id_of
from bot.slack.views.crm_sync import CRM_HOME_ACTIONS
from bot.slack.views.home import HOME_ACTIONS

# Every App Home button: action id -> (label, the /icp subcommand it runs).
ALL_HOME_ACTIONS: dict[str, tuple[str, str]] = {**HOME_ACTIONS, **CRM_HOME_ACTIONS}


def dm_respond(client: WebClient, channel: str) -> Any:
    """A ``respond`` lookalike that answers in the DM (App Home clicks have no response_url)."""

    def respond(text: str = "", *, blocks: Any = None, delete_original: bool | None = None, **_: Any) -> None:
        if delete_original:
            return
        client.chat_postMessage(channel=channel, text=text or "ICP assistant", blocks=blocks)

    return respond


def run_home_action(body: dict[str, Any], *, ctx: AppContext, client: WebClient) -> None:
    action_id, _ = first_action(body)
    spec = ALL_HOME_ACTIONS.get(action_id)
    user_id, team_id = user_id_of(body), team_id_of(body)
    if spec is None or not user_id:
        return
    channel = dm_channel(client, user_id)
    slash_body = {"team_id": team_id, "user_id": user_id, "channel_id": channel, "text": spec[1]}
    route(slash_body, ctx=ctx, client=client, respond=dm_respond(client, channel))


def register(app: App, ctx: AppContext) -> None:
    for action_id in HOME_ACTIONS:

        @app.action(action_id)
        @reported
        def on_home_action(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
            ack()
            run_home_action(body, ctx=ctx, client=client)

    for action_id in CRM_HOME_ACTIONS:

        @app.action(action_id)
        @reported
        def on_crm_action(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
            ack()
            submit_safely(
                ctx.work, partial(run_home_action, body, ctx=ctx, client=client), what="App Home CRM button"
            )
