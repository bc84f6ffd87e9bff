"""Block Kit checks for pure view tests: slack_sdk parses, validates and round-trips every block,
and the size limits Slack enforces (which slack_sdk only partly checks) hold."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

KNOWN_TYPES = frozenset({"actions", "context", "divider", "header", "section"})


def _texts(block: Mapping[str, Any]) -> None:
    kind = block["type"]
    if kind == "section":
        if "text" in block:
            assert len(block["text"]["text"]) <= 3000, "section text over 3,000 characters"
        fields = block.get("fields") or []
        assert len(fields) <= 10
        assert all(len(f["text"]) <= 2000 for f in fields), "a field over 2,000 characters"
        accessory = block.get("accessory")
        if accessory:
            _element(accessory)
    elif kind == "header":
        assert len(block["text"]["text"]) <= 150, "header over 150 characters"
    elif kind == "context":
        assert 1 <= len(block["elements"]) <= 10
        assert all(len(e["text"]) <= 3000 for e in block["elements"])
    elif kind == "actions":
        assert 1 <= len(block["elements"]) <= 25
        for element in block["elements"]:
            _element(element)


def _element(element: Mapping[str, Any]) -> None:
    if element["type"] == "button":
        assert len(element["text"]["text"]) <= 75
        assert len(element.get("value", "")) <= 2000, "button value over 2,000 characters"
        assert len(element["action_id"]) <= 255


def check_blocks(blocks: Iterable[Block | Mapping[str, Any]], *, limit: int = 50) -> list[dict[str, Any]]:
    """The blocks as dicts, after asserting they are valid Block Kit within Slack's limits."""
    raw = [b.to_dict() if isinstance(b, Block) else dict(b) for b in blocks]
    assert 0 < len(raw) <= limit, f"{len(raw)} blocks (limit {limit})"
    for item in raw:
        assert item["type"] in KNOWN_TYPES, item["type"]
        parsed = Block.parse(item)
        assert parsed is not None and type(parsed) is not Block
        parsed.validate_json()
        assert parsed.to_dict() == item, f"does not round-trip: {item}"
        _texts(item)
    ids = [b["block_id"] for b in raw if "block_id" in b]
    assert len(ids) == len(set(ids)), "duplicate block ids"
    return raw


def check_view(view: View) -> dict[str, Any]:
    """The view as a dict, after asserting it is a valid home view within Slack's limits."""
    data = view.to_dict()
    assert data["type"] == "home"
    again = View(**data)
    again.validate_json()
    assert again.to_dict() == data
    check_blocks(data["blocks"], limit=100)
    return data


def all_text(blocks: Iterable[Mapping[str, Any]]) -> str:
    """Every human-readable string in the blocks, for assertions about what a person reads."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, str):
            out.append(node)
        elif isinstance(node, Mapping):
            for key, value in node.items():
                if key not in ("type", "action_id", "block_id", "value"):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(list(blocks))
    return "\n".join(out)
