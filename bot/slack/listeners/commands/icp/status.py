"""``/icp status``: who finished their interview, who is in progress and who has not started."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.services.interviews.conversation import InterviewStatus, interview_status
from bot.slack.listeners.commands.icp.registry import SlashRequest, subcommand
from bot.slack.messaging.interviews import as_dicts
from bot.slack.views.interview import StatusKind, StatusRow, status_message
from bot.store.models import InterviewState

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.slack.context import AppContext
    from bot.slack.listeners.commands.icp.registry import Respond

_KIND: dict[InterviewState, StatusKind] = {
    InterviewState.completed: "finished",
    InterviewState.in_progress: "in_progress",
    InterviewState.paused: "paused",
    InterviewState.pending: "not_started",
}


def status_rows(statuses: list[InterviewStatus]) -> list[StatusRow]:
    """Service rows → view rows (abandoned interviews are not listed by the service)."""
    return [
        StatusRow(
            user_id=s.user_id,
            role_title=s.role_title,
            kind=_KIND[s.state],
            answered=s.answered,
            total=s.total,
            number=s.number,
            last_activity=s.last_activity,
        )
        for s in statuses
        if s.state in _KIND
    ]


@subcommand(
    "status",
    summary="Interview progress: who finished, who is in progress, who has not started.",
    usage="status",
    examples=("status",),
)
def status_command(req: SlashRequest, ctx: AppContext, client: WebClient, respond: Respond) -> None:
    message = status_message(status_rows(interview_status(engine=ctx.engine, team_id=req.team_id)))
    respond(text=message.text, blocks=as_dicts(message))
