"""Chunked, idempotent bulk upsert keyed by (workspace_id, crm_id), for both SQLite and PostgreSQL.

Each row's content is digested; per chunk, one indexed SELECT fetches the stored digests of the
chunk's CRM ids, so rows are sorted into added / updated / unchanged without comparing columns.
Only added and changed rows are written. On SQLite, as executemany: the added ones with a plain
``INSERT`` (the write transaction holds the database's write lock, so they are still not stored),
the changed ones with ``INSERT ... ON CONFLICT (workspace_id, crm_id) DO UPDATE``. On PostgreSQL,
both by COPY into a temporary table and one ``INSERT ... SELECT ... ON CONFLICT DO UPDATE`` from
it (safe if another transaction stored a row meanwhile; per-row statements cost the server far
more than the rows themselves). Unchanged rows cost one index lookup, so re-importing the same
file is cheap.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice
from operator import itemgetter
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import Connection, Table, any_, bindparam, select
from sqlalchemy.dialects import postgresql
from sqlmodel import Session, SQLModel

from bot.store.models.crm import HASH_LENGTH
from bot.store.repo._sql import dialect_name, insert_for
from bot.store.types import utcnow

RowT = TypeVar("RowT")

DEFAULT_CHUNK_SIZE = 5_000
# SQLite page cache while a bulk upsert runs (KiB): the hot index pages stay in memory instead of
# being re-read per insert; put back afterwards. The cache fills up with the transaction's pages, so
# it is memory an import worker holds: 128 MiB imported 900,000 deals no faster than 16 MiB and
# cost the worker about 110 MB more.
SQLITE_IMPORT_CACHE_KIB = 16 * 1024
_KEEP_ON_UPDATE = frozenset({"crm_id", "workspace_id", "created_at"})
_CONSTANTS = ("workspace_id", "import_run_id", "created_at", "updated_at")
_MEMO_LIMIT = 100_000
DEFER_INDEXES_AFTER = 50_000  # rows written before a bulk write may build its indexes afterwards
_HASH_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False
)  # one encoder, not one per call: json.dumps with options builds a new one every time


@dataclass(frozen=True, slots=True)
class UpsertCounts:
    """What a bulk upsert did, counting rows in input order (a repeated CRM id counts again)."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        return self.added + self.updated + self.unchanged

    def __add__(self, other: UpsertCounts) -> UpsertCounts:
        return UpsertCounts(
            self.added + other.added, self.updated + other.updated, self.unchanged + other.unchanged
        )


def _reusable_encoding(encoder: json.JSONEncoder) -> Callable[[Any], str]:
    """``encoder.encode`` for lists and dicts, with its C encoder built once instead of per call.

    Without circular-reference markers: row values are plain data (a cycle would recurse instead
    of raising ValueError). Falls back to ``encoder.encode`` without the C accelerator.
    """
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return encoder.encode
    iterencode = make(
        None,
        encoder.default,
        json.encoder.encode_basestring_ascii if encoder.ensure_ascii else json.encoder.encode_basestring,
        None,
        encoder.key_separator,
        encoder.item_separator,
        encoder.sort_keys,
        encoder.skipkeys,
        encoder.allow_nan,
    )
    return lambda values: "".join(iterencode(values, 0))


_encode = _reusable_encoding(_HASH_ENCODER)
_JSON_PROBE = {"b": ["é", 1, 2.5, None, True], "a": {"x": ""}}


