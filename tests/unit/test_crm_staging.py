"""Synced records staged as CSV: canonical columns first, custom ones after, each record once."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.connectors.records import ACCOUNT_FIELDS, CrmRecord
from bot.services.crm_sync.staging import stage_records
from icp_engine.readers import read_accounts

T0 = datetime(2026, 12, 1, tzinfo=UTC)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_custom_fields_follow_the_canonical_columns_in_first_seen_order(tmp_path: Path) -> None:
    records = [
        CrmRecord("1", T0, {"name": "Acme", "plan_tier": "gold"}),
        CrmRecord("2", T0 + timedelta(hours=2), {"name": "Beta", "nps_band": "high", "plan_tier": "free"}),
    ]
    staged = stage_records(
        records, folder=tmp_path, name="a.csv", id_field="account_id", canonical=ACCOUNT_FIELDS[1:]
    )
    with staged.path.open(encoding="utf-8") as fh:
        header = fh.readline().strip().split(",")
    assert header == [*ACCOUNT_FIELDS, "plan_tier", "nps_band"]
    assert [r["plan_tier"] for r in _rows(staged.path)] == ["gold", "free"]
    assert staged.rows == 2 and staged.ids == {"1", "2"} and staged.newest == T0 + timedelta(hours=2)
    assert not (tmp_path / "a.csv.jsonl").exists()


def test_a_record_seen_twice_is_kept_once_as_last_seen(tmp_path: Path) -> None:
    records = [
        CrmRecord("1", T0, {"name": "Old name"}),
        CrmRecord("2", T0, {"name": "Other"}),
        CrmRecord("1", T0 + timedelta(minutes=5), {"name": "New name"}),
    ]
    staged = stage_records(
        records, folder=tmp_path, name="a.csv", id_field="account_id", canonical=ACCOUNT_FIELDS[1:]
    )
    assert staged.rows == 2
    assert [(r["account_id"], r["name"]) for r in _rows(staged.path)] == [("2", "Other"), ("1", "New name")]


def test_no_records_stage_a_header_only_file(tmp_path: Path) -> None:
    staged = stage_records(
        [], folder=tmp_path, name="a.csv", id_field="account_id", canonical=ACCOUNT_FIELDS[1:]
    )
    assert staged.rows == 0 and staged.newest is None and _rows(staged.path) == []


_text = st.text(st.characters(blacklist_categories=["Cs", "Cc"]), max_size=30)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 50), _text, st.integers(0, 10**6)), min_size=1, max_size=20))
def test_the_importer_reads_back_what_was_staged(
    tmp_path_factory: object, rows: list[tuple[int, str, int]]
) -> None:
    folder = Path(str(tmp_path_factory.mktemp("stage")))  # type: ignore[attr-defined]
    records = [
        CrmRecord(str(key), T0, {"name": f"Co {name}".strip() or "Co", "employees": str(size), "notes": name})
        for key, name, size in rows
    ]
    staged = stage_records(
        records, folder=folder, name="a.csv", id_field="account_id", canonical=ACCOUNT_FIELDS[1:]
    )
    last = {r.crm_id: r for r in records}
    result = read_accounts(staged.path, overrides={name: name for name in ACCOUNT_FIELDS})
    assert not result.errors
    read = {row.account_id: row for row in result.rows}
    assert set(read) == set(last)
    for crm_id, record in last.items():
        assert read[crm_id].name == record.fields["name"].strip()
        assert read[crm_id].attributes["employees"] == record.fields["employees"]
        assert read[crm_id].attributes.get("notes", "") == record.fields["notes"].strip()
