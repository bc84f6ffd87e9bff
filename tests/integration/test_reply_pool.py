"""bot/slack/respond.py: replies to a response_url over kept-alive connections, shaped like Bolt's.

A real HTTP/1.1 server on 127.0.0.1 records each request's body and client port, so the tests
see the connection being reused, a closed one being replaced, and error statuses passed back.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from slack_bolt.context.respond.internals import _build_message
from slack_sdk.models.blocks import SectionBlock

from bot.slack.respond import PooledRespond, ReplyPool


class Recorder:
    def __init__(self) -> None:
        self.seen: list[tuple[int, dict[str, Any]]] = []  # (client port, JSON body)
        self.status = 200
        self.close_after = False  # answer with Connection: close
        self.drop_after = False  # close the connection after answering, without saying so
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                # Read the flags before answering: once the answer is out the test may change them.
                close, drop = recorder.close_after, recorder.drop_after
                recorder.seen.append((self.client_address[1], json.loads(raw)))
                body = b"ok" if recorder.status == 200 else b"no_text"
                self.send_response(recorder.status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                if close:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.end_headers()
                self.wfile.write(body)
                if drop:
                    self.close_connection = True  # as a server's idle timeout would, unannounced

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/respond/abc?x=1"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    server = Recorder()
    try:
        yield server
    finally:
        server.stop()


def test_replies_reuse_one_connection_and_match_bolts_message(recorder: Recorder) -> None:
    pool = ReplyPool()
    respond = pool.respond_to(recorder.url)
    assert isinstance(respond, PooledRespond)
    blocks = [SectionBlock(text="*Hi*"), {"type": "divider"}]
    for _ in range(3):
        answer = respond(text="hello", blocks=blocks, response_type="ephemeral", replace_original=True)
        assert answer.status_code == 200 and answer.body == "ok"
    ports = {port for port, _ in recorder.seen}
    assert len(recorder.seen) == 3 and len(ports) == 1  # one kept-alive connection
    expected = _build_message(text="hello", blocks=blocks, response_type="ephemeral", replace_original=True)
    assert recorder.seen[0][1] == expected
    respond({"text": "whole", "delete_original": True})  # Bolt also takes the whole message as a dict
    assert recorder.seen[-1][1] == {"text": "whole", "delete_original": True}
    pool.close()


def test_a_connection_the_server_closed_is_replaced(recorder: Recorder) -> None:
    pool = ReplyPool()
    respond = pool.respond_to(recorder.url)
    recorder.drop_after = True
    respond(text="one")  # kept by the pool, closed by the server
    recorder.drop_after = False
    respond(text="two")  # the kept connection fails at once: sent again on a new one
    recorder.close_after = True
    respond(text="three")  # answered with Connection: close: not kept
    respond(text="four")
    assert [body["text"] for _, body in recorder.seen] == ["one", "two", "three", "four"]
    ports = [port for port, _ in recorder.seen]
    assert ports[1] != ports[0] and ports[2] == ports[1] and ports[3] != ports[2], ports
    pool.close()


def test_an_error_status_is_returned_not_raised(recorder: Recorder) -> None:
    recorder.status = 404
    answer = ReplyPool().respond_to(recorder.url)(text="late")
    assert answer.status_code == 404 and answer.body == "no_text"


def test_nothing_listening_raises_a_connection_error() -> None:
    respond = ReplyPool(timeout=2).respond_to("http://127.0.0.1:9/respond/x")
    with pytest.raises(ConnectionError):
        respond(text="nobody there")


def test_a_proxy_or_a_missing_url_uses_bolts_respond(monkeypatch: pytest.MonkeyPatch) -> None:
    pool = ReplyPool()
    assert not isinstance(pool.respond_to(None), PooledRespond)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    assert not isinstance(pool.respond_to("https://hooks.slack.com/commands/1/2"), PooledRespond)
