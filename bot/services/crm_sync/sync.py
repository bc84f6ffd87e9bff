"""One sync of a workspace's connected CRM: read what changed, apply it all or nothing, write back.

1. The workspace's sync is claimed (one conditional UPDATE: one replica, one process at a time).
2. Records modified since the cursors (every record in a full sync) are read page by page and
   staged as CSV files with the importer's column names; removals are listed (a full sync removes
   what the store holds and the CRM no longer does).
3. Accounts, deals and removals are applied in **one transaction** through the CSV import service,
   with the same checks, findings and summary as an upload; the cursors move in the same
   transaction. A sync killed anywhere before the commit leaves the store as it was and the cursors
   where they were, so the next run reads the same changes again and completes it.
4. The approved ICP's scores are written back (``write_back``) for the records whose score changed.

A refused token stops the workspace's scheduled syncs until someone reconnects, and is reported
once (``report_auth_failure``); it is never retried. Records the importer rejects (a negative
headcount...) are skipped and listed, as ``--skip-bad-rows`` does: one bad CRM record does not
hold up the rest.
"""

from __future__ import annotations

import logging
import tempfile
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from bot.connectors.errors import CrmAuthError, CrmError
from bot.connectors.records import ACCOUNT_FIELDS, RECORD_NOUNS, Provider
from bot.services.crm_sync.connectors import ConnectorFactory, open_connector
from bot.services.crm_sync.credentials import CrmCredentials
from bot.services.crm_sync.staging import StagedChanges, ids_at_lines, stage_changes
from bot.services.crm_sync.write_back import WriteBackJob, WriteBackSummary, write_back
from bot.services.imports.service import ImportSummary, import_accounts, import_deals
from bot.settings import Settings
from bot.store.claims import worker_id
from bot.store.db import Engine, SQLAlchemyError, driver_message, read_scope, session_scope
from bot.store.models import CrmConnection, SyncStatus
from bot.store.repo.crm import delete_crm_records, list_crm_ids, repoint_deals
from bot.store.repo.sync import (
    abandon_stale_runs,
    claim_sync,
    finish_sync_run,
    forget_written_scores,
    get_connection,
    mark_auth_failed,
    record_sync_outcome,
    release_sync,
    start_sync_run,
)
from bot.store.repo.workspaces import get_workspace
from bot.store.secrets import SecretKeyError, SecretUnreadable, cipher_for, open_secret
from bot.store.types import utcnow

__all__ = ["SyncRequest", "SyncSummary", "run_sync"]

log = logging.getLogger(__name__)
MAX_SKIPPED_LISTED = 1_000  # in the JSON document; the count always covers every one
Trigger = Literal["cli", "slack", "schedule"]
Status = Literal["synced", "dry_run", "failed", "auth_failed", "busy", "not_connected"]
# Importer fields a staged file pins to its own columns (and the ones it switches off), so a
# custom CRM field that happens to look like an importer alias ("company", "vertical") stays custom.
_ACCOUNT_MAP = {name: name for name in ACCOUNT_FIELDS}
_DEAL_MAP = {
    **{name: name for name in ("deal_id", "account_id", "stage", "is_won", "is_closed", "amount")},
    "created_date": "created_date",
    "close_date": "close_date",
    "account_name": "",
}


@dataclass(frozen=True)
class SyncRequest:
    """Who asks for which workspace's sync, and how."""

    workspace: str
    actor: str
    trigger: Trigger = "cli"
    dry_run: bool = False
    full: bool = False
    write_back: bool = True


@dataclass(frozen=True)
class SkippedRecord:
    """A CRM record the importer refused (a negative headcount...), named as the CRM names it."""

    record: str  # "HubSpot company 102"
    field: str | None
    reason: str

    def __str__(self) -> str:
        return (
            f"{self.record}: {self.field}: {self.reason}" if self.field else f"{self.record}: {self.reason}"
        )


