"""`icp forget` and `icp reindex` end to end: real databases, a real Chroma folder, the real embedder.

The commands find the stores through the environment (``DATABASE_URL``, ``CHROMA_PATH``), as a
user's shell would give them. Errors must be one line on stderr with exit code 1, never a
traceback, and must leave both stores as they were.
"""

from __future__ import annotations

import os
import pty
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from chromadb.api.client import SharedSystemClient
from click.testing import Result
from sqlalchemy import Engine
from typer.testing import CliRunner

from bot.cli.knowledge import knowledge_app
from bot.knowledge.embeddings import OnnxMiniLM
from bot.knowledge.store import KnowledgeStore
from bot.services.knowledge.sync import reindex
from bot.services.reviews import reminders
from bot.services.reviews.cadence import Cadence
from bot.store import make_engine, session_scope, upgrade
from bot.store.repo import answers as answers_repo
from bot.store.repo import audit as audit_repo
from bot.store.repo import checkins as checkins_repo
from tests.support.knowledge_fixtures import (
    GONE,
    WordHashEmbedder,
    add_icp,
    new_team_id,
    people_workspace,
    sql_snapshot,
    vector_snapshot,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def embedder() -> OnnxMiniLM:
    model = OnnxMiniLM(threads=1)
    model.load()
    return model


@pytest.fixture
def chroma_path(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "chroma"
    SharedSystemClient.clear_system_cache()


def environment(url: str, tmp_path: Path) -> dict[str, str]:
    return {
        "DATABASE_URL": url,
        "CHROMA_PATH": str(tmp_path / "chroma"),
        "DATA_DIR": str(tmp_path / "data"),
        "CHROMA_HOST": "",
        "DEFAULT_WORKSPACE": "T_DEFAULT_UNUSED",
        "ORT_DISABLE_TELEMETRY": "1",
        "ANONYMIZED_TELEMETRY": "False",
    }


@pytest.fixture
def env(store_engine: Engine, tmp_path: Path) -> dict[str, str]:
    return environment(store_engine.url.render_as_string(hide_password=False), tmp_path)


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(knowledge_app, list(args), env=env)


def assert_one_line_error(result: Result, *fragments: str) -> None:
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for fragment in fragments:
        assert fragment in lines[0]
    assert "Traceback" not in result.output + result.stderr


def fresh(chroma_path: Path, embedder: OnnxMiniLM) -> KnowledgeStore:
    return KnowledgeStore(path=chroma_path, embedder=embedder)


def test_forget_with_yes_erases_the_person_everywhere(
    store_engine: Engine, env: dict[str, str], chroma_path: Path, embedder: OnnxMiniLM
) -> None:
    team, ws, _, stays = people_workspace(store_engine)
    reindex(engine=store_engine, knowledge=fresh(chroma_path, embedder), workspace=team)
    now = datetime(2026, 12, 1, tzinfo=UTC)
    review = reminders.set_reminder(
        store_engine, team_id=team, actor="U_OWNER", cadence=Cadence.quarterly, cron=None,
        channel_id="C0REVOPS", timezone="UTC", now=now,
    )  # fmt: skip
    with session_scope(store_engine) as session:  # a review check-in DM they were sent
        checkins_repo.record_checkin(
            session=session, workspace_id=ws, reminder_id=review.id, slack_user_id="U_GONE",
            asked_by="U_OWNER", sent_at=now,
        )  # fmt: skip

    result = run(env, "forget", "U_GONE", "--workspace", team, "--yes")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"Forgot U_GONE in workspace {team}: erased 2 answers, 2 questions, 1 review check-in and the "
        "summaries of 1 interview from the database and 2 vectors from the knowledge store; recorded in "
        "the audit log.\n"
    )
    with session_scope(store_engine) as session:
        assert [a.id for a in answers_repo.list_answers(session=session, workspace_id=ws)] == stays
        (entry,) = audit_repo.list_audit(session=session, workspace_id=ws, action="stakeholder.forget")
        assert (entry.actor, entry.target_id) == ("cli", "U_GONE")
    hits = fresh(chroma_path, embedder).search(workspace=team, query=GONE[0], k=10)
    assert [h.metadata["stakeholder"] for h in hits] == ["U_STAYS"]


def test_forget_refuses_without_yes_when_stdin_is_not_a_terminal(
    store_engine: Engine, env: dict[str, str], chroma_path: Path, embedder: OnnxMiniLM
) -> None:
    team, ws, _, _ = people_workspace(store_engine)
    knowledge = fresh(chroma_path, embedder)
    reindex(engine=store_engine, knowledge=knowledge, workspace=team)
    with session_scope(store_engine) as session:
        before = sql_snapshot(session, ws)
    vectors = vector_snapshot(knowledge, team)

    result = run(env, "forget", "U_GONE", "-w", team)
    assert_one_line_error(result, "refusing to forget U_GONE without confirmation", "pass --yes")
    with session_scope(store_engine) as session:
        assert sql_snapshot(session, ws) == before
    assert vector_snapshot(fresh(chroma_path, embedder), team) == vectors


@pytest.mark.parametrize(
    ("who", "where", "message"),
    [
        (
            "U_NOBODY",
            None,
            "no person with Slack user id 'U_NOBODY' in workspace '{team}'; nothing was erased",
        ),
        ("U_GONE", "T_NOPE", "no workspace 'T_NOPE' in the database"),
        (" ", None, "USER must be a Slack user id"),
    ],
)
def test_forget_of_someone_unknown_is_one_line_and_changes_nothing(
    store_engine: Engine,
    env: dict[str, str],
    chroma_path: Path,
    embedder: OnnxMiniLM,
    who: str,
    where: str | None,
    message: str,
) -> None:
    team, ws, _, _ = people_workspace(store_engine)
    knowledge = fresh(chroma_path, embedder)
    reindex(engine=store_engine, knowledge=knowledge, workspace=team)
    with session_scope(store_engine) as session:
        before = sql_snapshot(session, ws)
    vectors = vector_snapshot(knowledge, team)

    result = run(env, "forget", who, "--workspace", where or team, "--yes")
    assert_one_line_error(result, message.format(team=team))
    with session_scope(store_engine) as session:
        assert sql_snapshot(session, ws) == before
    assert vector_snapshot(fresh(chroma_path, embedder), team) == vectors


def test_reindex_prints_counts_and_restores_a_deleted_store(
    store_engine: Engine, env: dict[str, str], chroma_path: Path, embedder: OnnxMiniLM
) -> None:
    team, ws, _, _ = people_workspace(store_engine)
    with session_scope(store_engine) as session:
        add_icp(session, ws)

    result = run(env, "reindex", "--workspace", team)
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"Reindexed workspace {team}: 3 answers, 0 statistics, 1 ICP version, 2 personas (6 vectors).\n"
    )
    queries = ["Why do customers buy?", "Who is the buyer persona?", "Which companies fit the ICP?"]
    before = [
        [(h.id, h.text) for h in fresh(chroma_path, embedder).search(workspace=team, query=q, k=4)]
        for q in queries
    ]

    shutil.rmtree(chroma_path)
    SharedSystemClient.clear_system_cache()  # what a new process would see: no store at all
    assert fresh(chroma_path, embedder).count(workspace=team) == 0
    again = run(env, "reindex", "-w", team)
    assert again.exit_code == 0, again.output
    assert again.stdout == result.stdout
    after = [
        [(h.id, h.text) for h in fresh(chroma_path, embedder).search(workspace=team, query=q, k=4)]
        for q in queries
    ]
    assert after == before

    missing = run(env, "reindex", "-w", "T_NOPE")
    assert_one_line_error(missing, "no workspace 'T_NOPE' in the database")