def content_hash(values: Sequence[Any]) -> str:
    """A stable digest of a row's content (dict key order does not matter, value types do)."""
    return hashlib.blake2b(_encode(values).encode(), digest_size=HASH_LENGTH // 2).hexdigest()


def _digester(fields: Sequence[str]) -> Callable[[Mapping[str, Any]], str]:
    """content_hash of a row's ``fields`` values, in one call per row (a tuple encodes as a list)."""
    get = itemgetter(*fields) if len(fields) > 1 else (lambda row: [row[fields[0]]])
    blake2b, encode, size = hashlib.blake2b, _encode, HASH_LENGTH // 2
    return lambda row: blake2b(encode(get(row)).encode(), digest_size=size).hexdigest()


def _chunks(rows: Iterable[RowT], size: int) -> Iterator[list[RowT]]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


Processor = Callable[[Any], Any]
Entry = tuple[Mapping[str, Any], str]  # a row's field values and its content digest
Writer = Callable[[list[Entry], dict[str, Any], bool], None]  # entries, constants, none of them stored


def _memoized(process: Processor) -> Processor:
    """A bind or result processor remembered per value, for columns whose values repeat (dates, stages)."""
    memo: dict[Any, Any] = {}

    def run(value: Any) -> Any:
        try:
            return memo[value]
        except KeyError:
            result = process(value)
            if len(memo) < _MEMO_LIMIT:
                memo[value] = result
            return result

    return run


def _json_processor(process: Processor, dialect: sa.Dialect) -> Processor:
    """The JSON column processor, with json.dumps's encoder built once when that is all it does.

    Only when the engine has no serializer of its own and the processor's output is exactly
    json.dumps's on a probe; other values (None, SQL NULL markers) still go through ``process``.
    """
    if getattr(dialect, "_json_serializer", "custom") is not None or process(_JSON_PROBE) != json.dumps(
        _JSON_PROBE
    ):
        return process
    dumps = _reusable_encoding(json.JSONEncoder())
    return lambda value: dumps(value) if type(value) is dict or type(value) is list else process(value)


def _processors(table: Table, names: Sequence[str], dialect: sa.Dialect) -> dict[str, Processor | None]:
    """Each column's own bind processor, as SQLAlchemy would apply it (JSON, enums, UTC times, dates)."""
    found: dict[str, Processor | None] = {}
    for name in names:
        column_type = table.c[name].type
        process = column_type.dialect_impl(dialect).bind_processor(dialect)
        if process is None:
            found[name] = None
        elif isinstance(column_type, sa.Enum | sa.Date):  # few distinct values, each converted once
            found[name] = _memoized(process)
        elif isinstance(column_type, sa.JSON):
            found[name] = _json_processor(process, dialect)
        else:
            found[name] = process
    return found


RowMaker = Callable[[list[Entry], Mapping[str, Any]], list[tuple[Any, ...]]]


def _row_maker(names: Sequence[str], processors: Mapping[str, Processor | None]) -> RowMaker:
    """What turns entries into parameter tuples in ``names`` order, bind-processed (None never is).

    A name of ``_CONSTANTS`` takes its (already converted) value from the call's constants,
    ``content_hash`` the entry's digest. Written out as one function, as dataclasses build their
    __init__: per value, a loop over the columns costs several times the tuple it fills.
    Only indexed names go into the source; names and processors are passed in as globals.
    """
    env: dict[str, Any] = {}
    items = []
    for i, name in enumerate(names):
        process = processors.get(name)
        env[f"name{i}"], env[f"process{i}"] = name, process
        if name in _CONSTANTS:
            items.append(f"fixed[name{i}]")
        elif name == "content_hash":
            items.append("digest")
        elif process is None:
            items.append(f"row[name{i}]")
        else:
            items.append(f"(None if (v{i} := row[name{i}]) is None else process{i}(v{i}))")
    source = "def make(entries, fixed):\n    return [(" + ", ".join(items) + ",) for row, digest in entries]"
    exec(source, env)
    return env["make"]  # type: ignore[no-any-return]


def _executemany_upsert(session: Session, table: Table, columns: Sequence[str]) -> Writer:
    """SQLite: ``INSERT ... ON CONFLICT DO UPDATE`` compiled once, run as a plain DB-API executemany;
    rows none of which is stored get a plain ``INSERT``.

    SQLAlchemy's per-row parameter handling costs more than the database's own work for large
    imports, so the statements are compiled once and each column's bind processor is applied
    here; the constants (same value for every row of a call) are converted once per call.

    Why a plain INSERT for rows known to be new: an upsert whose SET names a foreign-key column
    (``import_run_id``) costs SQLite twice a plain insert per row (a million deals: 6.1 s against
    3.0 s). The store's write transactions begin IMMEDIATE, so no other writer can store a row
    between the digest look-up and the insert; were one to, the unique index would refuse the
    insert (IntegrityError, the transaction rolled back), never keep two rows.
    """
    conn = session.connection()
    dialect = conn.dialect
    stmt = insert_for(session, table)
    upsert = stmt.on_conflict_do_update(
        index_elements=["workspace_id", "crm_id"],
        set_={name: stmt.excluded[name] for name in columns if name not in _KEEP_ON_UPDATE},
    )
    statements = {
        fresh: _Compiled.of(statement, table, columns, dialect)
        for fresh, statement in ((True, stmt), (False, upsert))
    }

    def write(rows: list[Entry], common: dict[str, Any], fresh: bool) -> None:
        compiled = statements[fresh]
        fixed = {name: _process(compiled.processors[name], common[name]) for name in _CONSTANTS}
        params: list[Any] = compiled.make(rows, fixed)
        if not compiled.positional:
            params = [dict(zip(compiled.names, item, strict=True)) for item in params]
        conn.exec_driver_sql(compiled.sql, params)

    return write


@dataclass(frozen=True)
class _Compiled:
    """A statement compiled once for executemany: its SQL, its parameters' order and row maker."""

    sql: str
    positional: bool
    names: list[str]
    processors: dict[str, Processor | None]
    make: RowMaker

    @classmethod
    def of(cls, statement: Any, table: Table, columns: Sequence[str], dialect: sa.Dialect) -> _Compiled:
        compiled = statement.compile(dialect=dialect, column_keys=list(columns), for_executemany=True)
        names: list[str] = list(compiled.positiontup or []) if compiled.positional else list(columns)
        processors = _processors(table, names, dialect)
        return cls(compiled.string, compiled.positional, names, processors, _row_maker(names, processors))


def _process(process: Processor | None, value: Any) -> Any:
    return value if process is None or value is None else process(value)


def _copy_upsert(session: Session, table: Table, columns: Sequence[str]) -> Writer:
    """PostgreSQL: COPY the rows into a temporary table, then one INSERT ... SELECT ... ON CONFLICT.

    The temporary table has the target's column types (CREATE ... AS SELECT ... WITH NO DATA)
    and lives until the transaction ends; the constants are bound once per statement.
    """
    conn = session.connection()
    dialect = conn.dialect
    row_names = [name for name in columns if name not in _CONSTANTS]
    processors = _processors(table, row_names, dialect)
    if getattr(dialect, "_json_serializer", "custom") is None:  # COPY takes JSON as text: json.dumps's
        dumps = _reusable_encoding(json.JSONEncoder())
        for name in row_names:
            if isinstance(table.c[name].type, sa.JSON):
                processors[name] = dumps
    staging = f"bulk_{table.name}_{uuid.uuid4().hex[:12]}"
    preparer = dialect.identifier_preparer
    quoted = ", ".join(preparer.quote(name) for name in row_names)
    conn.exec_driver_sql(
        f"CREATE TEMPORARY TABLE {preparer.quote(staging)} ON COMMIT DROP AS "
        f"SELECT {quoted} FROM {preparer.format_table(table)} WITH NO DATA"
    )
    source = sa.table(staging, *[sa.column(name) for name in row_names])
    constants = [bindparam(name, type_=table.c[name].type) for name in _CONSTANTS]
    stmt = postgresql.insert(table).from_select(
        [*row_names, *_CONSTANTS], select(*[source.c[name] for name in row_names], *constants)
    )
    upsert = stmt.on_conflict_do_update(
        index_elements=["workspace_id", "crm_id"],
        set_={name: stmt.excluded[name] for name in columns if name not in _KEEP_ON_UPDATE},
    )
    copy_sql = f"COPY {preparer.quote(staging)} ({quoted}) FROM STDIN"

    make = _row_maker(row_names, processors)

    def write(rows: list[Entry], common: dict[str, Any], fresh: bool) -> None:
        # ``fresh`` changes nothing here: under READ COMMITTED another transaction may store a row
        # between the digest look-up and the COPY, and the upsert then updates it instead of failing.
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            with cursor.copy(copy_sql) as copy:
                for values in make(rows, {}):
                    copy.write_row(values)
        finally:
            cursor.close()
        conn.execute(upsert, common)
        conn.exec_driver_sql(f"TRUNCATE {preparer.quote(staging)}")

    return write


def _stored_digests(
    session: Session, table: Table, workspace_id: int
) -> Callable[[list[str]], dict[str, str]]:
    """A function from CRM ids to the content digests stored for them (one indexed SELECT per call).

    PostgreSQL gets ``crm_id = ANY(:array)``: one parameter, so the driver's prepared statement
    keeps an index plan. (An ``IN`` list of thousands of parameters, once prepared, got a generic
    plan that scanned the whole table per chunk: 70 s per 20,000 rows on a 200,000-row re-import.)
    SQLite gets ``IN (?, ?, ...)`` rendered once per list length, not once per chunk.
    """
    conn = session.connection()
    if dialect_name(session) == "postgresql":
        ids = bindparam("crm_ids", type_=postgresql.ARRAY(table.c.crm_id.type))
        query = select(table.c.crm_id, table.c.content_hash).where(
            table.c.workspace_id == workspace_id, table.c.crm_id == any_(ids)
        )
        return lambda crm_ids: dict(conn.execute(query, {"crm_ids": crm_ids}).all())
    quote = conn.dialect.identifier_preparer.quote
    head = (
        f"SELECT {quote('crm_id')}, {quote('content_hash')} "
        f"FROM {conn.dialect.identifier_preparer.format_table(table)} "
        f"WHERE {quote('workspace_id')} = ? AND {quote('crm_id')} IN ("
    )
    rendered: dict[int, str] = {}

    def fetch(crm_ids: list[str]) -> dict[str, str]:
        sql = rendered.get(len(crm_ids))
        if sql is None:
            sql = rendered[len(crm_ids)] = head + ", ".join("?" * len(crm_ids)) + ")"
        return dict(conn.exec_driver_sql(sql, (workspace_id, *crm_ids)).all())

    return fetch


def _has_rows(conn: Connection, table: Table, workspace_id: int) -> bool:
    """Whether the table holds any row of the workspace (one index look-up)."""
    query = select(table.c.crm_id).where(table.c.workspace_id == workspace_id).limit(1)
    return conn.execute(query).first() is not None


@contextmanager
def _sqlite_cache(conn: Connection) -> Iterator[None]:
    """A bigger SQLite page cache for the duration of a bulk write (other databases: nothing)."""
    if conn.dialect.name != "sqlite":
        yield
        return
    old: int = conn.exec_driver_sql("PRAGMA cache_size").scalar_one()
    conn.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_IMPORT_CACHE_KIB}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size = {int(old)}")