@dataclass
class SyncSummary:
    """What one sync did; ``message`` is the line people read, ``to_dict`` the JSON document."""

    workspace: str
    provider: str | None = None
    mode: str = "incremental"
    status: Status = "failed"
    message: str = ""
    run_id: int | None = None
    accounts: ImportSummary | None = None
    deals: ImportSummary | None = None
    accounts_read: int = 0
    deals_read: int = 0
    accounts_removed: int = 0
    deals_removed: int = 0
    accounts_merged: int = 0
    deals_moved: int = 0
    write_back: WriteBackSummary | None = None
    skipped: list[SkippedRecord] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status in ("synced", "dry_run")

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "status": self.status,
            "message": self.message,
            "workspace": self.workspace,
            "provider": self.provider,
            "mode": self.mode,
            "run_id": self.run_id,
            "read": {"accounts": self.accounts_read, "deals": self.deals_read},
            "accounts": None if self.accounts is None else self.accounts.to_dict(),
            "deals": None if self.deals is None else self.deals.to_dict(),
            "removed": {
                "accounts": self.accounts_removed,
                "deals": self.deals_removed,
                "accounts_merged": self.accounts_merged,
                "deals_moved": self.deals_moved,
            },
            "write_back": None if self.write_back is None else self.write_back.to_dict(),
            "skipped": [
                {"record": s.record, "field": s.field, "reason": s.reason}
                for s in self.skipped[:MAX_SKIPPED_LISTED]
            ],
            "skipped_count": len(self.skipped),
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class SyncContext:
    """What a sync runs with besides the request: the store, the settings and injectable parts."""

    engine: Engine
    settings: Settings
    factory: ConnectorFactory = open_connector
    clock: Callable[[], datetime] = utcnow
    refresh_statistics: Callable[[str], object] | None = None  # after a sync changed the store
    worker: str = field(default_factory=worker_id)


class _Rollback(Exception):
    """Ends a dry run's apply transaction without keeping anything."""


def run_sync(ctx: SyncContext, request: SyncRequest) -> SyncSummary:
    """Sync the workspace's CRM into the store; never raises for a CRM's or the data's problems."""
    summary = SyncSummary(workspace=request.workspace)
    connection = _connection(ctx.engine, request.workspace)
    if connection is None:
        summary.status = "not_connected"
        summary.message = (
            f"workspace '{request.workspace}' has no CRM connected; connect one with "
            "`icp connect hubspot` / `icp connect salesforce` (or /icp connect in Slack)"
        )
        return summary
    provider = Provider(connection.provider)
    summary.provider = provider.value
    if connection.auth_failed_at is not None and request.trigger == "schedule":
        summary.status = "auth_failed"
        summary.message = f"{provider.label} refused the stored token; connect again to resume the syncs"
        return summary
    workspace_id = connection.workspace_id
    lease = _Lease(ctx, workspace_id)
    with session_scope(ctx.engine) as session:
        if not claim_sync(
            session=session, workspace_id=workspace_id, worker=ctx.worker, now=ctx.clock(), hold=lease.hold
        ):
            summary.status = "busy"
            summary.message = (
                f"a {provider.label} sync of workspace '{request.workspace}' is already running; if it was "
                f"killed, the next sync can start {lease.hold.total_seconds():g} s after it stopped"
            )
            return summary
        abandon_stale_runs(
            session=session, workspace_id=workspace_id, message="interrupted before it finished"
        )
        full = request.full or connection.accounts_cursor is None
        summary.mode = "full" if full else "incremental"
        run = start_sync_run(
            session=session,
            workspace_id=workspace_id,
            provider=provider.value,
            mode=summary.mode + (" dry run" if request.dry_run else ""),
            trigger=request.trigger,
            actor=request.actor,
        )
        summary.run_id = run.id
    lease.start()
    try:
        _sync(ctx, request, connection, summary)
    finally:
        lease.stop()
        _finish(ctx, request, workspace_id, summary)
    return summary


class _Lease:
    """Keeps the workspace's sync claimed while it runs: renewed every third of its length.

    A short lease, renewed, rather than one longer than any sync: a sync killed half way (a
    deploy, an out-of-memory kill) frees the workspace within ``CRM_SYNC_CLAIM_SECONDS``.
    """

    def __init__(self, ctx: SyncContext, workspace_id: int) -> None:
        self.ctx, self.workspace_id = ctx, workspace_id
        self.hold = timedelta(seconds=ctx.settings.crm_sync_claim_seconds)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._renew, name="icp-crm-sync-lease", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _renew(self) -> None:
        while not self._stop.wait(self.hold.total_seconds() / 3):
            try:
                with session_scope(self.ctx.engine) as session:
                    claim_sync(
                        session=session,
                        workspace_id=self.workspace_id,
                        worker=self.ctx.worker,
                        now=self.ctx.clock(),
                        hold=self.hold,
                    )
            except Exception:  # a missed renewal is retried next time; the sync goes on
                log.warning(
                    "could not renew the CRM sync lease of workspace %s", self.workspace_id, exc_info=True
                )


def _connection(engine: Engine, workspace: str) -> CrmConnection | None:
    with read_scope(engine) as session:
        found = get_workspace(session=session, slack_team_id=workspace)
        if found is None or found.id is None:
            return None
        return get_connection(session=session, workspace_id=found.id)


