"""Publish a person's App Home from the current data (on opening it, and after a draft changes)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from bot.services.home import HomeData, load_home_data
from bot.services.icp.export.document import with_names
from bot.slack.names import slack_names
from bot.slack.people import owner_rules
from bot.slack.views.home import home_view

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.slack.context import AppContext


def publish_home(*, ctx: AppContext, client: WebClient, team_id: str, user_id: str) -> None:
    """Build and publish ``user_id``'s home tab (owners get the buttons, others read)."""
    owners = owner_rules(ctx, client)
    owner = owners.is_owner(team_id=team_id, user_id=user_id)
    hint = "" if owner else owners.hint(team_id=team_id)
    data = _named(client, load_home_data(ctx.engine, team_id=team_id, now=ctx.clock()))
    client.views_publish(user_id=user_id, view=home_view(data, is_owner=owner, owners_hint=hint))


def _named(client: WebClient, data: HomeData) -> HomeData:
    """The one-page documents with the owner and approver named as Slack shows them."""
    ids = [who for doc in data.documents.values() for who in (doc.owner, doc.approver)]
    known = {k: v for doc in data.documents.values() for k, v in doc.people}
    names = slack_names(client, ids, known=known)
    if not names:
        return data
    return replace(data, documents={k: with_names(doc, names) for k, doc in data.documents.items()})
