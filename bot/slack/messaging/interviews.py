"""Turn what the interview service decided into Slack messages and post them.

Shared by the DM listener, the Start button, `/icp interview` and the reminders, so that every
path shows the same question card and the same wording.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.services.interviews.conversation import Turn
from bot.slack.views.interview import (
    SlackMessage,
    completion_message,
    help_message,
    paused_message,
    question_message,
)

if TYPE_CHECKING:
    from slack_sdk import WebClient


def turn_message(turn: Turn) -> SlackMessage | None:
    """The message a turn shows, or None when nothing should be said (a redelivery, not ours)."""
    if turn.action == "ask" and turn.question is not None:
        return question_message(
            number=turn.number,
            total=turn.total,
            text=turn.question.text,
            hint=turn.question.hint,
            note=turn.note,
        )
    if turn.action in ("completed", "closed"):
        return completion_message(answered=turn.answered, total=turn.total)
    if turn.action == "paused":
        return paused_message(number=turn.number, total=turn.total)
    if turn.action == "help":
        return help_message()
    return None


def post_message(
    client: WebClient, *, channel: str, message: SlackMessage, thread_ts: str | None = None
) -> Any:
    """chat.postMessage with blocks as plain dicts, in the thread when there is one."""
    kwargs: dict[str, Any] = {"channel": channel, "text": message.text}
    if message.blocks:
        kwargs["blocks"] = as_dicts(message)
    if thread_ts:
        kwargs["thread_ts"] = thread_ts
    return client.chat_postMessage(**kwargs)


def as_dicts(message: SlackMessage) -> list[dict[str, Any]]:
    return [block.to_dict() for block in message.blocks]


def post_turn(client: WebClient, turn: Turn, *, channel: str | None, thread_ts: str | None = None) -> bool:
    """Post the turn's message to ``channel`` (else the interview's DM); False if nothing to say."""
    message = turn_message(turn)
    target = channel or turn.channel_id
    if message is None or not target:
        return False
    post_message(client, channel=target, message=message, thread_ts=thread_ts)
    return True


def open_dm(client: WebClient, user_id: str) -> str:
    """The id of the bot's DM channel with ``user_id`` (conversations.open is idempotent)."""
    response = client.conversations_open(users=user_id)
    channel = response.get("channel") or {}
    channel_id = channel.get("id") if isinstance(channel, dict) else None
    if not channel_id:
        raise ValueError(f"conversations.open returned no channel for {user_id}")
    return str(channel_id)
