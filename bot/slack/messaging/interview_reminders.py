"""Gentle reminder DMs for unfinished interviews, for the scheduler to call now and then.

An interview quiet for longer than the delay (``interview_reminder_hours``, 48 h by default) gets
one reminder per delay window and at most a few in all. Which ones are due, and the claim in SQL
that makes replicas running the same job never send one twice, are
``bot.services.interviews.reminders``; a DM that fails after the claim waits for the next window
(a missed nudge beats a duplicate one).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError, SlackRequestError

from bot.services.interviews.reminders import MAX_REMINDERS, claim_reminder, due_reminders
from bot.slack.installations import DEAD_TOKEN_ERRORS
from bot.slack.messaging.interviews import open_dm, post_message
from bot.slack.views.interview import reminder_message

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.settings import Settings
    from bot.slack.context import AppContext

log = logging.getLogger(__name__)

ClientFor = Callable[[str], "WebClient | None"]


def reminder_delay(settings: Settings) -> timedelta:
    """The configured reminder delay (``INTERVIEW_REMINDER_HOURS``, 48 hours by default)."""
    return timedelta(hours=settings.interview_reminder_hours)


# -- sending -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReminderRun:
    """What one pass did: reminders sent, skipped (claimed elsewhere or no longer due), failed."""

    sent: int = 0
    skipped: int = 0
    failed: int = 0


def send_due_reminders(
    *,
    ctx: AppContext,
    client: WebClient | ClientFor,
    now: datetime | None = None,
    delay: timedelta | None = None,
    max_reminders: int = MAX_REMINDERS,
) -> ReminderRun:
    """Send every reminder that is due now; ``client`` may map a team id to its WebClient."""
    now = now or ctx.clock()
    delay = delay if delay is not None else reminder_delay(ctx.settings)
    sent = skipped = failed = 0
    dead: set[str] = set()  # teams whose token Slack refused for good: no more tries this pass
    for due in due_reminders(engine=ctx.engine, now=now, delay=delay, max_reminders=max_reminders):
        web = client(due.team_id) if callable(client) else client
        if web is None or due.team_id in dead:
            skipped += 1
            continue
        claimed = claim_reminder(
            engine=ctx.engine,
            team_id=due.team_id,
            interview_id=due.interview_id,
            now=now,
            delay=delay,
            max_reminders=max_reminders,
        )
        if claimed is None:
            skipped += 1
            continue
        message = reminder_message(
            interview_id=claimed.interview_id,
            started=claimed.started,
            number=claimed.number,
            total=claimed.total,
        )
        try:
            channel = claimed.dm_channel_id or open_dm(web, claimed.user_id)
            post_message(web, channel=channel, message=message)
        except (SlackApiError, SlackRequestError, OSError, ValueError) as exc:
            failed += 1
            if isinstance(exc, SlackApiError) and exc.response.get("error") in DEAD_TOKEN_ERRORS:
                dead.add(due.team_id)
            log.warning(
                "reminder for interview %s (team %s) failed: %s", claimed.interview_id, due.team_id, exc
            )
            continue
        sent += 1
    return ReminderRun(sent=sent, skipped=skipped, failed=failed)
