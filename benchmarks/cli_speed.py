"""Whole-process speed of the commands users wait for, each beside a baseline from the same run.

    .venv/bin/python benchmarks/cli_speed.py [--sizes 100000,1000000] [--only score,analyze,learn,import]
                                             [--profile 200000]

Why: the engine alone scores a prepared frame fast, but users run ``icp score --accounts … --out …``,
``icp analyze``, ``icp learn`` and ``icp import deals``: reading, checking and normalising the CSV
is where they wait. Each command runs as its own process (``.venv/bin/icp …``) on generated files,
and so does its baseline:

* score: ``icp score --icp … --accounts A --out …`` vs a process doing ``pandas.read_csv(A)``,
  with the floor beside them: ``benchmarks/score_floor.py`` reads, scores and writes the same file
  with nothing checked (how low any implementation could go on the machine of the run);
* analyze / learn: accounts (a quarter of the size) + deals vs ``pandas.read_csv`` of both files;
* import deals: ``icp import deals`` into a store that already holds the accounts (SQLite file;
  PostgreSQL at 127.0.0.1:5432 in a database created for the run and dropped after) vs a process
  inserting the raw CSV rows into an equivalent bare table with the driver's ``executemany``
  (one transaction).

Seconds are wall-clock for the whole process (interpreter start and imports included, as a user
sees them, with bytecode cached as an installed package has it: every process, baseline and command
alike, runs with ``PYTHONPYCACHEPREFIX`` set to a folder of the run and bytecode writing on, after
one discarded warm-up round of the same processes on small files, so neither side pays for
compiling its modules); peak MB is the child's ru_maxrss (``os.wait4``). Ratios are to the baseline of the same
size in the same run; the bars are the issue's: score ≤ 2×, analyze/learn ≤ 3×, import ≤ 3× the
driver, peak memory ≤ 3× the pandas frames. ``--profile N`` prints the top of a cProfile of the
score command on N rows instead.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

if (
    __name__ == "__main__" and not __package__
):  # run as a file, not with -m: put the repository root on the path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import pandas as pd
import yaml

from benchmarks._table import fmt_ratio, mark, print_table, ratio, say
from benchmarks.scoring import CHUNK, ICP_DOC, accounts_chunk

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"
PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/test"
SEED = 11
BARS = {"score": 2.0, "analyze": 3.0, "learn": 3.0, "import": 3.0}
MEMORY_BAR = 3.0
WARM_UP_ROWS = 2_000
COMMANDS = ("score", "analyze", "learn", "import")
STAGES = np.array(["Closed Won", "Closed Lost", "Prospecting", "Qualification", "Negotiation/Review"])
DEAL_COLUMNS = ["Deal ID", "Account ID", "Stage", "Amount", "Created Date", "Close Date", "Lead Source"]


@dataclass
class Run:
    """One process: what it was, its wall-clock seconds and its peak resident memory."""

    label: str
    seconds: float
    peak_mb: float


# --- files ------------------------------------------------------------------------------------


def write_accounts(path: Path, rows: int) -> None:
    """Accounts with ids, unique names, a website and the scored attributes (written in chunks)."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        for k, start in enumerate(range(0, rows, CHUNK)):
            n = min(CHUNK, rows - start)
            frame = accounts_chunk(SEED, k, n)
            ids = np.arange(start, start + n)
            frame.insert(0, "Account ID", [f"A{i:08d}" for i in ids])
            frame.insert(1, "Account Name", [f"Company {i} Ltd" for i in ids])
            frame.insert(2, "Website", [f"company{i}.example.com" for i in ids])
            frame.to_csv(fh, index=False, header=k == 0, lineterminator="\n")


