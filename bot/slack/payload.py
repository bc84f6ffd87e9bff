"""Is a request body shaped like something Slack sends? Checked before Bolt reads it.

Bolt assumes Slack's shapes (``view`` is an object, ``actions`` a list of objects...) and fails
with a 500 on a signed body that breaks them. Only Slack (or someone holding the signing
secret) can send a signed body, so this is robustness, not security: a malformed body is
answered 400 and never reaches a listener.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

STRINGS = frozenset(
    {
        "type",
        "callback_id",
        "team_id",
        "enterprise_id",
        "user_id",
        "channel_id",
        "command",
        "event_id",
        "api_app_id",
        "trigger_id",
        "response_url",
        "thread_ts",
        "subtype",
        "action_id",
        "block_id",
        "ts",
        "bot_id",
        "tab",
        "file_id",
        "context_team_id",
        "context_enterprise_id",
        "function_execution_id",
        "private_metadata",
        "view_id",
        "token",
        "challenge",
    }
)
OBJECTS = frozenset(
    {
        "event",
        "view",
        "message",
        "previous_message",
        "container",
        "function_data",
        "assistant_thread",
        "item",
        "state",
        "inputs",
        "submission",
        "file",
        "tokens",
        "authed_user",
    }
)
STRING_OR_OBJECT = frozenset({"user", "channel", "team", "enterprise", "workflow", "text"})
LISTS_OF_OBJECTS = frozenset({"actions", "authorizations"})
MAX_DEPTH = 4  # nested objects Bolt reads: event.message, view.state, actions[0]...


def shape_problem(body: Any) -> str | None:
    """None when ``body`` has Slack's shape where Bolt looks, else what is wrong (for the log)."""
    if not isinstance(body, Mapping):
        return f"body is {type(body).__name__}, not an object"
    return _check(body, "body", 0) or _actions_problem(body)


def _actions_problem(body: Mapping[str, Any]) -> str | None:
    """Bolt reads ``actions[0]`` (and its ``action_id``) of a button click; Slack always sends
    them, so an empty list or an action without an id is malformed (both found by fuzzing)."""
    kind = body.get("type")
    reads_first = (kind == "block_actions" and "actions" in body) or (
        kind == "interactive_message" and "callback_id" in body
    )
    actions = body.get("actions")
    if reads_first and not actions:
        return "body.actions is empty"
    if kind == "block_actions" and actions and "action_id" not in actions[0]:
        return "body.actions[0] has no action_id"  # Bolt's action matchers read it
    return None


def _check(node: Mapping[Any, Any], where: str, depth: int) -> str | None:
    for key, value in node.items():
        if not isinstance(key, str):
            return f"{where} has a non-text key"
        path = f"{where}.{key}"
        if value is None:
            if key in OBJECTS or key in LISTS_OF_OBJECTS:
                return f"{path} is null"
            continue
        if key in STRINGS and not isinstance(value, str):
            return f"{path} is {type(value).__name__}, not text"
        if key in OBJECTS and not isinstance(value, Mapping):
            return f"{path} is {type(value).__name__}, not an object"
        if key in STRING_OR_OBJECT and not isinstance(value, str | Mapping):
            return f"{path} is {type(value).__name__}"
        if key in LISTS_OF_OBJECTS and not (
            isinstance(value, list) and all(isinstance(item, Mapping) for item in value)
        ):
            return f"{path} is not a list of objects"
        if depth < MAX_DEPTH and isinstance(value, Mapping):
            problem = _check(value, path, depth + 1)
            if problem:
                return problem
        if depth < MAX_DEPTH and key in LISTS_OF_OBJECTS:
            for index, item in enumerate(value):
                problem = _check(item, f"{path}[{index}]", depth + 1)
                if problem:
                    return problem
    return None


# A JSON escape of half a surrogate pair ("\\ud800"), raw or inside a form-encoded payload.
_SURROGATE_ESCAPE = re.compile(rb"(?:\\|%5[cC])[uU][dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def may_hold_lone_surrogates(raw: bytes) -> bool:
    """Cheap test on the raw body: only a JSON escape can smuggle in a lone surrogate."""
    return _SURROGATE_ESCAPE.search(raw) is not None


def without_lone_surrogates(value: Any) -> Any:
    """``value`` with every lone surrogate replaced by U+FFFD.

    JSON may escape half a surrogate pair; Python decodes it to a string that cannot be encoded
    as UTF-8, so SQL, the tokenizer and Chroma would fail on the text (found by the bad-input
    suite: a DM with one made the knowledge search raise). Pairs decode to one character, so
    any surrogate left in a string is lone."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, Mapping):
        return {without_lone_surrogates(k): without_lone_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_lone_surrogates(item) for item in value]
    return value


# --- reading who and where ----------------------------------------------------------------------
# Listeners read the tenant and the person from the payload, not from Bolt's context: for Events
# API payloads ``context.team_id`` is ``authorizations[0].team_id``, which is empty for org-wide
# (enterprise) installs, and for views it prefers ``app_installed_team_id``. Our data is keyed by
# the workspace the person acted in, which is what these read.


def _text_at(node: Any, key: str) -> str | None:
    value = node.get(key) if isinstance(node, Mapping) else None
    return value if isinstance(value, str) and value else None


def team_id_of(body: Mapping[str, Any]) -> str:
    """The workspace a request came from ("" when the payload names none).

    ``team.id`` of a click or form, else the ``team_id`` of a slash command or an event; a form
    of an org-wide install (``team`` is null) names its workspace in ``view.team_id``, a click in
    ``user.team_id``; an event without one names it in ``event.view`` (App Home) or ``event.team``.
    """
    event = body.get("event")
    found = (
        _text_at(body.get("team"), "id")
        or _text_at(body, "team_id")
        or (_text_at(body.get("view"), "team_id") if body.get("type") == "view_submission" else None)
        or _text_at(body.get("user"), "team_id")
        or _text_at(event.get("view") if isinstance(event, Mapping) else None, "team_id")
        or _text_at(event, "team")
    )
    return found or ""


def user_id_of(body: Mapping[str, Any]) -> str:
    """Who clicked a button or submitted a form ("" when unknown)."""
    return _text_at(body.get("user"), "id") or ""


def first_action(body: Mapping[str, Any]) -> tuple[str, str]:
    """(action id, value) of the clicked element; empty strings when missing."""
    actions = body.get("actions")
    first = actions[0] if isinstance(actions, list) and actions else None
    return _text_at(first, "action_id") or "", _text_at(first, "value") or ""


def clicked_message(body: Mapping[str, Any]) -> tuple[str, str]:
    """(channel, ts) of the message holding the clicked button; empty strings in App Home."""
    container = body.get("container")
    channel = _text_at(container, "channel_id") or _text_at(body.get("channel"), "id") or ""
    ts = _text_at(container, "message_ts") or _text_at(body.get("message"), "ts") or ""
    return channel, ts