def test_forget_when_vectors_cannot_be_deleted_says_to_reindex(
    store_engine: Engine, env: dict[str, str], chroma_path: Path, embedder: OnnxMiniLM
) -> None:
    team, ws, _, stays = people_workspace(store_engine)
    reindex(
        engine=store_engine,
        knowledge=KnowledgeStore(path=chroma_path, embedder=WordHashEmbedder()),
        workspace=team,
    )

    result = run(env, "forget", "U_GONE", "-w", team, "--yes")
    assert_one_line_error(
        result,
        "erased 2 answer(s) of U_GONE from the database, but their vectors could not be deleted",
        f"run `icp reindex --workspace {team}` to remove them",
    )
    with session_scope(store_engine) as session:
        assert [a.id for a in answers_repo.list_answers(session=session, workspace_id=ws)] == stays

    fixed = run(env, "reindex", "-w", team)
    assert fixed.exit_code == 0, fixed.output
    assert "1 answer, 0 statistics, 0 ICP versions, 0 personas (1 vector)" in fixed.stdout
    hits = fresh(chroma_path, embedder).search(workspace=team, query=GONE[0], k=10)
    assert [(h.source_id, h.metadata["stakeholder"]) for h in hits] == [(str(stays[0]), "U_STAYS")]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql://nobody@127.0.0.1:1/nothing", "database error:"),
        ("mysql://someone@localhost/db", "only sqlite and postgresql are supported"),
    ],
)
@pytest.mark.parametrize("command", [["reindex"], ["forget", "U1", "--yes"]])
def test_a_database_that_cannot_be_used_is_one_line(
    tmp_path: Path, url: str, message: str, command: list[str]
) -> None:
    result = run(environment(url, tmp_path), *command)
    assert_one_line_error(result, message)


