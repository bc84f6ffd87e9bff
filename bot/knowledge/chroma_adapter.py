"""Chroma embedding function that wraps any :class:`Embedder`.

Every collection the store creates carries this function, so Chroma never falls back to its own
default embedding function, which downloads a model on the first ``add()`` and fails offline.
It is registered with Chroma under :data:`ADAPTER_NAME`; Chroma rebuilds it from the collection's
stored config when a collection is reopened without an explicit function, which only works once
this module has been imported (importing :mod:`bot.knowledge.store` does that).

The store itself passes precomputed vectors on add and query; this adapter is what makes
``collection.query(query_texts=...)`` and third-party readers (e.g. langchain-chroma) embed the
same way.
"""

from __future__ import annotations

import os
from typing import Any

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from chromadb.utils.embedding_functions import register_embedding_function

from bot.knowledge.embeddings import Embedder, embedder_from_config

ADAPTER_NAME = "icp_assistant_embedder"


def embedder_config(embedder: Embedder) -> dict[str, Any]:
    """The JSON config stored with a collection: the embedder's name, size and own options."""
    own = getattr(embedder, "config", None)
    options = dict(own()) if callable(own) else {}
    return {"embedder": embedder.name, "dim": int(embedder.dim), "options": options}


@register_embedding_function
class EmbedderFunction(EmbeddingFunction[Documents]):
    """Adapter from :class:`Embedder` to Chroma's ``EmbeddingFunction``."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def __call__(self, input: Documents) -> Embeddings:
        return list(self.embedder.embed(list(input)))

    @staticmethod
    def name() -> str:
        return ADAPTER_NAME

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine", "ip", "l2"]  # vectors are unit length, so all three rank alike

    def get_config(self) -> dict[str, Any]:
        return embedder_config(self.embedder)

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> EmbedderFunction:
        EmbedderFunction.validate_config(config)
        return EmbedderFunction(embedder_from_config(config["embedder"], dict(config.get("options") or {})))

    @staticmethod
    def validate_config(config: dict[str, Any]) -> None:
        if not isinstance(config.get("embedder"), str) or not config["embedder"]:
            raise ValueError(f"{ADAPTER_NAME} config needs a non-empty 'embedder' name, got {config!r}")

    def validate_config_update(self, old_config: dict[str, Any], new_config: dict[str, Any]) -> None:
        if old_config.get("embedder") != new_config.get("embedder"):
            raise ValueError(
                "changing the embedder of a collection mixes vector spaces; rebuild it instead (icp reindex)"
            )
