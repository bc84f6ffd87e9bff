"""The Bolt app served over HTTP, and a driver sending signed requests shaped like Slack's.

:class:`AppServer` serves an ASGI app (``bot.slack.server.build_asgi``) with uvicorn in a thread on a
free 127.0.0.1 port; :class:`SlackDriver` signs slash commands, Events API envelopes and
interactivity payloads with the signing secret and posts them to ``/slack/events``, with the
stand-in Slack (:mod:`bot.demo.stand_in.slack_api`) as the response_url target.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import uvicorn

from bot.demo.stand_in.slack_api import (
    APP_ID,
    BOT_USER_ID,
    MEMBER_ID,
    SIGNING_SECRET,
    TEAM_DOMAIN,
    TEAM_ID,
    RecordedCall,
    StandInSlack,
    StoredFile,
)

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

    def global_shortcut(self, callback_id: str, *, user: str = MEMBER_ID, **kwargs: Any) -> HttpResult:
        """A global shortcut (the lightning menu): no channel, a trigger to open a modal with."""
        payload = {
            "type": "shortcut",
            "token": "deprecated-verification-token",
            "action_ts": f"{time.time():.6f}",
            "team": {"id": self.team_id, "domain": TEAM_DOMAIN},
            "user": {"id": user, "username": user.lower(), "team_id": self.team_id},
            "is_enterprise_install": False,
            "enterprise": None,
            "callback_id": callback_id,
            "trigger_id": f"{uuid.uuid4().int % 10**10}.{uuid.uuid4().hex[:12]}",
        }
        return self.interactive(payload, **kwargs)

    def message_shortcut(
        self,
        callback_id: str,
        text: str,
        *,
        user: str = MEMBER_ID,
        author: str = "U0AUTHOR",
        channel: str = "C0GENERAL",
        response_url: str | None = None,
        **kwargs: Any,
    ) -> HttpResult:
        """A message shortcut (a message's "More actions" menu) on a message reading ``text``."""
        ts = f"{time.time():.6f}"
        payload = {
            "type": "message_action",
            "token": "deprecated-verification-token",
            "action_ts": ts,
            "team": {"id": self.team_id, "domain": TEAM_DOMAIN},
            "user": {"id": user, "name": user.lower(), "team_id": self.team_id},
            "channel": {"id": channel, "name": "general"},
            "is_enterprise_install": False,
            "enterprise": None,
            "callback_id": callback_id,
            "trigger_id": f"{uuid.uuid4().int % 10**10}.{uuid.uuid4().hex[:12]}",
            "response_url": response_url or self.stand_in.response_url(),
            "message_ts": ts,
            "message": {"type": "message", "user": author, "ts": ts, "text": text},
        }
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
