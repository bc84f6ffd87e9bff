"""ICP owners we keep: the first installer of each workspace and the owners an owner added.

The first installer is written once, when the first install completes, and never replaced: a
member who runs the install flow again later gains nothing. Owners add and remove others with
``/icp owners``; every change is audited. The last owner we keep cannot be removed (workspace
admins are owners anyway, but a workspace is never left without a named owner by accident).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from bot.store.db import Engine, Session, read_scope, session_scope
from bot.store.repo import owners as repo
from bot.store.repo.audit import append_audit
from bot.store.repo.workspaces import get_or_create_workspace, get_workspace


class LastOwner(ValueError):
    """Removing this owner would leave the workspace without any owner we keep."""


@dataclass(frozen=True)
class KeptOwners:
    """What our store says about a workspace's owners."""

    installer: str | None  # the first installer while still an owner
    added: tuple[str, ...]

    @property
    def everyone(self) -> frozenset[str]:
        return frozenset(self.added) | ({self.installer} if self.installer else set())


def kept_owners(engine: Engine, *, team_id: str) -> KeptOwners:
    """The first installer (while an owner) and the added owners of ``team_id``."""
    with read_scope(engine) as session:
        workspace = get_workspace(session=session, slack_team_id=team_id)
        if workspace is None or workspace.id is None:
            return KeptOwners(None, ())
        return KeptOwners(
            repo.active_installer(session=session, workspace_id=workspace.id),
            tuple(repo.added_owners(session=session, workspace_id=workspace.id)),
        )


@contextmanager
def _owner_change(engine: Engine, *, team_id: str) -> Iterator[tuple[Session, int]]:
    """One unit of work on ``team_id``'s owners: the session and the workspace id (created if new)."""
    with session_scope(engine) as session:
        workspace = get_or_create_workspace(session=session, slack_team_id=team_id)
        assert workspace.id is not None
        yield session, workspace.id


def _audit(
    session: Session, workspace_id: int, *, actor: str, action: str, user_id: str, **details: object
) -> None:
    append_audit(
        session=session,
        workspace_id=workspace_id,
        actor=actor,
        action=action,
        target_type="user",
        target_id=user_id,
        details=details or None,
    )


def record_installer(engine: Engine, *, team_id: str, user_id: str) -> bool:
    """Remember ``user_id`` as the first installer unless one is known already; True if recorded."""
    with _owner_change(engine, team_id=team_id) as (session, wid):
        recorded = repo.record_first_installer(session=session, workspace_id=wid, slack_user_id=user_id)
        if recorded:
            _audit(session, wid, actor=user_id, action="owner.installer", user_id=user_id)
        return recorded


def add_owner(engine: Engine, *, team_id: str, user_id: str, actor: str) -> bool:
    """Make ``user_id`` an ICP owner; False if they already were one we keep."""
    with _owner_change(engine, team_id=team_id) as (session, wid):
        if user_id == repo.active_installer(session=session, workspace_id=wid):
            return False
        added = repo.add_owner(session=session, workspace_id=wid, slack_user_id=user_id, added_by=actor)
        if added:
            _audit(session, wid, actor=actor, action="owner.add", user_id=user_id)
        return added


def remove_owner(engine: Engine, *, team_id: str, user_id: str, actor: str) -> bool:
    """Take ``user_id``'s owner rights we granted away; False if they had none from us.

    Raises ``LastOwner`` when nobody we keep would be left."""
    with _owner_change(engine, team_id=team_id) as (session, wid):
        installer = repo.active_installer(session=session, workspace_id=wid)
        kept = set(repo.added_owners(session=session, workspace_id=wid)) | (
            {installer} if installer else set()
        )
        if user_id not in kept:
            return False
        if kept == {user_id}:
            raise LastOwner(user_id)
        repo.remove_owner(session=session, workspace_id=wid, slack_user_id=user_id, removed_by=actor)
        _audit(
            session,
            wid,
            actor=actor,
            action="owner.remove",
            user_id=user_id,
            was_installer=user_id == installer,
        )
        return True


def first_installer_record(engine: Engine, *, team_id: str) -> str | None:
    """Who installed first, even if an owner later removed them (None: no install recorded)."""
    with read_scope(engine) as session:
        workspace = get_workspace(session=session, slack_team_id=team_id)
        if workspace is None or workspace.id is None:
            return None
        row = repo.first_installer(session=session, workspace_id=workspace.id)
        return row.slack_user_id if row is not None else None


def oldest_installer(engine: Engine, *, table: str, client_id: str, team_id: str) -> str | None:
    """The user on the oldest installation row slack_sdk kept in ``table`` (installs from before
    we recorded first installers); None when there is none."""
    with read_scope(engine) as session:
        return repo.oldest_installation_user(
            session=session, table=table, client_id=client_id, team_id=team_id
        )
