"""Scheduled CRM syncs: due workspaces synced once per interval, a refused token DMed once.

``run_due_syncs`` (what ``icp serve``'s CrmSyncLoop calls every poll) against a HubSpot stand-in
and the Slack stand-in, both over HTTP on 127.0.0.1, with a SQLite store.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from slack_sdk import WebClient
from sqlalchemy import Engine

from bot.connectors.records import Provider
from bot.scheduler.crm_syncs import CrmSyncLoop, run_due_syncs
from bot.services.crm_sync.connect import connect_crm, connection_status
from bot.services.crm_sync.credentials import CrmCredentials
from bot.settings import Settings
from bot.store import make_engine, upgrade
from bot.store.types import utcnow
from tests.support.crm.hubspot_api import StandInHubSpot
from tests.support.harness import StandInSlack

TEAM = "T0SCHED"
OWNER = "U0OWNER"
TOKEN = "pat-na1-schedule-token-123456"


@pytest.fixture
def hubspot() -> Iterator[StandInHubSpot]:
    with StandInHubSpot(token=TOKEN) as stand_in:
        stand_in.add_company("1", {"name": "Acme", "industry": "COMPUTER_SOFTWARE"})
        yield stand_in


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    created = make_engine(f"sqlite:///{tmp_path / 'icp.db'}")
    upgrade(created)
    yield created
    created.dispose()


def _settings(tmp_path: Path, hubspot: StandInHubSpot, **extra: object) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=tmp_path,
        hubspot_api_url=hubspot.base_url,
        crm_call_deadline_seconds=2.0,
        **extra,
    )


def _connect(engine: Engine, settings: Settings) -> None:
    outcome = connect_crm(
        engine=engine,
        settings=settings,
        workspace=TEAM,
        credentials=CrmCredentials(Provider.hubspot, token=TOKEN),
        actor=OWNER,
    )
    assert outcome.ok, outcome.message


def test_a_due_sync_runs_once_then_waits_for_its_interval(
    tmp_path: Path, engine: Engine, hubspot: StandInHubSpot, stand_in: StandInSlack
) -> None:
    settings = _settings(tmp_path, hubspot, crm_sync_hours=24)
    _connect(engine, settings)
    client = WebClient(token="xoxb-test", base_url=stand_in.api_url)
    now = utcnow() + timedelta(seconds=1)
    first = run_due_syncs(settings, engine, clients=lambda _team: client, now=now, worker="w1")
    assert (first.synced, first.failed, first.reported) == (1, 0, 0)
    again = run_due_syncs(settings, engine, clients=lambda _team: client, now=now, worker="w2")
    assert again.synced == 0  # the next one is due in 24 h
    status = connection_status(engine=engine, workspace=TEAM)
    assert status is not None and status.next_sync_at is not None
    assert status.next_sync_at - utcnow() > timedelta(hours=23)
    later = run_due_syncs(
        settings, engine, clients=lambda _team: client, now=now + timedelta(hours=25), worker="w1"
    )
    assert later.synced == 1
    assert stand_in.calls_to("chat.postMessage") == []


def test_a_refused_token_is_dmed_once_to_whoever_connected_and_the_syncs_pause(
    tmp_path: Path, engine: Engine, hubspot: StandInHubSpot, stand_in: StandInSlack
) -> None:
    settings = _settings(tmp_path, hubspot)
    _connect(engine, settings)
    hubspot.expire_token()
    client = WebClient(token="xoxb-test", base_url=stand_in.api_url)
    now = utcnow() + timedelta(seconds=1)
    first = run_due_syncs(settings, engine, clients=lambda _team: client, now=now, worker="w1")
    assert (first.failed, first.reported) == (1, 1)
    posts = stand_in.calls_to("chat.postMessage")
    assert [p.params.get("channel") for p in posts] == [OWNER]
    assert "refused the token" in posts[0].text and TOKEN not in posts[0].text
    requests_so_far = len(hubspot.calls)
    for hours in (1, 25, 49):  # later passes: no sync is attempted, nobody is told again
        quiet = run_due_syncs(
            settings, engine, clients=lambda _team: client, now=now + timedelta(hours=hours), worker="w1"
        )
        assert (quiet.synced, quiet.failed, quiet.reported) == (0, 0, 0)
    assert len(stand_in.calls_to("chat.postMessage")) == 1
    assert len(hubspot.calls) == requests_so_far
    hubspot.renew_token()
    _connect(engine, settings)  # connecting again resumes the schedule and clears the refusal
    resumed = run_due_syncs(
        settings, engine, clients=lambda _team: client, now=utcnow() + timedelta(seconds=1), worker="w1"
    )
    assert resumed.synced == 1
    status = connection_status(engine=engine, workspace=TEAM)
    assert status is not None and not status.token_refused


def test_the_schedule_off_runs_nothing_and_the_loop_starts_no_thread(
    tmp_path: Path, engine: Engine, hubspot: StandInHubSpot, stand_in: StandInSlack
) -> None:
    settings = _settings(tmp_path, hubspot, crm_sync_hours=0)
    _connect(engine, settings)
    client = WebClient(token="xoxb-test", base_url=stand_in.api_url)
    done = run_due_syncs(
        settings, engine, clients=lambda _team: client, now=utcnow() + timedelta(days=3), worker="w"
    )
    assert done.synced == done.failed == 0
    loop = CrmSyncLoop(settings, engine, lambda _team: client, clock=utcnow, worker="w").start()
    assert loop._thread is None
    loop.stop()
