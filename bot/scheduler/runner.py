"""One scheduler pass: claim each due review reminder, send its review kit, schedule the next.

See the package docstring for why an atomic row claim. ``run_due`` is what both the loop in
``icp serve`` and ``icp reminders run-due`` call; ``now`` comes from the caller's clock.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError, SlackRequestError

from bot.services.reviews import claims
from bot.services.reviews.cadence import CadenceError, next_run
from bot.services.reviews.chart import render_tier_chart
from bot.services.reviews.kit import ReviewKit, load_review_kit
from bot.services.reviews.reminders import schedule_of
from bot.services.uninstall import disable_reminder
from bot.slack.installations import DEAD_TOKEN_ERRORS
from bot.slack.messaging.interview_reminders import ReminderRun, send_due_reminders
from bot.slack.messaging.share import post_or_reply_privately
from bot.slack.views.blocks_text import section
from bot.slack.views.review_kit import review_kit_message
from bot.store.models import ReviewReminder

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.scheduler.clients import ClientFor
    from bot.slack.context import AppContext

log = logging.getLogger(__name__)

#: After a failed send, nobody tries that reminder again before this.
RETRY_DELAY = timedelta(minutes=15)
CHART_FILENAME = "icp-review.png"
#: Errors after which the review kit goes to the reminder's owner instead of its channel.
UNREACHABLE_CHANNEL = frozenset({"not_in_channel", "channel_not_found", "is_archived"})


@dataclass(frozen=True, slots=True)
class TickReport:
    """What one pass did."""

    reviews_sent: int = 0
    reviews_failed: int = 0
    reviews_skipped: int = 0  # claimed by another replica first
    interviews: ReminderRun | None = None


class FireError(RuntimeError):
    """A reminder could not be sent now; it is retried after RETRY_DELAY."""


def _dm_or_channel(client: WebClient, channel_id: str) -> str:
    """Posting to a user id lands in the bot's DM; file uploads need the DM's channel id."""
    if channel_id[:1] not in ("U", "W"):
        return channel_id
    opened = client.conversations_open(users=channel_id).get("channel") or {}
    return str(opened.get("id") or channel_id)


def _chart(client: WebClient, channel: str, kit: ReviewKit, thread_ts: str | None) -> None:
    if not kit.tiers_now and not kit.tiers_then:
        return
    try:
        png = render_tier_chart(kit.tiers_then, kit.tiers_now)
        client.files_upload_v2(
            channel=channel,
            file=png,
            filename=CHART_FILENAME,
            title="Win rate and volume per tier: at approval and since the last review",
            thread_ts=thread_ts,
        )
    except (SlackApiError, SlackRequestError, OSError, ValueError) as exc:  # the kit itself was sent
        log.warning("review chart upload to %s failed: %s", channel, exc)


class WorkspaceGone(FireError):
    """The workspace's token is dead or gone (uninstalled, revoked): its reminder stops, no retry."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def fire_review(
    ctx: AppContext, client: WebClient, *, row: ReviewReminder, team_id: str, now: datetime
) -> datetime:
    """Send the review kit for ``row`` and return the next slot (raises FireError on failure)."""
    assert row.id is not None
    try:
        following = next_run(schedule_of(row), now)
    except CadenceError as exc:
        raise FireError(f"reminder {row.id} has an unusable schedule: {exc}") from exc
    kit = load_review_kit(
        ctx.engine,
        workspace_id=row.workspace_id,
        team_id=team_id,
        now=now,
        last_reviewed_at=row.last_reviewed_at,
        segment=row.segment,
    )
    message = review_kit_message(kit, reminder_id=row.id, next_run_at=following)
    owner = row.owner if row.owner and row.owner != row.channel_id else None

    def post(target: str, blocks: list[Any]) -> tuple[str, str | None]:
        channel = _dm_or_channel(client, target)
        posted = client.chat_postMessage(channel=channel, text=message.text, blocks=blocks)
        return str(posted.get("channel") or channel), posted.get("ts")

    def to_owner(error: str) -> tuple[str, str | None]:
        # The bot was never invited (or the channel went away): the owner gets it, and is told why.
        note = section(
            f"I couldn't post this review kit in <#{row.channel_id}> ({error}): invite me there with "
            "`/invite`, or choose another place with `/icp remind`."
        )
        assert owner is not None  # without an owner every error is raised, never handed here
        try:
            return post(owner, [note, *message.blocks])
        except (SlackApiError, SlackRequestError, OSError) as again:
            raise FireError(
                f"reminder {row.id}: neither {row.channel_id} nor its owner reachable: {again}"
            ) from again

    try:
        channel, ts = post_or_reply_privately(
            lambda: post(row.channel_id, message.blocks),
            to_owner,
            channel=row.channel_id,
            what="the review kit",
            only_for=UNREACHABLE_CHANNEL if owner else frozenset(),
        )
    except (SlackApiError, SlackRequestError, OSError) as exc:
        reason = _reason(exc)
        if isinstance(exc, SlackApiError) and reason in DEAD_TOKEN_ERRORS:
            raise WorkspaceGone(f"reminder {row.id}: Slack says {reason}", str(reason)) from exc
        raise FireError(f"reminder {row.id} could not be posted to {row.channel_id}: {reason}") from exc
    _chart(client, channel, kit, ts)
    return following


