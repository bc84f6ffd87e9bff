"""Accounts, deals and customer health: bulk upsert by CRM id, and workspace-scoped reads.

The bulk functions are what a CRM import (up to millions of rows) goes through; they take Create
models or, from the import service, field -> value dicts it has already validated. Reads are for
statistics, scoring and the App Home.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, SQLModel, select

from bot.store.models import (
    Account,
    AccountCreate,
    CustomerHealth,
    CustomerHealthCreate,
    Deal,
    DealCreate,
    DealStage,
    ImportRun,
)
from bot.store.repo._bulk import DEFAULT_CHUNK_SIZE, UpsertCounts, bulk_upsert
from bot.store.repo._sql import get_scoped, table_of

ACCOUNT_FIELDS: tuple[str, ...] = tuple(AccountCreate.model_fields)
DEAL_FIELDS: tuple[str, ...] = tuple(DealCreate.model_fields)
HEALTH_FIELDS: tuple[str, ...] = tuple(CustomerHealthCreate.model_fields)


def _check_run(session: Session, workspace_id: int, import_run_id: int | None) -> None:
    if import_run_id is not None:
        get_scoped(session, ImportRun, workspace_id=workspace_id, row_id=import_run_id)


def _upsert(
    session: Session,
    model: type[SQLModel],
    fields: tuple[str, ...],
    workspace_id: int,
    rows: Iterable[SQLModel | Mapping[str, Any]],
    import_run_id: int | None,
    chunk_size: int,
) -> UpsertCounts:
    _check_run(session, workspace_id, import_run_id)
    return bulk_upsert(
        session=session,
        table=table_of(model),
        workspace_id=workspace_id,
        rows=rows,
        fields=fields,
        import_run_id=import_run_id,
        chunk_size=chunk_size,
    )


def bulk_upsert_accounts(
    *,
    session: Session,
    workspace_id: int,
    rows: Iterable[AccountCreate | Mapping[str, Any]],
    import_run_id: int | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> UpsertCounts:
    """Insert new accounts, update changed ones, skip identical ones (matched by CRM id)."""
    return _upsert(session, Account, ACCOUNT_FIELDS, workspace_id, rows, import_run_id, chunk_size)


def bulk_upsert_deals(
    *,
    session: Session,
    workspace_id: int,
    rows: Iterable[DealCreate | Mapping[str, Any]],
    import_run_id: int | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> UpsertCounts:
    """Insert new deals, update changed ones, skip identical ones (matched by CRM id)."""
    return _upsert(session, Deal, DEAL_FIELDS, workspace_id, rows, import_run_id, chunk_size)


def bulk_upsert_health(
    *,
    session: Session,
    workspace_id: int,
    rows: Iterable[CustomerHealthCreate | Mapping[str, Any]],
    import_run_id: int | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> UpsertCounts:
    """Insert new health records, update changed ones, skip identical ones (matched by CRM id)."""
    return _upsert(session, CustomerHealth, HEALTH_FIELDS, workspace_id, rows, import_run_id, chunk_size)


def get_account(*, session: Session, workspace_id: int, crm_id: str) -> Account | None:
    return session.exec(
        select(Account).where(Account.workspace_id == workspace_id, Account.crm_id == crm_id)
    ).first()


def list_accounts(
    *, session: Session, workspace_id: int, limit: int | None = None, offset: int = 0
) -> list[Account]:
    query = select(Account).where(Account.workspace_id == workspace_id).order_by(Account.id)
    return list(session.exec(query.offset(offset).limit(limit)))


def get_deal(*, session: Session, workspace_id: int, crm_id: str) -> Deal | None:
    return session.exec(select(Deal).where(Deal.workspace_id == workspace_id, Deal.crm_id == crm_id)).first()


def list_deals(
    *,
    session: Session,
    workspace_id: int,
    stage: DealStage | None = None,
    account_crm_id: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[Deal]:
    query = select(Deal).where(Deal.workspace_id == workspace_id)
    if stage is not None:
        query = query.where(Deal.stage == stage)
    if account_crm_id is not None:
        query = query.where(Deal.account_crm_id == account_crm_id)
    return list(session.exec(query.order_by(Deal.id).offset(offset).limit(limit)))


def get_health(*, session: Session, workspace_id: int, crm_id: str) -> CustomerHealth | None:
    return session.exec(
        select(CustomerHealth).where(
            CustomerHealth.workspace_id == workspace_id, CustomerHealth.crm_id == crm_id
        )
    ).first()


def list_health(
    *, session: Session, workspace_id: int, limit: int | None = None, offset: int = 0
) -> list[CustomerHealth]:
    query = select(CustomerHealth).where(CustomerHealth.workspace_id == workspace_id)
    return list(session.exec(query.order_by(CustomerHealth.id).offset(offset).limit(limit)))


def count_crm_rows(*, session: Session, workspace_id: int) -> dict[str, int]:
    """How many accounts, deals and health records the workspace has (for status pages)."""
    counts: dict[str, int] = {}
    for label, model in (("accounts", Account), ("deals", Deal), ("health", CustomerHealth)):
        table = table_of(model)
        query = select(func.count()).select_from(table).where(table.c.workspace_id == workspace_id)
        counts[label] = int(session.exec(query).one())
    return counts
