"""``/icp show [version]``: the ICP as stored, newest version unless one is named."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import ValidationError

from bot.slash import SlashRequest, subcommand
from bot.slash._args import mrkdwn_escape, positive_int
from bot.store.db import session_scope
from bot.store.models import IcpVersion
from bot.store.repo.icp import get_active_icp, list_icp_versions
from bot.store.repo.workspaces import get_workspace
from bot.views.icp_card import VersionFacts, icp_blocks, icp_text
from icp_engine.model import ICP

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.context import AppContext
    from bot.slash import Respond

NO_ICP_YET = (
    "There is no ICP yet. To get one: an ICP owner imports CRM data (`/icp import`), the team "
    "answers a few questions (`/icp interview`), then `/icp draft` proposes a first version."
)


@subcommand(
    "show",
    summary="Show the current ICP (criteria, tiers, disqualifiers), or an older version.",
    usage="show [version]",
    examples=("show", "show 2"),
)
def show(req: SlashRequest, ctx: AppContext, client: WebClient, respond: Respond) -> None:
    wanted = positive_int(req.args[0]) if req.args else None
    if req.args and wanted is None:
        respond(
            text=f"`{mrkdwn_escape(req.args[0][:40])}` is not a version number. Try `/icp show` or `/icp show 2`."
        )
        return
    with session_scope(ctx.engine) as session:
        workspace = get_workspace(session=session, slack_team_id=req.team_id)
        versions = (
            list_icp_versions(session=session, workspace_id=workspace.id)
            if workspace and workspace.id
            else []
        )
        approved = (
            get_active_icp(session=session, workspace_id=workspace.id) if workspace and workspace.id else None
        )
    if not versions:
        respond(text=NO_ICP_YET)
        return
    row = _pick(versions, wanted)
    if row is None:
        numbers = ", ".join(str(v.version) for v in sorted(versions, key=lambda v: v.version))
        respond(text=f"There is no version {wanted}. Versions stored: {numbers}.")
        return
    try:
        icp = ICP.from_dict(row.icp_json, source=f"ICP version {row.version}")
    except (ValidationError, ValueError) as exc:
        respond(
            text=f"ICP version {row.version} is stored but cannot be read ({str(exc)[:200]}). Ask an ICP owner to re-draft it."
        )
        return
    facts = VersionFacts(
        version=row.version,
        status=str(row.status.value if hasattr(row.status, "value") else row.status),
        segment=row.segment,
        updated_at=row.updated_at,
        approver=row.approver,
        approved_version=approved.version if approved is not None else None,
    )
    respond(text=icp_text(icp, facts), blocks=icp_blocks(icp, facts))


def _pick(versions: list[IcpVersion], wanted: int | None) -> IcpVersion | None:
    if wanted is None:
        return max(versions, key=lambda v: (v.version, v.id or 0))
    return next((v for v in versions if v.version == wanted), None)
