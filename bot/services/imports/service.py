"""CRM import: one CSV file of accounts, deals or customer health into one workspace, all or nothing.

A half-imported file would leave statistics that describe no real state of the CRM, so a file
with any rejected row writes nothing unless the caller asks to skip bad rows, and the write
(workspace, rows, import run, audit entry) is one transaction. Accounts files are checked in
passes over batches of a few megabytes, then written a batch at a time (``account_rows``: the
memory an import needs stays bounded at any file size); health files are read and checked in full
before anything is written. Deals files (the big ones: millions of rows) are streamed instead: read once to check the file as a whole, then read again and written
row by row inside the transaction, which is rolled back when a rejected row turns up (writing
stops at the first one unless bad rows are skipped). Rows are upserted by CRM id, so importing
the same file again changes nothing and says so, naming the earlier run. Deals and health rows
are joined to the accounts already stored in the workspace (by account id, else by company
name), so accounts are imported first.

The functions never raise for bad input: the returned ``ImportSummary`` says what happened.
"""

from __future__ import annotations

import functools
import gc
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, TypeVar

from bot.services.imports.account_rows import AccountRows, read_accounts_for_import
from bot.services.imports.deal_columns import DealColumns, deal_rows
from bot.services.imports.rows import (
    DealRows,
    Prepared,
    RowRejectedError,
    Tally,
    prepare_account_table,
    prepare_health,
    stored_account_rows,
)
from bot.store.db import Engine, Session, SQLAlchemyError, driver_message, read_scope, session_scope
from bot.store.models import ImportKind, ImportRunCreate, ImportStatus, Workspace
from bot.store.models.base import SLACK_ID
from bot.store.repo import StoreError, UpsertCounts
from bot.store.repo._bulk import DEFAULT_CHUNK_SIZE
from bot.store.repo.audit import append_audit
from bot.store.repo.crm import (
    bulk_upsert_accounts,
    bulk_upsert_deals,
    bulk_upsert_health,
    has_accounts,
    list_account_names,
)
from bot.store.repo.imports import (
    MAX_STORED_ERRORS,
    file_checksum,
    find_import_by_checksum,
    finish_import_run,
    start_import_run,
)
from bot.store.repo.workspaces import get_or_create_workspace, get_workspace
from icp_engine.normalize import ValueMapping
from icp_engine.readers import (
    AccountRow,
    AccountStream,
    AccountTable,
    CsvFormatError,
    DealStream,
    ReadResult,
    RowError,
    join_health,
    read_health,
)

__all__ = [
    "AUDIT_ACTION",
    "ImportJob",
    "ImportSummary",
    "PreviousImport",
    "import_accounts",
    "import_deals",
    "import_health",
]

AUDIT_ACTION = "crm.import"
MAX_LISTED_ERRORS = 1_000  # per summary document; the counts always cover every row

Status = Literal["imported", "unchanged", "rejected", "failed"]
RowT = TypeVar("RowT")
_NOUNS = {
    ImportKind.accounts: ("account", "accounts"),
    ImportKind.deals: ("deal", "deals"),
    ImportKind.health: ("health record", "health records"),
}


@dataclass(frozen=True)
class PreviousImport:
    """An earlier successful import of the same file (same sha256) into the same workspace."""

    run_id: int
    imported_at: datetime

    def __str__(self) -> str:
        return f"on {self.imported_at:%Y-%m-%d %H:%M} UTC (run #{self.run_id})"


