"""A shared CSV downloaded and imported in a worker process, so an import never stalls an ack.

Why: an import is seconds to minutes of CPU and one long write transaction. In the server
process it would hold the GIL that every ack needs, pause the cyclic garbage collector for the
whole process (the service does that for speed) and grow the server's memory with the file. In
its own process (spawned, never forked from a threaded server) it runs beside the server: the
operating system schedules the mostly idle server first, the garbage-collector pause and the
memory are the worker's alone and end with it.

The server's thread that handled the upload sends the job (plain values: ids, URL, kind, the
app's Settings, the database URL and the bot token, over a pipe, never on a command line) and
waits on the pipe, holding no lock and no GIL; the worker builds its own engine and Web API
client, downloads the file into a private temporary folder, imports it with the same service as
``icp import`` (renewing the upload's claim meanwhile, see ``upload_claims``) and sends the summary
(or the download problem) back. The server then stores the statistics, says on the pipe that it
is posting the summary, and posts it. A worker whose server died first (a replica killed mid-
import: the worker outlives it) sees the pipe close without that word and posts the summary
itself, so it is posted once: by the server after it said so, or else by the worker. (A server
killed between saying so and posting leaves the summary unposted; the import itself is complete.)
A worker that dies answers nothing: the wait ends with :class:`WorkerLost` and the person gets the
usual apology with a reference.
An in-memory SQLite database cannot be shared with another process; its imports run in place.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import re
import tempfile
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, TypeAlias

from bot.services.imports.service import ImportSummary, import_accounts, import_deals, import_health
from bot.slack.messaging.files import MAX_DOWNLOAD_BYTES, FileProblem, SlackFile, download
from bot.slack.messaging.upload_claims import UploadClaim
from bot.slack.views.import_summary import ImportTarget, problem_message, result_message

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.knowledge.store import Document
    from bot.settings import Settings
    from bot.store.db import Engine

log = logging.getLogger(__name__)

Importer = Callable[..., "ImportSummary"]
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]")

_SPAWN = multiprocessing.get_context("spawn")  # never fork a threaded server
ANNOUNCING = "announcing"  # the server's word to its worker: the summary is mine to post
ORPHANED = "the replica that started this import stopped before storing them"


# The statistic documents a worker computed after a write (the server stores them in its knowledge
# store, which a second process must not open), why it could not, or None (nothing written).
Statistics: TypeAlias = "list[Document] | str | None"


class WorkerLost(RuntimeError):
    """The import worker ended without an answer (killed, or out of memory)."""


@dataclass(frozen=True)
class ImportOrder:
    """What a worker needs to import one shared file: plain, picklable values."""

    settings: Settings
    database_url: str
    token: str | None
    team_id: str
    user_id: str
    file: SlackFile
    kind: str
    skip_bad_rows: bool
    channel_id: str = ""  # where the summary goes if the worker has to post it itself
    thread_ts: str | None = None
    claim: UploadClaim | None = None  # renewed by the worker while it imports


@dataclass
class WorkerAnswer:
    """A worker's answer, and the pipe on which the server says it will post the summary."""

    summary: ImportSummary | FileProblem
    statistics: Statistics
    pipe: Connection
    process: BaseProcess

    def announcing(self) -> None:
        """Tell the worker this server posts the summary now (else the worker posts it when the
        pipe closes); the worker then ends."""
        try:
            self.pipe.send(ANNOUNCING)
        except OSError:  # the worker is gone already: nobody else would post it
            pass
        finally:
            self.pipe.close()
            self.process.join(30.0)


def shareable_url(engine: Engine) -> str | None:
    """The database URL another process can open, or None (in-memory SQLite)."""
    url = engine.url
    if url.get_backend_name() == "sqlite" and (
        url.database in (None, "", ":memory:") or "mode=memory" in str(url)
    ):
        return None
    return url.render_as_string(hide_password=False)


def problem_text(exc: BaseException) -> str:
    """One line saying what went wrong, for the summary (never a trace)."""
    return " ".join(str(exc).split())[:200] or type(exc).__name__


def import_in_worker(order: ImportOrder) -> WorkerAnswer:
    """Run ``order`` in a new worker process and wait for its answer (this thread only); the
    caller must call ``announcing`` on the answer just before it posts the summary."""
    mine, theirs = _SPAWN.Pipe(duplex=True)
    process = _SPAWN.Process(target=_worker_main, args=(order, theirs), name="icp-import-worker", daemon=True)
    process.start()
    theirs.close()  # only the worker's copy stays open: its end means no answer is coming
    try:
        summary, statistics, peaks = mine.recv()
    except (EOFError, OSError):
        mine.close()
        process.join(5.0)
        raise WorkerLost(
            f"the import worker ended without an answer (exit code {process.exitcode})"
        ) from None
    if peaks is not None:
        log.info(
            "import worker for %s: peak memory %d MB during the import, %d MB during the statistics",
            order.file.id, peaks[0] // 1_000_000, peaks[1] // 1_000_000,
        )  # fmt: skip
    return WorkerAnswer(summary, statistics, mine, process)


