"""Buttons on a draft ICP message: Approve (owners), Request changes (anyone), Edit (owners), and
Full ICP (owners while the version is a draft; anyone once it was approved), a modal with the details.

Approve runs on the app's pool after the ack. Edit and Request changes open a modal, which must
happen within Slack's 3 s trigger window, so they open it right away. A button value is only a
version id and is re-checked against the clicking team's workspace; owners are checked on every
click (a payload can be forged), and a refusal says who can do it.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.services.icp.access import is_published
from bot.services.icp.drafting import DraftOutcome
from bot.services.icp.review import ReviewError, ReviewFacts, approve, load_review
from bot.slack.context import AppContext
from bot.slack.failures import privately, reported, submit_safely
from bot.slack.messaging.drafts import knowledge_or_none, refresh_home, tell, update_draft
from bot.slack.payload import clicked_message, first_action, team_id_of, user_id_of
from bot.slack.people import owner_rules
from bot.slack.respond import note_privately
from bot.slack.views.draft import (
    DRAFT_APPROVE,
    DRAFT_EDIT,
    DRAFT_FULL,
    DRAFT_REQUEST_CHANGES,
    changes_modal,
    edit_modal,
    full_icp_modal,
)

STALE = "That button is out of date; run `/icp draft` again."
MAX_ID = 2**31 - 1


def version_of(body: dict[str, Any]) -> int | None:
    _, value = first_action(body)
    return int(value) if value.isdigit() and 0 < int(value) <= MAX_ID else None


def _owner_or_refuse(
    ctx: AppContext, client: WebClient, respond: Respond, body: dict[str, Any], action: str
) -> bool:
    owners, team_id = owner_rules(ctx, client), team_id_of(body)
    if owners.is_owner(team_id=team_id, user_id=user_id_of(body)):
        return True
    note_privately(respond, body, owners.refusal(team_id=team_id, action=action))
    return False


def approve_clicked(body: dict[str, Any], *, ctx: AppContext, client: WebClient, respond: Respond) -> None:
    version_id = version_of(body)
    if version_id is None:
        note_privately(respond, body, STALE)
        return
    if not _owner_or_refuse(ctx, client, respond, body, "approve an ICP"):
        return
    team_id, user_id = team_id_of(body), user_id_of(body)
    knowledge = knowledge_or_none(ctx)
    try:
        outcome, facts = approve(
            ctx.engine, knowledge=knowledge, team_id=team_id, version_id=version_id, actor=user_id
        )
    except ReviewError as exc:
        note_privately(respond, body, str(exc))
        return
    channel, ts = clicked_message(body)
    update_draft(client, outcome, facts, channel=channel, ts=ts)
    refresh_home(ctx, client, team_id=team_id, user_id=user_id)
    if facts.author != user_id:
        tell(
            client,
            facts.author,
            f"<@{user_id}> approved your ICP draft v{outcome.version}: scoring uses it now.",
        )


def _clicked_version(
    body: dict[str, Any], *, ctx: AppContext, respond: Respond
) -> tuple[DraftOutcome, ReviewFacts, str] | None:
    """The version a modal button was clicked on, with the trigger to open the modal; None (the
    clicker told why) when the message is stale or the version cannot be loaded."""
    version_id = version_of(body)
    trigger_id = body.get("trigger_id")
    if version_id is None or not isinstance(trigger_id, str):
        note_privately(respond, body, STALE)
        return None
    try:
        outcome, facts = load_review(ctx.engine, team_id=team_id_of(body), version_id=version_id)
    except ReviewError as exc:
        note_privately(respond, body, str(exc))
        return None
    return outcome, facts, trigger_id


def open_modal(
    body: dict[str, Any], *, ctx: AppContext, client: WebClient, respond: Respond, kind: str
) -> None:
    """Open the Edit (owners) or Request changes modal for the clicked draft."""
    trigger_id = body.get("trigger_id")
    if not isinstance(trigger_id, str) or version_of(body) is None:
        note_privately(respond, body, STALE)
        return
    if kind == "edit" and not _owner_or_refuse(ctx, client, respond, body, "edit an ICP draft"):
        return
    loaded = _clicked_version(body, ctx=ctx, respond=respond)
    if loaded is None:
        return
    outcome, facts, trigger_id = loaded
    if not facts.open:
        note_privately(
            respond,
            body,
            f"ICP v{outcome.version} is no longer a draft under review; run `/icp draft` for a new one.",
        )
        return
    channel, ts = clicked_message(body)
    build = edit_modal if kind == "edit" else changes_modal
    client.views_open(trigger_id=trigger_id, view=build(outcome, channel=channel, message_ts=ts))


def full_icp_clicked(body: dict[str, Any], *, ctx: AppContext, client: WebClient, respond: Respond) -> None:
    """Open the Full ICP modal: a draft's details (verbatim quotes, unreviewed claims) are for ICP
    owners, an approved version's for every member, like `/icp show`."""
    loaded = _clicked_version(body, ctx=ctx, respond=respond)
    if loaded is None:
        return
    outcome, facts, trigger_id = loaded
    published = is_published(facts.status.value, facts.approved_at)
    if not published and not _owner_or_refuse(ctx, client, respond, body, "read an ICP draft in full"):
        return
    client.views_open(trigger_id=trigger_id, view=full_icp_modal(outcome, facts))


def register(app: App, ctx: AppContext) -> None:
    @app.action(DRAFT_APPROVE)
    def on_approve(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        submit_safely(
            ctx.work,
            partial(approve_clicked, body, ctx=ctx, client=client, respond=respond),
            what="draft approval",
            apologise=privately(respond, body),
        )

    @app.action(DRAFT_EDIT)
    @reported
    def on_edit(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        open_modal(body, ctx=ctx, client=client, respond=respond, kind="edit")

    @app.action(DRAFT_REQUEST_CHANGES)
    @reported
    def on_request_changes(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        open_modal(body, ctx=ctx, client=client, respond=respond, kind="changes")

    @app.action(DRAFT_FULL)
    @reported
    def on_full_icp(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        full_icp_clicked(body, ctx=ctx, client=client, respond=respond)
