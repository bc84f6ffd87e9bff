"""Deliver a score card: privately, or shared in the channel (``/icp score --share``, the chooser).

Shared by the ``/icp score`` subcommand and the chooser button, so both deliver alike.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bot.slack.messaging.share import post_or_reply_privately
from bot.slack.views.score_card import card_blocks, outcome_text

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.services.scoring.service import ScoreOutcome


def deliver_card(
    outcome: ScoreOutcome,
    *,
    share: bool,
    client: WebClient,
    respond: Callable[..., Any],
    channel_id: str,
    user_id: str,
    thread_ts: str | None = None,
    replace_original: bool = False,
) -> None:
    """Privately via ``respond``, or shared in the channel; a channel the bot can't post in gets
    the card privately with a note instead of an error."""
    blocks = card_blocks(outcome, shared_by=user_id if share else None)
    text = outcome_text(outcome)
    if not (share and channel_id):
        respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=replace_original)
        return

    def in_channel() -> None:
        client.chat_postMessage(
            channel=channel_id,
            text=f"<@{user_id}> shared: {text}" if user_id else text,
            blocks=blocks,
            thread_ts=thread_ts,
        )
        if replace_original:  # the private chooser goes away once the card is in the channel
            respond(delete_original=True)

    def privately(error: str) -> None:
        note = (
            f"I couldn't post in this channel ({error}); invite me to it to share cards. "
            "Here is the card, just for you:"
        )
        respond(
            text=note + "\n" + text,
            blocks=blocks,
            response_type="ephemeral",
            replace_original=replace_original,
        )

    post_or_reply_privately(in_channel, privately, channel=channel_id, what="the score card")
