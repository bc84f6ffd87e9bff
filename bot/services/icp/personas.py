"""The buyer personas people see: those of the approved ICP, or of the latest draft when none is approved."""

from __future__ import annotations

from dataclasses import dataclass

from bot.store.db import Engine, read_scope
from bot.store.models import IcpVersion, Persona
from bot.store.repo.icp import get_active_icp, get_latest_icp, list_personas
from bot.store.repo.workspaces import get_workspace


@dataclass(frozen=True)
class PersonasInUse:
    """The version the personas belong to, and its personas in their drafted order."""

    version: IcpVersion
    personas: list[Persona]


def personas_in_use(engine: Engine, *, team_id: str) -> PersonasInUse | None:
    """The personas of the team's approved ICP, else of its newest version; None without a version."""
    with read_scope(engine) as session:
        workspace = get_workspace(session=session, slack_team_id=team_id)
        if workspace is None or workspace.id is None:
            return None
        version = get_active_icp(session=session, workspace_id=workspace.id) or get_latest_icp(
            session=session, workspace_id=workspace.id
        )
        if version is None:
            return None
        rows = (
            list_personas(session=session, workspace_id=workspace.id, icp_version_id=version.id)
            if version.id is not None
            else []
        )
        return PersonasInUse(version, rows)
