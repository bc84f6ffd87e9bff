"""Accounts, deals and customer health: bulk upsert by CRM id, and workspace-scoped reads.

The bulk functions are what a CRM import (up to millions of rows) goes through; they take Create
models or, from the import service, field -> value dicts it has already validated. Reads are for
statistics, scoring and the App Home.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Connection, String, bindparam, func, type_coerce
from sqlalchemy import select as sa_select
from sqlmodel import Session, SQLModel, col, select

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
from bot.store.repo._bulk import DEFAULT_CHUNK_SIZE, UpsertCounts, _memoized, bulk_upsert
from bot.store.repo._sql import dialect_name, get_scoped, table_of

ACCOUNT_FIELDS: tuple[str, ...] = tuple(AccountCreate.model_fields)
DEAL_FIELDS: tuple[str, ...] = tuple(DealCreate.model_fields)
HEALTH_FIELDS: tuple[str, ...] = tuple(CustomerHealthCreate.model_fields)

_ACCOUNTS = table_of(Account)
# Built once with bound parameters: /icp score reads one account per request, and building a
# SQLAlchemy expression costs more CPU than SQLite takes to run it.
_ACCOUNT_BY_ID = select(Account).where(
    Account.id == bindparam("account_id"), Account.workspace_id == bindparam("workspace_id")
)


def _whole_workspace(session: Session, column: Any, workspace_id: int) -> Any:
    """``column == workspace_id`` for a query that reads all of a workspace's rows in id order.

    SQLite (no table statistics) would look the rows up through an index on workspace_id, then
    fetch each by id and sort them: 2 s for a million deals. When the table holds this workspace
    only (the usual store), ``column + 0`` keeps the index out and the table is scanned in id
    order, sorted already: ten times quicker. A store shared with other workspaces keeps the index,
    so a small workspace never scans the others' rows.
    """
    if dialect_name(session) == "sqlite" and _only_workspace(session, column, workspace_id):
        return column + 0 == workspace_id
    return column == workspace_id


def _only_workspace(session: Session, column: Any, workspace_id: int) -> bool:
    """Whether every row of the column's table is the workspace's (min and max: two index look-ups)."""
    low, high = session.connection().execute(sa_select(func.min(column), func.max(column))).one()
    return bool(low == high == workspace_id)


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
    *,
    defer_indexes: bool = False,
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
        defer_indexes=defer_indexes,
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
    """Insert new deals, update changed ones, skip identical ones (matched by CRM id).

    Deals come by the million, each with an account in no particular order: SQLite builds the
    account index after a big write instead of deal by deal.
    """
    return _upsert(
        session, Deal, DEAL_FIELDS, workspace_id, rows, import_run_id, chunk_size, defer_indexes=True
    )


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
    query = select(Account).where(Account.workspace_id == workspace_id).order_by(col(Account.id))
    return list(session.exec(query.offset(offset).limit(limit)))


# What the statistics read of each account, in this order.
ACCOUNT_VALUE_COLUMNS = (
    "crm_id",
    "name",
    "domain",
    "industry",
    "employees",
    "annual_revenue",
    "country",
    "region",
    "tech_stack",
    "custom_attributes",
)
_ACCOUNT_VALUES = sa_select(*[_ACCOUNTS.c[name] for name in ACCOUNT_VALUE_COLUMNS])
_JSON_VALUE_COLUMNS = ("tech_stack", "custom_attributes")  # the last two of ACCOUNT_VALUE_COLUMNS


def account_values(*, session: Session, workspace_id: int) -> list[Sequence[Any]]:
    """The ``ACCOUNT_VALUE_COLUMNS`` of every account of the workspace, in id order, as rows.

    Not ORM objects: building one per account costs more than the query, and several times the
    memory, when a workspace holds hundreds of thousands of accounts (the statistics read them all).
    Where the driver hands JSON over as text (SQLite), each distinct text is decoded once: accounts
    share a few tech stacks and custom attribute sets, so equal values come back as one shared
    object, to be read, not changed.
    """
    where = _whole_workspace(session, _ACCOUNTS.c.workspace_id, workspace_id)
    conn = session.connection()
    stack, custom = (_json_decoder(conn, name) for name in _JSON_VALUE_COLUMNS)
    if stack is None or custom is None:  # decoded by the driver already
        return list(conn.execute(_ACCOUNT_VALUES.where(where).order_by(_ACCOUNTS.c.id)))
    texts = sa_select(
        *[
            type_coerce(_ACCOUNTS.c[name], String) if name in _JSON_VALUE_COLUMNS else _ACCOUNTS.c[name]
            for name in ACCOUNT_VALUE_COLUMNS
        ]
    )
    rows = conn.execute(texts.where(where).order_by(_ACCOUNTS.c.id))
    return [(*row[:-2], stack(row[-2]), custom(row[-1])) for row in rows]


def _json_decoder(conn: Connection, name: str) -> Callable[[Any], Any] | None:
    """The JSON column's own result processor, remembered per stored text; None if it has none."""
    column_type = _ACCOUNTS.c[name].type
    process = column_type.dialect_impl(conn.dialect).result_processor(conn.dialect, None)
    return None if process is None else _memoized(process)


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
    return list(session.exec(query.order_by(col(Deal.id)).offset(offset).limit(limit)))


