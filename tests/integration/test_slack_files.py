"""Downloads of shared files over real HTTP on 127.0.0.1: redirects stay on Slack's own host (the
bot token travels with them), web pages and oversized answers are refused, nothing partial stays."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from slack_sdk import WebClient

from bot.slack.messaging.files import FileProblem, SlackFile, download

TOKEN = "xoxb-files-test"
CONTENT = b"Record ID,Company name\n1,Acme\n"


@dataclass
class Server:
    """A tiny web server: path -> (status, headers, body); records every request."""

    routes: dict[str, tuple[int, dict[str, str], bytes]] = field(default_factory=dict)
    seen: list[tuple[str, str | None]] = field(default_factory=list)
    httpd: ThreadingHTTPServer | None = None

    @property
    def base(self) -> str:
        assert self.httpd is not None
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def start(self) -> Server:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.seen.append((self.path, self.headers.get("Authorization")))
                status, headers, body = server.routes.get(self.path, (404, {}, b"not found"))
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        assert self.httpd is not None
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def servers() -> Iterator[tuple[Server, Server]]:
    slack, elsewhere = Server().start(), Server().start()
    try:
        yield slack, elsewhere
    finally:
        slack.stop()
        elsewhere.stop()


def client_for(slack: Server) -> WebClient:
    return WebClient(token=TOKEN, base_url=f"{slack.base}/api/")


def shared(slack: Server, path: str, size: int | None = None) -> SlackFile:
    return SlackFile("F1", "accounts.csv", "csv", size, f"{slack.base}{path}", {})


def test_a_redirect_within_slack_is_followed_with_the_token(
    servers: tuple[Server, Server], tmp_path: Path
) -> None:
    slack, _ = servers
    slack.routes["/files/F1"] = (302, {"Location": f"{slack.base}/real/F1"}, b"")
    slack.routes["/real/F1"] = (200, {"Content-Type": "text/csv"}, CONTENT)
    assert download(client_for(slack), shared(slack, "/files/F1"), tmp_path / "a.csv") == len(CONTENT)
    assert (tmp_path / "a.csv").read_bytes() == CONTENT
    assert slack.seen == [("/files/F1", f"Bearer {TOKEN}"), ("/real/F1", f"Bearer {TOKEN}")]


def test_a_redirect_to_another_host_is_refused(servers: tuple[Server, Server], tmp_path: Path) -> None:
    slack, elsewhere = servers
    slack.routes["/files/F1"] = (302, {"Location": f"{elsewhere.base}/steal"}, b"")
    elsewhere.routes["/steal"] = (200, {}, CONTENT)
    with pytest.raises(FileProblem, match="I only download from Slack itself"):
        download(client_for(slack), shared(slack, "/files/F1"), tmp_path / "a.csv")
    assert elsewhere.seen == []
    assert not (tmp_path / "a.csv").exists()


def test_a_sign_in_page_is_not_taken_for_the_file(servers: tuple[Server, Server], tmp_path: Path) -> None:
    slack, _ = servers
    slack.routes["/files/F1"] = (200, {"Content-Type": "text/html; charset=utf-8"}, b"<html>sign in</html>")
    with pytest.raises(FileProblem, match="files:read"):
        download(client_for(slack), shared(slack, "/files/F1"), tmp_path / "a.csv")
    assert not (tmp_path / "a.csv").exists()


def test_a_declared_length_over_the_cap_is_refused_before_reading(
    servers: tuple[Server, Server], tmp_path: Path
) -> None:
    slack, _ = servers
    slack.routes["/files/F1"] = (200, {"Content-Type": "text/csv"}, CONTENT * 100)
    with pytest.raises(FileProblem, match="larger than"):
        download(client_for(slack), shared(slack, "/files/F1"), tmp_path / "a.csv", max_bytes=100)
    assert not (tmp_path / "a.csv").exists()


def test_a_size_over_the_cap_is_refused_without_a_request(
    servers: tuple[Server, Server], tmp_path: Path
) -> None:
    slack, _ = servers
    with pytest.raises(FileProblem, match="larger than"):
        download(client_for(slack), shared(slack, "/files/F1", size=10**9), tmp_path / "a.csv")
    assert slack.seen == []


def test_no_token_no_request(servers: tuple[Server, Server], tmp_path: Path) -> None:
    slack, _ = servers
    client = WebClient(token=None, base_url=f"{slack.base}/api/")
    with pytest.raises(FileProblem, match="no Slack token"):
        download(client, shared(slack, "/files/F1"), tmp_path / "a.csv")
    assert slack.seen == []
