"""The streamed deals import against the in-memory path it replaced, on SQLite and PostgreSQL.

import_deals reads a deals file twice and writes while it checks, rolling back when a rejected
row turns up; read_deals + join_deals + prepare_deals hold every row and check before writing.
For the same file both must report the same rows, errors and findings, and store the same
deals, whatever the file holds and however the write is chunked.
"""

from __future__ import annotations

import csv
import gc
import io
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from bot.services.imports.rows import prepare_deals, stored_account_rows
from bot.services.imports.service import ImportSummary, import_accounts, import_deals
from bot.store import session_scope
from bot.store.models import DealCreate
from bot.store.repo import content_hash
from bot.store.repo import crm as crm_repo
from bot.store.repo.crm import DEAL_FIELDS
from bot.store.repo.workspaces import get_or_create_workspace
from icp_engine.readers import CsvFormatError, join_deals, read_deals
from tests.support.import_support import ACCOUNTS_CSV, new_team, table_counts, workspace_id, write

DB_SETTINGS = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
COLUMNS = (
    "Deal ID",
    "Deal Name",
    "Stage",
    "Amount",
    "Account ID",
    "Account Name",
    "Close Date",
    "Currency",
    "Source",
)
GOOD = {
    "Deal Name": ("Renewal", "", "Pilot"),
    "Stage": ("Closed Won", "Closed Lost", "Qualification", "Won"),
    "Amount": ("1200", "99.5", "", "5k"),
    "Account ID": ("A1", "A2", "A3", ""),
    "Account Name": ("", "Globex GmbH", "initech"),
    "Close Date": ("2022-03-01", "2023-11-30", ""),
    "Currency": ("USD", "EUR", ""),
    "Source": ("inbound", "", "Zürich"),
}
BAD = {
    "Deal Name": ("x" * 600,),
    "Stage": ("", "7", "Closed"),
    "Amount": ("-5", "abc"),
    "Account ID": ("A99",),
    "Account Name": ("Nobody Corp", "Acme, Inc"),
    "Close Date": ("2022-13-01", "soon"),
    "Currency": ("DOLLARS!!!",),
    "Source": ("",),
}


@st.composite
def deal_files(draw: st.DrawFn) -> str:
    """Mostly good deals; now and then a bad value, a repeated deal id or a ragged row."""
    columns = [c for c in COLUMNS if c == "Deal ID" or c == "Stage" or draw(st.booleans())]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    bad_rate = draw(st.sampled_from([0, 0, 5, 20]))
    for i in range(draw(st.integers(1, 30))):
        row = []
        for column in columns:
            if column == "Deal ID":
                row.append(
                    f"D{i}" if draw(st.integers(0, 99)) >= bad_rate else draw(st.sampled_from(["D0", ""]))
                )
            elif draw(st.integers(0, 99)) < bad_rate:
                row.append(draw(st.sampled_from(BAD[column])))
            else:
                row.append(draw(st.sampled_from(GOOD[column])))
        if draw(st.integers(0, 99)) < bad_rate // 2:
            row.append("stray")
        writer.writerow(row)
    return out.getvalue()


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="stream-") as folder:
        yield Path(folder)


def with_accounts(engine: Engine, folder: Path) -> str:
    team = new_team()
    accounts = write(folder / f"accounts-{team}.csv", ACCOUNTS_CSV)
    assert import_accounts(engine=engine, workspace=team, path=accounts).ok
    return team


def stored_deals(engine: Engine, team: str) -> dict[str, tuple[Any, ...]]:
    with session_scope(engine) as session:
        deals = crm_repo.list_deals(session=session, workspace_id=workspace_id(engine, team))
    return {d.crm_id: (*(getattr(d, f) for f in DEAL_FIELDS), d.content_hash) for d in deals}


def in_memory(engine: Engine, team: str, path: Path) -> tuple[Any, list[dict[str, Any]]]:
    """What the in-memory path makes of the file: its tally and the values it would store."""
    with session_scope(engine) as session:
        accounts = crm_repo.list_accounts(session=session, workspace_id=workspace_id(engine, team))
    stored = stored_account_rows([(a.crm_id, a.name) for a in accounts])
    read = read_deals(path)
    prepared = prepare_deals(read, join_deals(stored, read), stored)
    return prepared.tally(), list(prepared.values())


def expected_rows(values: list[dict[str, Any]]) -> dict[str, tuple[Any, ...]]:
    return {
        v["crm_id"]: (*(v[f] for f in DEAL_FIELDS), content_hash([v[f] for f in DEAL_FIELDS])) for v in values
    }


@DB_SETTINGS
@given(text=deal_files(), skip=st.booleans(), chunk_size=st.sampled_from([1, 3, 5_000]))
def test_the_streamed_import_matches_the_in_memory_path(
    store_engine: Engine, scratch: Path, text: str, skip: bool, chunk_size: int
) -> None:
    team = with_accounts(store_engine, scratch)
    path = write(scratch / f"deals-{team}.csv", text)
    try:
        tally, values = in_memory(store_engine, team, path)
    except CsvFormatError as exc:
        summary = import_deals(engine=store_engine, workspace=team, path=path, skip_bad_rows=skip)
        assert (summary.status, summary.message) == ("failed", str(exc))
        return

    summary = import_deals(
        engine=store_engine, workspace=team, path=path, skip_bad_rows=skip, chunk_size=chunk_size
    )

    assert [str(e) for e in summary.errors] == [str(e) for e in tally.errors]
    assert (summary.rows, summary.rejected, summary.findings) == (tally.rows, tally.rejected, tally.findings)
    written = not tally.rejected or (skip and tally.rejected < tally.rows)
    assert summary.status == ("imported" if written else "rejected"), summary.message
    assert stored_deals(store_engine, team) == (expected_rows(values) if written else {})
    assert summary.added == (len(values) if written else 0)


