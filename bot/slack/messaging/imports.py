"""A CSV shared with the bot in a DM, imported with the same rules as ``icp import``.

The flow for one shared file: only ICP owners may import (others get the polite refusal); the
file must be a CSV within the size cap and downloadable from Slack itself; what it holds
(accounts, deals or customer health) comes from the comment or the file name
(``bot/services/imports/kinds.py``), else the bot asks with buttons; "skip bad rows" in the
comment (or the button on a rejected file) imports the good rows. The import is the CLI's
service, all or nothing, run in a worker process (``import_worker``) so the server keeps acking,
on the workspace whose Slack team id shared the file; after a write the
workspace's statistic summaries are regenerated. The answer goes to the DM, in the upload's
thread when known. Whatever happens, the person gets a sentence, never a trace.

Slack sends both a ``message`` (subtype ``file_share``) and a ``file_shared`` event for one
upload, and may redeliver either: ``import_shared`` claims the file (``upload_claims``) so that
exactly one of them imports it, and a replica's crash only holds the file for a short lease.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from bot.services.imports.kinds import detect_kind, wants_skip_bad_rows
from bot.services.imports.service import ImportSummary
from bot.slack.delivery import DeliveryLedger
from bot.slack.failures import report_failure, with_reference
from bot.slack.messaging.files import (
    MAX_DOWNLOAD_BYTES,
    FileProblem,
    SlackFile,
    check_downloadable,
    file_info,
)
from bot.slack.messaging.import_worker import (
    ImportOrder,
    Statistics,
    WorkerAnswer,
    download_and_import,
    import_in_worker,
    problem_text,
    shareable_url,
)
from bot.slack.messaging.import_worker import safe_file_name as safe_file_name  # named here by tests
from bot.slack.messaging.interviews import post_message
from bot.slack.messaging.upload_claims import UploadClaim, claim_file
from bot.slack.people import owner_rules
from bot.slack.views.import_summary import (
    ImportTarget,
    importing_note,
    kind_question,
    not_csv_text,
    note,
    problem_message,
    result_message,
)
from bot.slack.views.interview import SlackMessage

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.slack.context import AppContext

log = logging.getLogger(__name__)

SORRY = (
    "Sorry, something went wrong with that import. Please try again in a minute; an import either "
    "happens in full or not at all."
)
_SLACK_ID = re.compile(r"^[A-Z][A-Z0-9]{1,40}$")
_TS = re.compile(r"^\d{1,12}\.\d{1,9}$")


@dataclass(frozen=True, slots=True)
class Upload:
    """One file to import, as plain values (listeners turn Slack payloads into this)."""

    team_id: str
    user_id: str
    channel_id: str
    file_id: str
    text: str = ""
    thread_ts: str | None = None
    kind: str | None = None  # chosen with a button; else read from the comment or the name
    skip_bad_rows: bool | None = None  # from a button; else read from the comment


def make_upload(
    *,
    team_id: object,
    user_id: object,
    channel_id: object,
    file_id: object,
    text: object = "",
    thread_ts: object = None,
) -> Upload | None:
    """An ``Upload`` when every id looks like Slack's and the channel is a DM; else None."""
    ids = (team_id, user_id, channel_id, file_id)
    if not all(isinstance(v, str) and _SLACK_ID.match(v) for v in ids):
        return None
    assert isinstance(channel_id, str) and isinstance(file_id, str)
    if not channel_id.startswith("D") or not file_id.startswith("F"):
        return None
    thread = thread_ts if isinstance(thread_ts, str) and _TS.match(thread_ts) else None
    return Upload(
        str(team_id), str(user_id), channel_id, file_id, text if isinstance(text, str) else "", thread
    )


def import_shared(
    *, ctx: AppContext, client: WebClient, ledger: DeliveryLedger, upload: Upload
) -> str | None:
    """Claim the file and import it (``process_upload``); None when another event or replica has it."""
    claim = claim_file(
        ledger,
        team_id=upload.team_id,
        file_id=upload.file_id,
        lease_seconds=ctx.settings.import_claim_seconds,
    )
    if claim is None:
        log.info("file %s of team %s is already being imported", upload.file_id, upload.team_id)
        return None
    with claim.kept(ctx.engine):
        outcome = process_upload(ctx=ctx, client=client, upload=upload, claim=claim)
    claim.settle(ctx.engine, outcome=outcome)
    return outcome


def process_upload(
    *,
    ctx: AppContext,
    client: WebClient,
    upload: Upload,
    announce: bool = True,
    claim: UploadClaim | None = None,
) -> str:
    """Import one shared file and answer in the DM; returns what happened (for logs and tests).

    Outcomes: refused, unavailable, not_csv, asked, download_failed, failed (unexpected), or the
    import status (imported, unchanged, rejected, failed).
    """
    say = _Sayer(client, upload.channel_id, upload.thread_ts)
    try:
        return _process(ctx, client, upload, say, announce, claim)
    except Exception:  # a file event has no response_url: only this can tell the person
        if claim is not None:  # released first: the apology says "try again", which must then work
            claim.release(ctx.engine)
        report_failure(
            f"import of file {upload.file_id} for team {upload.team_id}",
            apologise=lambda reference: say(note(with_reference(SORRY, reference))),
        )
        return "failed"


