"""The CRM connection of a workspace, its sync runs, and the scores written back.

Claims work as for reminders (``bot.store.repo.reminders``): one conditional UPDATE, so exactly
one replica runs a workspace's sync at a time. ``report_auth_failure`` is the same trick for the
"your token was refused" message: only the first caller after a failure gets True, so the owner
hears it once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, update
from sqlmodel import Session, col, select

from bot.store.models import CrmConnection, CrmScoreWritten, CrmSyncRun, SyncStatus, Workspace
from bot.store.repo._sql import get_scoped, insert_for, table_of
from bot.store.repo.crm import delete_by_crm_ids
from bot.store.repo.errors import InvalidTransitionError, NotFoundError
from bot.store.types import utcnow

WrittenScore = tuple[int, str, int]  # score, tier, ICP version


def get_connection(*, session: Session, workspace_id: int) -> CrmConnection | None:
    query = select(CrmConnection).where(CrmConnection.workspace_id == workspace_id)
    return session.exec(query).first()


def require_connection(*, session: Session, workspace_id: int) -> CrmConnection:
    found = get_connection(session=session, workspace_id=workspace_id)
    if found is None:
        raise NotFoundError(f"workspace {workspace_id} has no CRM connected")
    return found


def save_connection(
    *,
    session: Session,
    workspace_id: int,
    provider: str,
    credentials: str,
    label: str,
    actor: str,
    next_sync_at: datetime | None,
) -> CrmConnection:
    """Connect (or reconnect) the workspace's CRM; ``credentials`` is already a ciphertext.

    Reconnecting the same CRM keeps the cursors (the next sync stays incremental) and clears a
    refused token's state; connecting another CRM starts afresh (its ids are not the old ones).
    """
    now = utcnow()
    row = get_connection(session=session, workspace_id=workspace_id)
    if row is None or row.provider != provider:
        if row is not None:
            session.delete(row)
            session.exec(delete(CrmScoreWritten).where(col(CrmScoreWritten.workspace_id) == workspace_id))
            session.flush()
        row = CrmConnection(
            workspace_id=workspace_id, provider=provider, credentials=credentials, connected_by=actor
        )
    row.credentials, row.label, row.connected_by, row.connected_at = credentials, label[:255], actor, now
    row.auth_failed_at = row.auth_reported_at = None
    row.next_sync_at = next_sync_at
    row.updated_at = now
    session.add(row)
    session.flush()
    return row


def delete_connection(*, session: Session, workspace_id: int) -> bool:
    """Forget the connection (and what was written back): True if there was one."""
    session.exec(delete(CrmScoreWritten).where(col(CrmScoreWritten.workspace_id) == workspace_id))
    result = session.exec(delete(CrmConnection).where(col(CrmConnection.workspace_id) == workspace_id))
    return bool(result.rowcount)


def claim_sync(*, session: Session, workspace_id: int, worker: str, now: datetime, hold: timedelta) -> bool:
    """Take the workspace's sync for ``hold``, unless another worker holds a live claim."""
    table = table_of(CrmConnection)
    stmt = (
        update(table)
        .where(
            table.c.workspace_id == workspace_id,
            or_(table.c.claimed_until.is_(None), table.c.claimed_until < now, table.c.claimed_by == worker),
        )
        .values(claimed_by=worker, claimed_until=now + hold)
    )
    return bool(session.exec(stmt).rowcount == 1)


def release_sync(*, session: Session, workspace_id: int, worker: str) -> None:
    table = table_of(CrmConnection)
    session.exec(
        update(table)
        .where(table.c.workspace_id == workspace_id, table.c.claimed_by == worker)
        .values(claimed_by=None, claimed_until=None)
    )


def due_syncs(*, session: Session, now: datetime, limit: int = 20) -> list[str]:
    """Slack team ids whose scheduled sync is due, unclaimed and not stopped by a refused token."""
    query = (
        select(Workspace.slack_team_id)
        .join(CrmConnection, col(CrmConnection.workspace_id) == col(Workspace.id))
        .where(
            col(CrmConnection.next_sync_at) <= now,
            col(CrmConnection.auth_failed_at).is_(None),
            or_(col(CrmConnection.claimed_until).is_(None), col(CrmConnection.claimed_until) < now),
        )
        .order_by(col(CrmConnection.next_sync_at))
        .limit(limit)
    )
    return list(session.exec(query))


def sync_soon(*, session: Session, workspace_id: int, at: datetime) -> bool:
    """Bring the workspace's next scheduled sync forward to ``at`` (an approval changes every score,
    and the sync writes them back); False when no CRM is connected."""
    table = table_of(CrmConnection)
    stmt = update(table).where(table.c.workspace_id == workspace_id).values(next_sync_at=at)
    return bool(session.exec(stmt).rowcount == 1)


def pause_schedule(*, session: Session, workspace_id: int) -> bool:
    """No more scheduled syncs (the app left the workspace); True if a CRM was connected."""
    table = table_of(CrmConnection)
    stmt = update(table).where(table.c.workspace_id == workspace_id).values(next_sync_at=None)
    return bool(session.exec(stmt).rowcount == 1)


