"""End-to-end harness: a stand-in Slack Web API, the real app over HTTP, and a signed-request driver.

* :class:`StandInSlack` is a real HTTP server on 127.0.0.1 that answers Web API methods with
  plausible payloads, records every call (method, params, JSON body, headers), accepts
  ``response_url`` posts, serves uploaded files, and can be told to answer 429 (with
  Retry-After) or 500 a number of times.
* :class:`AppServer` serves the Bolt app (``bot.server.build_asgi``) with uvicorn in a thread
  on a free port.
* :class:`SlackDriver` sends requests of the real Slack shapes, signed with the app's signing
  secret, to ``/slack/events``.
* :func:`assert_valid_blocks` / :func:`assert_valid_view` check Block Kit with slack_sdk.models.

Nothing here reaches Slack's cloud; everything binds 127.0.0.1 and is torn down by the fixtures.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import itertools
import json
import socket
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import uvicorn
from slack_bolt import App
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View
from sqlalchemy.engine import Engine

from bot.knowledge.store import KnowledgeStore, knowledge_store_from
from bot.settings import Settings

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

Responder = Callable[["RecordedCall"], dict[str, Any]]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --------------------------------------------------------------------------- stand-in Slack


@dataclass
class RecordedCall:
    """One request the app made to the stand-in (a Web API method, a response_url, a file)."""

    method: str  # "chat.postMessage", "response_url", "files.download"
    params: dict[str, Any]  # query + form + JSON body merged; blocks/view decoded from JSON
    headers: dict[str, str]
    path: str
    status: int = 200
    at: float = field(default_factory=time.monotonic)

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
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # lifecycle -------------------------------------------------------------------------
    def start(self) -> StandInSlack:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in separate writes; without this a kept-alive client
            # waits ~40 ms per reply (Nagle vs delayed ACK), a stall Slack's servers don't add.
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                stand_in._handle(self)

            def do_GET(self) -> None:
                stand_in._handle(self)

            def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="stand-in-slack",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    @property
    def base(self) -> str:
        assert self._server is not None, "start() the stand-in first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

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
        self, predicate: Callable[[RecordedCall], bool] | None = None, *, timeout: float = 10.0
    ) -> RecordedCall:
        """The first message the app sent anywhere (response_url, postMessage, postEphemeral)."""
        methods = {"response_url", "chat.postMessage", "chat.postEphemeral", "chat.update"}
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
            members = [self._user(uid) for uid in sorted({*self.admins, *self.owners, *self.users})]
            return {"ok": True, "members": members, "response_metadata": {"next_cursor": ""}}
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
        if m == "bots.info":
            return {"ok": True, "bot": {"id": BOT_ID, "app_id": APP_ID, "user_id": BOT_USER_ID}}
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


# --------------------------------------------------------------------------- Block Kit checks


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


# --------------------------------------------------------------------------- the app over HTTP


class AppServer:
    """uvicorn serving an ASGI app on 127.0.0.1 in a background thread."""

    def __init__(self, asgi: Any) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self.port = int(self._sock.getsockname()[1])
        config = uvicorn.Config(asgi, log_level="warning", lifespan="off", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, name="app-server", daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> AppServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the app server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()


# --------------------------------------------------------------------------- signed requests


@dataclass
class HttpResult:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def sign(body: bytes, *, secret: str, timestamp: int) -> str:
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def http_request(
    url: str,
    *,
    method: str = "GET",
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 10.0,
) -> HttpResult:
    request = urllib.request.Request(url, data=body, method=method, headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            return HttpResult(resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read())
    except urllib.error.HTTPError as err:
        return HttpResult(err.code, {k.lower(): v for k, v in err.headers.items()}, err.read())


class SlackDriver:
    """Sends signed requests shaped like Slack's to the app's ``/slack/events``."""

    def __init__(
        self, app_url: str, stand_in: StandInSlack, *, secret: str = SIGNING_SECRET, team_id: str = TEAM_ID
    ) -> None:
        self.app_url = app_url
        self.events_url = f"{app_url}/slack/events"
        self.stand_in = stand_in
        self.secret = secret
        self.team_id = team_id

    # transport -------------------------------------------------------------------------
    def post(
        self,
        body: bytes | str,
        *,
        content_type: str,
        timestamp: int | None = None,
        secret: str | None = None,
        signature: str | None = None,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
        headers: Mapping[str, str] | None = None,
    ) -> HttpResult:
        """POST ``body`` signed (unless ``signature`` overrides it) with a current timestamp."""
        raw = body.encode() if isinstance(body, str) else body
        ts = int(time.time()) if timestamp is None else timestamp
        sent = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": str(ts),
            "X-Slack-Signature": signature or sign(raw, secret=secret or self.secret, timestamp=ts),
        }
        if retry_num is not None:
            sent["X-Slack-Retry-Num"] = str(retry_num)
            sent["X-Slack-Retry-Reason"] = retry_reason
        sent.update(headers or {})
        return http_request(self.events_url, method="POST", body=raw, headers=sent)

    def post_form(self, fields: Mapping[str, str], **kwargs: Any) -> HttpResult:
        return self.post(urlencode(fields), content_type="application/x-www-form-urlencoded", **kwargs)

    def post_json(self, payload: Mapping[str, Any], **kwargs: Any) -> HttpResult:
        return self.post(json.dumps(payload), content_type="application/json", **kwargs)

    # slash commands --------------------------------------------------------------------
    def slash_fields(
        self,
        text: str,
        *,
        user_id: str = MEMBER_ID,
        channel_id: str = "C0GENERAL",
        command: str = "/icp",
        trigger_id: str | None = None,
        response_url: str | None = None,
    ) -> dict[str, str]:
        return {
            "token": "deprecated-verification-token",
            "team_id": self.team_id,
            "team_domain": TEAM_DOMAIN,
            "channel_id": channel_id,
            "channel_name": "general" if channel_id.startswith("C") else "directmessage",
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": command,
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": response_url or self.stand_in.response_url(),
            "trigger_id": trigger_id or f"{uuid.uuid4().int % 10**10}.{uuid.uuid4().hex[:12]}",
        }

    def slash(self, text: str, **kwargs: Any) -> HttpResult:
        """``/icp <text>`` as a form-encoded slash command; the reply arrives at the response_url."""
        transport = {
            k: kwargs.pop(k) for k in ("retry_num", "timestamp", "secret", "signature") if k in kwargs
        }
        return self.post_form(self.slash_fields(text, **kwargs), **transport)

    def slash_reply(self, text: str, *, timeout: float = 10.0, **kwargs: Any) -> RecordedCall:
        """Send ``/icp <text>`` and return the first message posted to its response_url."""
        url = self.stand_in.response_url()
        result = self.slash(text, response_url=url, **kwargs)
        assert result.status == 200, f"/icp {text} -> HTTP {result.status}: {result.text}"
        path = urlsplit(url).path
        return self.stand_in.wait_for("response_url", lambda c: c.path == path, timeout=timeout)[0]

    # Events API ------------------------------------------------------------------------
    def event_envelope(self, event: Mapping[str, Any], *, event_id: str | None = None) -> dict[str, Any]:
        return {
            "token": "deprecated-verification-token",
            "team_id": self.team_id,
            "api_app_id": APP_ID,
            "event": dict(event),
            "type": "event_callback",
            "event_id": event_id or f"Ev{uuid.uuid4().hex[:12].upper()}",
            "event_time": int(time.time()),
            "authorizations": [
                {"enterprise_id": None, "team_id": self.team_id, "user_id": BOT_USER_ID, "is_bot": True}
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-{uuid.uuid4().hex}",
        }

    def event(self, event: Mapping[str, Any], *, event_id: str | None = None, **kwargs: Any) -> HttpResult:
        return self.post_json(self.event_envelope(event, event_id=event_id), **kwargs)

    def message_im(
        self,
        text: str,
        *,
        user: str = MEMBER_ID,
        channel: str | None = None,
        ts: str | None = None,
        thread_ts: str | None = None,
        event_id: str | None = None,
        extra: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> HttpResult:
        """A direct message from ``user`` to the bot (``message.im``)."""
        event: dict[str, Any] = {
            "type": "message",
            "channel_type": "im",
            "channel": channel or f"D{user[1:]}",
            "user": user,
            "text": text,
            "ts": ts or f"{time.time():.6f}",
            "event_ts": ts or f"{time.time():.6f}",
            "team": self.team_id,
        }
        if thread_ts:
            event["thread_ts"] = thread_ts
        event.update(extra or {})
        return self.event(event, event_id=event_id, **kwargs)

    def app_home_opened(self, *, user: str = MEMBER_ID, tab: str = "home", **kwargs: Any) -> HttpResult:
        return self.event(
            {
                "type": "app_home_opened",
                "user": user,
                "channel": f"D{user[1:]}",
                "tab": tab,
                "event_ts": f"{time.time():.6f}",
            },
            **kwargs,
        )

    def file_shared(
        self, stored: StoredFile, *, user: str | None = None, channel: str | None = None, **kwargs: Any
    ) -> HttpResult:
        """``file_shared`` for a file registered with ``stand_in.add_file`` (DM channel by default)."""
        who = user or stored.user
        return self.event(
            {
                "type": "file_shared",
                "file_id": stored.id,
                "user_id": who,
                "file": {"id": stored.id},
                "channel_id": channel or stored.channel or f"D{who[1:]}",
                "event_ts": f"{time.time():.6f}",
            },
            **kwargs,
        )

    # interactivity ---------------------------------------------------------------------
    def interactive(self, payload: Mapping[str, Any], **kwargs: Any) -> HttpResult:
        return self.post_form({"payload": json.dumps(payload)}, **kwargs)

    def block_actions(
        self,
        action_id: str,
        *,
        value: str | None = None,
        user: str = MEMBER_ID,
        block_id: str = "b1",
        channel: str | None = "C0GENERAL",
        message_ts: str | None = None,
        view: Mapping[str, Any] | None = None,
        action_type: str = "button",
        selected_option: Mapping[str, Any] | None = None,
        response_url: str | None = None,
        **kwargs: Any,
    ) -> HttpResult:
        """A click on ``action_id`` (in a message by default, or in ``view`` such as App Home)."""
        action: dict[str, Any] = {
            "action_id": action_id,
            "block_id": block_id,
            "type": action_type,
            "action_ts": f"{time.time():.6f}",
        }
        if value is not None:
            action["value"] = value
        if selected_option is not None:
            action["selected_option"] = dict(selected_option)
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": self.team_id},
            "api_app_id": APP_ID,
            "token": "deprecated-verification-token",
            "team": {"id": self.team_id, "domain": TEAM_DOMAIN},
            "enterprise": None,
            "is_enterprise_install": False,
            "trigger_id": f"{uuid.uuid4().int % 10**10}.{uuid.uuid4().hex[:12]}",
            "actions": [action],
        }
        if view is not None:
            payload["container"] = {"type": "view", "view_id": view.get("id", "V0HOME")}
            payload["view"] = {"id": "V0HOME", "team_id": self.team_id, "state": {"values": {}}, **dict(view)}
        else:
            ts = message_ts or f"{time.time():.6f}"
            payload["container"] = {
                "type": "message",
                "message_ts": ts,
                "channel_id": channel,
                "is_ephemeral": False,
            }
            payload["channel"] = {"id": channel, "name": "general"}
            payload["message"] = {"type": "message", "ts": ts, "text": "", "user": BOT_USER_ID}
            payload["response_url"] = response_url or self.stand_in.response_url()
        return self.interactive(payload, **kwargs)

    def view_submission(
        self,
        callback_id: str,
        *,
        values: Mapping[str, Mapping[str, Mapping[str, Any]]] | None = None,
        user: str = MEMBER_ID,
        private_metadata: str = "",
        **kwargs: Any,
    ) -> HttpResult:
        """A modal submitted: ``values`` is Slack's state.values ({block_id: {action_id: {...}}})."""
        payload = {
            "type": "view_submission",
            "team": {"id": self.team_id, "domain": TEAM_DOMAIN},
            "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": self.team_id},
            "api_app_id": APP_ID,
            "token": "deprecated-verification-token",
            "trigger_id": f"{uuid.uuid4().int % 10**10}.{uuid.uuid4().hex[:12]}",
            "view": {
                "id": f"V{uuid.uuid4().hex[:10].upper()}",
                "team_id": self.team_id,
                "type": "modal",
                "callback_id": callback_id,
                "private_metadata": private_metadata,
                "blocks": [],
                "state": {"values": {k: dict(v) for k, v in (values or {}).items()}},
                "hash": "1.abc",
                "title": {"type": "plain_text", "text": "ICP"},
            },
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": None,
        }
        return self.interactive(payload, **kwargs)


# --------------------------------------------------------------------------- one running world


@dataclass
class SlackEnv:
    """One running world: what the tests drive (``driver``) and what they inspect."""

    settings: Settings
    engine: Engine
    stand_in: StandInSlack
    app: App
    server: AppServer
    driver: SlackDriver
    knowledge_path: Path
    _knowledge: list[KnowledgeStore] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.server.url

    def knowledge(self) -> KnowledgeStore:
        """The same knowledge store instance the app uses (opened on first use)."""
        if not self._knowledge:
            self._knowledge.append(knowledge_store_from(self.settings))
        return self._knowledge[0]
