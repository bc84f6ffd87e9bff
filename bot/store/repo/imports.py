"""Import runs: one row per CRM file imported, with its sha256 so a repeat is recognised."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from bot.store.models import ImportKind, ImportRun, ImportRunCreate, ImportStatus
from bot.store.repo._bulk import UpsertCounts
from bot.store.repo._sql import get_scoped
from bot.store.repo.errors import InvalidTransitionError
from bot.store.types import utcnow

MAX_STORED_ERRORS = 1_000


def file_checksum(path: str | Path, *, block_size: int = 1 << 20) -> str:
    """sha256 of a file's bytes, hex (streamed: fine for large exports)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while block := handle.read(block_size):
            digest.update(block)
    return digest.hexdigest()


def start_import_run(*, session: Session, workspace_id: int, data: ImportRunCreate) -> ImportRun:
    row = ImportRun.model_validate(data, update={"workspace_id": workspace_id})
    session.add(row)
    session.flush()
    return row


def finish_import_run(
    *,
    session: Session,
    workspace_id: int,
    import_run_id: int,
    status: ImportStatus,
    rows_total: int,
    rows_rejected: int,
    counts: UpsertCounts | None = None,
    errors: Sequence[dict[str, Any]] = (),
) -> ImportRun:
    """Record the outcome; errors beyond ``MAX_STORED_ERRORS`` are counted, not stored."""
    if status == ImportStatus.running:
        raise InvalidTransitionError("an import run is finished as succeeded or failed, not running")
    row = get_scoped(session, ImportRun, workspace_id=workspace_id, row_id=import_run_id)
    if row.status != ImportStatus.running:
        raise InvalidTransitionError(f"import run {import_run_id} already finished as {row.status.value}")
    counts = counts or UpsertCounts()
    row.status = status
    row.rows_total = rows_total
    row.rows_rejected = rows_rejected
    row.rows_accepted = rows_total - rows_rejected
    row.rows_added, row.rows_updated, row.rows_unchanged = counts.added, counts.updated, counts.unchanged
    row.errors = [dict(error) for error in errors[:MAX_STORED_ERRORS]]
    row.finished_at = utcnow()
    session.add(row)
    session.flush()
    return row


def get_import_run(*, session: Session, workspace_id: int, import_run_id: int) -> ImportRun:
    return get_scoped(session, ImportRun, workspace_id=workspace_id, row_id=import_run_id)


def find_import_by_checksum(
    *, session: Session, workspace_id: int, checksum: str, kind: ImportKind | None = None
) -> ImportRun | None:
    """The latest successful import of a file with this checksum, if the file was seen before."""
    query = select(ImportRun).where(
        ImportRun.workspace_id == workspace_id,
        ImportRun.checksum == checksum,
        ImportRun.status == ImportStatus.succeeded,
    )
    if kind is not None:
        query = query.where(ImportRun.kind == kind)
    return session.exec(query.order_by(col(ImportRun.id).desc())).first()


def list_import_runs(*, session: Session, workspace_id: int, limit: int = 20) -> list[ImportRun]:
    query = select(ImportRun).where(ImportRun.workspace_id == workspace_id)
    return list(session.exec(query.order_by(col(ImportRun.id).desc()).limit(limit)))


def latest_import_run(session: Session, *, workspace_id: int, kind: ImportKind) -> ImportRun | None:
    """The newest run of this kind, whatever its status (still running, failed or succeeded)."""
    query = select(ImportRun).where(ImportRun.workspace_id == workspace_id, ImportRun.kind == kind)
    return session.exec(query.order_by(col(ImportRun.id).desc())).first()
