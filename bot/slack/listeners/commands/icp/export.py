"""``/icp export [vN] [pdf|md|html] [appendix]``: the one-page ICP document, uploaded to Slack.

``appendix`` adds the evidence, citations and backtest after the page. People are named by their
Slack display names (looked up with users.info when the store has none).

The approved version by default (else the newest draft, clearly marked as one), as a PDF unless
another format is named. The file is shared in the channel the command came from (in its
thread, if any); where the bot cannot post files it goes to the person's DM instead, and the
reply says where it went.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError

from bot.services.icp.access import is_published, without_quotes
from bot.services.icp.export import ExportError, Format, file_name, load_document, parse_format, render
from bot.services.icp.export.document import with_names
from bot.services.icp.versions import VersionNotFound, parse_version
from bot.slack.listeners.commands.icp.args import mrkdwn_escape
from bot.slack.listeners.commands.icp.drafts_access import is_owner, refuse_draft
from bot.slack.listeners.commands.icp.registry import SlashRequest, subcommand
from bot.slack.messaging.share import CANNOT_POST_HERE, post_or_reply_privately
from bot.slack.names import slack_names
from icp_engine.model import ICPError

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.services.icp.export import ExportDocument
    from bot.slack.context import AppContext
    from bot.slack.listeners.commands.icp.registry import Respond

log = logging.getLogger(__name__)

USAGE = (
    "Usage: `/icp export [vN] [pdf|md|html] [appendix]`, e.g. `/icp export`, `/icp export v2 md`, "
    "`/icp export appendix`."
)
APPENDIX_WORDS = frozenset({"appendix", "--appendix", "full"})
NO_ICP = "There is no ICP to export yet: `/icp draft` proposes a first version."
FORMAT_NAMES = {"pdf": "PDF", "md": "Markdown", "html": "HTML"}


def parse_export_args(words: list[str]) -> tuple[int | None, Format] | str:
    """(version or None, format), or the message explaining the word that is wrong
    (``appendix`` is read by :func:`wants_appendix`)."""
    version: int | None = None
    fmt: Format | None = None
    for word in words:
        if word.lower() in APPENDIX_WORDS:
            continue
        as_version = parse_version(word)
        as_format = parse_format(word)
        if as_version is not None and version is None:
            version = as_version
        elif as_format is not None and fmt is None:
            fmt = as_format
        else:
            return f"`{mrkdwn_escape(word[:40])}` is neither a version nor a format. {USAGE}"
    return version, fmt or "pdf"


def wants_appendix(words: list[str]) -> bool:
    return any(word.lower() in APPENDIX_WORDS for word in words)


@subcommand(
    "export",
    summary="Export the ICP as a one-page PDF (or Markdown/HTML) document, uploaded here.",
    usage="export [vN] [pdf|md|html] [appendix]",
    examples=("export", "export v2 md", "export appendix"),
    owner_only=False,
)
def export_command(req: SlashRequest, ctx: AppContext, client: WebClient, respond: Respond) -> None:
    parsed = parse_export_args(req.args)
    if isinstance(parsed, str):
        respond(text=parsed)
        return
    version, fmt = parsed
    try:
        doc = load_document(ctx.engine, team_id=req.team_id, version=version)
        owner = is_owner(req, ctx, client)
        if not owner and not is_published(doc.status, doc.approved_at):
            refuse_draft(req, ctx, client, respond, "export ICP drafts (versions not approved yet)")
            return
        if not owner:  # verbatim interview quotes are for owners; the file lands in a channel
            doc = replace(doc, evidence=without_quotes(doc.evidence))
        doc = with_names(doc, slack_names(client, (doc.owner, doc.approver), known=dict(doc.people)))
        data = render(doc, fmt, appendix=wants_appendix(req.args))
    except VersionNotFound as exc:
        text = mrkdwn_escape(str(exc))
        respond(text=NO_ICP if "no ICP yet" in text else f"{text[:1].upper()}{text[1:]}.")
        return
    except (ICPError, ExportError) as exc:
        respond(text=f"I could not export that version: {mrkdwn_escape(str(exc)[:300])}")
        return
    where = _upload(client, req, doc, fmt, data)
    if where is None:
        respond(text="Slack did not accept the upload; please try again in a minute.")
        return
    respond(
        text=f"Exported ICP v{doc.version} ({doc.status.replace('_', ' ')}) as {FORMAT_NAMES[fmt]}: "
        f"`{file_name(doc, fmt)}`, {where}."
    )


def _upload(
    client: WebClient, req: SlashRequest, doc: ExportDocument, fmt: Format, data: bytes
) -> str | None:
    """Share the file in the channel, else in the person's DM; where it went, or None."""
    name = file_name(doc, fmt)
    title = f"{doc.title} (v{doc.version})"
    comment = f"<@{req.user_id}> exported ICP v{doc.version}: {doc.approval_line()}."

    def in_channel() -> str:
        client.files_upload_v2(
            channel=req.channel_id,
            content=data,
            filename=name,
            title=title,
            initial_comment=comment,
            thread_ts=req.thread_ts,
        )
        return "shared in this channel"

    def by_dm(_error: str) -> str:
        dm = client.conversations_open(users=req.user_id)["channel"]["id"]
        client.files_upload_v2(channel=dm, content=data, filename=name, title=title, initial_comment=comment)
        return "sent to you in a direct message (I cannot post files in this channel)"

    try:
        return post_or_reply_privately(
            in_channel, by_dm, channel=req.channel_id, what="the export", only_for=CANNOT_POST_HERE
        )
    except SlackApiError as exc:
        log.warning("export upload failed: %s", exc.response.get("error") or exc)
        return None
