"""The audit log: an append-only record of who did what in a workspace.

Entries describe actions (ids, counts, statuses), never personal content, so that erasing a
person's answers does not leave a copy of them here.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
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


def audit_target_exists(session: Session, *, workspace_id: int, target_type: str, target_id: str) -> bool:
    """Whether any entry names this target (e.g. a Slack event already applied)."""
    query = select(AuditEntry.id).where(
        AuditEntry.workspace_id == workspace_id,
        AuditEntry.target_type == target_type,
        AuditEntry.target_id == target_id,
    )
    return session.exec(query).first() is not None


def list_audit_of_targets(
    session: Session,
    *,
    workspace_id: int,
    target_type: str,
    actions: Collection[str],
    target_ids: Collection[str] | None = None,
    limit: int | None = None,
    newest_first: bool = True,
) -> list[AuditEntry]:
    """Entries with one of ``actions`` on targets of ``target_type`` (only ``target_ids``, if given)."""
    query = select(AuditEntry).where(
        AuditEntry.workspace_id == workspace_id,
        AuditEntry.target_type == target_type,
        col(AuditEntry.action).in_(list(actions)),
    )
    if target_ids is not None:
        query = query.where(col(AuditEntry.target_id).in_(list(target_ids)))
    order = col(AuditEntry.id).desc() if newest_first else col(AuditEntry.id)
    return list(session.exec(query.order_by(order).limit(limit)))


def audit_details_since(
    session: Session, *, workspace_id: int, action: str, since: datetime | None = None
) -> list[dict[str, Any]]:
    """The details of every ``action`` entry at or after ``since`` (all of them for None)."""
    query = select(AuditEntry.details).where(
        AuditEntry.workspace_id == workspace_id, AuditEntry.action == action
    )
    if since is not None:
        query = query.where(col(AuditEntry.at) >= since)
    return [dict(d or {}) for d in session.exec(query)]
