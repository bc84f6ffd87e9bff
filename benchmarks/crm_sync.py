"""A live CRM sync as users run it, beside a CSV import of the same records (same run).

    .venv/bin/python benchmarks/crm_sync.py [--companies 250000] [--deals 1000000] [--crm hubspot,salesforce]

Why: connecting the CRM replaces uploading exports by hand, so a sync should cost about what
importing the same exports costs, plus the network. Each CRM's stand-in (tests/support/crm: the
REST wire protocol on 127.0.0.1, Salesforce over TLS) is seeded with the companies and deals (last
modified a second apart, as records edited over time) and served from this process; every step is its own ``icp`` process on a fresh SQLite store:

* baseline: ``icp import accounts`` + ``icp import deals`` of the very CSV files a sync stages
  (written here through the same connector), timed together;
* full sync: ``icp sync --no-write-back`` (pages every record over HTTP, stages, applies);
* write-back: with an approved ICP, ``icp sync`` (nothing changed in the CRM, so the time is the
  incremental read plus scoring every account and writing every score in the API's batches);
* repeat: ``icp sync`` again (nothing to read, nothing to write).

Seconds are wall-clock of the whole process. The stand-in runs in this process, on the same two
cores, so its own work is inside the sync's time (a real CRM's is not). No memory column: a child
forked from this process (which holds the seeded CRM, 1-2 GB) inherits its resident-set high-water
mark, so the children's ru_maxrss would report this process, not theirs.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

if __name__ == "__main__" and not __package__:  # run as a file: put the repository root on the path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.fernet import Fernet

from benchmarks._table import fmt_ratio, print_table, ratio, say
from bot.connectors.records import Provider
from bot.services.crm_sync.connect import connect_crm
from bot.services.crm_sync.connectors import open_connector
from bot.services.crm_sync.credentials import CrmCredentials
from bot.services.crm_sync.staging import stage_changes
from bot.settings import Settings
from bot.store.db import make_engine, session_scope, upgrade
from bot.store.models import IcpStatus, IcpVersionCreate
from bot.store.repo.icp import create_icp_draft, set_icp_status
from bot.store.repo.workspaces import get_workspace
from tests.support.crm.hubspot_api import StandInHubSpot
from tests.support.crm.salesforce_api import StandInSalesforce

ROOT = Path(__file__).resolve().parents[1]
ICP_BIN = str(ROOT / ".venv" / "bin" / "icp")
TEAM = "TBENCH"
KEY = Fernet.generate_key().decode()
ICP_DOC = {
    "name": "Benchmark ICP",
    "criteria": [
        {"attribute": "industry", "op": "in", "values": ["software", "finance"], "points": 25},
        {"attribute": "employees", "op": "between", "values": [200, 2000], "points": 20},
        {"attribute": "country", "op": "in", "values": ["US", "GB"], "points": 10},
    ],
}


@dataclass(frozen=True)
class Run:
    seconds: float


@dataclass(frozen=True)
class Crm:
    """One CRM's stand-in, seeded, with what a connection to it needs."""

    provider: Provider
    credentials: CrmCredentials
    env: dict[str, str]


def run(args: list[str], env: dict[str, str]) -> Run:
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen([ICP_BIN, *args], stdout=out, stderr=out, env={**os.environ, **env}, cwd=ROOT)
        _, status, _ = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        if os.waitstatus_to_exitcode(status) != 0:
            out.seek(0)
            raise RuntimeError(f"icp {' '.join(args)} failed: {out.read().decode(errors='replace')[-1500:]}")
    return Run(seconds)


@contextmanager
def hubspot(companies: int, deals: int) -> Iterator[Crm]:
    with StandInHubSpot(token="pat-na1-bench") as stand_in:
        stand_in.live_clock = True  # writes spread over real time, as HubSpot stamps them
        stand_in.seed(companies=companies, deals=deals, spread=timedelta(seconds=1))
        yield Crm(
            Provider.hubspot,
            CrmCredentials(Provider.hubspot, token=stand_in.token),
            {"HUBSPOT_API_URL": stand_in.base_url},
        )


@contextmanager
def salesforce(companies: int, deals: int) -> Iterator[Crm]:
    with StandInSalesforce(access_token="00D000000000001!bench") as org:
        org.live_clock = True
        org.seed(accounts=companies, opportunities=deals, spread=timedelta(seconds=1))
        yield Crm(
            Provider.salesforce,
            CrmCredentials(Provider.salesforce, token=org.access_token, instance_url=org.instance_url),
            {"CRM_CA_BUNDLE": org.ca_file},
        )