def closed_deal_values(*, session: Session, workspace_id: int) -> list[tuple[Any, ...]]:
    """(crm_id, account_crm_id, stage, amount, created_on, closed_on): the won deals, then the lost
    ones, each by id (the order of ``list_deals`` per stage).

    Plain column values, not Deal objects: building an ORM object per deal costs more than the
    query itself when a workspace holds a million deals (the statistics read them all).
    """
    rows: list[tuple[Any, ...]] = []
    in_workspace = _whole_workspace(session, col(Deal.workspace_id), workspace_id)
    created: Any = col(Deal.created_on)
    closed: Any = col(Deal.closed_on)
    day: Callable[[Any], Any] = lambda value: value  # noqa: E731
    if dialect_name(session) == "sqlite":  # dates stored as ISO text: each distinct one parsed once
        created, closed = type_coerce(created, String), type_coerce(closed, String)
        day = _iso_dates()
    for stage in (DealStage.won, DealStage.lost):
        query = (
            sa_select(
                col(Deal.crm_id), col(Deal.account_crm_id), col(Deal.stage), col(Deal.amount), created, closed
            )
            .where(in_workspace, col(Deal.stage) == stage)
            .order_by(col(Deal.id))
        )
        rows.extend(
            (crm_id, account, stage_, amount, day(created_on), day(closed_on))
            for crm_id, account, stage_, amount, created_on, closed_on in session.connection().execute(query)
        )
    return rows


def _iso_dates() -> Callable[[str | None], date | None]:
    """ISO date text to a date, remembering each (a million deals have a few thousand dates)."""
    memo: dict[str, date] = {}

    def day(text: str | None) -> date | None:
        if text is None:
            return None
        found = memo.get(text)
        if found is None:
            found = memo[text] = date.fromisoformat(text)
        return found

    return day


def has_closed_deals(*, session: Session, workspace_id: int) -> bool:
    """Whether the workspace has a won or lost deal (statistics need its accounts only then)."""
    query = (
        sa_select(col(Deal.id))
        .where(col(Deal.workspace_id) == workspace_id, col(Deal.stage).in_([DealStage.won, DealStage.lost]))
        .limit(1)
    )
    return session.execute(query).first() is not None


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
    return list(session.exec(query.order_by(col(CustomerHealth.id)).offset(offset).limit(limit)))


def count_crm_rows(*, session: Session, workspace_id: int) -> dict[str, int]:
    """How many accounts, deals and health records the workspace has (for status pages)."""
    counts: dict[str, int] = {}
    for label, model in (("accounts", Account), ("deals", Deal), ("health", CustomerHealth)):
        table = table_of(model)
        query = select(func.count()).select_from(table).where(table.c.workspace_id == workspace_id)
        counts[label] = int(session.exec(query).one())
    return counts


def find_account_by_id(session: Session, *, workspace_id: int, account_id: int) -> Account | None:
    """The account with this primary key, if it is the workspace's (None if erased or re-imported away)."""
    params = {"account_id": account_id, "workspace_id": workspace_id}
    return session.exec(_ACCOUNT_BY_ID, params=params).first()


def has_accounts(session: Session, *, workspace_id: int) -> bool:
    query = select(_ACCOUNTS.c.id).where(_ACCOUNTS.c.workspace_id == workspace_id).limit(1)
    return session.execute(query).first() is not None


def list_account_names(session: Session, *, workspace_id: int) -> list[tuple[str, str]]:
    """(crm_id, name) of the workspace's accounts, in the order they were stored."""
    query = select(_ACCOUNTS.c.crm_id, _ACCOUNTS.c.name).where(
        _whole_workspace(session, _ACCOUNTS.c.workspace_id, workspace_id)
    )
    rows = session.execute(query.order_by(_ACCOUNTS.c.id))
    return [(crm_id, name) for crm_id, name in cast("Iterable[tuple[str, str]]", rows)]


def list_churned_health(session: Session, *, workspace_id: int) -> list[CustomerHealth]:
    """Health records of customers flagged as churned."""
    query = select(CustomerHealth).where(
        CustomerHealth.workspace_id == workspace_id,
        CustomerHealth.churned == True,  # noqa: E712 (SQL, not Python truth)
    )
    return list(session.exec(query))


# The account lookup's reads take a bare connection (a session works too): they run on every
# lookup and need no ORM objects.


def account_table_state(session: Session | Connection, *, workspace_id: int) -> tuple[int, datetime | None]:
    """(how many accounts, latest ``updated_at``): changes whenever an import changes the accounts."""
    # Two queries, not one: alone, the latest updated_at is one step down the
    # (workspace_id, updated_at) index and the count a plain scan of it; together, every
    # row's timestamp is compared on the way (twice the time on 100,000 accounts).
    where = _ACCOUNTS.c.workspace_id == workspace_id
    count = session.execute(select(func.count()).select_from(_ACCOUNTS).where(where)).scalar_one()
    latest: datetime | None = session.execute(
        select(func.max(_ACCOUNTS.c.updated_at)).where(where)
    ).scalar_one()
    return int(count), latest


def list_account_refs(
    session: Session | Connection, *, workspace_id: int
) -> Sequence[tuple[int, str, str, str | None]]:
    """(id, crm_id, name, domain) of every account of the workspace, in id order."""
    query = (
        select(_ACCOUNTS.c.id, _ACCOUNTS.c.crm_id, _ACCOUNTS.c.name, _ACCOUNTS.c.domain)
        .where(_ACCOUNTS.c.workspace_id == workspace_id)
        .order_by(_ACCOUNTS.c.id)
    )
    return session.execute(query).all()


def recently_changed_workspaces(session: Session | Connection, *, limit: int) -> list[int]:
    """Ids of the ``limit`` workspaces whose accounts changed most recently, most recent first."""
    latest = func.max(_ACCOUNTS.c.updated_at)
    query = (
        select(_ACCOUNTS.c.workspace_id)
        .group_by(_ACCOUNTS.c.workspace_id)
        .order_by(latest.desc())
        .limit(limit)
    )
    return list(session.execute(query).scalars())
