"""Modal submissions on a draft ICP: Edit (a new draft version) and Request changes (a note).

Inputs are checked before the ack so mistakes show in the modal next to the field; the owner
check is repeated here (a submission can be forged). The slow part (saving, backtesting the
edited ICP, posting) runs on the app's pool after the ack.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.services.icp.review import DraftEdit, ReviewError, edit, load_review, request_changes
from bot.slack.context import AppContext
from bot.slack.failures import submit_safely, with_reference
from bot.slack.messaging.drafts import knowledge_or_none, post_draft, refresh_home, tell, update_draft
from bot.slack.payload import team_id_of, user_id_of
from bot.slack.people import owner_rules
from bot.slack.views.draft import (
    CHANGES_BLOCK,
    CHANGES_CALLBACK,
    EDIT_CALLBACK,
    NOTE_BLOCK,
    ModalTarget,
    notify_author_text,
    read_changes,
    read_edit,
)

STALE = "This form is out of date; open it again from the draft message."
NOT_SAVED = "Sorry, that form could not be saved on our side. Please try again."


def _values(view: dict[str, Any]) -> dict[str, Any]:
    return dict((view.get("state") or {}).get("values") or {})


def save_edit(
    *, ctx: AppContext, client: WebClient, team_id: str, user_id: str, target: ModalTarget, change: DraftEdit
) -> None:
    """Store the edit as a new version, post it in the draft's thread and mark the old message."""
    knowledge = knowledge_or_none(ctx)
    try:
        new, facts = edit(
            ctx.engine,
            knowledge=knowledge,
            team_id=team_id,
            version_id=target.version_id,
            actor=user_id,
            change=change,
            now=ctx.clock(),
        )
    except ReviewError as exc:
        tell(client, user_id, f"Your edit was not saved: {exc}")
        return
    post_draft(
        client,
        new,
        facts,
        channel=target.channel,
        user_id=user_id,
        thread_ts=target.message_ts or None,
        engine=ctx.engine,
    )
    old, old_facts = load_review(ctx.engine, team_id=team_id, version_id=target.version_id)
    update_draft(
        client,
        old,
        replace(old_facts, successor=new.version),
        channel=target.channel,
        ts=target.message_ts,
    )
    refresh_home(ctx, client, team_id=team_id, user_id=user_id)


def save_request(
    *, ctx: AppContext, client: WebClient, team_id: str, user_id: str, target: ModalTarget, note: str
) -> None:
    """Record the request, show it on the draft message and tell the draft's author."""
    try:
        outcome, facts = request_changes(
            ctx.engine, team_id=team_id, version_id=target.version_id, actor=user_id, note=note
        )
    except ReviewError as exc:
        tell(client, user_id, f"Your request was not recorded: {exc}")
        return
    update_draft(client, outcome, facts, channel=target.channel, ts=target.message_ts)
    if facts.author != user_id:
        tell(client, facts.author, notify_author_text(user_id, outcome.version, outcome.icp.name, note))


def _save_safely(
    ctx: AppContext, client: WebClient, user_id: str, save: Callable[..., None], **kwargs: Any
) -> None:
    """Run ``save`` on the app's pool; a failure is apologised for in the person's DM."""
    submit_safely(
        ctx.work,
        partial(save, ctx=ctx, client=client, user_id=user_id, **kwargs),
        what=f"saving the {getattr(save, '__name__', 'draft')} form",
        apologise=lambda reference: tell(client, user_id, with_reference(NOT_SAVED, reference)),
    )


def register(app: App, ctx: AppContext) -> None:
    @app.view(EDIT_CALLBACK)
    def on_edit(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        try:
            target = ModalTarget.decode(str(view.get("private_metadata") or ""))
        except ValueError:
            ack(response_action="errors", errors={NOTE_BLOCK: STALE})
            return
        change = read_edit(_values(view), target)
        if isinstance(change, dict):
            ack(response_action="errors", errors=change)
            return
        team_id, user_id = team_id_of(body), user_id_of(body)
        owners = owner_rules(ctx, client)
        if not owners.is_owner(team_id=team_id, user_id=user_id):
            refusal = owners.refusal(team_id=team_id, action="edit an ICP draft")
            ack(response_action="errors", errors={NOTE_BLOCK: refusal})
            return
        ack()
        _save_safely(ctx, client, user_id, save_edit, team_id=team_id, target=target, change=change)

    @app.view(CHANGES_CALLBACK)
    def on_request(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        try:
            target = ModalTarget.decode(str(view.get("private_metadata") or ""))
        except ValueError:
            ack(response_action="errors", errors={CHANGES_BLOCK: STALE})
            return
        note = read_changes(_values(view))
        if not note:
            ack(response_action="errors", errors={CHANGES_BLOCK: "Say what should change."})
            return
        ack()
        user_id = user_id_of(body)
        _save_safely(ctx, client, user_id, save_request, team_id=team_id_of(body), target=target, note=note)
