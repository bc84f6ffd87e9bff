"""A stand-in for Slack's Web API: a real HTTP server on 127.0.0.1 that records every call.

It answers Web API methods with plausible payloads (what the app needs to run a whole
conversation), records each call (method, params, JSON body, headers, and what it answered),
accepts ``response_url`` posts, serves files shared by users, stores files the app uploads, and
can be told to answer 429 (with Retry-After) or 500 a number of times. Used by ``icp demo`` and
by the tests; it never reaches Slack's cloud.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import socket
import threading
import time
import uuid
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bot.demo.stand_in.blockkit import assert_valid_blocks, assert_valid_view
from bot.demo.stand_in.local_server import LocalServer

TEAM_ID = "T0E2E"
TEAM_DOMAIN = "e2e-test"
BOT_USER_ID = "U0BOT"
BOT_ID = "B0BOT"
APP_ID = "A0APP"
ADMIN_ID = "U0ADMIN"  # users.info says is_admin
MEMBER_ID = "U0MEMBER"  # an ordinary member
SIGNING_SECRET = "e2e-signing-secret"
BOT_TOKEN = "xoxb-e2e-test-token"
BLOCK_FIELDS = ("blocks",)
VIEW_FIELDS = ("view",)

Responder = Callable[["RecordedCall"], dict[str, Any]]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --------------------------------------------------------------------------- stand-in Slack


REPLY_METHODS = frozenset({"response_url", "chat.postMessage", "chat.postEphemeral", "chat.update"})


@dataclass
class RecordedCall:
    """One request the app made to the stand-in (a Web API method, a response_url, a file)."""

    method: str  # "chat.postMessage", "response_url", "files.download"
    params: dict[str, Any]  # query + form + JSON body merged; blocks/view decoded from JSON
    headers: dict[str, str]
    path: str
    status: int = 200
    at: float = field(default_factory=time.monotonic)
    response: dict[str, Any] | None = None  # what the stand-in answered (a Web API method's JSON)

    @property
    def text(self) -> str:
        return str(self.params.get("text") or "")

    @property
    def blocks(self) -> list[dict[str, Any]]:
        return list(self.params.get("blocks") or [])

    @property
    def view(self) -> dict[str, Any] | None:
        view = self.params.get("view")
        return view if isinstance(view, dict) else None

    def all_text(self) -> str:
        """Text plus every string inside blocks/view: what a person would read, for assertions."""
        parts = [self.text]
        _collect_strings(self.params.get("blocks"), parts)
        _collect_strings(self.params.get("view"), parts)
        return "\n".join(p for p in parts if p)


def _collect_strings(node: Any, out: list[str]) -> None:
    if isinstance(node, str):
        out.append(node)
    elif isinstance(node, Mapping):
        for key, value in node.items():
            if key not in ("type", "action_id", "block_id", "callback_id", "style"):
                _collect_strings(value, out)
    elif isinstance(node, list):
        for item in node:
            _collect_strings(item, out)


@dataclass
class _Failure:
    status: int
    remaining: int
    retry_after: int | None


@dataclass
class UploadedFile:
    """A file the app uploaded with files_upload_v2: its bytes and where it was shared."""

    id: str
    filename: str
    length: int
    content: bytes = b""
    completed: bool = False
    title: str | None = None
    channel: str | None = None
    thread_ts: str | None = None


@dataclass
class StoredFile:
    id: str
    name: str
    content: bytes
    filetype: str
    user: str
    channel: str | None


class StandInSlack:
    """A local Web API that records calls. Start with ``start()``, stop with ``stop()``."""

    def __init__(self) -> None:
        self.calls: list[RecordedCall] = []
        self.admins: set[str] = {ADMIN_ID}
        self.owners: set[str] = set()
        self.users: dict[str, dict[str, Any]] = {}
        self.files: dict[str, StoredFile] = {}
        self.responders: dict[str, Responder] = {}
        self.uploads: dict[str, UploadedFile] = {}  # files.getUploadURLExternal → upload → complete
        self._failures: dict[str, _Failure] = {}
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._ts = itertools.count(1)
        self._http = LocalServer(self._handle, name="stand-in-slack")

    # lifecycle -------------------------------------------------------------------------
    def start(self) -> StandInSlack:
        self._http.start()
        return self

    def stop(self) -> None:
        self._http.stop()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self._http.port}"

    @property
    def api_url(self) -> str:
        """What ``SLACK_API_URL`` should be (slack_sdk appends the method name)."""
        return f"{self.base}/api/"

    def response_url(self, name: str | None = None) -> str:
        return f"{self.base}/respond/{name or uuid.uuid4().hex}"

    # scripting -------------------------------------------------------------------------
    def fail(self, method: str, *, status: int = 429, times: int = 1, retry_after: int | None = 0) -> None:
        """Answer the next ``times`` calls of ``method`` with ``status`` (429 carries Retry-After)."""
        with self._lock:
            self._failures[method] = _Failure(status, times, retry_after if status == 429 else None)

    def respond_with(self, method: str, responder: Responder) -> None:
        """Answer ``method`` with ``responder(call)`` instead of the built-in default."""
        self.responders[method] = responder

    def add_user(self, user_id: str, **fields: Any) -> None:
        """Profile fields for users.info (name, real_name, is_admin, is_bot, tz...)."""
        self.users[user_id] = fields

    def add_file(
        self,
        name: str,
        content: bytes,
        *,
        user: str = ADMIN_ID,
        filetype: str = "csv",
        channel: str | None = None,
        file_id: str | None = None,
    ) -> StoredFile:
        """A file that files.info describes and whose download URL serves ``content``."""
        stored = StoredFile(
            file_id or f"F{uuid.uuid4().hex[:10].upper()}", name, content, filetype, user, channel
        )
        self.files[stored.id] = stored
        return stored

    def file_url(self, stored: StoredFile) -> str:
        return f"{self.base}/files/{stored.id}/{stored.name}"

    # reading ---------------------------------------------------------------------------
    def calls_to(self, method: str) -> list[RecordedCall]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def clear(self) -> None:
        with self._lock:
            self.calls.clear()

    def wait_for(
        self,
        method: str,
        predicate: Callable[[RecordedCall], bool] | None = None,
        *,
        count: int = 1,
        timeout: float = 10.0,
    ) -> list[RecordedCall]:
        """Block until ``count`` recorded calls of ``method`` match; the matching calls, in order."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [c for c in self.calls if c.method == method and (predicate is None or predicate(c))]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [f"{c.method} {c.all_text()[:120]!r}" for c in self.calls]
                    raise AssertionError(
                        f"waited {timeout:.0f}s for {count} x {method}; saw {len(found)} matching. "
                        f"Calls recorded: {seen}"
                    )
                self._changed.wait(left)

    def wait_for_reply(
        self,
        predicate: Callable[[RecordedCall], bool] | None = None,
        *,
        timeout: float = 10.0,
        methods: Collection[str] = REPLY_METHODS,
    ) -> RecordedCall:
        """The first message the app sent anywhere (response_url, postMessage, postEphemeral, or
        whichever ``methods`` say, e.g. a modal opened)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for call in self.calls:
                    if call.method in methods and (predicate is None or predicate(call)):
                        return call
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [f"{c.method} {c.all_text()[:120]!r}" for c in self.calls]
                    raise AssertionError(f"no reply within {timeout:.0f}s; calls recorded: {seen}")
                self._changed.wait(left)

    def assert_blocks_valid(self) -> int:
        """Validate every blocks/view the app sent so far; returns how many were checked."""
        checked = 0
        with self._lock:
            calls = list(self.calls)
        for call in calls:
            for name in BLOCK_FIELDS:
                if isinstance(call.params.get(name), list):
                    assert_valid_blocks(call.params[name], context=f"{call.method}.{name}")
                    checked += 1
            for name in VIEW_FIELDS:
                if isinstance(call.params.get(name), dict):
                    assert_valid_view(call.params[name], context=f"{call.method}.{name}")
                    checked += 1
        return checked

    # serving ---------------------------------------------------------------------------
    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        split = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        params = _decode_params(split.query, raw, handler.headers.get("Content-Type") or "")
        headers = {k.lower(): v for k, v in handler.headers.items()}
        if split.path.startswith("/api/"):
            method = split.path[len("/api/") :]
        elif split.path.startswith("/respond/"):
            method = "response_url"
        elif split.path.startswith("/files/"):
            method = "files.download"
        elif split.path.startswith("/upload/"):
            method = "files.upload_url"
        else:
            method = f"unknown:{split.path}"
        call = RecordedCall(method=method, params=params, headers=headers, path=split.path)

        failure = self._take_failure(method)
        if failure is not None:
            call.status = failure.status
            extra = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
            error = "ratelimited" if failure.status == 429 else "internal_error"
            self._record(call)
            _send(handler, failure.status, {"ok": False, "error": error}, extra)
            return

        if method == "files.download":
            self._record(call)
            stored = self.files.get(split.path.split("/")[2])
            if stored is None:
                _send(handler, 404, {"ok": False, "error": "file_not_found"})
            else:
                _send_bytes(handler, 200, stored.content, "application/octet-stream")
            return
        if method == "files.upload_url":
            upload = self.uploads.get(split.path.split("/")[2])
            if upload is not None:
                upload.content = raw
            call.params = {"file_id": split.path.split("/")[2], "bytes": len(raw)}
            self._record(call)
            _send_bytes(handler, 200 if upload is not None else 404, b"OK - 1", "text/plain")
            return
        if method == "response_url":
            self._record(call)
            _send_bytes(handler, 200, b"ok", "text/plain")
            return
        responder = self.responders.get(method)
        payload = responder(call) if responder is not None else self._default(call)
        call.response = payload
        self._record(call)
        _send(handler, 200, payload)

    def _take_failure(self, method: str) -> _Failure | None:
        with self._lock:
            failure = self._failures.get(method)
            if failure is None or failure.remaining <= 0:
                return None
            failure.remaining -= 1
            return failure

    def _record(self, call: RecordedCall) -> None:
        with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    def _next_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts):06d}"

    def _default(self, call: RecordedCall) -> dict[str, Any]:
        p = call.params
        m = call.method
        if m == "auth.test":
            return {
                "ok": True,
                "url": f"https://{TEAM_DOMAIN}.slack.com/",
                "team": "E2E",
                "team_id": TEAM_ID,
                "user": "icp",
                "user_id": BOT_USER_ID,
                "bot_id": BOT_ID,
                "app_id": APP_ID,
                "is_enterprise_install": False,
            }
        if m in ("chat.postMessage", "chat.update", "chat.meMessage"):
            channel = str(p.get("channel") or "C0E2E")
            ts = str(p.get("ts") or self._next_ts())
            return {"ok": True, "channel": channel, "ts": ts, "message": {"text": p.get("text"), "ts": ts}}
        if m == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._next_ts()}
        if m in ("views.publish", "views.open", "views.update", "views.push"):
            view = dict(p.get("view") or {})
            view.setdefault("id", f"V{uuid.uuid4().hex[:10].upper()}")
            return {"ok": True, "view": view}
        if m == "conversations.open":
            users = str(p.get("users") or p.get("user") or "")
            first = users.split(",")[0] if users else "U0NOBODY"
            return {"ok": True, "channel": {"id": f"D{first[1:]}"}}
        if m == "users.info":
            user_id = str(p.get("user") or "")
            return {"ok": True, "user": self._user(user_id)}
        if m == "users.list":
            # Like Slack: pages of ``limit`` members, the next one asked for with ``cursor``.
            members = [self._user(uid) for uid in sorted({*self.admins, *self.owners, *self.users})]
            start = int(str(p.get("cursor") or "0").removeprefix("page-") or 0)
            size = max(1, min(int(p.get("limit") or 200), 1000))
            page, more = members[start : start + size], start + size < len(members)
            return {
                "ok": True,
                "members": page,
                "response_metadata": {"next_cursor": f"page-{start + size}" if more else ""},
            }
        if m == "files.info":
            stored = self.files.get(str(p.get("file") or ""))
            if stored is None:
                return {"ok": False, "error": "file_not_found"}
            return {"ok": True, "file": self._file_payload(stored)}
        if m == "oauth.v2.access":
            return {
                "ok": True,
                "app_id": APP_ID,
                "authed_user": {"id": ADMIN_ID},
                "scope": "commands,chat:write",
                "token_type": "bot",
                "access_token": f"xoxb-installed-{uuid.uuid4().hex[:8]}",
                "bot_user_id": BOT_USER_ID,
                "team": {"id": TEAM_ID, "name": "E2E"},
                "enterprise": None,
                "is_enterprise_install": False,
            }
        if m == "files.getUploadURLExternal":
            file_id = f"F{uuid.uuid4().hex[:10].upper()}"
            self.uploads[file_id] = UploadedFile(
                file_id, str(p.get("filename") or ""), int(p.get("length") or 0)
            )
            return {"ok": True, "file_id": file_id, "upload_url": f"{self.base}/upload/{file_id}"}
        if m == "files.completeUploadExternal":
            listed = p.get("files")
            if isinstance(listed, str):
                listed = json.loads(listed)
            done = []
            for item in listed or []:
                upload = self.uploads.get(str(item.get("id")))
                if upload is None:
                    return {"ok": False, "error": "file_not_found"}
                upload.completed, upload.title = True, item.get("title")
                upload.channel, upload.thread_ts = p.get("channel_id"), p.get("thread_ts")
                done.append(
                    {
                        "id": upload.id,
                        "name": upload.filename,
                        "title": upload.title,
                        "size": len(upload.content),
                    }
                )
            return {"ok": True, "files": done}
        if m.startswith("assistant.threads."):
            return self._assistant_thread(m, p)
        if m == "bots.info":
            return {"ok": True, "bot": {"id": BOT_ID, "app_id": APP_ID, "user_id": BOT_USER_ID}}
        return {"ok": True}

    def _assistant_thread(self, method: str, p: dict[str, Any]) -> dict[str, Any]:
        """assistant.threads.setStatus / setTitle / setSuggestedPrompts, with Slack's argument checks."""
        needed = {
            "assistant.threads.setStatus": ("channel_id", "thread_ts", "status"),
            "assistant.threads.setTitle": ("channel_id", "thread_ts", "title"),
            "assistant.threads.setSuggestedPrompts": ("channel_id", "thread_ts", "prompts"),
        }.get(method)
        if needed is None:
            return {"ok": False, "error": "unknown_method"}
        if any(name not in p for name in needed):
            return {"ok": False, "error": "invalid_arguments"}
        prompts = p.get("prompts")
        if method.endswith("setSuggestedPrompts") and not (
            isinstance(prompts, list)
            and 0 < len(prompts) <= 4
            and all(isinstance(x, dict) and x.get("title") and x.get("message") for x in prompts)
        ):
            return {"ok": False, "error": "invalid_arguments"}
        return {"ok": True}

    def _user(self, user_id: str) -> dict[str, Any]:
        profile: dict[str, Any] = {
            "id": user_id,
            "team_id": TEAM_ID,
            "name": user_id.lower(),
            "real_name": f"Person {user_id}",
            "is_admin": user_id in self.admins,
            "is_owner": user_id in self.owners,
            "is_primary_owner": False,
            "is_bot": user_id == BOT_USER_ID,
            "deleted": False,
            "tz": "Europe/Berlin",
            "profile": {"real_name": f"Person {user_id}", "display_name": user_id.lower(), "title": ""},
        }
        profile.update(self.users.get(user_id, {}))
        return profile

    def _file_payload(self, stored: StoredFile) -> dict[str, Any]:
        url = self.file_url(stored)
        return {
            "id": stored.id,
            "name": stored.name,
            "title": stored.name,
            "filetype": stored.filetype,
            "mimetype": "text/csv" if stored.filetype == "csv" else "application/octet-stream",
            "size": len(stored.content),
            "user": stored.user,
            "url_private": url,
            "url_private_download": url,
            "channels": [],
            "ims": [stored.channel] if stored.channel else [],
        }


def _decode_params(query: str, raw: bytes, content_type: str) -> dict[str, Any]:
    params: dict[str, Any] = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
    if raw:
        if "json" in content_type:
            try:
                body = json.loads(raw)
            except ValueError:
                body = {"_raw": raw.decode("utf-8", "replace")}
            if isinstance(body, dict):
                params.update(body)
        else:
            form = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
            params.update({k: v[-1] for k, v in form.items()})
    for key in ("blocks", "view", "attachments"):
        value = params.get(key)
        if isinstance(value, str) and value[:1] in "[{":
            with contextlib.suppress(ValueError):
                params[key] = json.loads(value)
    return params


def _send(
    handler: BaseHTTPRequestHandler,
    status: int,
    payload: Mapping[str, Any],
    headers: Mapping[str, str] | None = None,
) -> None:
    _send_bytes(handler, status, json.dumps(payload).encode(), "application/json", headers)


def _send_bytes(
    handler: BaseHTTPRequestHandler,
    status: int,
    body: bytes,
    content_type: str,
    headers: Mapping[str, str] | None = None,
) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    for key, value in (headers or {}).items():
        handler.send_header(key, value)
    handler.end_headers()
    handler.wfile.write(body)
