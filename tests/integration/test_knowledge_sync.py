"""Knowledge sync against real SQLite/PostgreSQL, a real Chroma folder and the real offline embedder.

SQL is the source of truth: statistics are regenerated from the stored CRM rows, ``reindex``
rebuilds the vectors from SQL (restoring a deleted store, dropping vectors without a row) and
``forget_person`` erases a person from both. No operation on one workspace reads or changes
another's rows or vectors.
"""

from __future__ import annotations

import contextlib
import json
import random
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from chromadb.api.client import SharedSystemClient
from sqlalchemy import Engine
from sqlmodel import select

from bot.knowledge.embeddings import OnnxMiniLM
from bot.knowledge.store import Document, KnowledgeStore
from bot.services.knowledge.documents import NO_CLOSED_DEALS_ID, NO_PATTERN_ID, render_icp
from bot.services.knowledge.sync import (
    KnowledgeSyncError,
    reindex,
    statistic_documents,
    sync_statistics,
)
from bot.services.privacy.forget import VECTORS_FORGOTTEN, forget_person
from bot.store import make_engine, session_scope, upgrade
from bot.store.models import AuditEntry, DealCreate, DealStage, GtmRole
from bot.store.repo import NotFoundError
from bot.store.repo import answers as answers_repo
from bot.store.repo import audit as audit_repo
from bot.store.repo import stakeholders as stakeholders_repo
from icp_engine.stats import analyze
from tests.support.knowledge_fixtures import (
    GONE,
    SAMPLE_ICP,
    STAYS,
    WordHashEmbedder,
    add_answers,
    add_icp,
    insert_crm,
    new_team_id,
    new_workspace,
    people_workspace,
    sample_crm,
    sql_snapshot,
    vector_snapshot,
    without_signal,
)


@pytest.fixture(scope="module")
def embedder() -> OnnxMiniLM:
    model = OnnxMiniLM(threads=1)
    model.load()
    return model