class _DeferredIndexes:
    """SQLite: a big bulk write's secondary indexes dropped, and built again once it is written.

    Why: rows go in file order, so an index on another column (a deal's account) takes each row
    at a random place, which costs more than the rest of the insert (6 of 10 s for a million
    deals); built afterwards, it is one sort. Only once ``DEFER_INDEXES_AFTER`` rows are written
    and the table holds at most twice the rows written so far (rebuilding costs the whole table).
    SQLite's DDL is part of the transaction: a rollback puts the index back as well, and readers
    of other connections never see the table without it. Unique indexes (the upsert's conflict
    target) stay. PostgreSQL is left alone (dropping an index there locks readers out).
    """

    def __init__(self, conn: Connection, table: Table, enabled: bool) -> None:
        self.conn, self.table = conn, table
        self.pending = enabled and conn.dialect.name == "sqlite"
        self.dropped: list[sa.Index] = []

    def written(self, rows: int) -> None:
        """Called with the rows written so far; drops the indexes when it pays."""
        if not self.pending or rows < DEFER_INDEXES_AFTER:
            return
        self.pending = False
        stored = self.conn.execute(select(sa.func.count()).select_from(self.table)).scalar_one()
        if stored > 2 * rows:
            return
        for index in sorted(self.table.indexes, key=lambda index: str(index.name)):
            if not index.unique:
                index.drop(self.conn)
                self.dropped.append(index)

    def restore(self) -> None:
        for index in self.dropped:
            index.create(self.conn)
        self.dropped = []


