"""Store files are for the bot's own user: the SQLite file (and its -wal/-shm) 0600 whatever the
umask, the embedded Chroma folder 0700 (interview answers live in both)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.knowledge.store import KnowledgeStore
from bot.store.db import make_engine


@pytest.fixture
def loose_umask() -> Iterator[None]:
    previous = os.umask(0o022)  # the usual default, under which files come out 0644
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_sqlite_file_and_its_wal_are_private(tmp_path: Path, loose_umask: None) -> None:
    database = tmp_path / "data" / "icp.db"
    engine = make_engine(f"sqlite:///{database}")
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (x TEXT)"))
            conn.execute(text("INSERT INTO t VALUES ('an answer')"))
        files = [database, database.with_name("icp.db-wal"), database.with_name("icp.db-shm")]
        assert all(f.exists() for f in files)
        assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}
    finally:
        engine.dispose()


def test_an_existing_world_readable_database_is_tightened(tmp_path: Path, loose_umask: None) -> None:
    database = tmp_path / "icp.db"
    database.touch(mode=0o644)
    database.chmod(0o644)
    make_engine(f"sqlite:///{database}").dispose()
    assert mode(database) == 0o600


def test_the_embedded_chroma_folder_is_private(tmp_path: Path, loose_umask: None) -> None:
    folder = tmp_path / "chroma"
    KnowledgeStore(path=folder)
    assert mode(folder) == 0o700
    existing = tmp_path / "old-chroma"
    existing.mkdir(mode=0o755)
    KnowledgeStore(path=existing)
    assert mode(existing) == 0o700