def _reason(exc: Exception) -> object:
    return str(exc.response.get("error") or "") if isinstance(exc, SlackApiError) else exc


def _fire_claimed(ctx: AppContext, clients: ClientFor, reminder_id: int, worker: str, now: datetime) -> bool:
    loaded = claims.load_claimed(ctx.engine, reminder_id=reminder_id)
    try:
        if loaded is None:
            raise FireError(f"reminder {reminder_id} vanished after its claim")
        row, team_id = loaded
        client = clients(team_id)
        if client is None and ctx.settings.oauth_enabled:
            raise WorkspaceGone(
                f"reminder {reminder_id}: the app is not installed in {team_id}", "not_installed"
            )
        if client is None:
            raise FireError(f"no Slack client for team {team_id} (app not installed there?)")
        following = fire_review(ctx, client, row=row, team_id=team_id, now=now)
    except WorkspaceGone as exc:  # retrying forever cannot help: the reminder is turned off
        log.warning("review reminder %s stopped: %s", reminder_id, exc)
        disable_reminder(ctx.engine, reminder_id=reminder_id, worker=worker, reason=exc.reason)
        return False
    except Exception as exc:  # one bad reminder must not stop the others
        log.warning("review reminder %s not sent: %s", reminder_id, exc)
        claims.back_off(ctx.engine, reminder_id=reminder_id, worker=worker, retry_at=now + RETRY_DELAY)
        return False
    kept = claims.finish(
        ctx.engine, reminder_id=reminder_id, worker=worker, ran_at=now, next_run_at=following
    )
    if not kept:
        log.warning("review reminder %s: the claim expired while sending (sent anyway)", reminder_id)
    return True


def run_due(
    ctx: AppContext,
    *,
    clients: ClientFor,
    worker: str,
    now: datetime | None = None,
    interviews: bool = True,
) -> TickReport:
    """Send every due review reminder this replica wins the claim for, then the interview nudges."""
    now = now or ctx.clock()
    hold = timedelta(seconds=ctx.settings.scheduler_claim_seconds)
    due = claims.due_reminder_ids(ctx.engine, now=now)
    sent = failed = skipped = 0
    for _workspace_id, reminder_id in due:
        won = claims.claim(ctx.engine, reminder_id=reminder_id, worker=worker, now=now, hold=hold)
        if not won:
            skipped += 1
            continue
        if _fire_claimed(ctx, clients, reminder_id, worker, now):
            sent += 1
        else:
            failed += 1
    nudges = send_due_reminders(ctx=ctx, client=clients, now=now) if interviews else None
    ctx.metrics.reminders.labels("review").inc(sent)
    ctx.metrics.reminders.labels("interview").inc(nudges.sent if nudges is not None else 0)
    return TickReport(reviews_sent=sent, reviews_failed=failed, reviews_skipped=skipped, interviews=nudges)