def _field_values(row: SQLModel | Mapping[str, Any], fields: Sequence[str]) -> dict[str, Any]:
    if isinstance(row, SQLModel):
        return {name: getattr(row, name) for name in fields}
    return {name: row[name] for name in fields}


def _classified(
    chunk: list[SQLModel | Mapping[str, Any]],
    fields: Sequence[str],
    digest: Callable[[Mapping[str, Any]], str],
    stored_digests: Callable[[list[str]], dict[str, str]] | None,
) -> tuple[UpsertCounts, list[Entry], list[Entry]]:
    """A chunk's rows digested and counted (added, updated, unchanged), and those to write: the
    ones not stored yet (each CRM id once) and the stored ones that changed.

    Validated values are read, never changed nor copied: the digest goes alongside them.
    ``stored_digests`` None: the ids are distinct and none is stored, so every row is added.
    """
    entries: list[Entry] = []
    values: Mapping[str, Any]
    for row in chunk:
        values = row if type(row) is dict else _field_values(row, fields)
        entries.append((values, digest(values)))
    if stored_digests is None:
        return UpsertCounts(added=len(entries)), entries, []
    pending = {values["crm_id"]: (values, content) for values, content in entries}  # a later duplicate wins
    stored = stored_digests(list(pending))
    added = updated = unchanged = 0
    seen = dict(stored)
    for values, content in entries:
        crm_id = values["crm_id"]
        previous = seen.get(crm_id)
        if previous is None:
            added += 1
        elif previous == content:
            unchanged += 1
        else:
            updated += 1
        seen[crm_id] = content
    new = [entry for crm_id, entry in pending.items() if crm_id not in stored]
    changed = [entry for crm_id, entry in pending.items() if crm_id in stored and stored[crm_id] != entry[1]]
    return UpsertCounts(added, updated, unchanged), new, changed


