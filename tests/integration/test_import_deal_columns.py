"""The column-wise fast lane of the deals import against the row path, on SQLite and PostgreSQL.

A file without any problem is written column-wise (``DealColumns``), any other goes the row path
(``DealRows``); ``import_deals(columnwise=False)`` sends every file the row path. For the same
file both must store the same rows (content digests included) and report the same summary, and
either must find the other's rows unchanged on a re-import.
"""

from __future__ import annotations

import csv
import io
import random
import re
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, event, text

from bot.services.imports.deal_columns import DealColumns, deal_rows
from bot.services.imports.rows import DealRows
from bot.services.imports.service import ImportSummary, import_accounts, import_deals
from bot.store import session_scope
from bot.store.repo.crm import list_account_names
from icp_engine.readers import CsvFormatError, DealStream
from tests.support.import_support import new_team, workspace_id, write

ACCOUNTS = "Account ID,Account Name,Industry\nA1,Acme,software\nA2,Globex GmbH,retail\nA3,Zürich AG,finance\n"
STORED_COLUMNS = "crm_id, account_crm_id, name, stage, amount, currency, created_on, closed_on, custom_attributes, content_hash"
COLUMNS = (
    "Deal ID",
    "Deal Name",
    "Stage",
    "Amount",
    "Account ID",
    "Account Name",
    "Created",
    "Close Date",
    "Currency",
    "Région",
)
GOOD = {
    "Deal Name": ("Renewal", "", "Pilot – phase 2"),
    "Stage": ("Closed Won", "Closed Lost", "Qualification", "Won", "Lost - no budget"),
    "Amount": ("1200", "99.5", "", "5k", "1,250.75", "0"),
    "Account ID": ("A1", "A2", "A3"),
    "Account Name": ("", "Globex GmbH", "Zürich AG"),
    "Created": ("2021-01-15", "2021-06-30", ""),
    "Close Date": ("2022-03-01", "2020-11-30", ""),
    "Currency": ("USD", "EUR", ""),
    "Région": ("EMEA", "", "Île-de-France"),
}
ODD = {"Région": ("back\\slash",)}  # good, but JSON escapes it: digested a row at a time
BAD = {  # each makes the row path reject the row, join it by name, or keep a long name or currency
    "Deal Name": ("x" * 600,),
    "Stage": ("", "7", "Closed"),
    "Amount": ("-5", "abc"),
    "Account ID": ("A99", "", "A1;A2"),
    "Account Name": ("Nobody Corp",),
    "Created": ("2021-13-01",),
    "Close Date": ("soon",),
    "Currency": ("DOLLARS!!!",),
    "Région": ("",),
}
DB_SETTINGS = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="deal-columns-") as folder:
        yield Path(folder)


def deals_csv(count: int) -> str:
    """Good deals with every kind of value the lane builds column-wise (blanks, non-ASCII, cents)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    pick = random.Random(count)
    for i in range(count):
        writer.writerow([f"D{i:05d}", *(pick.choice(values) for values in GOOD.values())])
    return out.getvalue()


@st.composite
def deal_files(draw: st.DrawFn) -> str:
    """Small deals files: mostly good rows, now and then a bad value, a repeated id or a ragged row."""
    columns = [c for c in COLUMNS if c in ("Deal ID", "Stage", "Account ID") or draw(st.booleans())]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    bad_rate = draw(st.sampled_from([0, 0, 0, 3, 20]))
    for i in range(draw(st.integers(1, 25))):
        row = []
        for column in columns:
            if column == "Deal ID":
                repeat = draw(st.integers(0, 99)) < bad_rate
                row.append(draw(st.sampled_from(["D0", ""])) if repeat else f"D{i}")
            elif draw(st.integers(0, 99)) < bad_rate:
                row.append(draw(st.sampled_from(BAD[column])))
            else:
                row.append(draw(st.sampled_from(GOOD[column] + ODD.get(column, ()))))
        if draw(st.integers(0, 99)) < bad_rate // 3:
            row.append("stray")
        writer.writerow(row)
    return out.getvalue()


def with_accounts(engine: Engine, folder: Path) -> str:
    team = new_team()
    assert import_accounts(engine=engine, workspace=team, path=write(folder / f"a-{team}.csv", ACCOUNTS)).ok
    return team


def stored(engine: Engine, team: str) -> list[tuple[Any, ...]]:
    """The workspace's deals as stored, in CRM id order (custom attributes as their JSON text)."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                f"SELECT {STORED_COLUMNS}, CAST(custom_attributes AS TEXT) FROM deal "
                "WHERE workspace_id = :ws ORDER BY crm_id"
            ),
            {"ws": workspace_id(engine, team)},
        ).all()
    return [tuple(row) for row in rows]


