"""The knowledge store for LangChain users: ``OfflineEmbeddings`` (the offline ONNX model as a
LangChain ``Embeddings``) and ``KnowledgeRetriever`` (a ``BaseRetriever`` bound to one workspace),
and drafting and chat retrieving through that retriever themselves (seen as LangChain runs)."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import numpy as np
from langchain_core.tracers.context import collect_runs

from bot.knowledge.embeddings import OnnxMiniLM
from bot.knowledge.lc_embeddings import OfflineEmbeddings
from bot.knowledge.retriever import KnowledgeRetriever, hit_of
from bot.knowledge.store import Document, KnowledgeStore
from bot.services.chat.evidence import _retrieve
from bot.services.chat.intent import DataQuestion
from bot.services.icp.drafting.retrieve import retrieve

T0 = datetime(2026, 1, 5, tzinfo=UTC)
ANSWERS = {
    "1": ("Manual ticket routing costs our support team overtime every week.", "support"),
    "2": ("We buy when a new CFO asks for an audit of the tooling budget.", "finance"),
    "3": ("Our best customers are software companies with big support teams.", "sales"),
}


def fill(store: KnowledgeStore, workspace: str, answers: dict[str, tuple[str, str]]) -> None:
    docs = [
        Document(kind="answer", source_id=i, text=text, stakeholder="U1", role=role, created_at=T0)
        for i, (text, role) in answers.items()
    ]
    docs.append(
        Document(kind="statistic", source_id="stat:industry=software", text="Software wins 41% of deals.")
    )
    store.add_documents(workspace=workspace, docs=docs)


def test_offline_embeddings_are_the_stores_vectors(embedder: OnnxMiniLM) -> None:
    embeddings = OfflineEmbeddings(embedder)
    texts = [text for text, _ in ANSWERS.values()]
    rows = embeddings.embed_documents(texts)
    assert len(rows) == 3 and all(len(row) == embedder.dim for row in rows)
    assert np.allclose(np.array(rows), embedder.embed(texts), atol=1e-6)
    query = np.array(embeddings.embed_query("support people working overtime because of routing"))
    assert abs(float(np.linalg.norm(query)) - 1.0) < 1e-4
    scores = np.array(rows) @ query
    assert int(np.argmax(scores)) == 0  # the paraphrased answer is the closest
    assert embeddings.embed_documents([]) == []


def test_the_retriever_reads_one_workspace_only(knowledge: KnowledgeStore) -> None:
    fill(knowledge, "T_ONE", ANSWERS)
    fill(knowledge, "T_TWO", {"9": ("Support overtime from manual routing, says the other team.", "support")})
    retriever = KnowledgeRetriever(store=knowledge, workspace="T_ONE", k=2, kinds=("answer",))
    docs = retriever.invoke("support overtime and manual routing")
    assert len(docs) == 2
    assert {d.metadata["workspace"] for d in docs} == {"T_ONE"}
    first = docs[0]
    assert (first.metadata["kind"], first.metadata["source_id"]) == ("answer", "1")
    assert first.page_content == ANSWERS["1"][0]
    assert first.metadata["score"] >= docs[1].metadata["score"]
    assert hit_of(first).source_id == "1" and hit_of(first).id == first.id

    statistics = retriever.invoke("which industry wins", kinds=["statistic"], k=5)
    assert [d.metadata["source_id"] for d in statistics] == ["stat:industry=software"]
    finance = retriever.invoke("who signs", where={"role": "finance"}, k=5)
    assert [d.metadata["source_id"] for d in finance] == ["2"]
    vector = knowledge.embedder.embed(["support overtime and manual routing"])[0]
    same = retriever.invoke("support overtime and manual routing", vector=vector)
    assert [d.id for d in same] == [d.id for d in docs]


def test_drafting_and_chat_retrieve_through_the_retriever(knowledge: KnowledgeStore) -> None:
    fill(knowledge, "T_ONE", ANSWERS)
    pool: dict[str, Any] = {f"ans:{i}": None for i in ANSWERS}
    gathered: Any = SimpleNamespace(workspace="T_ONE")
    with collect_runs() as runs:
        ids = retrieve(gathered, knowledge, pool, queries=["support overtime", "new CFO budget audit"])
    assert ids[:2] == ["ans:1", "ans:2"]  # each query's best answer, interleaved
    drafting_runs = [r for r in runs.traced_runs if r.run_type == "retriever"]
    assert [r.name for r in drafting_runs] == ["KnowledgeRetriever"] * 2

    with collect_runs() as runs:
        evidence, _ = _retrieve(
            knowledge, "T_ONE", DataQuestion("who signs the tooling budget?", roles=("finance",))
        )
    assert evidence and evidence[0].id == "ans:2"
    chat_runs = [r for r in runs.traced_runs if r.run_type == "retriever"]
    assert chat_runs and {r.name for r in chat_runs} == {"KnowledgeRetriever"}
