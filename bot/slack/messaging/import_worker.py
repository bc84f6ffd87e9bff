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
``icp import`` and sends the summary (or the download problem) back. Everything the person sees
is then posted by the server exactly as before. A worker that dies answers nothing: the wait
ends with :class:`WorkerLost` and the person gets the usual apology with a reference.
An in-memory SQLite database cannot be shared with another process; its imports run in place.
"""

from __future__ import annotations

import logging
import multiprocessing
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, TypeAlias

from bot.services.imports.service import ImportSummary, import_accounts, import_deals, import_health
from bot.slack.messaging.files import MAX_DOWNLOAD_BYTES, FileProblem, SlackFile, download

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.knowledge.store import Document
    from bot.settings import Settings
    from bot.store.db import Engine

log = logging.getLogger(__name__)

Importer = Callable[..., "ImportSummary"]
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]")

_SPAWN = multiprocessing.get_context("spawn")  # never fork a threaded server


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


def import_in_worker(order: ImportOrder) -> tuple[ImportSummary | FileProblem, Statistics]:
    """Run ``order`` in a new worker process and wait for its answer (this thread only)."""
    reader, writer = _SPAWN.Pipe(duplex=False)
    process = _SPAWN.Process(target=_worker_main, args=(order, writer), name="icp-import-worker", daemon=True)
    process.start()
    writer.close()  # only the worker's copy stays open: its end means no answer is coming
    try:
        answer: tuple[ImportSummary | FileProblem, Statistics] = reader.recv()
    except (EOFError, OSError):
        process.join(5.0)
        raise WorkerLost(
            f"the import worker ended without an answer (exit code {process.exitcode})"
        ) from None
    finally:
        reader.close()
    process.join(30.0)
    return answer


def _worker_main(order: ImportOrder, pipe: Connection) -> None:
    """In the worker: download, import, answer; any crash just closes the pipe."""
    from bot.slack.client import make_client
    from bot.store.db import make_engine

    engine = make_engine(order.database_url)
    try:
        client: WebClient = make_client(order.settings, order.token)
        answer = download_and_import(
            engine=engine,
            client=client,
            team_id=order.team_id,
            user_id=order.user_id,
            file=order.file,
            kind=order.kind,
            skip=order.skip_bad_rows,
        )
        pipe.send((answer, _statistics(engine, order.team_id, answer)))
    finally:
        pipe.close()
        engine.dispose()


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
