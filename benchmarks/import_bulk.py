"""How fast a 1,000,000-deal CRM import goes into the SQL store, on SQLite and on PostgreSQL.

Why: the issue sets targets for SQLite (under 60 s and under 1.5 GB peak memory) and asks for the
PostgreSQL figure. Each case runs in its own process so its peak memory (ru_maxrss) is its own.
Rows are synthetic, generated in memory and streamed in chunks, validated as ``DealCreate`` (as a
CSV reader would hand them over) and written with ``bulk_upsert_deals``; a second pass re-imports
the same rows (all unchanged). A baseline in the same run inserts the same rows with the bare
driver (plain executemany INSERT into a bare table, one transaction, no validation, no upsert), so
the ratio shows what the store's validation, change detection and upsert cost.

    python benchmarks/import_bulk.py [--rows 1000000] [--only sqlite|postgresql]
"""

from __future__ import annotations

import argparse
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

PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/test"
STAGES = ("won", "lost", "open")
INDUSTRIES = ("software", "fintech", "healthcare", "retail", "manufacturing")


@dataclass
class Result:
    case: str
    rows: int
    seconds: float
    peak_mb: float
    note: str = ""

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def synthetic_deals(count: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    """Deterministic deal rows, generated lazily (nothing is held in memory)."""
    rnd = random.Random(seed)
    start = date(2019, 1, 1)
    for i in range(count):
        created = start + timedelta(days=rnd.randrange(0, 1800))
        yield {
            "crm_id": f"D{i:09d}",
            "account_crm_id": f"A{rnd.randrange(count // 4 + 1):09d}",
            "name": f"Deal {i}",
            "stage": STAGES[rnd.randrange(3)],
            "amount": round(rnd.uniform(500, 250_000), 2),
            "currency": "USD",
            "created_on": created,
            "closed_on": created + timedelta(days=rnd.randrange(7, 200)),
            "custom_attributes": {
                "industry": INDUSTRIES[i % 5],
                "source": "outbound" if i % 3 else "inbound",
            },
        }


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# --------------------------------------------------------------------------- worker cases


def store_import(url: str, rows: int, chunk_size: int) -> list[Result]:
    from bot.store import make_engine, session_scope, upgrade
    from bot.store.models import DealCreate
    from bot.store.repo import crm, workspaces

    engine = make_engine(url)
    upgrade(engine)
    with session_scope(engine) as session:
        workspace_id = workspaces.get_or_create_workspace(session=session, slack_team_id="TBENCH").id
    results = []
    for label in ("store, 1st import", "store, re-import"):
        started = time.perf_counter()
        with session_scope(engine) as session:
            counts = crm.bulk_upsert_deals(
                session=session,
                workspace_id=workspace_id,
                rows=(DealCreate(**row) for row in synthetic_deals(rows)),
                chunk_size=chunk_size,
            )
        elapsed = time.perf_counter() - started
        note = f"added {counts.added:,} / updated {counts.updated:,} / unchanged {counts.unchanged:,}"
        results.append(Result(label, rows, elapsed, peak_mb(), note))
    engine.dispose()
    return results


RAW_COLUMNS = ("crm_id", "account_crm_id", "name", "stage", "amount", "currency", "created_on", "closed_on")


def _raw_tuples(rows: int) -> Iterator[tuple[Any, ...]]:
    for row in synthetic_deals(rows):
        yield (
            *(row[c] if not isinstance(row[c], date) else row[c].isoformat() for c in RAW_COLUMNS),
            json.dumps(row["custom_attributes"]),
        )


RAW_DDL = (
    "CREATE TABLE deal_raw (id INTEGER PRIMARY KEY, crm_id VARCHAR(128) NOT NULL UNIQUE,"
    " account_crm_id VARCHAR(128), name VARCHAR(512), stage VARCHAR(32), amount FLOAT,"
    " currency VARCHAR(8), created_on DATE, closed_on DATE, custom_attributes TEXT)"
)
RAW_INSERT_COLUMNS = ", ".join((*RAW_COLUMNS, "custom_attributes"))


def sqlite_baseline(path: str, rows: int) -> list[Result]:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(RAW_DDL)
    started = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany(
        f"INSERT INTO deal_raw ({RAW_INSERT_COLUMNS}) VALUES ({', '.join('?' * 9)})", _raw_tuples(rows)
    )
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return [Result("baseline, sqlite3", rows, elapsed, peak_mb(), "plain executemany INSERT")]


def postgres_baseline(url: str, rows: int) -> list[Result]:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        conn.execute(RAW_DDL.replace("INTEGER PRIMARY KEY", "SERIAL PRIMARY KEY"))
        conn.commit()
        started = time.perf_counter()
        with conn.cursor() as cur:
            sql = f"INSERT INTO deal_raw ({RAW_INSERT_COLUMNS}) VALUES ({', '.join(['%s'] * 9)})"
            batch: list[tuple[Any, ...]] = []
            for item in _raw_tuples(rows):
                batch.append(item)
                if len(batch) == 5_000:
                    cur.executemany(sql, batch)
                    batch.clear()
            if batch:
                cur.executemany(sql, batch)
        conn.commit()
        elapsed = time.perf_counter() - started
    return [Result("baseline, psycopg", rows, elapsed, peak_mb(), "plain executemany INSERT")]


def run_worker(case: str, target: str, rows: int, chunk_size: int) -> None:
    if case == "store":
        results = store_import(target, rows, chunk_size)
    elif case == "sqlite-baseline":
        results = sqlite_baseline(target, rows)
    elif case == "postgres-baseline":
        results = postgres_baseline(target, rows)
    else:
        raise SystemExit(f"unknown worker case {case!r}")
    print(json.dumps([asdict(r) for r in results]))


# --------------------------------------------------------------------------- orchestration


def in_child(case: str, target: str, rows: int, chunk_size: int) -> list[Result]:
    """Run one case in a fresh interpreter so that its peak memory is its own."""
    cmd = [sys.executable, __file__, "--worker", case, "--target", target, "--rows", str(rows)]
    done = subprocess.run(
        [*cmd, "--chunk-size", str(chunk_size)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{case} failed:\n{done.stderr[-3000:]}")
    return [Result(**item) for item in json.loads(done.stdout.strip().splitlines()[-1])]


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


def measure(
    title: str, cases: list[tuple[str, str]], rows: int, chunk_size: int
) -> tuple[str, list[Result], str]:
    """Run a database's cases; a failure is reported in the table instead of losing the others."""
    results: list[Result] = []
    try:
        for case, target in cases:
            results += in_child(case, target, rows, chunk_size)
    except RuntimeError as exc:
        return title, [], str(exc).splitlines()[-1] if str(exc) else "failed"
    return title, results, ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--chunk-size", type=int, default=5_000)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--target", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        run_worker(args.worker, args.target, args.rows, args.chunk_size)
        return

    from rich.console import Console
    from rich.table import Table

    console = Console()
    sections: list[tuple[str, list[Result], str]] = []
    if args.only in (None, "sqlite"):
        console.print("measuring SQLite…")
        with tempfile.TemporaryDirectory(prefix="icp-bench-") as tmp:
            sections.append(
                measure(
                    "SQLite",
                    [
                        ("store", f"sqlite:///{Path(tmp) / 'store.db'}"),
                        ("sqlite-baseline", str(Path(tmp) / "raw.db")),
                    ],
                    args.rows,
                    args.chunk_size,
                )
            )
    if args.only in (None, "postgresql"):
        console.print("measuring PostgreSQL…")
        url, name = postgres_database()
        if url is None:
            sections.append(("PostgreSQL", [], name))
        else:
            try:
                store_url = url.replace("postgresql://", "postgresql+psycopg://")
                cases = [("store", store_url), ("postgres-baseline", url)]
                sections.append(measure("PostgreSQL", cases, args.rows, args.chunk_size))
            finally:
                drop_postgres_database(name)

    table = Table(title=f"Bulk import of {args.rows:,} deal rows (2 cores)")
    for column in ("database", "case", "elapsed s", "rows/s", "peak MB", "× baseline"):
        table.add_column(column, justify="left" if column in {"database", "case"} else "right")
    notes: list[str] = []
    for title, results, reason in sections:
        if not results:
            table.add_row(title, "not measured", "", "", "", "")
            notes.append(f"{title}: {reason}")
            continue
        baseline = next((r for r in results if r.case.startswith("baseline")), None)
        for r in results:
            ratio = f"{r.seconds / baseline.seconds:.2f}" if baseline and baseline.seconds else ""
            table.add_row(
                title, r.case, f"{r.seconds:.1f}", f"{r.rows_per_s:,.0f}", f"{r.peak_mb:,.0f}", ratio
            )
            notes.append(f"{title}, {r.case}: {r.note}")
    console.print(table)
    console.print(
        "× baseline = elapsed time relative to the bare-driver baseline of the same database, same run."
    )
    for note in notes:
        console.print(f"  {note}")
    sqlite_first = next((r for t, rs, _ in sections if t.startswith("SQLite") for r in rs), None)
    if sqlite_first is not None:
        ok = sqlite_first.seconds < 60 and sqlite_first.peak_mb < 1536
        verdict = "meets" if ok else "MISSES"
        print(
            f"SQLite first import {verdict} the target (< 60 s and < 1.5 GB): "
            f"{sqlite_first.seconds:.1f} s, {sqlite_first.peak_mb:,.0f} MB"
        )


if __name__ == "__main__":
    main()