@pytest.fixture
def chroma_path(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "chroma"
    SharedSystemClient.clear_system_cache()  # the folder goes away with tmp_path


@pytest.fixture
def knowledge(chroma_path: Path, embedder: OnnxMiniLM) -> KnowledgeStore:
    return KnowledgeStore(path=chroma_path, embedder=embedder)


# -- statistics ----------------------------------------------------------------------------------


def test_statistics_from_sql_are_the_engines_statistics_on_the_files(store_engine: Engine) -> None:
    data = sample_crm()
    _, ws = new_workspace(store_engine)
    insert_crm(store_engine, ws, accounts=data.accounts, deals=data.deals, health=data.health)
    with session_scope(store_engine) as session:
        docs = statistic_documents(session=session, workspace_id=ws)

    expected = analyze(data.crm.closed, data.crm.accounts, attributes=data.crm.attributes)
    significant = {s.segment.key: s for s in expected.segments if s.significant}
    by_id = {doc.source_id: doc for doc in docs}
    assert len(by_id) == len(docs)
    assert {d.source_id for d in docs if d.extra["stat_type"] == "segment"} == set(significant)
    assert {"industry=software", "industry=retail", "tech_stack~salesforce"} <= set(significant)
    assert expected.cohort is not None
    assert {d.source_id for d in docs if d.extra["stat_type"] == "cohort"} == {
        d.id for d in expected.cohort.diffs if d.significant
    }
    for key, seg in significant.items():
        doc = by_id[key]
        assert doc.kind == "statistic"
        assert doc.extra["attribute"] == seg.segment.attribute
        assert doc.extra["n"] == seg.deals and doc.extra["wins"] == seg.wins
        assert doc.extra["win_rate"] == round(seg.win_rate, 4)
        assert doc.extra["q"] == pytest.approx(seg.q_value, rel=1e-9)  # row order moves the last bits
        assert doc.extra["q"] < 0.05
    software = by_id["industry=software"]
    seg = significant["industry=software"]
    assert software.extra["value"] == "software"
    assert software.text.startswith(
        f"Accounts with industry = software win {100 * seg.win_rate:.0f}% of {seg.deals:,} closed deals"
    )
    assert f"vs {100 * expected.overall.win_rate:.0f}% overall; lift {seg.lift:.2f}" in software.text
    assert "significant after correction" in software.text
    assert by_id["tech_stack~salesforce"].text.startswith("Accounts whose tech_stack includes salesforce win")


def test_statistics_regenerate_and_a_dataset_without_signal_says_so(
    store_engine: Engine, knowledge: KnowledgeStore
) -> None:
    data = sample_crm()
    team, ws = new_workspace(store_engine)
    insert_crm(store_engine, ws, accounts=data.accounts, deals=data.deals, health=data.health)
    with session_scope(store_engine) as session:
        add_answers(session, ws, "U1", ["Software companies love the product."])
    knowledge.add_documents(
        workspace=team,
        docs=[Document(kind="statistic", source_id="stale=segment", text="An old statistic.")],
    )
    knowledge.add_documents(
        workspace=team,
        docs=[Document(kind="answer", source_id="a1", text="Kept: sync only touches statistics.")],
    )

    first = sync_statistics(engine=store_engine, knowledge=knowledge, workspace=team)
    assert first > 10
    assert knowledge.count(workspace=team, kind="statistic") == first  # the stale one is gone
    assert sync_statistics(engine=store_engine, knowledge=knowledge, workspace=team) == first
    assert knowledge.count(workspace=team, kind="statistic") == first  # replaced, not accumulated
    (top,) = knowledge.search(
        workspace=team, query="win rate of software companies", kinds=["statistic"], k=1
    )
    assert top.source_id == "industry=software"

    deals, health = without_signal(data, seed=3)
    insert_crm(store_engine, ws, deals=deals, health=health)
    assert sync_statistics(engine=store_engine, knowledge=knowledge, workspace=team) == 1
    hits = knowledge.search(workspace=team, query="win rate of software companies", kinds=["statistic"], k=50)
    assert [h.source_id for h in hits] == [NO_PATTERN_ID]
    assert hits[0].text.startswith("No significant pattern in the CRM data: no segment's win rate differs")
    assert "do not support firmographic ICP criteria" in hits[0].text
    assert knowledge.count(workspace=team, kind="answer") == 1


def test_no_deals_no_statistics_and_open_deals_only_say_so(
    store_engine: Engine, knowledge: KnowledgeStore
) -> None:
    team, ws = new_workspace(store_engine)
    assert sync_statistics(engine=store_engine, knowledge=knowledge, workspace=team) == 0
    assert knowledge.count(workspace=team) == 0

    data = sample_crm()
    opened = [
        DealCreate(crm_id=f"D{i}", account_crm_id=data.accounts[i].crm_id, stage=DealStage.open)
        for i in range(5)
    ]
    insert_crm(store_engine, ws, accounts=data.accounts[:5], deals=opened)
    assert sync_statistics(engine=store_engine, knowledge=knowledge, workspace=team) == 1
    (hit,) = knowledge.search(workspace=team, query="statistics", k=5)
    assert hit.source_id == NO_CLOSED_DEALS_ID
    assert hit.text.startswith("No CRM statistics yet: 5 deals are stored but none is closed")


def test_unknown_workspace_is_a_clear_error_and_writes_nothing(
    store_engine: Engine, knowledge: KnowledgeStore
) -> None:
    team = new_team_id()
    with pytest.raises(NotFoundError, match=f"no workspace '{team}' in the database"):
        sync_statistics(engine=store_engine, knowledge=knowledge, workspace=team)
    with pytest.raises(NotFoundError, match=f"no workspace '{team}'"):
        reindex(engine=store_engine, knowledge=knowledge, workspace=team)
    assert knowledge.count(workspace=team) == 0


# -- forget --------------------------------------------------------------------------------------


def test_forget_erases_sql_and_vectors_and_audits_counts_only(
    store_engine: Engine, knowledge: KnowledgeStore
) -> None:
    team, ws, _, stays = people_workspace(store_engine)
    reindex(engine=store_engine, knowledge=knowledge, workspace=team)
    assert knowledge.count(workspace=team, kind="answer") == 3

    result = forget_person(
        engine=store_engine, knowledge=knowledge, workspace=team, slack_user_id="U_GONE", actor="U_ADMIN"
    )
    assert (result.answers, result.questions, result.interviews, result.vectors) == (2, 2, 1, 2)

    hits = knowledge.search(workspace=team, query="dispatch teams in logistics", k=10)
    assert [h.source_id for h in hits] == [str(stays[0])]
    assert hits[0].metadata["stakeholder"] == "U_STAYS"
    assert hits[0].metadata["role"] == "customer_success"
    with session_scope(store_engine) as session:
        left = answers_repo.list_answers(session=session, workspace_id=ws)
        assert [a.id for a in left] == stays
        person = stakeholders_repo.require_stakeholder(
            session=session, workspace_id=ws, slack_user_id="U_GONE"
        )
        assert person.display_name is None
        entries = session.exec(
            select(AuditEntry).where(AuditEntry.workspace_id == ws).order_by(AuditEntry.id)  # type: ignore[arg-type]
        ).all()
    forgotten = [
        (e.action, e.actor, e.target_id, e.details) for e in entries if e.action.startswith("stakeholder")
    ]
    assert forgotten == [
        ("stakeholder.forget", "U_ADMIN", "U_GONE", {"answers": 2, "questions": 2, "interviews": 1}),
        (VECTORS_FORGOTTEN, "U_ADMIN", "U_GONE", {"vectors": 2}),
    ]
    audit_text = json.dumps([e.model_dump(mode="json") for e in entries])
    assert all(text not in audit_text for text in GONE)
    assert "dispatch" not in audit_text

    # forgetting again is harmless and finds nothing more
    again = forget_person(
        engine=store_engine, knowledge=knowledge, workspace=team, slack_user_id="U_GONE", actor="U_ADMIN"
    )
    assert (again.answers, again.vectors) == (0, 0)


def test_forget_unknown_person_or_workspace_changes_nothing(
    store_engine: Engine, knowledge: KnowledgeStore
) -> None:
    team, ws, _, _ = people_workspace(store_engine)
    reindex(engine=store_engine, knowledge=knowledge, workspace=team)
    with session_scope(store_engine) as session:
        before_sql = sql_snapshot(session, ws)
    before_vectors = vector_snapshot(knowledge, team)
    with pytest.raises(
        NotFoundError, match=r"no person with Slack user id 'U_NOBODY' in workspace '.*'; nothing"
    ):
        forget_person(
            engine=store_engine, knowledge=knowledge, workspace=team, slack_user_id="U_NOBODY", actor="U"
        )
    with pytest.raises(NotFoundError, match="no workspace 'T_NOPE'"):
        forget_person(
            engine=store_engine, knowledge=knowledge, workspace="T_NOPE", slack_user_id="U_GONE", actor="U"
        )
    with session_scope(store_engine) as session:
        assert sql_snapshot(session, ws) == before_sql
    assert vector_snapshot(knowledge, team) == before_vectors


def test_forget_when_vectors_cannot_be_deleted_then_reindex_finishes_it(
    store_engine: Engine, chroma_path: Path, embedder: OnnxMiniLM
) -> None:
    team, ws, _, stays = people_workspace(store_engine)
    # The vectors were built by another embedder: this MiniLM store cannot touch them.
    reindex(
        engine=store_engine,
        knowledge=KnowledgeStore(path=chroma_path, embedder=WordHashEmbedder()),
        workspace=team,
    )
    knowledge = KnowledgeStore(path=chroma_path, embedder=embedder)

    with pytest.raises(KnowledgeSyncError) as failure:
        forget_person(
            engine=store_engine, knowledge=knowledge, workspace=team, slack_user_id="U_GONE", actor="U"
        )
    message = str(failure.value)
    assert message.startswith(
        "erased 2 answer(s) of U_GONE from the database, but their vectors could not be deleted"
    )
    assert message.endswith(f"run `icp reindex --workspace {team}` to remove them")
    with session_scope(store_engine) as session:
        assert [a.id for a in answers_repo.list_answers(session=session, workspace_id=ws)] == stays
        actions = [e.action for e in audit_repo.list_audit(session=session, workspace_id=ws)]
    assert "stakeholder.forget" in actions and VECTORS_FORGOTTEN not in actions

    counts = reindex(engine=store_engine, knowledge=knowledge, workspace=team)
    assert counts["answer"] == 1
    hits = knowledge.search(workspace=team, query="dispatch teams", k=10)
    assert [(h.source_id, h.metadata["stakeholder"]) for h in hits] == [(str(stays[0]), "U_STAYS")]


# -- reindex -------------------------------------------------------------------------------------

QUERIES = [
    "Who are our best customers?",
    "Which industries win more deals?",
    "Who signs off on the purchase?",
    "What does the ideal customer profile say about company size?",
]


def full_workspace(engine: Engine) -> tuple[str, int]:
    data = sample_crm()
    team, ws = new_workspace(engine)
    insert_crm(engine, ws, accounts=data.accounts, deals=data.deals, health=data.health)
    with session_scope(engine) as session:
        add_answers(session, ws, "U1", GONE)
        add_answers(session, ws, "U2", STAYS, role=GtmRole.leadership)
        add_answers(session, ws, "U3", ["   "])  # nothing to search: not indexed
        add_icp(session, ws)
    return team, ws


def results(knowledge: KnowledgeStore, team: str) -> list[list[tuple[str, str, float]]]:
    return [
        [(h.id, h.text, round(h.score, 4)) for h in knowledge.search(workspace=team, query=q, k=6)]
        for q in QUERIES
    ]


def test_reindex_restores_a_deleted_store_with_the_same_results(
    store_engine: Engine, chroma_path: Path, embedder: OnnxMiniLM
) -> None:
    team, ws = full_workspace(store_engine)
    knowledge = KnowledgeStore(path=chroma_path, embedder=embedder)
    counts = reindex(engine=store_engine, knowledge=knowledge, workspace=team)
    with session_scope(store_engine) as session:
        statistics = len(statistic_documents(session=session, workspace_id=ws))
    assert counts == {
        "answer": 3,
        "statistic": statistics,
        "icp": 1,
        "persona": 2,
        "chunks": 6 + statistics,
        "workspaces": 1,
        "orphan_workspaces": 0,
    }
    before = results(knowledge, team)
    assert {h.kind for h in knowledge.search(workspace=team, query="ICP criteria", k=50)} == {
        "answer",
        "statistic",
        "icp",
        "persona",
    }
    (icp_hit,) = knowledge.search(workspace=team, query="ideal customer profile", kinds=["icp"])
    assert icp_hit.text.endswith(render_icp(SAMPLE_ICP))
    assert "industry in logistics, software (+40 points)" in icp_hit.text
    assert "employees < 20 (too small to need us)" in icp_hit.text

    shutil.rmtree(chroma_path)
    SharedSystemClient.clear_system_cache()  # as a new process would start
    fresh = KnowledgeStore(path=chroma_path, embedder=embedder)
    assert fresh.count(workspace=team) == 0
    assert reindex(engine=store_engine, knowledge=fresh, workspace=team) == counts
    assert results(fresh, team) == before


def test_reindex_removes_orphan_vectors(empty_db_url: str, knowledge: KnowledgeStore) -> None:
    engine = make_engine(empty_db_url)
    upgrade(engine)
    try:
        team, _, gone, stays = people_workspace(engine)
        other, _ = new_workspace(engine)
        reindex(engine=engine, knowledge=knowledge, workspace=None)
        knowledge.add_documents(
            workspace=team,
            docs=[
                Document(
                    kind="answer",
                    source_id="999999",
                    text="An answer the database never had.",
                    stakeholder="U9",
                ),
                Document(kind="persona", source_id="888888", text="A persona that was deleted."),
            ],
        )
        knowledge.add_documents(
            workspace="T_UNKNOWN", docs=[Document(kind="answer", source_id="1", text="Nobody owns this.")]
        )
        assert knowledge.count(workspace=team) == 5

        counts = reindex(engine=engine, knowledge=knowledge, workspace=None)
        assert (counts["answer"], counts["workspaces"], counts["orphan_workspaces"]) == (3, 2, 1)
        assert knowledge.count(workspace=team) == 3
        assert knowledge.count(workspace="T_UNKNOWN") == 0
        assert knowledge.count(workspace=other) == 0
        ids = sorted(h.source_id for h in knowledge.search(workspace=team, query="anything", k=20))
        assert ids == sorted(str(i) for i in gone + stays)
    finally:
        engine.dispose()


# -- isolation -----------------------------------------------------------------------------------

TOPICS = ["logistics", "fintech", "retail", "onboarding", "pricing", "security"]


@pytest.mark.parametrize("seed", [11, 12])
def test_operations_on_one_workspace_never_touch_another(
    store_engine: Engine, knowledge: KnowledgeStore, seed: int
) -> None:
    rng = random.Random(seed)
    data = sample_crm()
    # Look-alike team ids; the same people and CRM ids in every workspace.
    stem = new_team_id("W")
    teams = [stem, stem.lower(), f"{stem}_2", new_team_id()]
    ids: dict[str, int] = {}
    for team in teams:
        _, ids[team] = new_workspace(store_engine, team)
        with session_scope(store_engine) as session:
            for user in rng.sample(["U1", "U2", "U3"], k=rng.randint(1, 3)):
                texts = [
                    f"{team} says {rng.choice(TOPICS)} customers need {rng.choice(TOPICS)}."
                    for _ in range(rng.randint(1, 3))
                ]
                add_answers(session, ids[team], user, texts, role=rng.choice(list(GtmRole)))
            if rng.random() < 0.5:
                add_icp(session, ids[team], name=f"ICP of {team}")
        if rng.random() < 0.5:
            size = rng.choice([40, 200])
            insert_crm(
                store_engine,
                ids[team],
                accounts=data.accounts[:size],
                deals=[d for d in data.deals if d.account_crm_id in {a.crm_id for a in data.accounts[:size]}],
            )
        reindex(engine=store_engine, knowledge=knowledge, workspace=team)

    def snapshot() -> dict[str, tuple[object, object]]:
        with session_scope(store_engine) as session:
            return {t: (sql_snapshot(session, ids[t]), vector_snapshot(knowledge, t)) for t in teams}

    for _ in range(8):
        team = rng.choice(teams)
        before = snapshot()
        action = rng.choice(["reindex", "forget", "sync", "search"])
        if action == "reindex":
            reindex(engine=store_engine, knowledge=knowledge, workspace=team)
        elif action == "forget":
            user = rng.choice(["U1", "U2", "U3"])
            with contextlib.suppress(NotFoundError):  # a person the workspace never had: nothing done
                forget_person(
                    engine=store_engine, knowledge=knowledge, workspace=team, slack_user_id=user, actor="U"
                )
            assert (
                knowledge.search(workspace=team, query="customers", k=50, where={"stakeholder": user}) == []
            )
        elif action == "sync":
            sync_statistics(engine=store_engine, knowledge=knowledge, workspace=team)
        else:
            other = rng.choice([t for t in teams if t != team])
            hits = knowledge.search(workspace=team, query=f"{other} says customers need", k=50)
            assert hits and all(h.metadata["workspace"] == team for h in hits)
            assert all(f"{other} says" not in h.text for h in hits)
        after = snapshot()
        for t in teams:
            if t != team:
                assert after[t] == before[t], f"{action} on {team} changed {t}"
