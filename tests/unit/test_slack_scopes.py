"""The manifests ask for exactly the scopes the code needs, and subscribe to exactly its events.

The Web API methods the bot calls are read from its source (``client.<method>(`` for every
WebClient method, plus Bolt's assistant helpers and ``files_upload_v2``'s two methods); the
events from its listeners (``@app.event`` and the ``Assistant``'s decorators). Each method and
event maps to the bot scope Slack's reference names for it (docs.slack.dev/reference/methods and
/events): a scope nobody needs, or a call no scope covers, fails here. A method missing from the
table fails too, so a new call is classified when it is written.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from slack_sdk import WebClient

from bot.settings import Settings
from bot.slack.views.score_modal import SCORE_MESSAGE_SHORTCUT, SCORE_SHORTCUT

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = ("manifest.http.yaml", "manifest.socket.yaml")

# Web API method -> the bot scope it needs (None: no scope), per Slack's method reference.
METHOD_SCOPES: dict[str, str | None] = {
    "auth.test": None,
    "auth.teams.list": None,  # the workspaces an org-wide (Enterprise Grid) install is granted in
    "assistant.threads.setStatus": "assistant:write",
    "assistant.threads.setSuggestedPrompts": "assistant:write",
    "assistant.threads.setTitle": "assistant:write",
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    # channels:read lists public channels; private ones would need groups:read, not requested
    # (a channel picked in /icp remind arrives as an id, which needs no listing).
    "conversations.list": "channels:read",
    "conversations.open": "im:write",
    "files.completeUploadExternal": "files:write",
    "files.getUploadURLExternal": "files:write",
    "files.info": "files:read",  # and downloading url_private
    "users.info": "users:read",
    "users.list": "users:read",
    "views.open": None,
    "views.publish": None,
    "views.update": None,
}
# Events API event -> the bot scope its subscription needs, per Slack's event reference.
EVENT_SCOPES: dict[str, str | None] = {
    "app_home_opened": None,
    "app_mention": "app_mentions:read",
    "app_uninstalled": None,
    "assistant_thread_context_changed": "assistant:write",
    "assistant_thread_started": "assistant:write",
    "file_shared": "files:read",
    "message.im": "im:history",
    "tokens_revoked": None,
}
# Helpers that call the Web API for us: the annotation a listener takes, and the method it calls.
HELPERS = {
    "SetStatus": ("assistant.threads.setStatus",),
    "SetTitle": ("assistant.threads.setTitle",),
    "SetSuggestedPrompts": ("assistant.threads.setSuggestedPrompts",),
    "Say": ("chat.postMessage",),
    "files_upload_v2": ("files.getUploadURLExternal", "files.completeUploadExternal"),
}
ASSISTANT_DECORATORS = {
    "thread_started": "assistant_thread_started",
    "thread_context_changed": "assistant_thread_context_changed",
    "user_message": "message.im",
}


def _sources() -> list[str]:
    return [p.read_text() for p in (ROOT / "bot").rglob("*.py")]


def called_methods() -> set[str]:
    """The Web API methods the bot's code calls, as Slack names them."""
    client_methods = {
        name for name in dir(WebClient) if not name.startswith("_") and "_" in name and name != "api_call"
    }
    used: set[str] = set()
    for text in _sources():
        for name in set(re.findall(r"\.([A-Za-z0-9_]+)\(", text)) & client_methods:
            used |= set(HELPERS.get(name, (name.replace("_", "."),)))
        for helper, methods in HELPERS.items():
            if re.search(rf":\s*{helper}\b", text):
                used |= set(methods)
    return used


def listened_events() -> set[str]:
    """The events the listeners take, as the manifest names them (DM messages: message.im)."""
    names: set[str] = set()
    for path in (ROOT / "bot" / "slack" / "listeners").rglob("*.py"):
        text = path.read_text()
        for name in re.findall(r"@app\.event\(\s*\"([a-z_.]+)\"", text):
            names.add("message.im" if name == "message" else name)
        for decorator in re.findall(r"@assistant\.([a-z_]+)", text):
            names.add(ASSISTANT_DECORATORS[decorator])
    return names


def _manifest(name: str) -> dict[str, object]:
    loaded = yaml.safe_load((ROOT / "deploy" / name).read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_the_scan_finds_the_calls_and_events_it_must() -> None:
    used = called_methods()
    assert {"chat.postMessage", "assistant.threads.setStatus", "files.getUploadURLExternal"} <= used
    assert {"message.im", "assistant_thread_started", "app_mention"} <= listened_events()


def test_every_method_and_event_the_code_uses_has_a_known_scope() -> None:
    assert called_methods() - set(METHOD_SCOPES) == set(), "add the new method's scope to METHOD_SCOPES"
    assert listened_events() - set(EVENT_SCOPES) == set(), "add the new event's scope to EVENT_SCOPES"


@pytest.mark.parametrize("name", MANIFESTS)
def test_manifest_scopes_are_exactly_what_the_code_needs(name: str) -> None:
    manifest = _manifest(name)
    features = manifest["features"]
    assert isinstance(features, dict)
    needed = {METHOD_SCOPES[m] for m in called_methods()} | {EVENT_SCOPES[e] for e in listened_events()}
    if features.get("slash_commands") or features.get("shortcuts"):
        needed.add("commands")
    needed.discard(None)
    requested = set(manifest["oauth_config"]["scopes"]["bot"])  # type: ignore[index]
    assert requested - needed == set(), "scopes requested that no call or event needs"
    assert needed - requested == set(), "calls or events whose scope is not requested"
    assert not {"channels:history", "groups:history"} & requested
    assert requested == set(Settings().slack_scopes.split(","))  # the OAuth flow asks for the same


@pytest.mark.parametrize("name", MANIFESTS)
def test_manifest_events_are_exactly_what_the_listeners_take(name: str) -> None:
    settings = _manifest(name)["settings"]
    assert isinstance(settings, dict)
    assert set(settings["event_subscriptions"]["bot_events"]) == listened_events()


def test_both_manifests_agree_and_declare_the_assistant_and_the_shortcuts() -> None:
    http, socket = (_manifest(n) for n in MANIFESTS)
    for key in ("scopes",):
        assert http["oauth_config"][key] == socket["oauth_config"][key]  # type: ignore[index]
    assert (
        http["settings"]["event_subscriptions"]["bot_events"]  # type: ignore[index]
        == socket["settings"]["event_subscriptions"]["bot_events"]  # type: ignore[index]
    )
    for manifest in (http, socket):
        features = manifest["features"]
        assert isinstance(features, dict)
        assert features["assistant_view"]["assistant_description"]
        shortcuts = {(s["callback_id"], s["type"]) for s in features["shortcuts"]}
        assert shortcuts == {(SCORE_SHORTCUT, "global"), (SCORE_MESSAGE_SHORTCUT, "message")}
        assert manifest["settings"]["org_deploy_enabled"] is True  # type: ignore[index]
    assert http["features"]["shortcuts"] == socket["features"]["shortcuts"]  # type: ignore[index]
