"""What a Slack request is, for logs and metrics: its kind, workspace and command, never its text.

Only ids and names Slack or our own code chose (team id, slash command, event type, action or
callback id) are taken: anything a person typed stays out of logs and metric labels.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.metrics import RequestKind

_KIND_BY_TYPE: dict[str, RequestKind] = {
    "event_callback": "event",
    "url_verification": "event",
    "block_actions": "action",
    "interactive_message": "action",
    "view_submission": "view",
    "view_closed": "view",
    "shortcut": "shortcut",
    "message_action": "shortcut",
    "block_suggestion": "options",
    "dialog_suggestion": "options",
}


def request_kind(body: Mapping[str, Any]) -> RequestKind:
    if isinstance(body.get("command"), str):
        return "command"
    return _KIND_BY_TYPE.get(str(body.get("type") or ""), "other")


def request_fields(body: object, *, request_id: str) -> dict[str, object]:
    """The logging fields of a parsed request body: workspace, request id, kind, command."""
    if not isinstance(body, Mapping):
        return {"request_id": request_id, "kind": "other"}
    kind = request_kind(body)
    return {
        "workspace": _team_id(body),
        "request_id": request_id,
        "kind": kind,
        "command": _command(kind, body),
    }


def _team_id(body: Mapping[str, Any]) -> str | None:
    team = body.get("team")
    value = body.get("team_id") or (team.get("id") if isinstance(team, Mapping) else None)
    return str(value) if value else None


def _command(kind: RequestKind, body: Mapping[str, Any]) -> str | None:
    """The slash command, event type, action id or callback id: a name, not what was typed."""
    value: object = None
    if kind == "command":
        value = body.get("command")
    elif kind == "event":
        event = body.get("event")
        value = event.get("type") if isinstance(event, Mapping) else body.get("type")
    elif kind in ("action", "options"):
        actions = body.get("actions")
        first = actions[0] if isinstance(actions, list) and actions else body
        value = first.get("action_id") if isinstance(first, Mapping) else None
    elif kind in ("view", "shortcut"):
        view = body.get("view")
        value = view.get("callback_id") if isinstance(view, Mapping) else body.get("callback_id")
    return str(value)[:80] if value else None
