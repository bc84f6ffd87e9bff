"""``/icp remind``: when the ICP is reviewed again, and where the review kit is posted.

``remind quarterly #channel`` (weekly, monthly, quarterly, semiannually, yearly, or a cron spec
such as ``remind cron 0 9 1 */3 * #channel``) sets the workspace's review reminder; without a
channel it posts where the command was typed; ``me`` sends it to you in a DM. ``remind off``
stops it, ``remind status`` (or just ``remind``) shows it. Changes are for ICP owners; everyone
may read the status. Reminders fire at 09:00 in the time zone of the person who set them.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError, SlackRequestError

from bot.services.reviews import reminders
from bot.services.reviews.cadence import CadenceError, describe, parse_cadence
from bot.slack.listeners.commands.icp.args import mrkdwn_escape
from bot.slack.listeners.commands.icp.registry import SlashRequest, subcommand
from bot.slack.mentions import PersonError, lookup_for, take_person, user_id_of
from bot.slack.people import owner_rules
from bot.slack.views.review_kit import date_token, reminder_status_text

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.slack.context import AppContext
    from bot.slack.listeners.commands.icp.registry import Respond

log = logging.getLogger(__name__)

USAGE = "remind <weekly | monthly | quarterly | semiannually | yearly | cron <spec>> [#channel | me] · remind off · remind status"
_ESCAPED_CHANNEL = re.compile(r"^<#([CG][A-Z0-9]{2,})(?:\|[^>]*)?>$")
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{6,}$")
_CHANNEL_NAME = re.compile(r"^#([a-z0-9][a-z0-9._-]{0,79})$")
MAX_CHANNEL_PAGES = 20


class TargetError(ValueError):
    """The channel the reminder should go to cannot be found; the message says what to do."""


def _is_target(word: str) -> bool:
    lowered = word.lower()
    return (
        lowered in ("me", "here")
        or word.startswith(("#", "<#", "<@", "@"))
        or bool(_CHANNEL_ID.match(word))
        or user_id_of(word) is not None
    )


def _find_channel(client: WebClient, name: str) -> str:
    """A channel id by its name (public, or private ones the bot is in)."""
    cursor: str | None = None
    try:
        for _ in range(MAX_CHANNEL_PAGES):
            page = client.conversations_list(
                types="public_channel,private_channel", exclude_archived=True, limit=1000, cursor=cursor
            )
            for channel in page.get("channels") or []:
                if channel.get("name") == name:
                    return str(channel["id"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                break
    except (SlackApiError, SlackRequestError, OSError) as exc:
        log.warning("conversations.list failed while looking for #%s: %s", name, exc)
        raise TargetError(
            f"I could not look up #{mrkdwn_escape(name)}. Run the command in that channel without naming it, "
            "e.g. `/icp remind quarterly`."
        ) from exc
    raise TargetError(
        f"I can't find a channel called #{mrkdwn_escape(name)}. Check the name, or run the command in that "
        "channel without naming it."
    )


def resolve_target(word: str | None, req: SlashRequest, client: WebClient) -> str:
    """Where the review kit goes: a channel id, or a user id for a DM."""
    if word is None or word.lower() == "here":
        return req.channel_id
    if word.lower() == "me":
        return req.user_id
    user = user_id_of(word)
    if user is not None:
        return user
    if word.startswith("@") and len(word) > 1:  # a name typed by hand: the person's DM
        try:
            found = take_person([word], 0, lookup_for(client, req.team_id))
        except PersonError as exc:
            raise TargetError(str(exc)) from exc
        if found is not None:
            return found[0]
    match = _ESCAPED_CHANNEL.match(word)
    if match:
        return match.group(1)
    if _CHANNEL_ID.match(word):
        return word
    named = _CHANNEL_NAME.match(word.lower())
    if named:
        return _find_channel(client, named.group(1))
    raise TargetError(
        f"{mrkdwn_escape(word)!r} is not a channel: use #channel, `me`, or nothing for this channel."
    )


def _timezone_of(client: WebClient, user_id: str) -> str:
    """The person's Slack time zone (reminders fire at 09:00 there); UTC when unknown."""
    try:
        user = client.users_info(user=user_id).get("user") or {}
    except (SlackApiError, SlackRequestError, OSError) as exc:
        log.info("users.info failed for %s (%s): reminders in UTC", user_id, exc)
        return "UTC"
    return str(user.get("tz") or "UTC")