@dataclass
class ImportSummary:
    """What one import did: counts, every rejected row, data-quality findings and value mappings.

    ``status``: imported (written), unchanged (a repeat that changed nothing; nothing written),
    rejected (bad rows, nothing written), failed (the file or the database could not be used).
    """

    kind: str
    file: str
    workspace: str
    status: Status = "failed"
    message: str = ""
    rows: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    import_run_id: int | None = None
    checksum: str | None = None
    previous: PreviousImport | None = None
    errors: list[RowError] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    mappings: list[tuple[ValueMapping, int]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status in ("imported", "unchanged")

    def mapping_lines(self) -> list[str]:
        """'industry: 'technolgy' -> 'technology' (fuzzy 95, 12 rows)', one per mapping."""
        return [mapping.describe(rows) for mapping, rows in self.mappings]

    def to_dict(self, *, max_errors: int = MAX_LISTED_ERRORS) -> dict[str, Any]:
        """One stable JSON-ready document (every key always present)."""
        return {
            "ok": self.ok,
            "status": self.status,
            "message": self.message,
            "kind": self.kind,
            "file": self.file,
            "workspace": self.workspace,
            "rows": self.rows,
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "import_run_id": self.import_run_id,
            "checksum": self.checksum,
            "previous_import": None
            if self.previous is None
            else {"run_id": self.previous.run_id, "imported_at": self.previous.imported_at.isoformat()},
            "errors": [
                {"file": e.file, "line": e.line, "column": e.column, "reason": e.reason, "message": str(e)}
                for e in self.errors[:max_errors]
            ],
            "errors_omitted": max(0, len(self.errors) - max_errors),
            "findings": list(self.findings),
            "mappings": [
                {
                    "field": m.field,
                    "raw": m.raw,
                    "value": list(m.value) if isinstance(m.value, tuple) else m.value,
                    "method": m.method,
                    "score": m.score,
                    "rows": rows,
                    "text": m.describe(rows),
                }
                for m, rows in self.mappings
            ],
        }


class _Stop(Exception):
    """Ends the unit of work early; everything in it is rolled back."""


class _Failed(Exception):
    """The import cannot go on; the message names the file and what to do."""


# checked rows held in memory, a file checked in passes and written a batch at a time, or one checked
# while it is written
Rows = Prepared[Any] | AccountRows | DealRows | DealColumns
Reader = Callable[..., Any]  # a ReadResult, or a DealStream for deals
Preparer = Callable[[Session, int, Any], Rows]
Upserter = Callable[..., UpsertCounts]
OnProgress = Callable[[int, int | None], None]  # (rows stored so far, rows to store or None)
PROGRESS_EVERY = 1_000  # rows between two progress reports: a report costs far more than a row


@dataclass(frozen=True, slots=True)
class ImportJob:
    """One file to import and how: what each entry point hands to the steps they share.

    ``read`` parses the file, ``prepare`` checks its rows against what the workspace stores and
    ``upsert`` writes them; the rest is what the caller asked for. ``within``: a caller's open unit
    of work (a CRM sync applies several staged files in one transaction); the import then checks
    and writes inside it, in a savepoint, and the caller commits.
    """

    kind: ImportKind
    engine: Engine
    workspace: str
    path: Path
    overrides: Mapping[str, str] | None
    skip_bad_rows: bool
    actor: str
    chunk_size: int
    read: Reader
    prepare: Preparer
    upsert: Upserter
    on_progress: OnProgress | None = None
    within: Session | None = None


def import_accounts(
    *,
    engine: Engine,
    workspace: str,
    path: str | Path,
    overrides: Mapping[str, str] | None = None,
    skip_bad_rows: bool = False,
    actor: str = "cli",
    revenue_unit: float = 1.0,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    on_progress: OnProgress | None = None,
    within: Session | None = None,
) -> ImportSummary:
    """Import an accounts file; ``revenue_unit`` scales revenue given in, e.g., millions (1e6)."""
    return _import(
        ImportJob(
            kind=ImportKind.accounts,
            engine=engine,
            workspace=workspace,
            path=Path(path),
            overrides=overrides,
            skip_bad_rows=skip_bad_rows,
            actor=actor,
            chunk_size=chunk_size,
            read=read_accounts_for_import,  # a batch of records at a time: memory bounded at any size
            prepare=lambda _session, _ws, read: _prepared_accounts(read, revenue_unit),
            upsert=bulk_upsert_accounts,
            on_progress=on_progress,
            within=within,
        )
    )


def _prepared_accounts(read: AccountStream | AccountTable, revenue_unit: float) -> Rows:
    if isinstance(read, AccountStream):
        return AccountRows(read, revenue_unit=revenue_unit)
    return prepare_account_table(read, revenue_unit=revenue_unit)


def import_deals(
    *,
    engine: Engine,
    workspace: str,
    path: str | Path,
    overrides: Mapping[str, str] | None = None,
    skip_bad_rows: bool = False,
    actor: str = "cli",
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    on_progress: OnProgress | None = None,
    columnwise: bool = True,
    within: Session | None = None,
) -> ImportSummary:
    """Import a deals file, each deal joined to a stored account of the workspace (or to none).

    Deals files are the big ones (millions of rows), so they are streamed: the file is read once
    to check its format and settle its date formats, then read again and written row by row in
    the one transaction, which is rolled back if any row turns out to be rejected. A file without
    any problem is typed and written column-wise instead (``deal_columns``), with the same result;
    ``columnwise=False`` sends every file the row path (the reference the tests compare with).
    """

    def prepare(session: Session, workspace_id: int, stream: DealStream) -> Rows:
        return deal_rows(
            stream, list_account_names(session, workspace_id=workspace_id), columnwise=columnwise
        )

    return _import(
        ImportJob(
            kind=ImportKind.deals,
            engine=engine,
            workspace=workspace,
            path=Path(path),
            overrides=overrides,
            skip_bad_rows=skip_bad_rows,
            actor=actor,
            chunk_size=chunk_size,
            read=DealStream,
            prepare=prepare,
            upsert=bulk_upsert_deals,
            on_progress=on_progress,
            within=within,
        )
    )


def import_health(
    *,
    engine: Engine,
    workspace: str,
    path: str | Path,
    overrides: Mapping[str, str] | None = None,
    skip_bad_rows: bool = False,
    actor: str = "cli",
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    on_progress: OnProgress | None = None,
    within: Session | None = None,
) -> ImportSummary:
    """Import customer health, one row per stored account of the workspace."""

    def prepare(session: Session, workspace_id: int, read: ReadResult[Any]) -> Rows:
        stored = _stored_accounts(session, workspace_id)
        return prepare_health(read, join_health(stored, read), stored)

    return _import(
        ImportJob(
            kind=ImportKind.health,
            engine=engine,
            workspace=workspace,
            path=Path(path),
            overrides=overrides,
            skip_bad_rows=skip_bad_rows,
            actor=actor,
            chunk_size=chunk_size,
            read=read_health,
            prepare=prepare,
            upsert=bulk_upsert_health,
            on_progress=on_progress,
            within=within,
        )
    )


def _stored_accounts(session: Session, workspace_id: int) -> list[AccountRow]:
    return stored_account_rows(list_account_names(session, workspace_id=workspace_id))


def _workspace_problem(workspace: str) -> str | None:
    if not workspace.strip() or len(workspace) > SLACK_ID:
        return f"workspace id must be 1 to {SLACK_ID} characters, got '{workspace[:60]}'"
    return None


def _resolve_workspace(session: Session, kind: ImportKind, workspace: str, file: str) -> int:
    """Accounts create their workspace; deals and health need one that already has accounts."""
    found: Workspace | None
    if kind == ImportKind.accounts:
        found = get_or_create_workspace(session=session, slack_team_id=workspace)
    else:
        found = get_workspace(session=session, slack_team_id=workspace)
        if found is None or found.id is None or not has_accounts(session, workspace_id=found.id):
            raise _Failed(
                f"{file}: workspace '{workspace}' has no accounts yet; {_NOUNS[kind][1]} are joined to stored "
                f"accounts, so import the accounts first (icp import accounts FILE --workspace {workspace})"
            )
    assert found is not None and found.id is not None
    return found.id


def _db_message(file: str, exc: SQLAlchemyError) -> str:
    return f"{file}: the database refused the import ({driver_message(exc)[:300]}); nothing was imported"


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cycle collector for the length of an import (reference counting goes on).

    An import allocates millions of short-lived rows and creates no reference cycles, yet every
    few thousand rows the collector would walk every live object, the stored accounts included:
    a tenth of a million-row import. The pause is process-wide, so it is taken only on a
    process's main thread (``icp import``, the Slack import worker: processes that do nothing
    else); an import on any other thread (a server's) leaves the collector alone. The collector
    is put back on afterwards, unless it was off.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _import(job: ImportJob) -> ImportSummary:
    summary = ImportSummary(job.kind.value, job.path.name, job.workspace)
    problem = _workspace_problem(job.workspace)
    if problem is not None:
        summary.message = problem
        return summary
    with _cyclic_gc_paused():
        return _import_file(summary, job)


def _import_file(summary: ImportSummary, job: ImportJob) -> ImportSummary:
    path = job.path
    try:
        result = job.read(path, overrides=dict(job.overrides or {}))
    except CsvFormatError as exc:
        summary.message = str(exc)
        return summary
    try:
        # Checked first in a read-only transaction (no SQLite write lock while rows are checked:
        # other writers, such as the delivery ledger, go on meanwhile), then written in one.
        with _reading(job) as reading:
            found = (
                None
                if job.kind == ImportKind.accounts
                else _resolve_workspace(reading, job.kind, job.workspace, path.name)
            )
            rows = job.prepare(reading, found or 0, result)
            if rows.checked and _rejects(summary, rows.tally(), job.skip_bad_rows):
                raise _Stop
        with _writing(job) as session:
            workspace_id = _resolve_workspace(session, job.kind, job.workspace, path.name)
            _write(session, summary, job, workspace_id, rows)
    except _Stop:
        pass
    except _Failed as exc:
        summary.status, summary.message = "failed", str(exc)
    except CsvFormatError as exc:  # a streamed file that changed between its two reads
        _rolled_back(summary)
        summary.status, summary.message = "failed", f"{exc}; nothing was imported"
    except RowRejectedError as exc:
        _rolled_back(summary)
        summary.errors = sorted([*summary.errors, *exc.errors], key=lambda e: e.line)
        summary.rejected = len({e.line for e in summary.errors})
        _reject(summary)
    except SQLAlchemyError as exc:
        _rolled_back(summary)
        summary.status, summary.message = "failed", _db_message(path.name, exc)
    except (StoreError, OSError) as exc:
        _rolled_back(summary)
        summary.status, summary.message = "failed", f"{path.name}: {exc}; nothing was imported"
    return summary


@contextmanager
def _reading(job: ImportJob) -> Iterator[Session]:
    if job.within is not None:
        yield job.within
        return
    with read_scope(job.engine) as session:
        yield session


@contextmanager
def _writing(job: ImportJob) -> Iterator[Session]:
    """The import's own transaction, or a savepoint of the caller's: rolled back alike on error."""
    if job.within is None:
        with session_scope(job.engine) as session:
            yield session
        return
    with job.within.begin_nested():
        yield job.within


def _rolled_back(summary: ImportSummary) -> None:
    """Nothing of a failed write remains, so the summary must not report any of it."""
    summary.added = summary.updated = summary.unchanged = 0
    summary.import_run_id = None


def _rejects(summary: ImportSummary, tally: Tally, skip_bad_rows: bool) -> bool:
    """Record the counts; True (and the summary says so) when the file is not to be imported."""
    summary.errors = tally.errors
    summary.rows = tally.rows
    summary.rejected = tally.rejected
    summary.findings = list(tally.findings)
    summary.mappings = list(tally.mappings)
    if summary.rejected and (not skip_bad_rows or summary.rows == summary.rejected):
        _reject(summary)
        return True
    return False


def _reject(summary: ImportSummary) -> None:
    summary.status = "rejected"
    if summary.rows == 1:
        summary.message = f"{summary.file}: its only row was rejected; nothing was imported"
    elif summary.rejected >= summary.rows:
        summary.message = f"{summary.file}: all {summary.rows:,} rows rejected; nothing was imported"
    else:
        others = summary.rows - summary.rejected
        summary.message = (
            f"{summary.file}: {summary.rejected:,} of {summary.rows:,} rows rejected; nothing was "
            f"imported (fix them, or use --skip-bad-rows to import the other {others:,})"
        )


def _write(session: Session, summary: ImportSummary, job: ImportJob, workspace_id: int, rows: Rows) -> None:
    """Upsert the good rows and record the run.

    Rolled back (by raising _Stop) when rows checked during the write turn out to be rejected,
    and when a repeat changed nothing.
    """
    kind, path, actor = job.kind, job.path, job.actor
    checksum = file_checksum(path)
    previous = find_import_by_checksum(
        session=session, workspace_id=workspace_id, checksum=checksum, kind=kind
    )
    run = start_import_run(
        session=session,
        workspace_id=workspace_id,
        data=ImportRunCreate(
            kind=kind, filename=path.name[-1024:], checksum=checksum, started_by=actor[:SLACK_ID]
        ),
    )
    assert run.id is not None
    values = rows.values(stop_at_rejected=not job.skip_bad_rows)
    # distinct ids: a workspace without stored rows of the kind needs no digest looked up
    upsert = functools.partial(job.upsert, distinct_ids=True) if rows.distinct_ids else job.upsert
    try:
        counts = upsert(
            session=session,
            workspace_id=workspace_id,
            rows=values if job.on_progress is None else _counted(values, rows, job.on_progress),
            import_run_id=run.id,
            chunk_size=job.chunk_size,
        )
    finally:
        values.close()  # a streamed file is let go here, in this thread, even if the write failed
    if _rejects(summary, rows.tally(), job.skip_bad_rows):
        raise _Stop
    summary.checksum = checksum
    if previous is not None and previous.id is not None:
        summary.previous = PreviousImport(previous.id, previous.finished_at or previous.started_at)
    summary.added, summary.updated, summary.unchanged = counts.added, counts.updated, counts.unchanged
    if summary.previous is not None and counts.added == counts.updated == 0:
        summary.status = "unchanged"
        summary.import_run_id = summary.previous.run_id
        summary.message = f"{summary.file}: already imported {summary.previous}: nothing changed"
        raise _Stop
    finish_import_run(
        session=session,
        workspace_id=workspace_id,
        import_run_id=run.id,
        status=ImportStatus.succeeded,
        rows_total=summary.rows,
        rows_rejected=summary.rejected,
        counts=counts,
        errors=_stored_errors(summary.errors[:MAX_STORED_ERRORS]),
    )
    append_audit(
        session=session,
        workspace_id=workspace_id,
        actor=actor,
        action=AUDIT_ACTION,
        target_type="import_run",
        target_id=run.id,
        details={
            "kind": kind.value,
            "file": path.name,
            "checksum": checksum,
            "rows": summary.rows,
            "added": counts.added,
            "updated": counts.updated,
            "unchanged": counts.unchanged,
            "rejected": summary.rejected,
        },
    )
    summary.status, summary.import_run_id = "imported", run.id
    accepted = summary.rows - summary.rejected
    summary.message = (
        f"{summary.file}: imported {accepted:,} {_NOUNS[kind][accepted != 1]} into workspace "
        f"'{summary.workspace}' (run #{run.id}): {counts.added:,} added, {counts.updated:,} updated, "
        f"{counts.unchanged:,} unchanged, {summary.rejected:,} rejected"
    )
    if summary.previous is not None:
        summary.message += f"; this file was imported before, {summary.previous}"


def _counted(values: Iterator[Any], rows: Rows, report: OnProgress) -> Iterator[Any]:
    """The rows as they go to the database, counted for a progress display.

    The total is the rows that passed the check, or (streamed deals, checked while written) the
    records in the file, an upper bound.
    """
    total = rows.stream.records if isinstance(rows, DealRows) else rows.accepted
    done = 0
    report(0, total)
    for done, row in enumerate(values, start=1):
        yield row
        if done % PROGRESS_EVERY == 0:
            report(done, total)
    report(done, total)


def _stored_errors(errors: Iterable[RowError]) -> list[dict[str, Any]]:
    return [{"row": e.line, "field": e.column, "message": str(e)} for e in errors]
