"""The audit log: an append-only record of who did what in a workspace.

Entries describe actions (ids, counts, statuses), never personal content, so that erasing a
person's answers does not leave a copy of them here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlmodel import Session, col, select

from bot.store.models import AuditEntry


def append_audit(
    *,
    session: Session,
    workspace_id: int,
    actor: str,
    action: str,
    target_type: str | None = None,
    target_id: str | int | None = None,
    details: Mapping[str, Any] | None = None,
) -> AuditEntry:
    row = AuditEntry(
        workspace_id=workspace_id,
        actor=actor,
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        details=dict(details or {}),
    )
    session.add(row)
    session.flush()
    return row


def list_audit(
    *, session: Session, workspace_id: int, action: str | None = None, limit: int = 100
) -> list[AuditEntry]:
    """Newest first."""
    query = select(AuditEntry).where(AuditEntry.workspace_id == workspace_id)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    return list(session.exec(query.order_by(col(AuditEntry.id).desc()).limit(limit)))