@dataclass
class _Sayer:
    """Posts to the DM, in the upload's thread once it is known."""

    client: WebClient
    channel: str
    thread_ts: str | None

    def __call__(self, message: SlackMessage) -> None:
        post_message(self.client, channel=self.channel, message=message, thread_ts=self.thread_ts)


def _process(
    ctx: AppContext, client: WebClient, upload: Upload, say: _Sayer, announce: bool, claim: UploadClaim | None
) -> str:
    owners = owner_rules(ctx, client)
    if not owners.is_owner(team_id=upload.team_id, user_id=upload.user_id):
        say(note(owners.refusal(team_id=upload.team_id, action="import data")))
        return "refused"
    try:
        file = file_info(client, upload.file_id)
    except FileProblem as problem:
        say(note(str(problem)))
        return "unavailable"
    say.thread_ts = upload.thread_ts or file.share_ts.get(upload.channel_id)
    if not file.is_csv:
        say(note(not_csv_text(file_name=file.name, filetype=file.filetype)))
        return "not_csv"
    kind = upload.kind or detect_kind(file.name, upload.text)
    skip = upload.skip_bad_rows if upload.skip_bad_rows is not None else wants_skip_bad_rows(upload.text)
    target = ImportTarget(file.id, kind, skip, say.thread_ts)
    try:
        check_downloadable(client, file, max_bytes=MAX_DOWNLOAD_BYTES)
    except FileProblem as problem:
        say(note(str(problem)))
        return "unavailable"
    if kind is None:
        say(kind_question(file_name=file.name, target=target))
        return "asked"
    if announce:
        say(importing_note(file_name=file.name, kind=kind, skip_bad_rows=skip))
    summary, documents, announcing = _import_file(ctx, client, upload, file, kind, target, claim)
    if isinstance(summary, FileProblem):
        announcing()
        say(problem_message(str(summary), target=target))
        return "download_failed"
    ctx.metrics.import_rows.labels(kind, summary.status).inc(summary.rows)  # rows, by how the file ended
    statistics = (
        _regenerate_statistics(ctx, upload.team_id, documents) if summary.status == "imported" else None
    )
    announcing()  # from here the summary is this server's to post, not its worker's
    say(result_message(summary, target=target, statistics=statistics))
    log.info("import of %s (%s) for team %s: %s", file.id, kind, upload.team_id, summary.status)
    return summary.status


def _import_file(
    ctx: AppContext,
    client: WebClient,
    upload: Upload,
    file: SlackFile,
    kind: str,
    target: ImportTarget,
    claim: UploadClaim | None,
) -> tuple[ImportSummary | FileProblem, Statistics, Callable[[], None]]:
    """Download and import in a worker process (see ``import_worker``), or here when it cannot;
    the answer, the statistic documents, and what to call just before posting the summary."""
    skip = target.skip_bad_rows
    url = shareable_url(ctx.engine) if ctx.settings.import_processes else None
    if url is None:
        answer = download_and_import(
            engine=ctx.engine, client=client, team_id=upload.team_id, user_id=upload.user_id,
            file=file, kind=kind, skip=skip,
        )  # fmt: skip
        return answer, None, _nothing
    order = ImportOrder(
        ctx.settings, url, client.token, upload.team_id, upload.user_id, file, kind, skip,
        channel_id=upload.channel_id, thread_ts=target.thread_ts, claim=claim,
    )  # fmt: skip
    worker: WorkerAnswer = import_in_worker(order)
    return worker.summary, worker.statistics, worker.announcing


def _nothing() -> None:
    """Nobody else could post the summary of an import run here."""


def _regenerate_statistics(ctx: AppContext, team_id: str, documents: Statistics) -> int | str:
    """The workspace's statistic summaries, rebuilt after a write: how many, or why not.

    ``documents`` are the summaries a worker computed (a string: why it could not); None means
    they are computed here.
    """
    from bot.services.knowledge.sync import replace_statistics, workspace_statistics

    if isinstance(documents, str):
        return documents
    try:
        knowledge = ctx.knowledge
        if knowledge is None:
            return "no knowledge store is configured"
        docs = workspace_statistics(engine=ctx.engine, workspace=team_id) if documents is None else documents
        return replace_statistics(knowledge=knowledge, workspace=team_id, docs=docs)
    except Exception as exc:  # the import is committed; the summaries can be rebuilt later
        log.exception("statistics for team %s not regenerated", team_id)
        return problem_text(exc)


def with_choice(upload: Upload, target: ImportTarget) -> Upload:
    """The upload a button asks for: its kind, its skip-bad-rows choice, its thread."""
    return replace(
        upload,
        kind=target.kind,
        skip_bad_rows=target.skip_bad_rows,
        thread_ts=target.thread_ts or upload.thread_ts,
    )