def _sync(ctx: SyncContext, request: SyncRequest, connection: CrmConnection, summary: SyncSummary) -> None:
    provider = Provider(connection.provider)
    try:
        credentials = CrmCredentials.from_json(open_secret(cipher_for(ctx.settings), connection.credentials))
        connector = ctx.factory(credentials, ctx.settings)
        with tempfile.TemporaryDirectory(prefix="icp-sync-") as folder:
            full = summary.mode == "full"
            since = (None, None) if full else (connection.accounts_cursor, connection.deals_cursor)
            staged = stage_changes(connector, since=since, folder=Path(folder))
            summary.accounts_read, summary.deals_read = staged.accounts.rows, staged.deals.rows
            applied = _apply(ctx, request, connection, staged, summary)
        if not applied:
            return
    except CrmAuthError as exc:
        _token_refused(
            ctx,
            request,
            connection,
            summary,
            f"{provider.label} refused the token ({exc.reason}); nothing was changed",
        )
        return
    except CrmError as exc:
        summary.status = "failed"
        summary.message = f"{exc}; nothing was changed, the next sync reads the same changes again"
        return
    except (SecretKeyError, SecretUnreadable) as exc:
        summary.status = "failed"
        summary.message = str(exc)
        return
    if request.write_back:
        job = WriteBackJob(
            engine=ctx.engine,
            workspace_id=connection.workspace_id,
            connector=connector,
            fields_ready=connection.fields_ready,
            dry_run=request.dry_run,
            clock=ctx.clock,
        )
        try:
            summary.write_back = write_back(job)
        except CrmAuthError as exc:  # the synced records stay: only the scores were not written
            synced = _message(summary, provider)
            refused = f"{provider.label} refused the token ({exc.reason})"
            _token_refused(ctx, request, connection, summary, f"{synced}; write-back stopped: {refused}")
            return
    summary.message = _message(summary, provider)


def _token_refused(
    ctx: SyncContext, request: SyncRequest, connection: CrmConnection, summary: SyncSummary, outcome: str
) -> None:
    """The CRM refused the token: ``outcome`` says what the sync did all the same; the message adds
    how to resume. Scheduled syncs stop (one DM to whoever connected the CRM) until someone
    connects again."""
    provider = Provider(connection.provider).value
    summary.status = "auth_failed"
    summary.message = f"{outcome}. Connect again with `/icp connect {provider}` or `icp connect {provider}`"
    if not request.dry_run:
        with session_scope(ctx.engine) as session:
            mark_auth_failed(
                session=session, workspace_id=connection.workspace_id, at=ctx.clock(), message=summary.message
            )


def _apply(
    ctx: SyncContext,
    request: SyncRequest,
    connection: CrmConnection,
    staged: StagedChanges,
    summary: SyncSummary,
) -> bool:
    """Everything the sync changes in the store, in one transaction (rolled back for a dry run).

    False when nothing could be applied (the summary says why).
    """
    workspace_id = connection.workspace_id
    provider = Provider(connection.provider)
    try:
        with session_scope(ctx.engine) as session:
            common: dict[str, Any] = {
                "engine": ctx.engine,
                "workspace": request.workspace,
                "skip_bad_rows": True,
                "actor": request.actor,
                "within": session,
            }
            accounts_noun, deals_noun = (f"{provider.label} {noun}" for noun in RECORD_NOUNS[provider])
            if staged.accounts.rows:
                summary.accounts = import_accounts(
                    path=staged.accounts.path, overrides=_ACCOUNT_MAP, **common
                )
                _kept(summary.accounts)
                summary.skipped += _skipped(
                    summary.accounts, staged.accounts.path, "account_id", accounts_noun
                )
            if staged.deals.rows:
                summary.deals = import_deals(path=staged.deals.path, overrides=_DEAL_MAP, **common)
                _kept(summary.deals)
                summary.skipped += _skipped(summary.deals, staged.deals.path, "deal_id", deals_noun)
            accounts_gone, deals_gone, merged = _removals(session, workspace_id, staged)
            summary.accounts_merged = len(merged)
            summary.deals_moved = repoint_deals(session=session, workspace_id=workspace_id, merged=merged)
            summary.accounts_removed, summary.deals_removed = delete_crm_records(
                session=session, workspace_id=workspace_id, accounts=accounts_gone, deals=deals_gone
            )
            forget_written_scores(session=session, workspace_id=workspace_id, crm_ids=accounts_gone)
            if request.dry_run:
                raise _Rollback
            record_sync_outcome(
                session=session,
                workspace_id=workspace_id,
                status=SyncStatus.succeeded,
                message="applied",
                at=ctx.clock(),
                cursors=(
                    _later(connection.accounts_cursor, staged.accounts.newest),
                    _later(connection.deals_cursor, staged.deals.newest),
                ),
            )
        summary.status = "synced"
    except _Rollback:
        summary.status = "dry_run"
        return True
    except _Refused as exc:
        summary.status, summary.message = "failed", str(exc)
        return False
    except SQLAlchemyError as exc:
        summary.status = "failed"
        summary.message = f"the database refused the sync ({driver_message(exc)[:300]}); nothing was changed"
        return False
    if ctx.refresh_statistics is not None and _changed(summary):
        outcome = ctx.refresh_statistics(request.workspace)
        if isinstance(outcome, str):
            summary.notes.append(f"statistics not refreshed: {outcome}")
    return True


