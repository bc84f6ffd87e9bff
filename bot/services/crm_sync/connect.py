"""Connecting a workspace to its CRM: credentials checked with one call, then stored encrypted.

Nothing is stored unless the CRM accepted the credentials, and the credentials never appear in a
message, a log line or the audit log (which records who connected what, not with which token).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.connectors.errors import CrmAuthError, CrmError
from bot.connectors.records import Provider
from bot.services.crm_sync.connectors import ConnectorFactory, open_connector
from bot.services.crm_sync.credentials import CredentialsError, CrmCredentials
from bot.settings import Settings
from bot.store.db import Engine, Session, read_scope, session_scope
from bot.store.models import SyncStatus
from bot.store.repo.audit import append_audit
from bot.store.repo.sync import count_sync_runs, delete_connection, get_connection, save_connection
from bot.store.repo.workspaces import get_or_create_workspace, get_workspace
from bot.store.secrets import SecretKeyError, cipher_for, seal_secret
from bot.store.types import utcnow

__all__ = ["ConnectOutcome", "ConnectionStatus", "connect_crm", "connection_status", "disconnect_crm"]


@dataclass(frozen=True)
class ConnectOutcome:
    ok: bool
    message: str
    provider: Provider
    label: str = ""


@dataclass(frozen=True)
class ConnectionStatus:
    """Where a workspace's CRM sync stands, for App Home, `/icp status` and `icp sync --status`."""

    provider: Provider
    label: str
    connected_by: str
    connected_at: datetime
    last_sync_at: datetime | None
    last_sync_status: SyncStatus | None
    last_sync_message: str | None
    next_sync_at: datetime | None
    token_refused: bool
    runs: int


def connect_crm(
    *,
    engine: Engine,
    settings: Settings,
    workspace: str,
    credentials: CrmCredentials,
    actor: str,
    factory: ConnectorFactory = open_connector,
) -> ConnectOutcome:
    """Check ``credentials`` against the CRM and store them for ``workspace``; never raises for
    bad credentials, an unreachable CRM or a missing encryption key (the outcome says which)."""
    provider = credentials.provider
    try:
        credentials = credentials.checked()
        cipher = cipher_for(settings)
        label = factory(credentials, settings).whoami()
    except CredentialsError as exc:
        return ConnectOutcome(False, str(exc), provider)
    except SecretKeyError as exc:
        return ConnectOutcome(False, f"cannot store the credentials: {exc}", provider)
    except CrmAuthError as exc:
        return ConnectOutcome(
            False, f"{provider.label} refused these credentials ({exc.reason}); nothing was stored", provider
        )
    except CrmError as exc:
        return ConnectOutcome(False, f"could not check the credentials: {exc}; nothing was stored", provider)
    now = utcnow()
    hours = settings.crm_sync_hours
    with session_scope(engine) as session:
        found = get_or_create_workspace(session=session, slack_team_id=workspace)
        assert found.id is not None
        row = save_connection(
            session=session,
            workspace_id=found.id,
            provider=provider.value,
            credentials=seal_secret(cipher, credentials.to_json()),
            label=label,
            actor=actor,
            next_sync_at=now if hours > 0 else None,  # the scheduler's next pass runs the first sync
        )
        append_audit(
            session=session,
            workspace_id=found.id,
            actor=actor,
            action="crm.connect",
            target_type="crm_connection",
            target_id=row.id,
            details={"provider": provider.value, "label": label},
        )
    then = f"the scheduler syncs every {hours:g} h from now on" if hours > 0 else "scheduled syncs are off"
    return ConnectOutcome(
        True,
        f"connected {label} to workspace '{workspace}'; run `icp sync` (or /icp sync) for the first sync, "
        f"{then}",
        provider,
        label,
    )


def disconnect_crm(*, engine: Engine, workspace: str, actor: str) -> bool:
    """Forget the workspace's CRM connection and its credentials; False if none was connected."""
    with session_scope(engine) as session:
        found = get_workspace(session=session, slack_team_id=workspace)
        if found is None or found.id is None:
            return False
        removed = delete_connection(session=session, workspace_id=found.id)
        if removed:
            append_audit(session=session, workspace_id=found.id, actor=actor, action="crm.disconnect")
        return removed


def connection_status(*, engine: Engine, workspace: str) -> ConnectionStatus | None:
    with read_scope(engine) as session:
        found = get_workspace(session=session, slack_team_id=workspace)
        if found is None or found.id is None:
            return None
        return stored_status(session=session, workspace_id=found.id)


def stored_status(*, session: Session, workspace_id: int) -> ConnectionStatus | None:
    """The workspace's connection as ``connection_status`` gives it, read in the caller's session."""
    row = get_connection(session=session, workspace_id=workspace_id)
    if row is None:
        return None
    runs = count_sync_runs(session=session, workspace_id=workspace_id)
    return ConnectionStatus(
        provider=Provider(row.provider),
        label=row.label,
        connected_by=row.connected_by,
        connected_at=row.connected_at,
        last_sync_at=row.last_sync_at,
        last_sync_status=row.last_sync_status,
        last_sync_message=row.last_sync_message,
        next_sync_at=row.next_sync_at,
        token_refused=row.auth_failed_at is not None,
        runs=runs,
    )