def write_deals(path: Path, rows: int, accounts: int) -> None:
    """Deals over the accounts: a fifth each stage, ISO dates, amounts with cents (in chunks)."""
    day0 = np.datetime64("2019-01-01")
    with path.open("w", encoding="utf-8", newline="") as fh:
        for k, start in enumerate(range(0, rows, CHUNK)):
            n = min(CHUNK, rows - start)
            rng = np.random.default_rng([SEED, 99, k])
            stage = STAGES[rng.integers(0, len(STAGES), n)]
            created = day0 + rng.integers(0, 1800, n).astype("timedelta64[D]")
            closed = created + rng.integers(7, 200, n).astype("timedelta64[D]")
            is_closed = np.char.startswith(stage.astype(str), "Closed")
            frame = pd.DataFrame(
                {
                    "Deal ID": [f"D{i:09d}" for i in range(start, start + n)],
                    "Account ID": [f"A{i:08d}" for i in rng.integers(0, accounts, n)],
                    "Stage": stage,
                    "Amount": np.round(rng.uniform(500, 250_000, n), 2),
                    "Created Date": created.astype(str),
                    "Close Date": np.where(is_closed, closed.astype(str), ""),
                    "Lead Source": np.array(["Inbound", "Outbound", "Partner", "Event", ""])[
                        rng.integers(0, 5, n)
                    ],
                },
                columns=DEAL_COLUMNS,
            )
            frame.to_csv(fh, index=False, header=k == 0, lineterminator="\n")


# --- processes --------------------------------------------------------------------------------


def run(label: str, cmd: Sequence[str], env: dict[str, str] | None = None) -> Run:
    """Run one process to the end; its wall-clock time and its own peak RSS (from wait4)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as errs:
        proc = subprocess.Popen(cmd, stdout=out, stderr=errs, env={**os.environ, **(env or {})}, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - started
        if proc.returncode != 0:
            errs.seek(0)
            out.seek(0)
            text = (errs.read() or out.read()).decode(errors="replace").strip()[-1500:]
            raise RuntimeError(f"{label} exited {proc.returncode}: {text}")
    return Run(label, seconds, usage.ru_maxrss / 1024)


def read_csv_cmd(*paths: Path) -> list[str]:
    code = "import sys, pandas as pd\nframes = [pd.read_csv(p) for p in sys.argv[1:]]\n"
    return [sys.executable, "-c", code, *map(str, paths)]


def driver_cmd(url: str, path: Path) -> list[str]:
    """The deals rows inserted as they are into a bare table, one transaction, executemany."""
    code = f"""
import csv, sys
url, path = sys.argv[1], sys.argv[2]
cols = {len(DEAL_COLUMNS)}
names = ", ".join(f"c{{i}}" for i in range(cols))
ddl = "CREATE TABLE deal_raw (id {{}} PRIMARY KEY, " + ", ".join(f"c{{i}} TEXT" for i in range(cols)) + ")"
with open(path, newline="", encoding="utf-8") as fh:
    rows = csv.reader(fh)
    next(rows)
    data = list(rows)
if url.startswith("postgresql"):
    import psycopg
    with psycopg.connect(url) as conn:
        conn.execute(ddl.format("SERIAL"))
        with conn.cursor() as cur:
            cur.executemany(f"INSERT INTO deal_raw ({{names}}) VALUES ({{', '.join(['%s'] * cols)}})", data)
        conn.commit()