STAND_INS: dict[str, Callable[[int, int], AbstractContextManager[Crm]]] = {
    "hubspot": hubspot,
    "salesforce": salesforce,
}


def settings_for(folder: Path, crm: Crm) -> Settings:
    env = {"DATA_DIR": str(folder), "TOKEN_ENCRYPTION_KEY": KEY, "DEFAULT_WORKSPACE": TEAM, **crm.env}
    return Settings(_env_file=None, **{k.lower(): v for k, v in env.items()})  # type: ignore[arg-type,call-arg]


def store(folder: Path) -> str:
    folder.mkdir(parents=True)
    url = f"sqlite:///{folder / 'icp.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


def stage_csvs(crm: Crm, settings: Settings, folder: Path) -> tuple[Path, Path]:
    """The files a full sync stages, written through the same connector: the baseline's input."""
    staged = stage_changes(open_connector(crm.credentials, settings), since=(None, None), folder=folder)
    return staged.accounts.path, staged.deals.path


def approve_icp(url: str) -> None:
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            workspace = get_workspace(session=session, slack_team_id=TEAM)
            assert workspace is not None and workspace.id is not None
            row = create_icp_draft(
                session=session,
                workspace_id=workspace.id,
                data=IcpVersionCreate(name="bench", icp_json=ICP_DOC, author="bench"),
            )
            assert row.id is not None
            set_icp_status(
                session=session,
                workspace_id=workspace.id,
                version_id=row.id,
                status=IcpStatus.approved,
                actor="bench",
            )
    finally:
        engine.dispose()


def measure(name: str, companies: int, deals: int, folder: Path) -> list[list[str]]:
    rows: list[list[str]] = []
    with STAND_INS[name](companies, deals) as crm:
        settings = settings_for(folder, crm)
        env = {
            "DATA_DIR": str(folder),
            "TOKEN_ENCRYPTION_KEY": KEY,
            "DEFAULT_WORKSPACE": TEAM,
            "CHROMA_HOST": "127.0.0.1",  # no vector store: the statistics refresh is the knowledge
            "CHROMA_PORT": "9",  # store's cost, not the sync's (it fails fast and is noted)
            **crm.env,
        }
        accounts_csv, deals_csv = stage_csvs(crm, settings, folder)
        base_url = store(folder / "baseline")
        base_env = {**env, "DATABASE_URL": base_url}
        base = [
            run(["import", "accounts", str(accounts_csv)], base_env),
            run(["import", "deals", str(deals_csv)], base_env),
        ]
        baseline = Run(sum(r.seconds for r in base))
        sync_url = store(folder / "sync")
        engine = make_engine(sync_url)
        outcome = connect_crm(
            engine=engine, settings=settings, workspace=TEAM, credentials=crm.credentials, actor="bench"
        )
        engine.dispose()
        assert outcome.ok, outcome.message
        sync_env = {**env, "DATABASE_URL": sync_url}
        full = run(["sync", "--no-write-back"], sync_env)
        approve_icp(sync_url)
        write_back = run(["sync"], sync_env)
        repeat = run(["sync"], sync_env)
        label = crm.provider.label
        rows.append(
            [
                label,
                "CSV import (baseline)",
                f"{companies:,} + {deals:,}",
                f"{baseline.seconds:,.1f}",
                "1.00×",
            ]
        )
        for step, done in (
            ("full sync", full),
            (f"write-back of {companies:,} scores", write_back),
            ("repeat sync (after the write-back)", repeat),
        ):
            rows.append(
                [
                    label,
                    step,
                    f"{companies:,} + {deals:,}",
                    f"{done.seconds:,.1f}",
                    fmt_ratio(ratio(done.seconds, baseline.seconds)),
                ]
            )
        say(f"{label}: done")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=250_000)
    parser.add_argument("--deals", type=int, default=1_000_000)
    parser.add_argument("--crm", default="hubspot,salesforce", help="comma-separated: hubspot, salesforce")
    args = parser.parse_args(argv)
    rows: list[list[str]] = []
    for name in [n.strip() for n in args.crm.split(",") if n.strip()]:
        with tempfile.TemporaryDirectory(prefix=f"icp-crm-bench-{name}-") as tmp:
            rows += measure(name, args.companies, args.deals, Path(tmp))
    print_table(
        "CRM sync as whole processes vs a CSV import of the same records (same run, SQLite)",
        ["CRM", "step", "companies + deals", "s", "× CSV import"],
        rows,
        left=2,
        caption="× CSV import: seconds relative to `icp import accounts` + `icp import deals` of the files the "
        "sync stages. The stand-in serves from the benchmark's process on the same cores.",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