def test_a_bad_setting_is_one_line(tmp_path: Path) -> None:
    result = run(
        {**environment("sqlite:///" + str(tmp_path / "x.db"), tmp_path), "CHROMA_PORT": "eighty"}, "reindex"
    )
    assert_one_line_error(result, "CHROMA_PORT", "unable to parse string as an integer", "(got 'eighty')")
    assert not (tmp_path / "x.db").exists()


# -- a real terminal -----------------------------------------------------------------------------


def _read_until(fd: int, marker: bytes, timeout: float = 120.0) -> bytes:
    """Read the terminal until ``marker`` shows up (or the program closes it)."""
    data = b""
    deadline = time.monotonic() + timeout
    while marker not in data and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 1.0)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the program exited and closed the terminal
            break
        if not chunk:
            break
        data += chunk
    return data


@pytest.mark.parametrize(("reply", "erased"), [(b"n", False), (b"y", True)])
def test_forget_asks_on_a_terminal(tmp_path: Path, reply: bytes, erased: bool) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'icp.db'}")
    upgrade(engine)
    team, ws, _, stays = people_workspace(engine, new_team_id())
    with session_scope(engine) as session:
        before = sql_snapshot(session, ws)
    env = {**os.environ, **environment(engine.url.render_as_string(hide_password=False), tmp_path)}

    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli.knowledge", "forget", "U_GONE", "-w", team],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        cwd=REPO,
        env=env,
        close_fds=True,
    )
    os.close(follower)
    try:
        prompt = _read_until(leader, b"[y/N]:")
        assert b"Erase everything U_GONE said in workspace" in prompt, prompt
        os.write(leader, reply + b"\n")
        rest = _read_until(leader, b"\x00")  # until the program exits
        code = process.wait(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
        os.close(leader)

    with session_scope(engine) as session:
        left = [a.id for a in answers_repo.list_answers(session=session, workspace_id=ws)]
        now = sql_snapshot(session, ws)
    engine.dispose()
    if erased:
        assert code == 0, rest
        assert b"Forgot U_GONE" in rest
        assert left == stays
    else:
        assert code == 1, rest
        assert b"error:" in rest and b"cancelled: nothing about U_GONE was erased" in rest
        assert b"Traceback" not in rest
        assert now == before
