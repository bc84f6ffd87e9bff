"""``/icp show [vN | versions]``: a version of the ICP (newest unless one is named), or the history.

The card is the one-page ICP (the export's page: statement and proof, tiers and plays,
characteristics, disqualifiers, personas, pains and triggers, owner, approver, next review), then
where the version stands, what it changed against the version before it, and the latest
change-log lines.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.services.icp.access import is_published
from bot.services.icp.export.document import load_document, with_names
from bot.services.icp.versions import (
    VersionNotFound,
    WorkspaceNotFound,
    load_icp,
    parse_version,
    team_history,
    version_card,
)
from bot.slack.listeners.commands.icp.args import mrkdwn_escape
from bot.slack.listeners.commands.icp.drafts_access import is_owner, refuse_draft
from bot.slack.listeners.commands.icp.registry import SlashRequest, subcommand
from bot.slack.names import slack_names
from bot.slack.views.icp_card import VersionFacts, icp_text
from bot.slack.views.icp_history import log_lines, versions_blocks
from bot.slack.views.icp_show import show_blocks
from bot.store.models import IcpStatus
from icp_engine.model import ICPError

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.slack.context import AppContext
    from bot.slack.listeners.commands.icp.registry import Respond

NO_ICP_YET = (
    "There is no ICP yet. To get one: an ICP owner imports CRM data (`/icp import`), the team "
    "answers a few questions (`/icp interview`), then `/icp draft` proposes a first version."
)
HISTORY_WORDS = frozenset({"versions", "history", "log", "changes"})


@subcommand(
    "show",
    summary="Show the current ICP (criteria, tiers, disqualifiers), an older version, or the change log.",
    usage="show [vN | versions]",
    examples=("show", "show v2", "show versions"),
)
def show(req: SlashRequest, ctx: AppContext, client: WebClient, respond: Respond) -> None:
    word = req.args[0] if req.args else None
    if word is not None and word.lower() in HISTORY_WORDS:
        _show_history(req, ctx, respond)
        return
    wanted = parse_version(word) if word is not None else None
    if word is not None and wanted is None:
        respond(
            text=f"`{mrkdwn_escape(word[:40])}` is not a version number. "
            "Try `/icp show`, `/icp show v2` or `/icp show versions`."
        )
        return
    try:
        card = version_card(ctx.engine, team_id=req.team_id, number=wanted)
    except VersionNotFound as exc:
        said = mrkdwn_escape(str(exc))
        respond(text=f"{said[:1].upper()}{said[1:]}.")
        return
    if card is None:
        respond(text=NO_ICP_YET)
        return
    if not is_published(IcpStatus(card.row.status).value, card.row.approved_at) and not is_owner(
        req, ctx, client
    ):
        if wanted is None and card.approved is not None:  # members see the approved ICP by default
            card = version_card(ctx.engine, team_id=req.team_id, number=card.approved.version)
        if card is None or not is_published(IcpStatus(card.row.status).value, card.row.approved_at):
            refuse_draft(req, ctx, client, respond, "read ICP drafts (versions not approved yet)")
            return
    row, approved, summary, history = card.row, card.approved, card.summary, log_lines(card.log)
    try:
        icp = load_icp(row)
    except ICPError as exc:
        respond(
            text=f"ICP version {row.version} is stored but cannot be read ({mrkdwn_escape(str(exc)[:200])}). "
            "Ask an ICP owner to re-draft it."
        )
        return
    doc = load_document(ctx.engine, team_id=req.team_id, version=row.version, segment=row.segment)
    doc = with_names(doc, slack_names(client, (doc.owner, doc.approver), known=dict(doc.people)))
    backtest = doc.backtest
    facts = VersionFacts(
        version=row.version,
        status=IcpStatus(row.status).value,
        segment=row.segment,
        updated_at=row.updated_at,
        approver=row.approver,
        approved_version=approved.version if approved is not None else None,
        approved_at=row.approved_at,
        author=row.author,
        change_note=row.change_note,
        changes=summary.changes,
        backtest=backtest.headline() if backtest is not None else None,
        history=history,
    )
    respond(text=icp_text(icp, facts), blocks=show_blocks(doc, facts))


def _show_history(req: SlashRequest, ctx: AppContext, respond: Respond) -> None:
    try:
        versions, log = team_history(ctx.engine, team_id=req.team_id, log_limit=60)
    except WorkspaceNotFound:
        versions, log = [], []
    if not versions:
        respond(text=NO_ICP_YET)
        return
    respond(text=f"{len(versions)} ICP version(s)", blocks=versions_blocks(versions, log))