def _where(target: str) -> str:
    return f"<@{target}> (a DM)" if target[:1] in ("U", "W") else f"<#{target}>"


def _status(req: SlashRequest, ctx: AppContext, respond: Respond) -> None:
    state = reminders.get_reminder_state(ctx.engine, team_id=req.team_id)
    if state is None:
        respond(
            text="No review reminder is set yet. An ICP owner can set one: `/icp remind quarterly #channel`."
        )
        return
    respond(
        text=reminder_status_text(
            cadence=describe(state.cadence, state.cron),
            channel_id=state.channel_id,
            next_run_at=state.next_run_at,
            timezone=state.timezone,
            enabled=state.enabled,
            last_reviewed_at=state.last_reviewed_at,
        )
    )


def _set(req: SlashRequest, ctx: AppContext, client: WebClient, respond: Respond) -> None:
    words = list(req.args)
    target_word = words.pop() if len(words) > 1 and _is_target(words[-1]) else None
    try:
        cadence, cron = parse_cadence(words)
        target = resolve_target(target_word, req, client)
    except CadenceError as exc:  # quotes what was typed: escaped so `<!here>` is not a ping
        respond(text=f"{mrkdwn_escape(str(exc))}\nUsage: `/icp {USAGE}`")
        return
    except TargetError as exc:  # already escaped where it quotes the typed word
        respond(text=f"{exc}\nUsage: `/icp {USAGE}`")
        return
    timezone = _timezone_of(client, req.user_id)
    try:
        state = reminders.set_reminder(
            ctx.engine,
            team_id=req.team_id,
            actor=req.user_id,
            cadence=cadence,
            cron=cron,
            channel_id=target,
            timezone=timezone,
            now=ctx.clock(),
        )
    except CadenceError as exc:
        respond(text=f"{mrkdwn_escape(str(exc))}\nUsage: `/icp {USAGE}`")
        return
    invite = (
        ""
        if target[:1] in ("U", "W", "D")
        else f" If I'm not in <#{target}> yet, invite me there (`/invite`)."
    )
    respond(
        text=(
            f"Done: ICP review reminders {describe(cadence, cron)}, to {_where(target)}, "
            f"at 09:00 {mrkdwn_escape(timezone)} time. First one: {date_token(state.next_run_at)}.{invite}"
        )
    )


@subcommand(
    "remind",
    summary="When the ICP is reviewed again: set, show or stop the review reminder.",
    usage=USAGE,
    examples=(
        "remind quarterly #revops",
        "remind monthly me",
        "remind cron 0 9 1 */3 * #revops",
        "remind status",
    ),
)
def remind_command(req: SlashRequest, ctx: AppContext, client: WebClient, respond: Respond) -> None:
    action = req.args[0].lower() if req.args else "status"
    if action == "status":
        _status(req, ctx, respond)
        return
    owners = owner_rules(ctx, client)
    if not owners.is_owner(team_id=req.team_id, user_id=req.user_id):
        action = "change review reminders (`/icp remind status` shows them)"
        respond(text=owners.refusal(team_id=req.team_id, action=action))
        return
    if action == "off":
        state = reminders.turn_off(ctx.engine, team_id=req.team_id, actor=req.user_id)
        respond(
            text="Review reminders are off. Turn them back on with `/icp remind quarterly #channel`."
            if state is not None
            else "There is no review reminder to turn off."
        )
        return
    _set(req, ctx, client, respond)
