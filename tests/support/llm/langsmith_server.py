"""A LangSmith endpoint stand-in on 127.0.0.1 that records every request and answers 200.

Point ``LANGSMITH_ENDPOINT`` at ``url``: whether anything arrived (``requests``) tells whether a
trace would have left the machine.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def _record(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with self.server.lock:
            self.server.seen.append((self.command, self.path, body))
        payload = b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PATCH = do_PUT = _record


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    seen: list[tuple[str, str, bytes]]
    lock: threading.Lock


class LangSmithStandIn:
    """``start()``, read ``requests`` (method, path, body), ``stop()``."""

    def __init__(self) -> None:
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.seen = []
        self._httpd.lock = threading.Lock()
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="langsmith", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def requests(self) -> list[tuple[str, str, bytes]]:
        with self._httpd.lock:
            return list(self._httpd.seen)

    def start(self) -> LangSmithStandIn:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
