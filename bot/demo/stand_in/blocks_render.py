"""Block Kit as plain text: what a person would read in Slack, for the demo's transcript.

Pure functions. Mentions and channel links become ``@name`` / ``#name`` (names from the maps
given, else the id), links keep their label, Slack's ``&amp;`` escapes are undone, and buttons
show as ``[Label]`` on one line, so a message reads like it looks.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

USER = re.compile(r"<@([UW][A-Z0-9]+)(?:\|([^>]*))?>")
CHANNEL = re.compile(r"<#([CGD][A-Z0-9]+)(?:\|([^>]*))?>")
LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]*))?>")
SPECIAL = re.compile(r"<!([^|>]+)(?:\|([^>]*))?>")  # <!here>, <!date^1700000000^{date}|fallback>
EMOJI = re.compile(r":([a-z0-9_+-]+):")
#: The emoji the app's messages use, as the characters Slack shows; others keep their :code:.
EMOJI_CHARS = {
    "white_check_mark": "✅",
    "hourglass_flowing_sand": "⏳",
    "tada": "🎉",
    "warning": "⚠️",
    "x": "❌",
    "information_source": "ℹ️",
    "envelope": "✉️",
    "double_vertical_bar": "⏸️",
}


def mrkdwn_text(
    text: str, *, people: Mapping[str, str] | None = None, channels: Mapping[str, str] | None = None
) -> str:
    """Slack mrkdwn with its special syntax resolved to readable words."""
    people = people or {}
    channels = channels or {}
    text = USER.sub(lambda m: "@" + (people.get(m.group(1)) or m.group(2) or m.group(1)), text)
    text = CHANNEL.sub(lambda m: "#" + (channels.get(m.group(1)) or m.group(2) or m.group(1)), text)
    text = LINK.sub(lambda m: m.group(2) or m.group(1), text)
    text = SPECIAL.sub(_special, text)
    text = EMOJI.sub(lambda m: EMOJI_CHARS.get(m.group(1), m.group(0)), text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _special(match: re.Match[str]) -> str:
    """``<!date^…|fallback>`` reads as its fallback; ``<!here>`` as ``@here``."""
    name, label = match.group(1), match.group(2)
    if name.startswith("date^"):
        return label or name.split("^")[1]
    return "@" + (label or name)


def _text_of(obj: Any) -> str:
    if isinstance(obj, Mapping):
        return str(obj.get("text") or obj.get("alt_text") or "")
    return "" if obj is None else str(obj)


def _element_label(element: Mapping[str, Any]) -> str:
    kind = element.get("type")
    if kind == "button":
        return f"[{_text_of(element.get('text'))}]"
    if kind in (
        "static_select",
        "external_select",
        "users_select",
        "conversations_select",
        "channels_select",
    ):
        return f"[{_text_of(element.get('placeholder')) or 'choose…'} ▾]"
    if kind == "overflow":
        return "[…]"
    if kind == "image":
        return ""
    return _text_of(element)


def _rich_text(node: Any, out: list[str]) -> None:
    if isinstance(node, Mapping):
        kind = node.get("type")
        if kind == "text":
            out.append(str(node.get("text") or ""))
        elif kind == "link":
            out.append(str(node.get("text") or node.get("url") or ""))
        elif kind == "user":
            out.append(f"<@{node.get('user_id')}>")
        elif kind == "emoji":
            out.append(f":{node.get('name')}:")
        for child in node.get("elements") or []:
            _rich_text(child, out)
        if kind in ("rich_text_section", "rich_text_preformatted", "rich_text_quote"):
            out.append("\n")
    elif isinstance(node, list):
        for child in node:
            _rich_text(child, out)


def _block_lines(block: Mapping[str, Any]) -> list[str]:
    kind = block.get("type")
    if kind == "header":
        return [f"*{_text_of(block.get('text'))}*"]
    if kind == "divider":
        return ["─" * 20]
    if kind in ("section", "markdown"):
        lines = [_text_of(block.get("text"))] if kind == "section" else [str(block.get("text") or "")]
        lines += [_text_of(f) for f in block.get("fields") or []]
        accessory = block.get("accessory")
        if isinstance(accessory, Mapping) and accessory.get("type") != "image":
            lines.append(_element_label(accessory))
        return [line for line in lines if line]
    if kind == "context":
        parts = [_text_of(e) for e in block.get("elements") or [] if e.get("type") != "image"]
        return [" · ".join(p for p in parts if p)]
    if kind == "actions":
        return [" ".join(_element_label(e) for e in block.get("elements") or [])]
    if kind == "image":
        return [f"(image: {block.get('alt_text') or ''})"]
    if kind == "rich_text":
        out: list[str] = []
        _rich_text(block.get("elements"), out)
        return ["".join(out).strip()]
    if kind == "input":
        return [f"{_text_of(block.get('label'))}: {_element_label(block.get('element') or {})}"]
    return []


def message_text(
    params: Mapping[str, Any],
    *,
    people: Mapping[str, str] | None = None,
    channels: Mapping[str, str] | None = None,
) -> str:
    """A message (chat.postMessage params, a response_url body) as the text a reader sees."""
    blocks: Sequence[Mapping[str, Any]] = params.get("blocks") or []
    view = params.get("view")
    if not blocks and isinstance(view, Mapping):
        blocks = view.get("blocks") or []
    if blocks:
        lines = [line for block in blocks if isinstance(block, Mapping) for line in _block_lines(block)]
        raw = "\n".join(lines)
    else:
        raw = str(params.get("text") or "")
    return mrkdwn_text(raw, people=people, channels=channels).strip()