def test_a_rejected_row_after_written_chunks_leaves_nothing_behind(
    store_engine: Engine, scratch: Path
) -> None:
    team = with_accounts(store_engine, scratch)
    good = "".join(f"D{i},Closed Won,{i * 10},A1\n" for i in range(20))
    path = write(scratch / f"late-{team}.csv", "Deal ID,Stage,Amount,Account ID\n" + good + "D20,Won,-5,A1\n")
    before = table_counts(store_engine)

    summary = import_deals(engine=store_engine, workspace=team, path=path, chunk_size=3)

    assert summary.status == "rejected" and summary.rejected == 1 and summary.rows == 21
    assert [str(e) for e in summary.errors] == [f"{path.name} line 22, column 'Amount': negative value: '-5'"]
    assert (summary.added, summary.import_run_id, summary.checksum, summary.previous) == (0, None, None, None)
    assert table_counts(store_engine) == before
    assert stored_deals(store_engine, team) == {}


def test_skipping_bad_rows_writes_the_others_around_them(store_engine: Engine, scratch: Path) -> None:
    team = with_accounts(store_engine, scratch)
    rows = [f"D{i},Closed Won,{i},A2\n" for i in range(10)]
    rows[4] = "D4,Closed Won,12,A99\n"
    path = write(scratch / f"skip-{team}.csv", "Deal ID,Stage,Amount,Account ID\n" + "".join(rows))

    summary = import_deals(engine=store_engine, workspace=team, path=path, skip_bad_rows=True, chunk_size=2)

    assert summary.status == "imported" and (summary.added, summary.rejected) == (9, 1)
    assert [str(e) for e in summary.errors] == [
        f"{path.name} line 6, column 'Account ID': unknown account id 'A99'"
    ]
    assert sorted(stored_deals(store_engine, team)) == sorted(f"D{i}" for i in range(10) if i != 4)


def test_deals_re_imported_unchanged_are_not_rewritten(store_engine: Engine, scratch: Path) -> None:
    team = with_accounts(store_engine, scratch)
    path = write(scratch / f"again-{team}.csv", "Deal ID,Stage,Created Date\nD1,Won,2024-01-02\nD2,Lost,\n")
    first = import_deals(engine=store_engine, workspace=team, path=path, chunk_size=1)
    before = stored_deals(store_engine, team)

    again = import_deals(engine=store_engine, workspace=team, path=path, chunk_size=1)

    assert first.status == "imported" and again.status == "unchanged"
    assert (again.added, again.updated, again.unchanged) == (0, 0, 2)
    assert stored_deals(store_engine, team) == before
    assert before["D1"][DEAL_FIELDS.index("created_on")] == date(2024, 1, 2)


@pytest.mark.parametrize("enabled_before", [True, False])
def test_the_cycle_collector_is_as_it_was_after_an_import(
    store_engine: Engine, scratch: Path, enabled_before: bool
) -> None:
    team = with_accounts(store_engine, scratch)
    path = write(scratch / f"gc-{team}.csv", "Deal ID,Stage\nD1,Won\n")
    was = gc.isenabled()
    try:
        (gc.enable if enabled_before else gc.disable)()
        summary: ImportSummary = import_deals(engine=store_engine, workspace=team, path=path)
        assert summary.ok and gc.isenabled() is enabled_before
        bad = write(scratch / f"gc-bad-{team}.csv", "Deal ID,Stage\nD1,\n")
        assert import_deals(engine=store_engine, workspace=team, path=bad).status == "rejected"
        assert gc.isenabled() is enabled_before
    finally:
        (gc.enable if was else gc.disable)()


def test_plain_values_and_models_are_stored_alike(store_engine: Engine) -> None:
    """bulk_upsert takes validated dicts from the import service and models from anyone else."""
    rows = [
        {
            "crm_id": f"D{i}",
            "account_crm_id": None if i % 2 else "A1",
            "name": f"Deal {i}\t\\N\n'\"," if i % 3 else None,  # what COPY's text format must escape
            "stage": ("won", "lost", "open")[i % 3],
            "amount": None if i % 4 == 0 else i * 1.5,
            "currency": "EUR",
            "created_on": date(2024, 1, 1 + i % 28),
            "closed_on": None,
            "custom_attributes": {"Source": "Zürich", "n": i, "note": "a\tb\\c\r\n"} if i % 2 else {},
        }
        for i in range(25)
    ]
    stored = {}
    for label, items in (("dicts", rows), ("models", [DealCreate(**row) for row in rows])):
        team = new_team()
        with session_scope(store_engine) as session:
            ws = get_or_create_workspace(session=session, slack_team_id=team)
            assert ws.id is not None
            counts = crm_repo.bulk_upsert_deals(session=session, workspace_id=ws.id, rows=items, chunk_size=7)
        assert counts.added == 25, label
        stored[label] = stored_deals(store_engine, team)
    assert stored["dicts"] == stored["models"]
    assert stored["dicts"]["D3"][DEAL_FIELDS.index("custom_attributes")] == {
        "Source": "Zürich",
        "n": 3,
        "note": "a\tb\\c\r\n",
    }
    assert stored["dicts"]["D1"][DEAL_FIELDS.index("name")] == "Deal 1\t\\N\n'\","