else:
    import sqlite3
    conn = sqlite3.connect(url, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(ddl.format("INTEGER"))
    conn.execute("BEGIN")
    conn.executemany(f"INSERT INTO deal_raw ({{names}}) VALUES ({{', '.join('?' * cols)}})", data)
    conn.execute("COMMIT")
"""
    return [sys.executable, "-c", code, url, str(path)]


def postgres_database() -> tuple[str | None, str]:
    """A new empty database (its URL and name), or None and why PostgreSQL is unavailable."""
    try:
        import psycopg

        name = f"icp_cli_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return PG_ADMIN_DSN.rsplit("/", 1)[0] + f"/{name}", name
    except Exception as exc:  # report PostgreSQL as not measured, with the reason
        return None, f"PostgreSQL unavailable: {exc}"


def drop_postgres_database(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- cases ------------------------------------------------------------------------------------

Row = tuple[str, int, Run, Run, Run, float | None]  # command, rows, run, time and memory baselines, bar


def measure_size(folder: Path, rows: int, only: set[str]) -> list[Row]:
    icp = folder / "icp.yaml"
    icp.write_text(yaml.safe_dump(ICP_DOC, sort_keys=False), encoding="utf-8")
    accounts, small, deals = (
        folder / f"accounts_{rows}.csv",
        folder / f"crm_accounts_{rows}.csv",
        folder / f"deals_{rows}.csv",
    )
    n_small = max(1, rows // 4)
    started = time.perf_counter()
    write_accounts(accounts, rows)
    write_accounts(small, n_small)
    write_deals(deals, rows, n_small)
    say(f"{rows:,} rows: files written in {time.perf_counter() - started:.0f} s")
    icp_bin = str(BIN / "icp")
    out: list[Row] = []
    if "score" in only:
        base = run("pandas.read_csv(accounts)", read_csv_cmd(accounts))
        cmd = [
            icp_bin,
            "score",
            "--icp",
            str(icp),
            "--accounts",
            str(accounts),
            "--out",
            str(folder / "scores.csv"),
        ]
        out.append(("icp score --accounts", rows, run("score", cmd), base, base, BARS["score"]))
        floor = [
            sys.executable,
            str(ROOT / "benchmarks" / "score_floor.py"),
            str(accounts),
            str(folder / "f.csv"),
        ]
        out.append(("floor: read, score, write; no checks", rows, run("floor", floor), base, base, None))
    both = None
    for command in ("analyze", "learn"):
        if command not in only:
            continue
        both = both or run("pandas.read_csv(accounts, deals)", read_csv_cmd(small, deals))
        cmd = [icp_bin, command, "--accounts", str(small), "--deals", str(deals)]
        if command == "learn":
            cmd += ["--output", str(folder / "learned.yaml")]
        out.append((f"icp {command} ({n_small:,} acc.)", rows, run(command, cmd), both, both, BARS[command]))
    if "import" in only:
        out += measure_import(folder, small, deals, rows)
    return out


def measure_import(folder: Path, accounts: Path, deals: Path, rows: int) -> list[Row]:
    out: list[Row] = []
    targets: list[tuple[str, str, str, str | None]] = [
        ("SQLite", f"sqlite:///{folder / 'store.db'}", str(folder / "raw.db"), None)
    ]
    pg_url, pg_name = postgres_database()
    if pg_url is None:
        say(pg_name)
    else:
        targets.append(
            ("PostgreSQL", pg_url.replace("postgresql://", "postgresql+psycopg://"), pg_url, pg_name)
        )
    icp_bin = str(BIN / "icp")
    frames = run("pandas.read_csv(deals)", read_csv_cmd(deals))
    try:
        for title, store, raw, _ in targets:
            env = {"DATABASE_URL": store, "DEFAULT_WORKSPACE": "TCLI"}
            run("db upgrade", [icp_bin, "db", "upgrade"], env)
            run("import accounts", [icp_bin, "import", "accounts", str(accounts)], env)
            timed = run("import deals", [icp_bin, "import", "deals", str(deals)], env)
            base = run("driver executemany", driver_cmd(raw, deals))
            out.append((f"icp import deals ({title})", rows, timed, base, frames, BARS["import"]))
    finally:
        for *_, name in targets:
            if name:
                drop_postgres_database(name)
        for leftover in ("store.db", "raw.db"):
            (folder / leftover).unlink(missing_ok=True)
    return out


def report(rows: list[Row]) -> None:
    table = []
    for command, n, done, base, memory_base, bar in rows:
        t_ratio = ratio(done.seconds, base.seconds)
        m_ratio = ratio(done.peak_mb, memory_base.peak_mb)
        table.append(
            [
                command,
                f"{n:,}",
                f"{done.seconds:,.2f}",
                base.label,
                f"{base.seconds:,.2f}",
                fmt_ratio(t_ratio),
                mark(None) if bar is None else f"≤ {bar:g}× {mark(t_ratio <= bar)}",
                f"{done.peak_mb:,.0f}",
                f"{memory_base.peak_mb:,.0f}",
                fmt_ratio(m_ratio),
                mark(m_ratio <= MEMORY_BAR),
            ]
        )
    print_table(
        "Commands as whole processes vs their baselines (same run)",
        [
            "command",
            "rows",
            "s",
            "baseline",
            "base s",
            "× base",
            "bar",
            "peak MB",
            "pandas MB",
            "× MB",
            "≤ 3×",
        ],
        table,
        left=1,
        caption="rows: accounts for score, deals for analyze/learn/import (accounts: a quarter); "
        "× MB: peak RSS relative to the process holding the pandas frames of the same files; "
        "floor: benchmarks/score_floor.py, the same ICP with no check, line number or normalisation.",
    )


def profile(rows: int) -> None:
    """cProfile of the score command in this process (top 25 by cumulative time)."""
    import cProfile
    import pstats

    from bot.cli.main import app

    with tempfile.TemporaryDirectory(prefix="icp-cli-prof-") as tmp:
        folder = Path(tmp)
        (folder / "icp.yaml").write_text(yaml.safe_dump(ICP_DOC, sort_keys=False), encoding="utf-8")
        write_accounts(folder / "a.csv", rows)
        args = [
            "score",
            "--icp",
            str(folder / "icp.yaml"),
            "--accounts",
            str(folder / "a.csv"),
            "--out",
            str(folder / "o.csv"),
        ]
        prof = cProfile.Profile()
        prof.enable()
        try:
            app(args, standalone_mode=False)
        finally:
            prof.disable()
        pstats.Stats(prof).sort_stats("cumulative").print_stats(25)


def cache_bytecode(folder: Path, only: set[str]) -> None:
    """Bytecode cached for every later process (baseline and commands), as an installed package has it.

    The environment may forbid writing bytecode (``PYTHONDONTWRITEBYTECODE``); without a cache each
    process compiles what it imports, which a user pays once, and which would weigh on the commands
    (more modules) more than on the baselines. One discarded round on small files fills the cache.
    """
    os.environ["PYTHONPYCACHEPREFIX"] = str(folder / "pycache")
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    warm = folder / "warm-up"
    warm.mkdir()
    measure_size(warm, WARM_UP_ROWS, only)
    say("bytecode cached (one warm-up round on small files, not reported)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000", help="comma-separated row counts")
    parser.add_argument("--rows", type=int, help="one size (overrides --sizes)")
    parser.add_argument("--only", default=",".join(COMMANDS), help=f"comma-separated: {', '.join(COMMANDS)}")
    parser.add_argument("--profile", type=int, metavar="ROWS", help="profile icp score on ROWS rows instead")
    args = parser.parse_args(argv)
    if args.profile:
        profile(args.profile)
        return 0
    sizes = [args.rows] if args.rows else [int(s) for s in args.sizes.split(",") if s.strip()]
    only = {c.strip() for c in args.only.split(",") if c.strip()}
    if bad := only - set(COMMANDS):
        parser.error(
            f"--only: unknown command(s) {', '.join(sorted(bad))}; choose from {', '.join(COMMANDS)}"
        )
    if not sizes or min(sizes) < 1:
        parser.error("--sizes: give positive row counts")
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="icp-cli-speed-") as tmp:
        folder = Path(tmp)
        cache_bytecode(folder, only)
        for size in sizes:
            try:
                rows += measure_size(folder, size, only)
            finally:
                for leftover in folder.glob("*.csv"):
                    leftover.unlink()
    report(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