def lane(engine: Engine, team: str, path: Path) -> type:
    """Which lane the import of ``path`` into ``team`` takes."""
    with session_scope(engine) as session:
        accounts = list_account_names(session, workspace_id=workspace_id(engine, team))
    return type(deal_rows(DealStream(path), accounts))


def comparable(summary: ImportSummary) -> dict[str, Any]:
    """The summary without what differs between two workspaces (their names, runs and messages)."""
    found = summary.to_dict()
    for key in ("workspace", "import_run_id", "message", "previous_import"):
        found.pop(key)
    return found


def test_a_clean_file_goes_the_fast_lane_and_stores_what_the_row_path_stores(
    upgraded_engine: Engine, scratch: Path
) -> None:
    fast_team, row_team = with_accounts(upgraded_engine, scratch), with_accounts(upgraded_engine, scratch)
    path = write(scratch / f"deals-{fast_team}.csv", deals_csv(400))
    assert lane(upgraded_engine, fast_team, path) is DealColumns

    fast = import_deals(engine=upgraded_engine, workspace=fast_team, path=path, chunk_size=70)
    rows = import_deals(
        engine=upgraded_engine, workspace=row_team, path=path, chunk_size=70, columnwise=False
    )

    assert fast.status == "imported" and (fast.added, fast.rows) == (400, 400), fast.message
    assert comparable(fast) == comparable(rows)
    assert "400 deals joined to an account (400 by account id, 0 by name)" in fast.findings
    assert any("before they were created" in finding for finding in fast.findings)
    assert len(stored(upgraded_engine, fast_team)) == 400
    assert stored(upgraded_engine, fast_team) == stored(upgraded_engine, row_team)


@pytest.mark.parametrize("first_columnwise", [True, False])
def test_either_lane_finds_the_others_rows_unchanged(
    upgraded_engine: Engine, scratch: Path, first_columnwise: bool
) -> None:
    team = with_accounts(upgraded_engine, scratch)
    path = write(scratch / f"again-{team}.csv", deals_csv(120))
    first = import_deals(engine=upgraded_engine, workspace=team, path=path, columnwise=first_columnwise)
    assert first.status == "imported" and first.added == 120

    again = import_deals(engine=upgraded_engine, workspace=team, path=path, columnwise=not first_columnwise)

    assert (again.status, again.added, again.updated, again.unchanged) == ("unchanged", 0, 0, 120)
    assert again.import_run_id == first.import_run_id


def test_a_changed_file_updates_through_the_fast_lane(upgraded_engine: Engine, scratch: Path) -> None:
    """With deals already stored, the fast lane still looks their digests up: changed rows are updates."""
    fast_team, row_team = with_accounts(upgraded_engine, scratch), with_accounts(upgraded_engine, scratch)
    for team in (fast_team, row_team):
        path = write(scratch / f"before-{team}.csv", deals_csv(50))
        assert import_deals(engine=upgraded_engine, workspace=team, path=path, columnwise=False).ok
    changed = deals_csv(60).replace("Renewal", "Upsell")

    fast = import_deals(engine=upgraded_engine, workspace=fast_team, path=write(scratch / "c1.csv", changed))
    rows = import_deals(
        engine=upgraded_engine, workspace=row_team, path=write(scratch / "c2.csv", changed), columnwise=False
    )

    assert (fast.added, fast.updated, fast.unchanged) == (10, fast.updated, 50 - fast.updated)
    assert fast.updated > 0
    assert (fast.added, fast.updated, fast.unchanged) == (rows.added, rows.updated, rows.unchanged)
    assert stored(upgraded_engine, fast_team) == stored(upgraded_engine, row_team)


