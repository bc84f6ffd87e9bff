"""The progress callbacks the CLI hands to services: what they are told, on a real SQLite and Chroma.

The services know nothing of rich; these tests check the plain calls `icp import`, `icp reindex`
and `icp draft` turn into a bar or a spinner.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.knowledge.store import KnowledgeStore
from bot.services.icp.drafting import draft_icp
from bot.services.imports.service import import_accounts, import_deals
from bot.services.knowledge.sync import reindex
from bot.store import make_engine, upgrade
from icp_engine.sample import generate, write_csv
from tests.support.import_support import new_team


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    store = make_engine(f"sqlite:///{tmp_path / 'icp.db'}")
    upgrade(store)
    yield store
    store.dispose()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_csv(generate(seed=5, n_accounts=1_500, messy=False), tmp_path_factory.mktemp("crm"))


def test_imports_count_the_rows_they_store_up_to_the_total(engine: Engine, files: dict[str, Path]) -> None:
    team = new_team()
    seen: list[tuple[int, int | None]] = []
    summary = import_accounts(
        engine=engine, workspace=team, path=files["accounts"], on_progress=lambda d, t: seen.append((d, t))
    )
    assert summary.status == "imported", summary.message
    stored = summary.rows - summary.rejected
    assert seen[0] == (0, stored) and seen[-1] == (stored, stored)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)  # never counts backwards
    assert len(seen) >= 3  # reported along the way, not only at both ends

    deals: list[tuple[int, int | None]] = []
    summary = import_deals(
        engine=engine, workspace=team, path=files["deals"], on_progress=lambda d, t: deals.append((d, t))
    )
    assert summary.status == "imported", summary.message
    total = deals[0][1]
    assert total is not None and deals[-1][0] == summary.rows - summary.rejected <= total


def test_reindex_counts_the_chunks_it_embeds(
    engine: Engine, files: dict[str, Path], knowledge: KnowledgeStore
) -> None:
    team = new_team()
    assert import_accounts(engine=engine, workspace=team, path=files["accounts"]).status == "imported"
    assert import_deals(engine=engine, workspace=team, path=files["deals"]).status == "imported"
    seen: list[tuple[int, int | None]] = []
    counts = reindex(
        engine=engine, knowledge=knowledge, workspace=team, on_progress=lambda d, t: seen.append((d, t))
    )
    assert counts["chunks"] > 0
    assert seen and seen[-1] == (counts["chunks"], counts["chunks"])


def test_draft_names_each_step_in_order(engine: Engine, files: dict[str, Path]) -> None:
    team = new_team()
    assert import_accounts(engine=engine, workspace=team, path=files["accounts"]).status == "imported"
    assert import_deals(engine=engine, workspace=team, path=files["deals"]).status == "imported"
    steps: list[str] = []
    outcome = draft_icp(
        engine=engine, knowledge=None, llm=None, workspace=team, author="cli", on_step=steps.append
    )
    assert outcome.version == 1
    assert steps == ["gather", "offline draft", "check", "store"]
