"""The review kit's buttons: start a review (re-draft), snooze a week, mark reviewed. Owners only.

Ack at once; the work runs on the app's pool. "Start a review" goes through the ``/icp draft``
subcommand (the same owner check, drafting and posting as typing it), in the kit's channel.
Snooze and mark reviewed answer in the kit's thread so everyone there sees who did what.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.services.reviews import reminders
from bot.slack.context import AppContext
from bot.slack.failures import privately, submit_safely
from bot.slack.listeners.commands.icp.dispatch import route
from bot.slack.payload import clicked_message, first_action, team_id_of, user_id_of
from bot.slack.people import owner_rules
from bot.slack.views.review_kit import MARK_REVIEWED, SNOOZE_REVIEW, START_REVIEW, date_token

GONE = "This review reminder no longer exists; `/icp remind status` shows the current one."


def _facts(body: dict[str, Any]) -> tuple[str, str, str, str | None, int | None]:
    """(team, user, channel, message ts, reminder id) of a click on a review kit button."""
    _, value = first_action(body)
    channel, ts = clicked_message(body)
    reminder_id = int(value) if value.isdigit() else None
    return team_id_of(body), user_id_of(body), channel, ts or None, reminder_id


def _allowed(ctx: AppContext, client: WebClient, respond: Respond, team: str, user: str, what: str) -> bool:
    owners = owner_rules(ctx, client)
    if owners.is_owner(team_id=team, user_id=user):
        return True
    refusal = owners.refusal(team_id=team, action=what)
    respond(text=refusal, response_type="ephemeral", replace_original=False)
    return False


def start_review(body: dict[str, Any], *, ctx: AppContext, client: WebClient, respond: Respond) -> None:
    team, user, channel, ts, _ = _facts(body)
    if not _allowed(ctx, client, respond, team, user, "start an ICP review"):
        return
    if ts:
        client.chat_postMessage(
            channel=channel,
            thread_ts=ts,
            text=f"<@{user}> started the review: drafting a new ICP version with the data since the last one…",
        )

    def answer(text: str = "", **kwargs: Any) -> None:
        respond(text=text, response_type="ephemeral", replace_original=False, blocks=kwargs.get("blocks"))

    route(
        {"team_id": team, "user_id": user, "channel_id": channel, "text": "draft"},
        ctx=ctx,
        client=client,
        respond=answer,
    )


def _change(
    body: dict[str, Any],
    *,
    ctx: AppContext,
    client: WebClient,
    respond: Respond,
    what: str,
    apply: Callable[..., reminders.ReminderState | None],
    note: str,
) -> None:
    """Owner check, apply the change to the clicked reminder, say so in the kit's thread."""
    team, user, channel, ts, reminder_id = _facts(body)
    if not _allowed(ctx, client, respond, team, user, what):
        return
    state = None
    if reminder_id is not None:
        state = apply(ctx.engine, team_id=team, reminder_id=reminder_id, actor=user, now=ctx.clock())
    if state is None:
        respond(text=GONE, response_type="ephemeral", replace_original=False)
        return
    text = f"<@{user}> {note}; next reminder {date_token(state.next_run_at)}."
    client.chat_postMessage(channel=channel, thread_ts=ts, text=text)


def snooze(body: dict[str, Any], *, ctx: AppContext, client: WebClient, respond: Respond) -> None:
    note = "snoozed the review for a week"
    _change(
        body,
        ctx=ctx,
        client=client,
        respond=respond,
        what="snooze the ICP review",
        apply=reminders.snooze,
        note=note,
    )


def mark_reviewed(body: dict[str, Any], *, ctx: AppContext, client: WebClient, respond: Respond) -> None:
    note = "marked the ICP reviewed. The next review kit covers what happens from now on"
    _change(
        body,
        ctx=ctx,
        client=client,
        respond=respond,
        what="mark the ICP reviewed",
        apply=reminders.mark_reviewed,
        note=note,
    )


HANDLERS = {START_REVIEW: start_review, SNOOZE_REVIEW: snooze, MARK_REVIEWED: mark_reviewed}


def _listener(handler: Any, ctx: AppContext) -> Any:
    # A closure, not a default argument: Bolt injects listener arguments by name.
    def on_click(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        submit_safely(
            ctx.work,
            partial(handler, body, ctx=ctx, client=client, respond=respond),
            what="review kit button",
            apologise=privately(respond, body),
        )

    return on_click


def register(app: App, ctx: AppContext) -> None:
    for action_id, handler in HANDLERS.items():
        app.action(action_id)(_listener(handler, ctx))
