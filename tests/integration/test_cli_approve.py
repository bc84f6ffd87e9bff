"""`icp approve vN` and `icp draft --approve` end to end: a real SQLite file, a real Chroma folder.

The CLI goes through the same review service as Slack's Approve button, so the rules are the
same: a draft becomes the approved version, the previous one is superseded, the approver and an
audit entry are recorded (as ``cli:<OS user>``), and a refusal is one line naming the version.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from chromadb.api.shared_system_client import SharedSystemClient
from click.testing import Result
from sqlalchemy import Engine

from bot.store import make_engine, session_scope, upgrade
from bot.store.models import IcpStatus
from bot.store.repo import audit as audit_repo
from bot.store.repo import icp as icp_repo
from tests.support.import_support import engine_url, run_cli
from tests.support.knowledge_fixtures import add_icp, insert_crm, new_workspace, sample_crm

ACTOR = f"cli:{getpass.getuser()}"


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    store = make_engine(f"sqlite:///{tmp_path / 'icp.db'}")
    upgrade(store)
    yield store
    store.dispose()
    SharedSystemClient.clear_system_cache()  # the CLI opened Chroma under tmp_path


def icp(engine: Engine, tmp_path: Path, team: str, *args: str) -> Result:
    return run_cli(
        engine_url(engine), [*args, "--workspace", team], data_dir=tmp_path / "data", LLM_PROVIDER="offline"
    )


def statuses(engine: Engine, workspace_id: int) -> dict[int, tuple[IcpStatus, str | None]]:
    with session_scope(engine) as session:
        rows = icp_repo.list_icp_versions(session=session, workspace_id=workspace_id)
        return {r.version: (r.status, r.approver) for r in rows}


def one_line_error(result: Result, *fragments: str) -> None:
    assert result.exit_code == 1, (result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def two_drafts(engine: Engine) -> tuple[str, int]:
    team, ws = new_workspace(engine)
    with session_scope(engine) as session:
        add_icp(session, ws, "First")
        add_icp(session, ws, "Second")
    return team, ws


def test_approve_makes_a_draft_the_approved_version_and_records_the_os_user(
    engine: Engine, tmp_path: Path
) -> None:
    team, ws = two_drafts(engine)
    result = icp(engine, tmp_path, team, "approve", "v1")
    assert result.exit_code == 0, result.stderr
    assert f"Approved ICP v1 in workspace {team} as {ACTOR}" in result.stdout
    assert statuses(engine, ws) == {1: (IcpStatus.approved, ACTOR), 2: (IcpStatus.draft, None)}

    # Approving the next one supersedes the first, in one step; --json says so.
    result = icp(engine, tmp_path, team, "approve", "2", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["version"] == 2 and data["status"] == "approved" and data["approver"] == ACTOR
    assert data["superseded"] == 1 and data["workspace"] == team and data["approved_at"]
    assert statuses(engine, ws) == {1: (IcpStatus.superseded, ACTOR), 2: (IcpStatus.approved, ACTOR)}
    with session_scope(engine) as session:
        audit = audit_repo.list_audit(session=session, workspace_id=ws, action="icp.approved", limit=10)
    assert {e.actor for e in audit} == {ACTOR} and len(audit) == 2


def test_refusals_name_the_version_in_one_line_and_change_nothing(engine: Engine, tmp_path: Path) -> None:
    team, ws = two_drafts(engine)
    assert icp(engine, tmp_path, team, "approve", "v1").exit_code == 0
    assert icp(engine, tmp_path, team, "approve", "v2").exit_code == 0
    before = statuses(engine, ws)

    one_line_error(icp(engine, tmp_path, team, "approve", "v2"), "ICP v2 is already approved", ACTOR)
    one_line_error(icp(engine, tmp_path, team, "approve", "v1"), "ICP v1 cannot be approved", "superseded")
    one_line_error(icp(engine, tmp_path, team, "approve", "v9"), "v9", "versions stored: v1, v2")
    one_line_error(icp(engine, tmp_path, team, "approve", "latest"), "'latest' is not a version number")
    one_line_error(icp(engine, tmp_path, "T_NOBODY", "approve", "v1"), "T_NOBODY")
    assert statuses(engine, ws) == before


def test_draft_approve_drafts_then_approves_in_one_go(engine: Engine, tmp_path: Path) -> None:
    team, ws = new_workspace(engine)
    data = sample_crm()
    insert_crm(engine, ws, accounts=data.accounts, deals=data.deals, health=data.health)

    human = icp(engine, tmp_path, team, "draft", "--approve")
    assert human.exit_code == 0, human.stderr
    assert "Draft ICP v1" in human.stdout
    assert f"Approved ICP v1 in workspace {team} as {ACTOR}" in human.stdout

    result = icp(engine, tmp_path, team, "draft", "--approve", "--json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["version"] == 2 and doc["drafted_with"] == "offline"
    assert doc["approval"]["version"] == 2 and doc["approval"]["superseded"] == 1
    assert statuses(engine, ws) == {1: (IcpStatus.superseded, ACTOR), 2: (IcpStatus.approved, ACTOR)}

    plain = icp(engine, tmp_path, team, "draft", "--json")  # without --approve: a draft, no approval key
    assert plain.exit_code == 0, plain.stderr
    assert "approval" not in json.loads(plain.stdout)
    assert statuses(engine, ws)[3] == (IcpStatus.draft, None)
