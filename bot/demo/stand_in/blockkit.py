"""Block Kit checks with slack_sdk's models: what Slack would reject, caught before it is sent.

Raises AssertionError naming the block, so tests and the demo report the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

KNOWN_BLOCK_TYPES = frozenset(
    {
        "actions",
        "context",
        "divider",
        "file",
        "header",
        "image",
        "input",
        "markdown",
        "rich_text",
        "section",
        "video",
    }
)


def assert_valid_blocks(
    blocks: Iterable[Mapping[str, Any]], *, context: str = "blocks", limit: int = 50
) -> None:
    """Every block parses with slack_sdk.models, is a known type, validates, and round-trips."""
    blocks = list(blocks)
    assert len(blocks) <= limit, f"{context}: {len(blocks)} blocks, Slack allows {limit}"
    for i, raw in enumerate(blocks):
        assert isinstance(raw, Mapping), f"{context}[{i}] is {type(raw).__name__}, not an object"
        kind = raw.get("type")
        assert kind in KNOWN_BLOCK_TYPES, f"{context}[{i}]: unknown block type {kind!r}"
        parsed = Block.parse(dict(raw))
        assert parsed is not None and type(parsed) is not Block, f"{context}[{i}]: {kind!r} did not parse"
        parsed.validate_json()
        assert parsed.to_dict() == dict(raw), f"{context}[{i}] ({kind}) does not round-trip: {raw}"


def assert_valid_view(view: Mapping[str, Any], *, context: str = "view") -> None:
    """The view parses as a slack_sdk View, validates, round-trips, and its blocks are valid."""
    clean = {k: v for k, v in view.items() if k not in ("id", "team_id", "state", "hash", "app_id", "bot_id")}
    parsed = View(**clean)
    parsed.validate_json()
    limit = 100
    assert_valid_blocks(clean.get("blocks") or [], context=f"{context}.blocks", limit=limit)
    assert parsed.to_dict() == clean, f"{context} does not round-trip: {clean}"
