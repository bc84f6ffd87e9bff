"""A CRM sync killed at random moments (SIGKILL of the real ``icp sync`` process).

The sync reads 2,000 companies and 6,000 deals from a HubSpot stand-in over HTTP, then applies them
in one transaction. Killed anywhere (while paging, while staging, while writing), the store holds
all of them or none of them, the sync's bookmark (cursor) moves only with the data, and running
``icp sync`` again completes it once the killed run's lease has lapsed (before that it is refused
as busy; the killed run is then recorded as interrupted). The randomness
is seeded, so a failure reproduces.
"""

from __future__ import annotations

import random
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Engine, text

from bot.connectors.records import Provider
from bot.services.crm_sync.connect import connect_crm
from bot.services.crm_sync.credentials import CrmCredentials
from bot.settings import Settings
from bot.store.db import make_engine, upgrade
from tests.support.crm.hubspot_api import StandInHubSpot
from tests.support.reliability_summary import record
from tests.support.reliability_support import Zygote

TEAM = "T0CRMKILL"
TOKEN = "pat-na1-crash-test-token"
KEY = Fernet.generate_key().decode()
COMPANIES, DEALS = 2_000, 6_000
TRIALS = 16
LEASE_S = 2.0  # CRM_SYNC_CLAIM_SECONDS: a killed sync's claim lapses after this
SEED = 20261207
NO_CHROMA = {"CHROMA_HOST": "127.0.0.1", "CHROMA_PORT": "9"}  # statistics refresh fails: a note only


@pytest.fixture(scope="module")
def hubspot() -> Iterator[StandInHubSpot]:
    with StandInHubSpot(token=TOKEN) as stand_in:
        stand_in.seed(companies=COMPANIES, deals=DEALS)
        yield stand_in


@pytest.fixture(scope="module")
def connected_template(tmp_path_factory: pytest.TempPathFactory, hubspot: StandInHubSpot) -> Path:
    """A migrated SQLite store with the HubSpot stand-in connected (nothing synced yet)."""
    folder = tmp_path_factory.mktemp("crm-template")
    path = folder / "icp.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        upgrade(engine)
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None, data_dir=folder, hubspot_api_url=hubspot.base_url, token_encryption_key=KEY
        )
        outcome = connect_crm(
            engine=engine,
            settings=settings,
            workspace=TEAM,
            credentials=CrmCredentials(Provider.hubspot, token=TOKEN),
            actor="U0ADMIN",
        )
        assert outcome.ok, outcome.message
    finally:
        engine.dispose()
    return path


def _state(engine: Engine) -> tuple[int, int, bool, list[str]]:
    with engine.connect() as conn:
        accounts = int(conn.execute(text("SELECT count(*) FROM account")).scalar_one())
        deals = int(conn.execute(text("SELECT count(*) FROM deal")).scalar_one())
        cursor = conn.execute(text("SELECT accounts_cursor FROM crm_connection")).scalar_one() is not None
        runs = [str(r[0]) for r in conn.execute(text("SELECT status FROM crm_sync_run ORDER BY id"))]
    return accounts, deals, cursor, runs


@pytest.mark.slow
def test_a_sync_killed_anywhere_leaves_all_or_nothing_and_the_next_completes_it(
    zygote: Zygote, connected_template: Path, hubspot: StandInHubSpot, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    env = {
        "HUBSPOT_API_URL": hubspot.base_url,
        "TOKEN_ENCRYPTION_KEY": KEY,
        "DEFAULT_WORKSPACE": TEAM,
        "CRM_SYNC_CLAIM_SECONDS": str(LEASE_S),
        **NO_CHROMA,
    }
    args = ["sync", "--no-write-back"]

    def fresh(name: str) -> Path:
        folder = tmp_path / name
        folder.mkdir()
        return Path(shutil.copyfile(connected_template, folder / "icp.db"))

    timed = fresh("timed")
    started = time.monotonic()
    child = zygote.cli(args, timed, timed.parent, **env)
    assert child.wait(timeout=300) == 0, child.tail()
    span = time.monotonic() - started
    engine = make_engine(f"sqlite:///{timed}")
    assert _state(engine) == (COMPANIES, DEALS, True, ["succeeded"])
    engine.dispose()

    figures = {"trials": 0, "kills": 0, "killed before the commit": 0, "re-runs": 0}
    for number in range(TRIALS):
        db = fresh(f"t{number}")
        child = zygote.cli(args, db, db.parent, **env)
        time.sleep(rng.uniform(0, span))
        killed = child.alive()
        child.kill()
        engine = make_engine(f"sqlite:///{db}")
        try:
            accounts, deals, cursor, runs = _state(engine)
            assert (accounts, deals) in ((0, 0), (COMPANIES, DEALS)), (
                f"trial {number}: {accounts} accounts, {deals} deals"
            )
            assert cursor == (accounts == COMPANIES), f"trial {number}: the cursor moved without the data"
            assert runs in ([], ["running"], ["succeeded"]), f"trial {number}: runs {runs}"
            if number % 2 == 0:
                busy = zygote.cli(args, db, db.parent, **env)  # a killed run's lease has not lapsed yet
                assert busy.wait(timeout=60) == (1 if runs == ["running"] else 0), busy.tail()
                time.sleep(LEASE_S + 0.2)
                rerun = zygote.cli(args, db, db.parent, **env)
                assert rerun.wait(timeout=300) == 0, rerun.tail()
                accounts, deals, cursor, after = _state(engine)
                assert (accounts, deals, cursor) == (COMPANIES, DEALS, True)
                assert after[-1] == "succeeded" and "running" not in after
                figures["re-runs"] += 1
        finally:
            engine.dispose()
        figures["trials"] += 1
        figures["kills"] += killed
        figures["killed before the commit"] += killed and accounts == 0
    record("crm sync crash", **figures)
    assert figures["kills"] >= TRIALS // 2
