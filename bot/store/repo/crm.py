"""Accounts, deals and customer health: bulk upsert by CRM id, and workspace-scoped reads.

The bulk functions are what a CRM import (up to millions of rows) goes through; they take Create
models or, from the import service, field -> value dicts it has already validated. Reads are for
statistics, scoring and the App Home.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from operator import itemgetter
from typing import Any, cast

from sqlalchemy import Connection, String, bindparam, func, type_coerce
from sqlalchemy import delete as sa_delete
from sqlalchemy import select as sa_select
from sqlalchemy import update as sa_update
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
from bot.store.repo._bulk import DEFAULT_CHUNK_SIZE, UpsertCounts, bulk_upsert
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
    distinct_ids: bool = False,
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
        distinct_ids=distinct_ids,
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
    distinct_ids: bool = False,
) -> UpsertCounts:
    """Insert new deals, update changed ones, skip identical ones (matched by CRM id).

    Deals come by the million, each with an account in no particular order: SQLite builds the
    account index after a big write instead of deal by deal. ``distinct_ids``: see ``bulk_upsert``.
    """
    return _upsert(
        session,
        Deal,
        DEAL_FIELDS,
        workspace_id,
        rows,
        import_run_id,
        chunk_size,
        defer_indexes=True,
        distinct_ids=distinct_ids,
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
_JSON_VALUE_COLUMNS = ("tech_stack", "custom_attributes")  # the last two of ACCOUNT_VALUE_COLUMNS


def account_values(*, session: Session, workspace_id: int) -> dict[str, list[Any]]:
    """The ``ACCOUNT_VALUE_COLUMNS`` of every account of the workspace, in id order, as columns.

    Not ORM objects, nor rows: the statistics read every account of a workspace (hundreds of
    thousands) and work on whole columns; an object per account costs more than the query.
    Where the driver hands JSON over as text (SQLite), each distinct text is decoded once: accounts
    share a few tech stacks and custom attribute sets, so equal values come back as one shared
    object, to be read, not changed.
    """
    where = _whole_workspace(session, _ACCOUNTS.c.workspace_id, workspace_id)
    conn = session.connection()
    decoders = {name: _json_decoder(conn, name) for name in _JSON_VALUE_COLUMNS}
    query = sa_select(
        *[
            _ACCOUNTS.c[name] if decoders.get(name) is None else type_coerce(_ACCOUNTS.c[name], String)
            for name in ACCOUNT_VALUE_COLUMNS
        ]
    )
    columns = _columns(_fetch_rows(conn, query.where(where).order_by(_ACCOUNTS.c.id)), ACCOUNT_VALUE_COLUMNS)
    for name, decode in decoders.items():
        if decode is not None:
            columns[name] = _each_distinct(columns[name], decode)
    return columns


def _fetch_rows(conn: Connection, query: Any) -> list[tuple[Any, ...]]:
    """The query's rows as the driver's own tuples, with no SQLAlchemy row object per row (one per
    deal costs more than the query): only for columns whose type converts nothing on the way out,
    or that the caller converts (hence JSON and, on SQLite, dates read as text)."""
    result = conn.execute(query)
    try:
        rows = cast("list[tuple[Any, ...]]", result.cursor.fetchall())
    finally:
        result.close()
    return rows


def _columns(rows: Sequence[tuple[Any, ...]], names: Sequence[str]) -> dict[str, list[Any]]:
    """Rows as one list per column, by name."""
    return {name: list(map(itemgetter(position), rows)) for position, name in enumerate(names)}


def _each_distinct(values: list[Any], convert: Callable[[Any], Any]) -> list[Any]:
    """``[convert(v) for v in values]``, each distinct value converted once (and its result shared)."""
    converted = {value: convert(value) for value in set(values)}
    return [converted[value] for value in values]


def _json_decoder(conn: Connection, name: str) -> Callable[[Any], Any] | None:
    """The JSON column's own result processor; None if it has none (the driver decodes)."""
    column_type = _ACCOUNTS.c[name].type
    process: Callable[[Any], Any] | None = column_type.dialect_impl(conn.dialect).result_processor(
        conn.dialect, None
    )
    return process


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


