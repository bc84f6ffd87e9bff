"""Stakeholders: the people of a workspace that the bot interviews, keyed by Slack user id."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.store.models import GtmRole, Stakeholder, StakeholderCreate, StakeholderUpdate
from bot.store.repo._sql import get_scoped, insert_for, table_of
from bot.store.repo.errors import NotFoundError
from bot.store.types import utcnow


def get_stakeholder(*, session: Session, workspace_id: int, slack_user_id: str) -> Stakeholder | None:
    return session.exec(
        select(Stakeholder).where(
            Stakeholder.workspace_id == workspace_id, Stakeholder.slack_user_id == slack_user_id
        )
    ).first()


def require_stakeholder(*, session: Session, workspace_id: int, slack_user_id: str) -> Stakeholder:
    found = get_stakeholder(session=session, workspace_id=workspace_id, slack_user_id=slack_user_id)
    if found is None:
        raise NotFoundError(
            f"no stakeholder with Slack user id {slack_user_id!r} in workspace {workspace_id}"
        )
    return found


def get_stakeholder_by_id(*, session: Session, workspace_id: int, stakeholder_id: int) -> Stakeholder:
    return get_scoped(session, Stakeholder, workspace_id=workspace_id, row_id=stakeholder_id)


def get_or_create_stakeholder(*, session: Session, workspace_id: int, data: StakeholderCreate) -> Stakeholder:
    """The stakeholder for ``data.slack_user_id``, created if new (an existing row is not changed)."""
    existing = get_stakeholder(session=session, workspace_id=workspace_id, slack_user_id=data.slack_user_id)
    if existing is not None:
        return existing
    now = utcnow()
    stmt = (
        insert_for(session, table_of(Stakeholder))
        .values(**data.model_dump(), workspace_id=workspace_id, created_at=now, updated_at=now)
        .on_conflict_do_nothing(index_elements=["workspace_id", "slack_user_id"])
    )
    session.execute(stmt)
    return require_stakeholder(session=session, workspace_id=workspace_id, slack_user_id=data.slack_user_id)


def update_stakeholder(
    *, session: Session, workspace_id: int, stakeholder_id: int, data: StakeholderUpdate
) -> Stakeholder:
    """Apply the fields set in ``data``."""
    row = get_stakeholder_by_id(session=session, workspace_id=workspace_id, stakeholder_id=stakeholder_id)
    row.sqlmodel_update(data.model_dump(exclude_unset=True))
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    return row


def list_stakeholders(
    *, session: Session, workspace_id: int, gtm_role: GtmRole | None = None
) -> list[Stakeholder]:
    query = select(Stakeholder).where(Stakeholder.workspace_id == workspace_id)
    if gtm_role is not None:
        query = query.where(Stakeholder.gtm_role == gtm_role)
    return list(session.exec(query.order_by(col(Stakeholder.id))))


def count_stakeholders(session: Session, *, workspace_id: int) -> int:
    query = select(func.count()).select_from(Stakeholder).where(Stakeholder.workspace_id == workspace_id)
    return int(session.exec(query).one())
