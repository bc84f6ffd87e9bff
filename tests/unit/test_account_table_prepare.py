"""Accounts checked from the column-wise table (what imports use) against the row-wise reference.

``prepare_account_table`` makes row objects a chunk at a time to keep an import's memory low; for
the same file it must find the same rows, errors, findings and mappings as ``prepare_accounts``
on ``read_accounts``, and give the same values to store, however small the chunks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.services.imports.rows import Prepared, prepare_account_table, prepare_accounts
from icp_engine.readers import read_account_table, read_accounts

FILES = {
    "custom attributes and gaps": (
        "Account ID,Company name,Domain,Industry,Employees,Annual Revenue,Country,Tier,Owner\n"
        "A1,Acme,acme.com,Software,120,5000000,US,gold,ann\n"
        "A2,Globex GmbH,,technolgy,10-11,,Germany,,\n"
        "A3,Initech,initech.io,,,2.5M,,silver,bob\n"
        "A4,Umbrella,,Retail,,,FR,,\n"
        "A5,Hooli,hooli.com,Software,99999999999,1e6,USA,gold,\n"
    ),
    "duplicates and bad values": (
        "Account ID,Account Name,Industry,Employees,Annual Revenue\n"
        "B1,One,Finance,10,100\n"
        "B2,Two,Finance,-5,abc\n"
        "B1,One again,Health,20,200\n"
        "B4,Four,Finance,30,\n"
        f"B5,{'x' * 300},Finance,40,400\n"
    ),
    "names only": (
        "Company,Industry,Country\nAcme Inc,Software,US\nacme,Software,US\nGlobex,Retail,\n,Retail,DE\n"
    ),
}


def _outcome(prepared: Prepared[Any]) -> tuple[Any, ...]:
    tally = prepared.tally()
    errors = [(e.file, e.line, e.column, e.reason) for e in tally.errors]
    mappings = [(m.describe(n), n) for m, n in tally.mappings]
    return tally.rows, errors, tally.findings, mappings, prepared.accepted


@pytest.mark.parametrize("name", sorted(FILES))
@pytest.mark.parametrize("chunk_rows", [1, 2, 20_000])
def test_the_table_gives_what_the_rows_give(tmp_path: Path, name: str, chunk_rows: int) -> None:
    path = tmp_path / "accounts.csv"
    path.write_text(FILES[name], encoding="utf-8")
    reference = prepare_accounts(read_accounts(path), revenue_unit=1e3)
    table = prepare_account_table(read_account_table(path), revenue_unit=1e3, chunk_rows=chunk_rows)
    assert _outcome(table) == _outcome(reference)
    assert list(table.values()) == list(reference.values())
    assert reference.accepted > 0  # the comparison covers stored values, not only errors