def bulk_upsert(
    *,
    session: Session,
    table: Table,
    workspace_id: int,
    rows: Iterable[SQLModel | Mapping[str, Any]],
    fields: Sequence[str],
    import_run_id: int | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    defer_indexes: bool = False,
    distinct_ids: bool = False,
) -> UpsertCounts:
    """Upsert ``rows`` into ``table``: models carrying ``fields``, or validated field -> value dicts.

    One of the fields is ``crm_id``. Dicts are taken as they are (the caller validated them, see
    ``bot.services.imports.values``), so the database's own constraints are the last check.
    ``defer_indexes``: build secondary indexes after a big write instead of row by row (SQLite;
    see :class:`_DeferredIndexes`). ``distinct_ids``: the caller knows that no CRM id occurs twice
    in ``rows``; then, when the workspace has no row in the table yet, every row is added and no
    stored digest is looked up (a SELECT per chunk that could only find nothing).
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
    conn = session.connection()
    stored_digests = (
        None
        if distinct_ids and not _has_rows(conn, table, workspace_id)
        else _stored_digests(session, table, workspace_id)
    )
    columns = [*fields, "content_hash", *_CONSTANTS]
    if conn.dialect.name == "postgresql":
        write = _copy_upsert(session, table, columns)
    else:
        write = _executemany_upsert(session, table, columns)
    digest = _digester(fields)
    totals = UpsertCounts()
    written = 0
    deferred = _DeferredIndexes(conn, table, defer_indexes)
    with _sqlite_cache(conn):
        try:
            for chunk in _chunks(rows, chunk_size):
                now = utcnow()
                counts, new, changed = _classified(chunk, fields, digest, stored_digests)
                common = {
                    "workspace_id": workspace_id,
                    "import_run_id": import_run_id,
                    "created_at": now,
                    "updated_at": now,
                }
                for fresh, entries in ((True, new), (False, changed)):
                    if entries:
                        write(entries, common, fresh)
                        written += len(entries)
                        deferred.written(written)
                totals = totals + counts
        finally:
            deferred.restore()
    return totals
