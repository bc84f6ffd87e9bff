"""Buttons on a draft ICP message: Approve (owners), Request changes (anyone), Edit (owners).

Approve runs on the app's pool after the ack. Edit and Request changes open a modal, which must
happen within Slack's 3 s trigger window, so they open it right away. A button value is only a
version id and is re-checked against the clicking team's workspace; owners are checked on every
click (a payload can be forged), and a refusal says who can do it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.context import AppContext
from bot.services.icp.review import ReviewError, approve, load_review
from bot.services.permissions import is_owner, owners_hint, refusal
from bot.slack.messaging.drafts import knowledge_or_none, refresh_home, tell, update_draft
from bot.slack.views.draft import DRAFT_APPROVE, DRAFT_EDIT, DRAFT_REQUEST_CHANGES, changes_modal, edit_modal

log = logging.getLogger(__name__)

STALE = "That button is out of date; run `/icp draft` again."
FAILED = "Sorry, that didn't work on our side. Please try again in a minute."
MAX_ID = 2**31 - 1


def version_of(body: dict[str, Any]) -> int | None:
    value = str(((body.get("actions") or [{}])[0]).get("value") or "")
    return int(value) if value.isdigit() and 0 < int(value) <= MAX_ID else None


def who(body: dict[str, Any]) -> tuple[str, str]:
    """(team id, user id) of the click."""
    user = body.get("user") or {}
    team = body.get("team") or {}
    return str(team.get("id") or user.get("team_id") or ""), str(user.get("id") or "")


def where(body: dict[str, Any]) -> tuple[str, str]:
    """(channel, message ts) of the draft message clicked."""
    container = body.get("container") or {}
    channel = body.get("channel") or {}
    message = body.get("message") or {}
    return (
        str(container.get("channel_id") or channel.get("id") or ""),
        str(container.get("message_ts") or message.get("ts") or ""),
    )


def private(respond: Respond, body: dict[str, Any], text: str) -> None:
    """A note only the clicker sees (the draft message stays as it is)."""
    if body.get("response_url"):
        respond(text=text, response_type="ephemeral", replace_original=False)


def _owner_or_refuse(
    ctx: AppContext, client: WebClient, respond: Respond, body: dict[str, Any], action: str
) -> bool:
    team_id, user_id = who(body)
    if is_owner(ctx=ctx, client=client, team_id=team_id, user_id=user_id):
        return True
    hint = owners_hint(ctx=ctx, client=client, team_id=team_id, user_id=user_id)
    private(respond, body, refusal(action=action, hint=hint))
    return False


def approve_clicked(body: dict[str, Any], *, ctx: AppContext, client: WebClient, respond: Respond) -> None:
    version_id = version_of(body)
    if version_id is None:
        private(respond, body, STALE)
        return
    if not _owner_or_refuse(ctx, client, respond, body, "approve an ICP"):
        return
    team_id, user_id = who(body)
    knowledge = knowledge_or_none(ctx)
    try:
        outcome, facts = approve(
            ctx.engine, knowledge=knowledge, team_id=team_id, version_id=version_id, actor=user_id
        )
    except ReviewError as exc:
        private(respond, body, str(exc))
        return
    channel, ts = where(body)
    update_draft(client, outcome, facts, channel=channel, ts=ts)
    refresh_home(ctx, client, team_id=team_id, user_id=user_id)
    if facts.author != user_id:
        tell(
            client,
            facts.author,
            f"<@{user_id}> approved your ICP draft v{outcome.version}: scoring uses it now.",
        )


def open_modal(
    body: dict[str, Any], *, ctx: AppContext, client: WebClient, respond: Respond, kind: str
) -> None:
    """Open the Edit (owners) or Request changes modal for the clicked draft."""
    version_id = version_of(body)
    trigger_id = body.get("trigger_id")
    if version_id is None or not isinstance(trigger_id, str):
        private(respond, body, STALE)
        return
    if kind == "edit" and not _owner_or_refuse(ctx, client, respond, body, "edit an ICP draft"):
        return
    team_id, _ = who(body)
    try:
        outcome, facts = load_review(ctx.engine, team_id=team_id, version_id=version_id)
    except ReviewError as exc:
        private(respond, body, str(exc))
        return
    if not facts.open:
        private(
            respond,
            body,
            f"ICP v{outcome.version} is no longer a draft under review; run `/icp draft` for a new one.",
        )
        return
    channel, ts = where(body)
    build = edit_modal if kind == "edit" else changes_modal
    client.views_open(trigger_id=trigger_id, view=build(outcome, channel=channel, message_ts=ts))


def _guarded(work: Callable[..., None], body: dict[str, Any], **kwargs: Any) -> None:
    try:
        work(body, **kwargs)
    except Exception:  # never a trace for the person clicking; the log has the details
        log.exception("draft action %s failed", getattr(work, "__name__", work))
        try:
            private(kwargs["respond"], body, FAILED)
        except Exception:
            log.exception("could not deliver the apology")


def register(app: App, ctx: AppContext) -> None:
    @app.action(DRAFT_APPROVE)
    def on_approve(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        ctx.work.submit(_guarded, approve_clicked, body, ctx=ctx, client=client, respond=respond)

    @app.action(DRAFT_EDIT)
    def on_edit(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        _guarded(open_modal, body, ctx=ctx, client=client, respond=respond, kind="edit")

    @app.action(DRAFT_REQUEST_CHANGES)
    def on_request_changes(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        _guarded(open_modal, body, ctx=ctx, client=client, respond=respond, kind="changes")
