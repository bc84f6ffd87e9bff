"""``/icp diff vN vM``: the criteria added, removed and re-weighted between two ICP versions.

With one version it compares that version with the one before it; with none, the newest with
the one before it. Versions are numbered per segment; the default segment is the primary one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.services.icp.access import is_published
from bot.services.icp.versions import VersionNotFound, load_icp, parse_version, pick_version, team_versions
from bot.slack.listeners.commands.icp.args import mrkdwn_escape
from bot.slack.listeners.commands.icp.drafts_access import is_owner, refuse_draft
from bot.slack.listeners.commands.icp.registry import SlashRequest, subcommand
from bot.slack.views.icp_diff import diff_blocks, diff_text
from icp_engine.diff import diff_icps
from icp_engine.model import ICPError

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.slack.context import AppContext
    from bot.slack.listeners.commands.icp.registry import Respond

USAGE = "Usage: `/icp diff v1 v2` (or `/icp diff v2` to compare v2 with v1)."
NOTHING_TO_COMPARE = "There is only one ICP version so far, so there is nothing to compare it with yet."


@subcommand(
    "diff",
    summary="Compare two ICP versions: criteria added, removed and re-weighted.",
    usage="diff [vN] [vM]",
    examples=("diff v1 v2", "diff v3"),
)
def diff_command(req: SlashRequest, ctx: AppContext, client: WebClient, respond: Respond) -> None:
    numbers = [parse_version(word) for word in req.args]
    bad = [word for word, n in zip(req.args, numbers, strict=True) if n is None]
    if bad or len(numbers) > 2:
        what = f"`{mrkdwn_escape(bad[0][:40])}` is not a version number. " if bad else ""
        respond(text=what + USAGE)
        return
    rows = team_versions(ctx.engine, team_id=req.team_id)
    drafts = [r for r in rows if not is_published(str(r.status), r.approved_at)]
    if drafts and not is_owner(req, ctx, client):
        named_draft = any(n in {r.version for r in drafts} for n in numbers)
        if named_draft:
            refuse_draft(req, ctx, client, respond, "compare ICP drafts (versions not approved yet)")
            return
        rows = [r for r in rows if r not in drafts]  # members compare the approved versions
    try:
        if len(numbers) == 2:
            before, after = pick_version(rows, numbers[0]), pick_version(rows, numbers[1])
        else:
            after = pick_version(rows, numbers[0] if numbers else None)
            earlier = [r for r in rows if r.version < after.version]
            if not earlier:
                respond(
                    text=NOTHING_TO_COMPARE
                    if len(rows) <= 1
                    else f"v{after.version} is the first version. " + USAGE
                )
                return
            before = max(earlier, key=lambda r: r.version)
        diff = diff_icps(load_icp(before), load_icp(after))
    except VersionNotFound as exc:
        said = mrkdwn_escape(str(exc))
        respond(text=f"{said[:1].upper()}{said[1:]}.")
        return
    except ICPError as exc:
        respond(
            text=f"A stored version cannot be read ({mrkdwn_escape(str(exc)[:200])}). Ask an ICP owner to re-draft it."
        )
        return
    respond(
        text=diff_text(diff, before=before.version, after=after.version),
        blocks=diff_blocks(diff, before=before.version, after=after.version),
    )
