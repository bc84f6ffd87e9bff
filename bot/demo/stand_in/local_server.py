"""The HTTP server the stand-ins run on (Slack for the demo and the tests, the CRMs for the tests):
127.0.0.1, a free port, a thread, TLS when asked."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

Handle = Callable[[BaseHTTPRequestHandler], None]


class LocalServer:
    """Every GET, POST and PATCH goes to ``handle``; ``tls`` is (certificate, key) files."""

    def __init__(self, handle: Handle, *, name: str, tls: tuple[Path, Path] | None = None) -> None:
        self.handle, self.name, self.tls = handle, name, tls
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        handle = self.handle

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in separate writes; without this a kept-alive client
            # waits ~40 ms per reply (Nagle vs delayed ACK), a stall real servers don't add.
            disable_nagle_algorithm = True

            def do_GET(self) -> None:
                handle(self)

            do_POST = do_PATCH = do_GET

            def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
                return

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        if self.tls is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*self.tls)
            server.socket = context.wrap_socket(server.socket, server_side=True)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, name=self.name, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    @property
    def port(self) -> int:
        assert self._server is not None, "start the stand-in first"
        return int(self._server.server_address[1])
