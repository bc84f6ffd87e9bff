"""Synced records staged as CSV files the importer reads as it reads an export.

Records arrive one page at a time and a CRM's custom fields are only known once every record is
seen, so each record is first appended to a JSON-lines file (memory stays one page, whatever the
CRM's size); the CSV is then written with the canonical columns first, the custom ones after, in
the order they first appeared. Both files live in a private temporary folder that is removed
when the sync ends, applied or not.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO

from bot.connectors.records import ACCOUNT_FIELDS, DEAL_FIELDS, CrmConnector, CrmRecord, Removal

__all__ = ["StagedChanges", "StagedFile", "ids_at_lines", "stage_changes", "stage_records"]


@dataclass(frozen=True)
class StagedFile:
    """One staged CSV: where it is, how many records it holds, the ids, the newest modified time."""

    path: Path
    rows: int
    ids: frozenset[str]
    newest: datetime | None


def stage_records(
    records: Iterable[CrmRecord], *, folder: Path, name: str, id_field: str, canonical: Sequence[str]
) -> StagedFile:
    """Write ``records`` to ``folder/name`` as CSV (``id_field`` holds each record's CRM id).

    A record that comes twice (a CRM's pages may overlap while records change) is kept once, the
    last copy.
    """
    lines = folder / f"{name}.jsonl"
    columns: dict[str, None] = dict.fromkeys([id_field, *canonical])
    ids: dict[str, int] = {}
    newest: datetime | None = None
    count = 0
    with lines.open("w", encoding="utf-8") as out:
        for record in records:
            ids[record.crm_id] = count
            count += 1
            for key in record.fields:
                if key not in columns:
                    columns[key] = None
            if newest is None or record.modified_at > newest:
                newest = record.modified_at
            out.write(json.dumps({**record.fields, id_field: record.crm_id}, ensure_ascii=False))
            out.write("\n")
    path = folder / name
    keep = set(ids.values())
    with lines.open(encoding="utf-8") as source, path.open("w", encoding="utf-8", newline="") as target:
        _write_csv(source, target, list(columns), keep)
    lines.unlink()
    return StagedFile(path=path, rows=len(keep), ids=frozenset(ids), newest=newest)


def _write_csv(source: IO[str], target: IO[str], header: list[str], keep: set[int]) -> None:
    writer = csv.writer(target, lineterminator="\n")
    writer.writerow(header)
    for position, line in enumerate(source):
        if position in keep:
            values = json.loads(line)
            writer.writerow([values.get(column, "") for column in header])


@dataclass(frozen=True)
class StagedChanges:
    """What one sync read: the staged accounts and deals, and the removals since the cursors."""

    accounts: StagedFile
    deals: StagedFile
    removed_accounts: tuple[Removal, ...]
    removed_deals: tuple[Removal, ...]
    since: tuple[datetime | None, datetime | None] = (None, None)

    @property
    def full(self) -> bool:
        """Every record was read (no cursor): what the store holds beyond them was removed."""
        return self.since == (None, None)


def stage_changes(
    connector: CrmConnector, *, since: tuple[datetime | None, datetime | None], folder: Path
) -> StagedChanges:
    """Read the records modified since the (accounts, deals) cursors, every one where a cursor is
    None, into ``folder/accounts.csv`` and ``folder/deals.csv``; then list the removals."""
    accounts_since, deals_since = since
    accounts = stage_records(
        connector.accounts(since=accounts_since),
        folder=folder,
        name="accounts.csv",
        id_field="account_id",
        canonical=ACCOUNT_FIELDS[1:],
    )
    deals = stage_records(
        connector.deals(since=deals_since),
        folder=folder,
        name="deals.csv",
        id_field="deal_id",
        canonical=DEAL_FIELDS[1:],
    )
    removed_accounts = (
        () if accounts_since is None else tuple(connector.removed_accounts(since=accounts_since))
    )
    removed_deals = () if deals_since is None else tuple(connector.removed_deals(since=deals_since))
    return StagedChanges(accounts, deals, removed_accounts, removed_deals, since)


def ids_at_lines(path: Path, *, id_field: str, lines: set[int]) -> dict[int, str]:
    """The CRM ids of the records that start on ``lines`` of a staged file (the importer names a
    bad record by its physical line; a synced record is better named by its id). A value with
    line breaks makes a record span several lines, so the file is read, not counted."""
    found: dict[int, str] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, [])
        position = header.index(id_field) if id_field in header else 0
        start = reader.line_num + 1
        for row in reader:
            if start in lines and row:
                found[start] = row[position]
            start = reader.line_num + 1
    return found
