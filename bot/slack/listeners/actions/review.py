"""The review kit's buttons: start a review (re-draft), snooze a week, mark reviewed. Owners only.

Ack at once; the work runs on the app's pool. "Start a review" sends every interviewed
stakeholder a two-question check-in DM (once per review round; the reply is collected from the DM
by ``bot.slack.listeners.messages.checkin``), then goes through the ``/icp draft`` subcommand (the same
owner check, drafting and posting as typing it), in the kit's channel. "Mark reviewed" opens the
decision modal (keep, adopt the proposal, edit, and a note); its submission records the decision
in the change log. Snooze and the decision answer in the kit's thread so everyone sees who did what.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.services.reviews import reminders
from bot.services.reviews.checkins import people_to_ask, record_sent, round_answers, withdraw
from bot.services.reviews.decisions import Decision, close_review
from bot.slack.context import AppContext
from bot.slack.failures import APOLOGY, privately, submit_safely
from bot.slack.listeners.commands.icp.dispatch import route
from bot.slack.payload import clicked_message, first_action, team_id_of, user_id_of
from bot.slack.people import owner_rules
from bot.slack.views.review_decision import (
    REVIEW_DECISION,
    DecisionTarget,
    checkin_text,
    closed_text,
    decision_modal,
    read_decision,
)
from bot.slack.views.review_kit import MARK_REVIEWED, SNOOZE_REVIEW, START_REVIEW, date_token
from bot.store.models import DEFAULT_SEGMENT

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
    team, user, channel, ts, reminder_id = _facts(body)
    if not _allowed(ctx, client, respond, team, user, "start an ICP review"):
        return
    if ts:
        client.chat_postMessage(
            channel=channel,
            thread_ts=ts,
            text=f"<@{user}> started the review: drafting a new ICP version with the data since the last one…",
        )
    if reminder_id is not None:
        send_checkins(ctx, client, team=team, owner=user, reminder_id=reminder_id)

    def answer(text: str = "", **kwargs: Any) -> None:
        respond(text=text, response_type="ephemeral", replace_original=False, blocks=kwargs.get("blocks"))

    route(
        {"team_id": team, "user_id": user, "channel_id": channel, "text": "draft"},
        ctx=ctx,
        client=client,
        respond=answer,
    )


def send_checkins(ctx: AppContext, client: WebClient, *, team: str, owner: str, reminder_id: int) -> int:
    """DM the two check-in questions to each interviewed stakeholder this round has not asked yet,
    with a check-in recorded for each DM sent (the reply is collected from the DM); how many."""
    sent = 0
    for person in people_to_ask(ctx.engine, team_id=team, reminder_id=reminder_id):
        checkin = record_sent(
            ctx.engine,
            team_id=team,
            reminder_id=reminder_id,
            slack_user_id=person,
            asked_by=owner,
            now=ctx.clock(),
        )
        try:
            client.chat_postMessage(channel=person, text=checkin_text(owner, None))
        except SlackApiError:  # one person the bot cannot DM does not stop the others
            withdraw(ctx.engine, team_id=team, checkin_id=checkin)
            continue
        sent += 1
    return sent


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
    """Open the decision modal (owners only); its submission closes the review."""
    team, user, channel, ts, reminder_id = _facts(body)
    if not _allowed(ctx, client, respond, team, user, "mark the ICP reviewed"):
        return
    if reminder_id is None:
        respond(text=GONE, response_type="ephemeral", replace_original=False)
        return
    target = DecisionTarget(reminder_id, channel, ts or "")
    checkins = round_answers(ctx.engine, team_id=team, reminder_id=reminder_id)
    client.views_open(
        trigger_id=str(body.get("trigger_id") or ""), view=decision_modal(target, checkins=checkins)
    )


def close(
    body: dict[str, Any], *, ctx: AppContext, client: WebClient, user: str, target: DecisionTarget
) -> None:
    """Record the submitted decision and say so in the kit's thread (or to the owner)."""
    values = dict(((body.get("view") or {}).get("state") or {}).get("values") or {})
    read = read_decision(values)
    if isinstance(read, dict):
        return
    decision, note = read
    closed = close_review(
        ctx.engine,
        team_id=team_id_of(body),
        reminder_id=target.reminder_id,
        actor=user,
        now=ctx.clock(),
        decision=decision,
        note=note,
    )
    if closed is None:
        client.chat_postMessage(channel=user, text=GONE)
        return
    text = closed_text(user, closed.decision, closed.note, closed.version, closed.state.next_run_at)
    channel, thread_ts = (target.channel, target.message_ts or None) if target.channel else (user, None)
    client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text)
    if closed.decision is Decision.adopt:
        draft_adopted(ctx, client, team=team_id_of(body), owner=user, channel=channel, segment=closed.segment)


def draft_adopted(
    ctx: AppContext, client: WebClient, *, team: str, owner: str, channel: str, segment: str | None
) -> None:
    """Adopting the proposal drafts it, re-learned on today's deals, as the next version of the same
    segment; it goes through approval like any draft. Progress notes go to the channel."""

    def say(text: str = "", **kwargs: Any) -> None:
        client.chat_postMessage(channel=channel, text=text, blocks=kwargs.get("blocks"))

    words = "draft" if segment in (None, DEFAULT_SEGMENT) else f"draft segment={segment}"
    route(
        {"team_id": team, "user_id": owner, "channel_id": channel, "text": words},
        ctx=ctx,
        client=client,
        respond=say,
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

    @app.view(REVIEW_DECISION)
    def on_decision(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        view = body.get("view") or {}
        read = read_decision(dict((view.get("state") or {}).get("values") or {}))
        if isinstance(read, dict):
            ack(response_action="errors", errors=read)
            return
        try:
            target = DecisionTarget.decode(str(view.get("private_metadata") or ""))
        except ValueError:
            ack(response_action="errors", errors={"review_decision": "This review form is out of date."})
            return
        ack()
        user = user_id_of(body)
        submit_safely(
            ctx.work,
            partial(close, body, ctx=ctx, client=client, user=user, target=target),
            what="review decision",
            apologise=lambda reference: client.chat_postMessage(
                channel=user, text=APOLOGY.format(reference=reference)
            ),
        )
