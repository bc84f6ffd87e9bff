"""ICP versions and personas: drafts, review, approval and the version history.

Lifecycle: draft → in_review → approved → superseded (a draft may also be approved directly, and
a version in review may go back to draft). Approving a version supersedes the segment's previously
approved one in the same unit of work; approved and superseded versions are immutable. Every
status change is written to the audit log.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, case, delete, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.store.models import (
    DEFAULT_SEGMENT,
    IcpStatus,
    IcpVersion,
    IcpVersionCreate,
    Persona,
    PersonaCreate,
    Workspace,
)
from bot.store.repo._sql import get_scoped
from bot.store.repo.audit import append_audit
from bot.store.repo.errors import ConflictError, InvalidTransitionError
from bot.store.types import utcnow

ALLOWED_TRANSITIONS: dict[IcpStatus, frozenset[IcpStatus]] = {
    IcpStatus.draft: frozenset({IcpStatus.in_review, IcpStatus.approved}),
    IcpStatus.in_review: frozenset({IcpStatus.draft, IcpStatus.approved}),
    IcpStatus.approved: frozenset({IcpStatus.superseded}),
    IcpStatus.superseded: frozenset(),
}
EDITABLE: frozenset[IcpStatus] = frozenset({IcpStatus.draft, IcpStatus.in_review})
_VERSION_ATTEMPTS = 5

# The reads every /icp score makes, built once with bound parameters: building a SQLAlchemy
# expression costs more CPU than SQLite takes to run it.
_ACTIVE = select(IcpVersion).where(
    IcpVersion.workspace_id == bindparam("workspace_id"),
    IcpVersion.segment == bindparam("segment"),
    IcpVersion.status == IcpStatus.approved,
)
_LATEST = (
    select(IcpVersion)
    .where(IcpVersion.workspace_id == bindparam("workspace_id"), IcpVersion.segment == bindparam("segment"))
    .order_by(col(IcpVersion.version).desc())
)
_SCORING_OF_TEAM = (
    select(IcpVersion)
    .join(Workspace, col(Workspace.id) == col(IcpVersion.workspace_id))
    .where(Workspace.slack_team_id == bindparam("team_id"), IcpVersion.segment == bindparam("segment"))
    .order_by(
        case((col(IcpVersion.status) == IcpStatus.approved, 0), else_=1), col(IcpVersion.version).desc()
    )
    .limit(1)
)


def get_icp_version(*, session: Session, workspace_id: int, version_id: int) -> IcpVersion:
    return get_scoped(session, IcpVersion, workspace_id=workspace_id, row_id=version_id)


def create_icp_draft(*, session: Session, workspace_id: int, data: IcpVersionCreate) -> IcpVersion:
    """A new draft numbered after the segment's latest version (race-safe: retried on a clash)."""
    for _ in range(_VERSION_ATTEMPTS):
        latest = session.exec(
            select(func.max(IcpVersion.version)).where(
                IcpVersion.workspace_id == workspace_id, IcpVersion.segment == data.segment
            )
        ).one()
        row = IcpVersion.model_validate(
            data,
            update={"workspace_id": workspace_id, "version": (latest or 0) + 1, "status": IcpStatus.draft},
        )
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            continue
        append_audit(
            session=session,
            workspace_id=workspace_id,
            actor=data.author,
            action="icp.draft",
            target_type="icp_version",
            target_id=row.id,
            details={"segment": row.segment, "version": row.version},
        )
        return row
    raise ConflictError(f"could not number a new ICP version for segment {data.segment!r}: too many writers")


def set_icp_status(
    *, session: Session, workspace_id: int, version_id: int, status: IcpStatus, actor: str
) -> IcpVersion:
    """Move a version along its lifecycle; approving supersedes the segment's approved version."""
    row = get_icp_version(session=session, workspace_id=workspace_id, version_id=version_id)
    if status == row.status:
        return row
    if status not in ALLOWED_TRANSITIONS[row.status]:
        raise InvalidTransitionError(
            f"ICP version {row.version} ({row.segment}) cannot go from {row.status.value} to {status.value}"
        )
    now = utcnow()
    previous = row.status
    if status == IcpStatus.approved:
        current = get_active_icp(session=session, workspace_id=workspace_id, segment=row.segment)
        if current is not None:
            current.status, current.superseded_at, current.updated_at = IcpStatus.superseded, now, now
            session.add(current)
            session.flush()  # the old approval must be gone before the new one exists
            _audit_status(session, workspace_id, actor, current, IcpStatus.approved)
        row.approver, row.approved_at = actor, now
    elif status == IcpStatus.in_review:
        row.submitted_at = now
    elif status == IcpStatus.superseded:
        row.superseded_at = now
    row.status, row.updated_at = status, now
    session.add(row)
    try:
        session.flush()
    except IntegrityError as exc:
        raise ConflictError(
            f"another ICP version of segment {row.segment!r} was approved at the same time"
        ) from exc
    _audit_status(session, workspace_id, actor, row, previous)
    return row


