"""Which Enterprise Grid organisations slack_sdk's bots table holds installs of (read only).

slack_sdk looks a bot up by (enterprise, team); scheduled work knows only the team. These read
the table slack_sdk keeps (its name comes from the installation store) to find the enterprise
ids worth asking it about: those of the team's own installs, and those of org-wide installs.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import column, table
from sqlalchemy import select as sa_select
from sqlmodel import Session


def _bots(name: str) -> Any:
    return table(
        name,
        column("client_id"),
        column("enterprise_id"),
        column("team_id"),
        column("is_enterprise_install"),
        column("installed_at"),
    )


def team_install_enterprises(
    *, session: Session, table: str, client_id: str, team_id: str
) -> list[str | None]:
    """The enterprise ids (None outside Grid) of the team's own installs, newest first."""
    bots = _bots(table)
    query = (
        sa_select(bots.c.enterprise_id, bots.c.installed_at)
        .where(bots.c.client_id == client_id, bots.c.team_id == team_id)
        .order_by(bots.c.installed_at.desc())
    )
    found: list[str | None] = []
    for enterprise_id, _ in session.execute(query).all():
        value = str(enterprise_id) if enterprise_id else None
        if value not in found:
            found.append(value)
    return found


def org_wide_enterprises(*, session: Session, table: str, client_id: str) -> list[str]:
    """The enterprise ids with an org-wide install, newest first."""
    bots = _bots(table)
    query = (
        sa_select(bots.c.enterprise_id, bots.c.installed_at)
        .where(
            bots.c.client_id == client_id,
            bots.c.is_enterprise_install.is_(True),
            bots.c.enterprise_id.is_not(None),
        )
        .order_by(bots.c.installed_at.desc())
    )
    found: list[str] = []
    for enterprise_id, _ in session.execute(query).all():
        if enterprise_id not in found:
            found.append(str(enterprise_id))
    return found