# What the statistics read of each closed deal, in this order.
CLOSED_DEAL_COLUMNS = ("crm_id", "account_crm_id", "stage", "amount", "created_on", "closed_on")
_CLOSED = (DealStage.won.value, DealStage.lost.value)


def closed_deal_values(*, session: Session, workspace_id: int) -> dict[str, list[Any]]:
    """The ``CLOSED_DEAL_COLUMNS`` of the won deals, then the lost ones, each by id (the order of
    ``list_deals`` per stage), as columns; stages as their plain text ('won', 'lost').

    Not Deal objects, nor rows: building an ORM object per deal costs more than the query itself
    when a workspace holds a million deals (the statistics read them all). One scan of the table
    for both stages, put in stage order here: half the reading of one query per stage.
    """
    in_workspace = _whole_workspace(session, col(Deal.workspace_id), workspace_id)
    sqlite = dialect_name(session) == "sqlite"  # dates stored as ISO text: each distinct one parsed once
    selected = [
        type_coerce(col(getattr(Deal, name)), String)
        if name == "stage" or (sqlite and name in ("created_on", "closed_on"))
        else col(getattr(Deal, name))
        for name in CLOSED_DEAL_COLUMNS
    ]
    query = sa_select(*selected).where(in_workspace, col(Deal.stage).in_(_CLOSED)).order_by(col(Deal.id))
    columns = _columns(_won_first(_fetch_rows(session.connection(), query)), CLOSED_DEAL_COLUMNS)
    if sqlite:
        for name in ("created_on", "closed_on"):
            columns[name] = _each_distinct(columns[name], _iso_date)
    return columns


def _won_first(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Closed deals' rows, the won ones first, each stage in the order given."""
    stage, won = CLOSED_DEAL_COLUMNS.index("stage"), DealStage.won.value
    return [row for row in rows if row[stage] == won] + [row for row in rows if row[stage] != won]


def _iso_date(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


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


_DELETE_BATCH = 500  # ids per IN (...) list: well under SQLite's and PostgreSQL's parameter limits


def delete_crm_records(
    *, session: Session, workspace_id: int, accounts: Sequence[str] = (), deals: Sequence[str] = ()
) -> tuple[int, int]:
    """Delete accounts (their health rows too) and deals by CRM id: (accounts, deals) deleted."""
    delete_by_crm_ids(session=session, model=CustomerHealth, workspace_id=workspace_id, crm_ids=accounts)
    return (
        delete_by_crm_ids(session=session, model=Account, workspace_id=workspace_id, crm_ids=accounts),
        delete_by_crm_ids(session=session, model=Deal, workspace_id=workspace_id, crm_ids=deals),
    )


def delete_by_crm_ids(*, session: Session, model: Any, workspace_id: int, crm_ids: Sequence[str]) -> int:
    """Delete the workspace's rows of ``model`` (a table keyed by workspace and CRM id) with these
    ids, a batch of ids per statement: how many were deleted."""
    removed = 0
    for start in range(0, len(crm_ids), _DELETE_BATCH):
        batch = list(crm_ids[start : start + _DELETE_BATCH])
        result = session.exec(
            sa_delete(model).where(col(model.workspace_id) == workspace_id, col(model.crm_id).in_(batch))
        )
        removed += int(result.rowcount or 0)
    return removed


def repoint_deals(*, session: Session, workspace_id: int, merged: Mapping[str, str]) -> int:
    """Deals of accounts merged away now belong to the surviving account: the deals moved."""
    moved = 0
    for old, survivor in merged.items():
        result = session.exec(
            sa_update(Deal)
            .where(col(Deal.workspace_id) == workspace_id, col(Deal.account_crm_id) == old)
            .values(account_crm_id=survivor)
        )
        moved += int(result.rowcount or 0)
    return moved


def list_crm_ids(*, session: Session, workspace_id: int, kind: str) -> list[str]:
    """Every stored CRM id of ``kind`` ("accounts" or "deals") in the workspace."""
    model: type[Account] | type[Deal] = Account if kind == "accounts" else Deal
    return list(session.exec(select(model.crm_id).where(model.workspace_id == workspace_id)))
