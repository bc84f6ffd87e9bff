"""``/icp show [vN | versions]``: a version of the ICP (newest unless one is named), or the history.

The card says where the version stands (draft, in review, approved by whom and when, or
superseded), what it changed against the version before it, and the latest change-log lines.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.services.icp.export.document import backtest_doc
from bot.services.icp.versions import (
    VersionNotFound,
    change_log,
    load_icp,
    parse_version,
    pick_version,
    segment_versions,
    version_history,
    workspace_of,
)
from bot.slack.listeners.commands.icp.args import mrkdwn_escape
from bot.slack.listeners.commands.icp.registry import SlashRequest, subcommand
from bot.slack.views.icp_card import VersionFacts, icp_blocks, icp_text
from bot.slack.views.icp_history import log_lines, versions_blocks
from bot.store.db import read_scope
from bot.store.models import DEFAULT_SEGMENT, IcpStatus
from icp_engine.model import ICPError

if TYPE_CHECKING:
    from slack_sdk import WebClient
    from sqlmodel import Session

    from bot.context import AppContext
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
    with read_scope(ctx.engine) as session:
        ws_id = _workspace_id(session, req.team_id)
        rows = segment_versions(session, ws_id) if ws_id is not None else []
        if ws_id is None or not rows:
            respond(text=NO_ICP_YET)
            return
        try:
            row = pick_version(rows, wanted)
        except VersionNotFound as exc:
            respond(text=f"{str(exc)[:1].upper()}{str(exc)[1:]}.")
            return
        approved = next((r for r in rows if r.status == IcpStatus.approved), None)
        summary = next(v for v in version_history(session, ws_id, segment=DEFAULT_SEGMENT) if v.id == row.id)
        history = log_lines(change_log(session, ws_id, segment=DEFAULT_SEGMENT, limit=5))
    try:
        icp = load_icp(row)
    except ICPError as exc:
        respond(
            text=f"ICP version {row.version} is stored but cannot be read ({str(exc)[:200]}). "
            "Ask an ICP owner to re-draft it."
        )
        return
    backtest = backtest_doc(row.backtest)
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
    respond(text=icp_text(icp, facts), blocks=icp_blocks(icp, facts))


def _show_history(req: SlashRequest, ctx: AppContext, respond: Respond) -> None:
    with read_scope(ctx.engine) as session:
        ws_id = _workspace_id(session, req.team_id)
        versions = version_history(session, ws_id) if ws_id is not None else []
        log = change_log(session, ws_id, limit=60) if ws_id is not None else []
    if not versions:
        respond(text=NO_ICP_YET)
        return
    respond(text=f"{len(versions)} ICP version(s)", blocks=versions_blocks(versions, log))


def _workspace_id(session: Session, team_id: str) -> int | None:
    workspace = workspace_of(session, team_id)
    return workspace.id if workspace is not None else None