def _audit_status(
    session: Session, workspace_id: int, actor: str, row: IcpVersion, previous: IcpStatus
) -> None:
    append_audit(
        session=session,
        workspace_id=workspace_id,
        actor=actor,
        action=f"icp.{row.status.value}",
        target_type="icp_version",
        target_id=row.id,
        details={"segment": row.segment, "version": row.version, "from": previous.value},
    )


def update_icp_version(
    *,
    session: Session,
    workspace_id: int,
    version_id: int,
    icp_json: dict[str, Any] | None = None,
    name: str | None = None,
    change_note: str | None = None,
    backtest: dict[str, Any] | None = None,
    actor: str | None = None,
) -> IcpVersion:
    """Edit a draft or a version in review; approved history is never rewritten.

    An edit that changes something is written to the audit log (``icp.edit``, with the names of
    the fields changed and by whom), so the change log shows it; ``actor`` defaults to the author.
    """
    row = get_icp_version(session=session, workspace_id=workspace_id, version_id=version_id)
    if row.status not in EDITABLE:
        raise InvalidTransitionError(
            f"ICP version {row.version} is {row.status.value}: create a new draft to change it"
        )
    wanted = {"icp_json": icp_json, "name": name, "change_note": change_note, "backtest": backtest}
    changed = [f for f, value in wanted.items() if value is not None and value != getattr(row, f)]
    for f in changed:
        setattr(row, f, wanted[f])
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    if changed:
        append_audit(
            session=session,
            workspace_id=workspace_id,
            actor=actor or row.author,
            action="icp.edit",
            target_type="icp_version",
            target_id=row.id,
            details={"segment": row.segment, "version": row.version, "fields": changed},
        )
    return row


def get_active_icp(
    *, session: Session, workspace_id: int, segment: str = DEFAULT_SEGMENT
) -> IcpVersion | None:
    """The approved version of the segment (the one scoring uses), if any."""
    return session.exec(_ACTIVE, params={"workspace_id": workspace_id, "segment": segment}).first()


def get_latest_icp(
    *, session: Session, workspace_id: int, segment: str = DEFAULT_SEGMENT
) -> IcpVersion | None:
    """The newest version of the segment whatever its status (e.g. the draft being worked on)."""
    return session.exec(_LATEST, params={"workspace_id": workspace_id, "segment": segment}).first()


def find_scoring_icp(
    session: Session, *, slack_team_id: str, segment: str = DEFAULT_SEGMENT
) -> IcpVersion | None:
    """The team's approved version of the segment, else its newest one, in one query.

    No row means no workspace or no ICP: for ``/icp score`` the same answer. The row carries the
    workspace id, so the caller needs no second read for it.
    """
    return session.exec(_SCORING_OF_TEAM, params={"team_id": slack_team_id, "segment": segment}).first()


def list_icp_versions(
    *,
    session: Session,
    workspace_id: int,
    segment: str | None = None,
    status: IcpStatus | None = None,
) -> list[IcpVersion]:
    """Newest first."""
    query = select(IcpVersion).where(IcpVersion.workspace_id == workspace_id)
    if segment is not None:
        query = query.where(IcpVersion.segment == segment)
    if status is not None:
        query = query.where(IcpVersion.status == status)
    return list(session.exec(query.order_by(col(IcpVersion.id).desc())))


def replace_personas(
    *, session: Session, workspace_id: int, icp_version_id: int, personas: Sequence[PersonaCreate]
) -> list[Persona]:
    """Set the personas of an editable ICP version (drafting produces them as a set)."""
    version = get_icp_version(session=session, workspace_id=workspace_id, version_id=icp_version_id)
    if version.status not in EDITABLE:
        raise InvalidTransitionError(
            f"ICP version {version.version} is {version.status.value}: personas are frozen"
        )
    session.exec(
        delete(Persona).where(
            col(Persona.workspace_id) == workspace_id, col(Persona.icp_version_id) == icp_version_id
        )
    )
    rows = [
        Persona.model_validate(p, update={"workspace_id": workspace_id, "icp_version_id": icp_version_id})
        for p in personas
    ]
    session.add_all(rows)
    session.flush()
    return rows


def list_personas(*, session: Session, workspace_id: int, icp_version_id: int) -> list[Persona]:
    return list(
        session.exec(
            select(Persona)
            .where(Persona.workspace_id == workspace_id, Persona.icp_version_id == icp_version_id)
            .order_by(col(Persona.position), col(Persona.id))
        )
    )


def rewrite_icp_evidence(
    session: Session, *, version: IcpVersion, draft_json: dict[str, Any], icp_json: dict[str, Any]
) -> IcpVersion:
    """Replace a version's draft and ICP documents whatever its status.

    Only erasure may do this (``icp forget``): it overrides immutability, and it changes evidence,
    never a score. Not audited here; the erasure writes its own entry.
    """
    version.draft_json, version.icp_json, version.updated_at = draft_json, icp_json, utcnow()
    session.add(version)
    return version


def rewrite_persona(session: Session, *, persona: Persona, persona_json: dict[str, Any]) -> Persona:
    """Replace a persona's document whatever its version's status (erasure only, as above)."""
    persona.persona_json = persona_json
    session.add(persona)
    return persona


def delete_persona(session: Session, *, persona: Persona) -> None:
    """Remove a persona whatever its version's status (erasure only, as above)."""
    session.delete(persona)