class _Refused(Exception):
    """The importer refused a staged file as a whole; its message says why."""


def _skipped(result: ImportSummary, path: Path, id_field: str, noun: str) -> list[SkippedRecord]:
    """The importer's rejected rows, each named by its record's CRM id instead of a staged line."""
    if not result.errors:
        return []
    ids = ids_at_lines(path, id_field=id_field, lines={e.line for e in result.errors})
    return [
        SkippedRecord(f"{noun} {ids[e.line]}" if e.line in ids else noun, e.column, e.reason)
        for e in result.errors
    ]


def _kept(result: ImportSummary) -> None:
    if result.status in ("rejected", "failed"):
        raise _Refused(
            f"the synced {result.kind} could not be imported: {result.message}; nothing was changed"
        )


def _removals(
    session: Any, workspace_id: int, staged: StagedChanges
) -> tuple[list[str], list[str], dict[str, str]]:
    """Ids to delete (accounts, deals) and merged-away accounts with their survivors."""
    if staged.full:
        accounts = _missing(
            list_crm_ids(session=session, workspace_id=workspace_id, kind="accounts"), staged.accounts.ids
        )
        deals = _missing(
            list_crm_ids(session=session, workspace_id=workspace_id, kind="deals"), staged.deals.ids
        )
        return accounts, deals, {}
    merged = {r.crm_id: r.merged_into for r in staged.removed_accounts if r.merged_into}
    accounts = [r.crm_id for r in staged.removed_accounts if r.crm_id not in staged.accounts.ids]
    deals = [r.crm_id for r in staged.removed_deals if r.crm_id not in staged.deals.ids]
    return accounts, deals, merged


def _missing(stored: Iterable[str], fetched: frozenset[str]) -> list[str]:
    return [crm_id for crm_id in stored if crm_id not in fetched]


def _later(cursor: datetime | None, newest: datetime | None) -> datetime | None:
    if cursor is None or newest is None:
        return newest or cursor
    return max(cursor, newest)


def _changed(summary: SyncSummary) -> bool:
    imported = [s for s in (summary.accounts, summary.deals) if s is not None and s.status == "imported"]
    return bool(imported) or summary.accounts_removed > 0 or summary.deals_removed > 0


def _message(summary: SyncSummary, provider: Provider) -> str:
    verb = "would change" if summary.status == "dry_run" else "synced"
    parts = [f"{provider.label} {summary.mode} sync of workspace '{summary.workspace}' {verb}:"]
    for noun, result, read in (
        ("accounts", summary.accounts, summary.accounts_read),
        ("deals", summary.deals, summary.deals_read),
    ):
        if result is None:
            parts.append(f"{noun}: {read:,} changed in {provider.label}")
        else:
            skipped = f", {result.rejected:,} skipped (see errors)" if result.rejected else ""
            parts.append(
                f"{noun}: {result.added:,} added, {result.updated:,} updated, {result.unchanged:,} unchanged{skipped}"
            )
    if summary.accounts_removed or summary.deals_removed or summary.accounts_merged:
        merged = f" ({summary.accounts_merged:,} merged into others)" if summary.accounts_merged else ""
        removed = (
            f"{_count(summary.accounts_removed, 'account')}{merged}, {_count(summary.deals_removed, 'deal')}"
        )
        parts.append(f"removed: {removed}")
    if summary.write_back is not None and summary.write_back.message:
        parts.append(f"write-back: {summary.write_back.message}")
    return parts[0] + " " + "; ".join(parts[1:])


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _finish(ctx: SyncContext, request: SyncRequest, workspace_id: int, summary: SyncSummary) -> None:
    """Record the run's outcome and let the claim go, whatever happened."""
    now = ctx.clock()
    hours = ctx.settings.crm_sync_hours
    with session_scope(ctx.engine) as session:
        if summary.run_id is not None:
            finish_sync_run(
                session=session,
                workspace_id=workspace_id,
                run_id=summary.run_id,
                status=SyncStatus.succeeded if summary.ok else SyncStatus.failed,
                summary=summary.to_dict(),
            )
        if not request.dry_run and summary.status != "auth_failed":
            record_sync_outcome(
                session=session,
                workspace_id=workspace_id,
                status=SyncStatus.succeeded if summary.ok else SyncStatus.failed,
                message=summary.message,
                at=now,
                next_sync_at=now + timedelta(hours=hours) if hours > 0 else None,
            )
        release_sync(session=session, workspace_id=workspace_id, worker=ctx.worker)
