"""How fast a 1,000,000-deal CRM export imports into the SQL store, on SQLite and on PostgreSQL.

Why: the issue sets targets for SQLite (under 60 s and under 1.5 GB peak memory for 1,000,000
deal rows) and asks for the PostgreSQL figures. What is measured is the real path a user takes:
a CSV file on disk through ``bot.services.imports.service.import_deals`` (every check, the join to the
stored accounts, the all-or-nothing transaction), not the repository layer alone.

How: a deals CSV of ``--rows`` deals and its accounts CSV (a quarter as many accounts) are
generated, deterministically, in a temporary folder. Per database, each case runs in a fresh
interpreter so that its peak memory (ru_maxrss) is its own:

* ``import accounts``: the accounts file, imported first (deals are joined to stored accounts);
* ``import deals, 1st``: the deals file into the workspace;
* ``import deals, again``: the same file once more (nothing changed: every row is compared, none
  written);
* ``baseline: csv only``: the deals file read with the ``csv`` module and nothing else;
* ``baseline: driver``: the deals file read with the ``csv`` module and inserted as it is into a
  bare table with the bare driver (one transaction, executemany in chunks, no checks, no upsert).

The machine is shared and noisy, so each figure is also given as a ratio to the two baselines of
the same run; ``cpu s`` (the process's own CPU time) is steadier than wall-clock seconds.
SQLite runs in a file in the temporary folder; PostgreSQL (127.0.0.1:5432, trust, database
``test``) in a database created for the run and dropped afterwards.

    python benchmarks/import_bulk.py [--rows N] [--only sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

if (
    __name__ == "__main__" and not __package__
):  # run as a file, not with -m: put the repository root on the path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/test"
WORKSPACE = "TBENCH"
TARGET_SECONDS = 60.0
TARGET_MB = 1536.0
DRIVER_CHUNK = 5_000

DEAL_COLUMNS = (
    "Deal ID",
    "Deal Name",
    "Account ID",
    "Stage",
    "Amount",
    "Currency",
    "Created Date",
    "Close Date",
    "Deal Owner",
    "Lead Source",
)
ACCOUNT_COLUMNS = (
    "Account ID",
    "Account Name",
    "Industry",
    "Employees",
    "Annual Revenue",
    "Country",
    "Website",
)
STAGES = ("Closed Won", "Closed Lost", "Prospecting", "Qualification", "Negotiation/Review")
INDUSTRIES = ("Software", "Fintech", "Healthcare", "Retail", "Manufacturing", "Education", "Logistics")
COUNTRIES = ("United States", "Germany", "France", "United Kingdom", "Canada", "Japan", "Brazil")
SOURCES = ("Inbound", "Outbound", "Partner", "Event", "")
OWNERS = tuple(f"rep{i:02d}@example.com" for i in range(40))


@dataclass
class Result:
    case: str
    rows: int
    seconds: float
    cpu_seconds: float
    peak_mb: float
    note: str = ""

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


# --------------------------------------------------------------------------- the files


def write_files(folder: Path, deals: int, seed: int = 7) -> tuple[Path, Path, int]:
    """accounts.csv (deals // 4 accounts, at least one) and deals.csv, deterministic for a seed."""
    rnd = random.Random(seed)
    accounts = max(1, deals // 4)
    accounts_path, deals_path = folder / "accounts.csv", folder / "deals.csv"
    with accounts_path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(ACCOUNT_COLUMNS)
        for i in range(accounts):
            out.writerow(
                (
                    f"A{i:09d}",
                    f"Company {i} Inc",
                    INDUSTRIES[rnd.randrange(len(INDUSTRIES))],
                    rnd.randrange(1, 20_000),
                    rnd.randrange(100_000, 900_000_000),
                    COUNTRIES[rnd.randrange(len(COUNTRIES))],
                    f"company{i}.example.com",
                )
            )
    start = date(2019, 1, 1)
    with deals_path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(DEAL_COLUMNS)
        for i in range(deals):
            created = start + timedelta(days=rnd.randrange(0, 1800))
            stage = STAGES[rnd.randrange(len(STAGES))]
            closed = created + timedelta(days=rnd.randrange(7, 200)) if stage.startswith("Closed") else None
            out.writerow(
                (
                    f"D{i:09d}",
                    f"Deal {i}",
                    f"A{rnd.randrange(accounts):09d}",
                    stage,
                    f"{rnd.uniform(500, 250_000):.2f}" if i % 10 else str(rnd.randrange(500, 250_000)),
                    "USD" if i % 4 else "EUR",
                    created.isoformat(),
                    closed.isoformat() if closed else "",
                    OWNERS[rnd.randrange(len(OWNERS))],
                    SOURCES[rnd.randrange(len(SOURCES))],
                )
            )
    return accounts_path, deals_path, accounts


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def csv_rows(path: Path) -> Iterator[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = csv.reader(handle)
        next(rows)
        yield from rows


# --------------------------------------------------------------------------- worker cases


def timed(case: str, rows: int, work: Any) -> Result:
    started, cpu = time.perf_counter(), time.process_time()
    note = work()
    return Result(case, rows, time.perf_counter() - started, time.process_time() - cpu, peak_mb(), note)


def store_import(kind: str, url: str, path: Path, rows: int, label: str) -> Result:
    from bot.services.imports.service import import_accounts, import_deals
    from bot.store.db import connect

    engine = connect(url, auto_upgrade=True)  # a no-op once the schema is there
    service = import_accounts if kind == "accounts" else import_deals

    def work() -> str:
        summary = service(engine=engine, workspace=WORKSPACE, path=path, actor="bench")
        if not summary.ok:
            raise SystemExit(f"{label}: {summary.message}")
        return f"{summary.status}: {summary.added:,} added, {summary.updated:,} updated, {summary.unchanged:,} unchanged"

    result = timed(label, rows, work)
    engine.dispose()
    return result


def csv_only(path: Path, rows: int) -> Result:
    def work() -> str:
        count = sum(1 for _ in csv_rows(path))
        return f"{count:,} records"

    return timed("baseline: csv only", rows, work)


RAW_DDL = "CREATE TABLE deal_raw (id INTEGER PRIMARY KEY, {columns})"


def _raw_columns() -> str:
    return ", ".join(f"c{i} TEXT" for i in range(len(DEAL_COLUMNS)))


def _batches(path: Path) -> Iterator[list[list[str]]]:
    batch: list[list[str]] = []
    for row in csv_rows(path):
        batch.append(row)
        if len(batch) == DRIVER_CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def sqlite_driver(db_path: str, path: Path, rows: int) -> Result:
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(RAW_DDL.format(columns=_raw_columns()))
    names = ", ".join(f"c{i}" for i in range(len(DEAL_COLUMNS)))
    sql = f"INSERT INTO deal_raw ({names}) VALUES ({', '.join('?' * len(DEAL_COLUMNS))})"

    def work() -> str:
        conn.execute("BEGIN")
        for batch in _batches(path):
            conn.executemany(sql, batch)
        conn.execute("COMMIT")
        return "csv rows inserted as they are: executemany, one transaction"

    result = timed("baseline: driver", rows, work)
    conn.close()
    return result


def postgres_driver(url: str, path: Path, rows: int) -> Result:
    import psycopg

    with psycopg.connect(url) as conn:
        conn.execute(
            RAW_DDL.replace("INTEGER PRIMARY KEY", "SERIAL PRIMARY KEY").format(columns=_raw_columns())
        )
        conn.commit()
        names = ", ".join(f"c{i}" for i in range(len(DEAL_COLUMNS)))
        sql = f"INSERT INTO deal_raw ({names}) VALUES ({', '.join(['%s'] * len(DEAL_COLUMNS))})"

        def work() -> str:
            with conn.cursor() as cur:
                for batch in _batches(path):
                    cur.executemany(sql, batch)
            conn.commit()
            return "csv rows inserted as they are: executemany, one transaction"

        return timed("baseline: driver", rows, work)


def run_worker(case: str, target: str, path: Path, rows: int) -> None:
    if case == "accounts":
        result = store_import("accounts", target, path, rows, "import accounts")
    elif case == "deals-1st":
        result = store_import("deals", target, path, rows, "import deals, 1st")
    elif case == "deals-again":
        result = store_import("deals", target, path, rows, "import deals, again")
    elif case == "csv":
        result = csv_only(path, rows)
    elif case == "sqlite-driver":
        result = sqlite_driver(target, path, rows)
    elif case == "postgres-driver":
        result = postgres_driver(target, path, rows)
    else:
        raise SystemExit(f"unknown worker case {case!r}")
    print(json.dumps(asdict(result)))


# --------------------------------------------------------------------------- orchestration


def in_child(case: str, target: str, path: Path, rows: int) -> Result:
    """Run one case in a fresh interpreter so that its peak memory is its own."""
    cmd = [sys.executable, __file__, "--worker", case, "--target", target, "--file", str(path)]
    done = subprocess.run([*cmd, "--rows", str(rows)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{case} failed: {(done.stderr or done.stdout).strip()[-2000:]}")
    return Result(**json.loads(done.stdout.strip().splitlines()[-1]))


def postgres_database() -> tuple[str | None, str]:
    """A new empty database for the run (URL, or None and the reason it is unavailable)."""
    try:
        import psycopg

        name = f"icp_bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return PG_ADMIN_DSN.rsplit("/", 1)[0] + f"/{name}", name
    except Exception as exc:  # any failure means: report PostgreSQL as not measured, say why
        return None, f"PostgreSQL unavailable: {exc}"


def drop_postgres_database(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


Section = tuple[str, list[Result], str]


def measure(title: str, cases: list[tuple[str, str, Path, int]]) -> Section:
    """Run a database's cases in order; a failure is reported instead of losing the others."""
    results: list[Result] = []
    for case, target, path, rows in cases:
        try:
            results.append(in_child(case, target, path, rows))
        except RuntimeError as exc:
            return title, results, str(exc)
    return title, results, ""


def store_cases(
    store_url: str, files: tuple[Path, Path, int], deals: int
) -> list[tuple[str, str, Path, int]]:
    accounts_path, deals_path, accounts = files
    return [
        ("accounts", store_url, accounts_path, accounts),
        ("deals-1st", store_url, deals_path, deals),
        ("deals-again", store_url, deals_path, deals),
    ]


def report(sections: list[Section], rows: int) -> None:
    from benchmarks._table import CONSOLE, fmt_ratio, mark, print_table, ratio

    table: list[list[str]] = []
    notes: list[str] = []
    for title, results, problem in sections:
        csv_base = next((r for r in results if r.case == "baseline: csv only"), None)
        driver = next((r for r in results if r.case == "baseline: driver"), None)
        for r in results:
            table.append(
                [
                    title,
                    r.case,
                    f"{r.rows:,}",
                    f"{r.seconds:,.1f}",
                    f"{r.cpu_seconds:,.1f}",
                    f"{r.rows_per_s:,.0f}",
                    fmt_ratio(ratio(r.seconds, driver.seconds)) if driver else "—",
                    fmt_ratio(ratio(r.seconds, csv_base.seconds)) if csv_base else "—",
                    f"{r.peak_mb:,.0f}",
                    fmt_ratio(ratio(r.peak_mb, driver.peak_mb)) if driver else "—",
                ]
            )
            notes.append(f"{title}, {r.case}: {r.note}")
        if problem:
            table.append([title, "not measured", "", "", "", "", "", "", "", ""])
            notes.append(f"{title}: {problem}")
    print_table(
        f"CSV import of {rows:,} deal rows (and their accounts), through import_deals",
        [
            "database",
            "case",
            "rows",
            "s",
            "cpu s",
            "rows/s",
            "s × driver",
            "s × csv",
            "peak MB",
            "MB × driver",
        ],
        table,
        left=2,
        caption="× driver / × csv: relative to the baselines of the same database in the same run "
        "(csv only: reading the file with the csv module; driver: csv rows inserted as they are).",
    )
    for note in notes:
        CONSOLE.print(f"  {note}")
    sqlite_first = next(
        (r for t, rs, _ in sections if t == "SQLite" for r in rs if r.case == "import deals, 1st"), None
    )
    if sqlite_first is not None:
        ok = sqlite_first.seconds < TARGET_SECONDS and sqlite_first.peak_mb < TARGET_MB
        CONSOLE.print(
            f"SQLite target (deals, 1st import: < {TARGET_SECONDS:.0f} s and < 1.5 GB): {mark(ok)} — "
            f"{sqlite_first.seconds:,.1f} s ({sqlite_first.cpu_seconds:,.1f} s CPU), "
            f"{sqlite_first.peak_mb:,.0f} MB, for {sqlite_first.rows:,} rows"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="deal rows (accounts: a quarter)")
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--target", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rows < 1:
        parser.error("--rows must be at least 1")
    if args.worker:
        run_worker(args.worker, args.target, Path(args.file), args.rows)
        return

    from benchmarks._table import CONSOLE

    sections: list[Section] = []
    with tempfile.TemporaryDirectory(prefix="icp-bench-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        files = write_files(folder, args.rows)
        deals_path = files[1]
        CONSOLE.print(
            f"generated {args.rows:,} deals and {files[2]:,} accounts "
            f"({deals_path.stat().st_size / 2**20:,.0f} MB) in {time.perf_counter() - started:.0f} s"
        )
        baselines = [("csv", "-", deals_path, args.rows)]
        if args.only in (None, "sqlite"):
            CONSOLE.print("measuring SQLite…")
            cases = store_cases(f"sqlite:///{folder / 'store.db'}", files, args.rows)
            driver = [("sqlite-driver", str(folder / "raw.db"), deals_path, args.rows)]
            sections.append(measure("SQLite", [*cases, *baselines, *driver]))
        if args.only in (None, "postgresql"):
            CONSOLE.print("measuring PostgreSQL…")
            url, name = postgres_database()
            if url is None:
                sections.append(("PostgreSQL", [], name))
            else:
                try:
                    cases = store_cases(
                        url.replace("postgresql://", "postgresql+psycopg://"), files, args.rows
                    )
                    driver = [("postgres-driver", url, deals_path, args.rows)]
                    sections.append(measure("PostgreSQL", [*cases, *baselines, *driver]))
                finally:
                    drop_postgres_database(name)
    report(sections, args.rows)


if __name__ == "__main__":
    main()