@DB_SETTINGS
@given(content=deal_files(), skip=st.booleans(), chunk_size=st.sampled_from([2, 5_000]))
@example(
    content="Deal ID,Deal Name,Stage,Account ID\nD0," + "x" * 600 + ",Closed Won,A1\n",
    skip=False,
    chunk_size=2,
)
@example(content="Deal ID,Stage,Amount,Account ID\nD0,Closed Won,1200,A1;A2\n", skip=False, chunk_size=2)
def test_both_lanes_agree_on_any_small_file(
    store_engine: Engine, scratch: Path, content: str, skip: bool, chunk_size: int
) -> None:
    fast_team, row_team = with_accounts(store_engine, scratch), with_accounts(store_engine, scratch)
    path = write(scratch / f"any-{fast_team}.csv", content)

    fast = import_deals(
        engine=store_engine, workspace=fast_team, path=path, skip_bad_rows=skip, chunk_size=chunk_size
    )
    rows = import_deals(
        engine=store_engine,
        workspace=row_team,
        path=path,
        skip_bad_rows=skip,
        chunk_size=chunk_size,
        columnwise=False,
    )

    assert comparable(fast) == comparable(rows)
    assert stored(store_engine, fast_team) == stored(store_engine, row_team)
    if fast.status == "failed":
        return
    taken = lane(store_engine, fast_team, path)
    by_id = f"{rows.rows:,} by account id, 0 by name"
    clean = not rows.errors and any(by_id in finding for finding in rows.findings)
    if taken is DealColumns:  # only a clean file goes the fast lane
        assert clean
    elif clean:  # a clean file goes the row path only for a currency or deal name too long to be one,
        # or for an account id cell naming several ids (the row path splits it; the lane never does)
        several = any(";" in row.get("Account ID", "") for row in csv.DictReader(io.StringIO(content)))
        assert taken is DealRows and ("DOLLARS!!!" in content or "x" * 600 in content or several)


DEAL_TABLE = re.compile(r'\bFROM\s+"?deal"?\s', re.I)


def digest_lookups(engine: Engine, run: Callable[[], ImportSummary]) -> tuple[ImportSummary, int]:
    """What ``run`` returned, and how many stored-digest SELECTs on the deal table it sent."""
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        summary = run()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    lookups = [
        s
        for s in sent
        if s.lstrip().upper().startswith("SELECT") and "content_hash" in s and DEAL_TABLE.search(s)
    ]
    return summary, len(lookups)


def test_a_workspace_without_deals_is_written_without_digest_lookups(
    upgraded_engine: Engine, scratch: Path
) -> None:
    fast_team, row_team = with_accounts(upgraded_engine, scratch), with_accounts(upgraded_engine, scratch)
    path = write(scratch / f"new-{fast_team}.csv", deals_csv(120))

    fast, fast_lookups = digest_lookups(
        upgraded_engine,
        lambda: import_deals(engine=upgraded_engine, workspace=fast_team, path=path, chunk_size=50),
    )
    rows, row_lookups = digest_lookups(
        upgraded_engine,
        lambda: import_deals(
            engine=upgraded_engine, workspace=row_team, path=path, chunk_size=50, columnwise=False
        ),
    )
    again, again_lookups = digest_lookups(
        upgraded_engine,
        lambda: import_deals(engine=upgraded_engine, workspace=fast_team, path=path, chunk_size=50),
    )

    assert (fast.added, rows.added) == (120, 120)
    assert (fast_lookups, row_lookups) == (0, 3)  # the row path looks each chunk's digests up
    assert (again.status, again.unchanged, again_lookups) == ("unchanged", 120, 3)  # deals stored now


def test_a_file_changed_after_its_check_is_refused_while_written(
    upgraded_engine: Engine, scratch: Path
) -> None:
    """The lane reads the file twice, keeping nothing of it between the reads (what an import
    holds does not grow with the file): a file changed in between must not be written."""
    team = with_accounts(upgraded_engine, scratch)
    path = write(scratch / f"changed-{team}.csv", deals_csv(30))
    with session_scope(upgraded_engine) as session:
        accounts = list_account_names(session, workspace_id=workspace_id(upgraded_engine, team))
    rows = deal_rows(DealStream(path), accounts)
    assert isinstance(rows, DealColumns) and rows.tally().rows == 30
    assert len(list(rows.values())) == 30  # the second read, of the same file, gives every deal
    path.write_text(deals_csv(30).replace("D00007", ""), encoding="utf-8")  # now a deal has no id
    with pytest.raises(CsvFormatError, match=r"changed while it was being read; import it again$"):
        list(rows.values())
