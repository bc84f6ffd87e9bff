"""Malformed CRM files through `icp import ...`: a clear one-line error and an unchanged database.

Each case is a real file (or a real missing file, folder, bad option) imported with the CLI
against SQLite and PostgreSQL. Every case must exit 1 with an `error:` line naming the file (and
the line and column where there is one) and the reason, print no traceback, and leave the row
counts of every table an import touches exactly as they were. A last test makes the database
itself refuse a row in the third chunk of a write and checks that the earlier chunks are undone.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from bot.services.imports.service import import_accounts
from bot.store import make_engine, session_scope, upgrade
from bot.store.repo import crm as crm_repo
from bot.store.repo.workspaces import get_workspace
from tests.support.import_support import engine_url, new_team, run_cli, table_counts, write
from tests.support.malformed_csvs import BASE_ACCOUNTS, CASES, Case


def _params() -> list[object]:
    return [pytest.param(case, id=case.id, marks=case.marks) for case in CASES]


def test_there_are_at_least_thirty_distinct_malformed_files() -> None:
    assert len(CASES) >= 30
    assert len({case.id for case in CASES}) == len(CASES)
    assert len({case.expect for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", _params())
def test_a_malformed_file_gives_a_clear_error_and_changes_nothing(
    case: Case, store_engine: Engine, tmp_path: Path
) -> None:
    url, team = engine_url(store_engine), new_team()
    if case.needs_accounts:
        base = run_cli(
            url, ["import", "accounts", str(write(tmp_path / "base.csv", BASE_ACCOUNTS)), "--workspace", team]
        )
        assert base.exit_code == 0, base.output
    path = case.make(tmp_path)
    before = table_counts(store_engine)
    try:
        result = run_cli(url, ["import", case.kind, str(path), "--workspace", team, *case.options])
    finally:
        if path.is_file() and path.stat().st_size > 2**20:
            path.unlink()  # the 200 MB file does not wait for tmp_path's clean-up

    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    error_line = result.stderr.splitlines()[0]
    assert error_line.startswith("error: ")
    assert all(fragment in result.stderr for fragment in case.expect), result.stderr
    if case.names_file:
        assert path.name in error_line
    assert table_counts(store_engine) == before


# --------------------------------------------------------------------------- a failure mid-write


POISON_TRIGGERS = {
    "sqlite": [
        "CREATE TRIGGER refuse_poison BEFORE INSERT ON account WHEN NEW.crm_id = 'POISON' "
        "BEGIN SELECT RAISE(ABORT, 'account POISON refused by a test trigger'); END",
    ],
    "postgresql": [
        "CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF NEW.crm_id = 'POISON' THEN RAISE EXCEPTION 'account POISON refused by a test trigger'; END IF; "
        "RETURN NEW; END $$",
        "CREATE TRIGGER refuse_poison BEFORE INSERT ON account FOR EACH ROW EXECUTE FUNCTION refuse_poison()",
    ],
}


def test_a_database_failure_in_the_third_chunk_rolls_back_the_whole_file(
    empty_db_url: str, tmp_path: Path
) -> None:
    engine = make_engine(empty_db_url)
    try:
        upgrade(engine)
        with engine.begin() as conn:
            for statement in POISON_TRIGGERS[engine.dialect.name]:
                conn.execute(text(statement))
        team = new_team()
        first = write(
            tmp_path / "v1.csv",
            "Account ID,Account Name,Industry\n" + "".join(f"A{i},Co {i},Retail\n" for i in range(4)),
        )
        assert import_accounts(
            engine=engine, workspace=team, path=first, overrides={}, skip_bad_rows=False, actor="t"
        ).ok
        before = table_counts(engine)

        # Chunks of two rows: A0-A1 and A2-A3 are updated, then POISON (row 5) fails in chunk three.
        rows = [f"A{i},Co {i},Software\n" for i in range(4)] + [
            "POISON,Bad Co,Software\n",
            "A9,Late Co,Software\n",
        ]
        second = write(tmp_path / "v2.csv", "Account ID,Account Name,Industry\n" + "".join(rows))
        summary = import_accounts(
            engine=engine,
            workspace=team,
            path=second,
            overrides={},
            skip_bad_rows=False,
            actor="t",
            chunk_size=2,
        )

        assert summary.status == "failed" and not summary.ok
        assert (summary.added, summary.updated, summary.import_run_id) == (0, 0, None)
        assert summary.message.startswith("v2.csv: the database refused the import (")
        assert "account POISON refused by a test trigger" in summary.message
        assert summary.message.endswith("nothing was imported")
        assert table_counts(engine) == before
        with session_scope(engine) as session:
            ws = get_workspace(session=session, slack_team_id=team)
            assert ws is not None and ws.id is not None
            stored = crm_repo.list_accounts(session=session, workspace_id=ws.id)
        assert {a.crm_id: a.industry for a in stored} == {f"A{i}": "retail" for i in range(4)}
    finally:
        engine.dispose()