WORKER_NICENESS = 10  # added to the worker's nice value: the server's acks come first on a busy CPU


def _yield_cpu_to_server() -> None:
    """Lower this worker's CPU priority: on a machine with few cores the import would otherwise
    take its equal share from the server, and every ack waits for a core (issue 16)."""
    try:
        os.nice(WORKER_NICENESS)
    except OSError:  # not allowed here: the import runs at the server's priority
        log.info("the import worker's priority could not be lowered")


def _worker_main(order: ImportOrder, pipe: Connection) -> None:
    """In the worker: download, import, answer; any crash just closes the pipe."""
    from bot.slack.client import make_client
    from bot.store.db import make_engine

    _yield_cpu_to_server()
    engine = make_engine(order.database_url)
    try:
        client: WebClient = make_client(order.settings, order.token)
        lease: AbstractContextManager[None] = order.claim.kept(engine) if order.claim else nullcontext()
        with lease:
            answer = download_and_import(
                engine=engine,
                client=client,
                team_id=order.team_id,
                user_id=order.user_id,
                file=order.file,
                kind=order.kind,
                skip=order.skip_bad_rows,
            )
            importing = _peak_memory_since_start()
            statistics = _statistics(engine, order.team_id, answer)
            summing = _peak_memory_since_start()
            peaks = None if importing is None or summing is None else (importing, summing)
            try:
                pipe.send((answer, statistics, peaks))
                pipe.recv()  # ANNOUNCING: the server posts the summary
                orphaned = False
            except (EOFError, OSError):  # the server died before it said so: the person is told here
                orphaned = True
                _announce_orphaned(order, client, answer)
        if orphaned and order.claim is not None:
            outcome = answer.status if isinstance(answer, ImportSummary) else "download_failed"
            order.claim.settle(engine, outcome=outcome)
    finally:
        pipe.close()
        engine.dispose()


def _peak_memory_since_start() -> int | None:
    """This process's peak memory (bytes) since it started or since the last call; None if unknown.

    Why: the import's memory grows with the file (read a batch at a time, it stays within a few
    times the file); the statistics that follow read the whole workspace. The server logs the two
    apart (``benchmarks/import_acks.py`` reads them there).
    """
    status = Path("/proc/self/status")
    try:
        peak = next(
            int(line.split()[1]) * 1024
            for line in status.read_text().splitlines()
            if line.startswith("VmHWM:")
        )
        Path("/proc/self/clear_refs").write_text("5")  # the kernel's peak starts again from now
    except (OSError, StopIteration, ValueError):  # not Linux, or not allowed: nothing to report
        return None
    return peak


def _announce_orphaned(order: ImportOrder, client: WebClient, answer: ImportSummary | FileProblem) -> None:
    """In a worker whose server is gone: post the summary the server would have."""
    from bot.slack.messaging.interviews import post_message  # loads the vector store: only here

    target = ImportTarget(order.file.id, order.kind, order.skip_bad_rows, order.thread_ts)
    if isinstance(answer, FileProblem):
        message = problem_message(str(answer), target=target)
    else:  # the statistics stay unstored (they live in the server's knowledge store): say how to
        statistics = ORPHANED if answer.status == "imported" else None
        message = result_message(answer, target=target, statistics=statistics)
    log.warning("the server of import %s is gone; its worker posts the summary", order.file.id)
    post_message(client, channel=order.channel_id, message=message, thread_ts=order.thread_ts)


IMPORTERS: dict[str, Importer] = {"accounts": import_accounts, "deals": import_deals, "health": import_health}


def safe_file_name(name: str) -> str:
    """The shared file's base name, safe on disk; the import names rows by it (``x.csv line 3``)."""
    base = PurePosixPath(name.replace("\\", "/")).name
    base = _UNSAFE_NAME.sub("_", base).strip(" .")
    return base[-120:] or "upload.csv"


def _statistics(engine: Engine, team_id: str, answer: ImportSummary | FileProblem) -> Statistics:
    """In the worker: the statistic documents of the workspace after a write (CPU the server is spared)."""
    from bot.services.knowledge.sync import workspace_statistics

    if not isinstance(answer, ImportSummary) or answer.status != "imported":
        return None
    try:
        return workspace_statistics(engine=engine, workspace=team_id)
    except Exception as exc:  # the import is committed; the summaries can be rebuilt later
        log.exception("statistics for team %s not computed", team_id)
        return problem_text(exc)


def download_and_import(
    *, engine: Engine, client: WebClient, team_id: str, user_id: str, file: SlackFile, kind: str, skip: bool
) -> ImportSummary | FileProblem:
    """Download into a private temporary folder, import, and remove the copy whatever happens."""
    with tempfile.TemporaryDirectory(prefix="icp-import-") as folder:
        path = Path(folder) / safe_file_name(file.name)
        try:
            download(client, file, path, max_bytes=MAX_DOWNLOAD_BYTES)
        except FileProblem as problem:
            return problem
        return IMPORTERS[kind](
            engine=engine,
            workspace=team_id,
            path=path,
            overrides=None,
            skip_bad_rows=skip,
            actor=user_id,
        )