def record_sync_outcome(
    *,
    session: Session,
    workspace_id: int,
    status: SyncStatus,
    message: str,
    at: datetime,
    cursors: tuple[datetime | None, datetime | None] | None = None,
    next_sync_at: datetime | None = None,
) -> None:
    """What the last sync did (for App Home and `icp sync`), and the cursors it reached."""
    row = require_connection(session=session, workspace_id=workspace_id)
    row.last_sync_at, row.last_sync_status, row.last_sync_message = at, status, message[:4000]
    if cursors is not None:
        row.accounts_cursor, row.deals_cursor = cursors
    if next_sync_at is not None:
        row.next_sync_at = next_sync_at
    row.updated_at = at
    session.add(row)
    session.flush()


def mark_fields_ready(*, session: Session, workspace_id: int) -> None:
    """The write-back fields exist in the CRM: not looked up again at every sync."""
    row = require_connection(session=session, workspace_id=workspace_id)
    row.fields_ready = True
    session.add(row)
    session.flush()


def mark_auth_failed(*, session: Session, workspace_id: int, at: datetime, message: str) -> None:
    """The CRM refused the token: scheduled syncs stop until someone connects again."""
    row = require_connection(session=session, workspace_id=workspace_id)
    if row.auth_failed_at is None:
        row.auth_failed_at = at
    row.last_sync_at, row.last_sync_status, row.last_sync_message = at, SyncStatus.failed, message[:4000]
    row.updated_at = at
    session.add(row)
    session.flush()


def report_auth_failure(*, session: Session, workspace_id: int, at: datetime) -> bool:
    """True for the one caller that should tell the owner about the refused token."""
    table = table_of(CrmConnection)
    stmt = (
        update(table)
        .where(
            table.c.workspace_id == workspace_id,
            table.c.auth_failed_at.is_not(None),
            table.c.auth_reported_at.is_(None),
        )
        .values(auth_reported_at=at)
    )
    return bool(session.exec(stmt).rowcount == 1)


def start_sync_run(
    *, session: Session, workspace_id: int, provider: str, mode: str, trigger: str, actor: str
) -> CrmSyncRun:
    row = CrmSyncRun(
        workspace_id=workspace_id, provider=provider, mode=mode, trigger=trigger, actor=actor[:32]
    )
    session.add(row)
    session.flush()
    return row


def finish_sync_run(
    *, session: Session, workspace_id: int, run_id: int, status: SyncStatus, summary: Mapping[str, Any]
) -> CrmSyncRun:
    if status == SyncStatus.running:
        raise InvalidTransitionError("a sync run is finished as succeeded or failed, not running")
    row = get_scoped(session, CrmSyncRun, workspace_id=workspace_id, row_id=run_id)
    if row.status != SyncStatus.running:
        raise InvalidTransitionError(f"sync run {run_id} already finished as {row.status.value}")
    row.status, row.summary, row.finished_at = status, dict(summary), utcnow()
    session.add(row)
    session.flush()
    return row


def abandon_stale_runs(*, session: Session, workspace_id: int, message: str) -> int:
    """Runs left 'running' by a process that died (the caller holds the claim): failed now."""
    table = table_of(CrmSyncRun)
    stmt = (
        update(table)
        .where(table.c.workspace_id == workspace_id, table.c.status == SyncStatus.running.value)
        .values(status=SyncStatus.failed.value, finished_at=utcnow(), summary={"message": message})
    )
    return int(session.exec(stmt).rowcount or 0)


def list_sync_runs(*, session: Session, workspace_id: int, limit: int = 10) -> list[CrmSyncRun]:
    query = select(CrmSyncRun).where(CrmSyncRun.workspace_id == workspace_id)
    return list(session.exec(query.order_by(col(CrmSyncRun.id).desc()).limit(limit)))


def count_sync_runs(*, session: Session, workspace_id: int) -> int:
    query = select(func.count()).select_from(CrmSyncRun).where(CrmSyncRun.workspace_id == workspace_id)
    return int(session.exec(query).one())


def written_scores(*, session: Session, workspace_id: int) -> dict[str, WrittenScore]:
    """What was last written onto each CRM record, by CRM id."""
    query = select(
        CrmScoreWritten.crm_id, CrmScoreWritten.score, CrmScoreWritten.tier, CrmScoreWritten.icp_version
    ).where(CrmScoreWritten.workspace_id == workspace_id)
    return {crm_id: (score, tier, version) for crm_id, score, tier, version in session.exec(query)}


def record_written_scores(
    *, session: Session, workspace_id: int, written: Iterable[tuple[str, WrittenScore]], at: datetime
) -> int:
    """Upsert what was just written onto these records; the count of rows given."""
    rows = [
        {
            "workspace_id": workspace_id,
            "crm_id": crm_id,
            "score": s,
            "tier": t,
            "icp_version": v,
            "written_at": at,
        }
        for crm_id, (s, t, v) in written
    ]
    if not rows:
        return 0
    table = table_of(CrmScoreWritten)
    stmt = insert_for(session, table)
    stmt = stmt.on_conflict_do_update(
        index_elements=["workspace_id", "crm_id"],
        set_={name: stmt.excluded[name] for name in ("score", "tier", "icp_version", "written_at")},
    )
    session.connection().execute(stmt, rows)
    return len(rows)


def forget_written_scores(*, session: Session, workspace_id: int, crm_ids: Sequence[str]) -> None:
    """What was written back for these accounts (removed from the store) is forgotten."""
    delete_by_crm_ids(session=session, model=CrmScoreWritten, workspace_id=workspace_id, crm_ids=crm_ids)
