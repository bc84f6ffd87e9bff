"""Attacks on the HTTP endpoint of a real ``icp serve --http`` child process, over raw sockets.

Each attack is what issue 16 reproduced or what the server must bound: a body far over the cap
(declared, or streamed chunk by chunk) must be refused without the server holding it (its RSS,
read from /proc, barely moves), and a client that trickles its headers or body is dropped.
"""

from __future__ import annotations

import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.harness import BOT_TOKEN, SIGNING_SECRET, StandInSlack, free_port, http_request
from tests.support.serve_process import LAUNCH, clean_env

pytestmark = [pytest.mark.security]

HEAD_TIMEOUT_S = 1  # HTTP_READ_TIMEOUT_SECONDS of the server under test
MIB = 1024 * 1024
MAX_RSS_GROWTH_KB = 8 * 1024  # "a few MB", against attacks of 32-300 MB
GIVE_UP_S = 60  # far beyond any deadline the server has; reaching it means it never acted


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    port: int

    def rss_kb(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS line")

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=GIVE_UP_S)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    stand_in = StandInSlack().start()
    tmp = tmp_path_factory.mktemp("http-limits")
    port = free_port()
    env = clean_env(
        DATA_DIR=str(tmp / "data"),
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_API_URL=stand_in.api_url,
        HTTP_READ_TIMEOUT_SECONDS=str(HEAD_TIMEOUT_S),
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", LAUNCH, "--http", "--port", str(port), "--host", "127.0.0.1"],
        cwd=tmp,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, "icp serve --http exited"
            try:
                http_request(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except OSError:
                assert time.monotonic() < deadline, "icp serve --http did not come up"
                time.sleep(0.1)
        served = Server(proc, port)
        for _ in range(3):  # warm the request path up, so its first use is not counted as growth
            assert status_of(exchange(served, head("POST", length=2, signed=False) + b"{}")) == 401
        yield served
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        stand_in.stop()


def head(method: str, *, length: int | None = None, chunked: bool = False, signed: bool) -> bytes:
    lines = [f"{method} /slack/events HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json"]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    if chunked:
        lines.append("Transfer-Encoding: chunked")
    if signed:  # present and well-formed; the server must not need the body to refuse what follows
        lines += [f"X-Slack-Request-Timestamp: {int(time.time())}", "X-Slack-Signature: v0=" + "0" * 64]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def read_reply(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (or GIVE_UP_S passes)."""
    sock.settimeout(GIVE_UP_S)
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except (ConnectionResetError, TimeoutError):
        pass
    return received


def read_response(sock: socket.socket) -> bytes:
    """One response (head and its Content-Length body), leaving the connection open."""
    sock.settimeout(GIVE_UP_S)
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = sock.recv(65536)
        assert chunk, f"the connection closed after {received!r}"
        received += chunk
    head_part, _, body = received.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head_part.lower().split(b"\r\n")
        if line.startswith(b"content-length:")
    )
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "the connection closed mid-body"
        body += chunk
    return head_part + b"\r\n\r\n" + body


def exchange(server: Server, request: bytes) -> bytes:
    with server.connect() as sock:
        sock.sendall(request)
        return read_reply(sock)


def status_of(reply: bytes) -> int:
    assert reply.startswith(b"HTTP/1.1 "), reply[:200]
    return int(reply.split(b" ", 2)[1])


def push(sock: socket.socket, total: int, *, chunked: bool) -> tuple[int, bool]:
    """Send up to ``total`` bytes in 64 KiB pieces, stopping as soon as the server answers or
    closes; (bytes sent, whether the server answered before the body was complete)."""
    piece = b"x" * 65536
    sent = 0
    while sent < total:
        readable, _, _ = select.select([sock], [], [], 0)
        if readable:
            return sent, True
        frame = b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece
        try:
            sock.sendall(frame)
        except OSError:  # the server closed the connection on us: it is not reading
            return sent, True
        sent += len(piece)
    return sent, False


def test_a_huge_declared_body_is_refused_before_it_is_read(server: Server) -> None:
    before = server.rss_kb()
    for signed in (False, True):
        with server.connect() as sock:
            sock.sendall(head("POST", length=300_000_000, signed=signed))
            reply = read_response(sock)  # answered on the headers alone, before any body byte
            assert status_of(reply) == 413 and b"payload too large" in reply
            push(sock, 32 * MIB, chunked=False)  # the attacker sends anyway: nobody reads it
    assert server.rss_kb() - before < MAX_RSS_GROWTH_KB


def test_an_unsigned_request_is_refused_before_its_body_is_read(server: Server) -> None:
    before = server.rss_kb()
    for length, chunked in ((900_000, False), (None, True)):
        with server.connect() as sock:
            sock.sendall(head("POST", length=length, chunked=chunked, signed=False))
            reply = read_response(sock)
            assert status_of(reply) == 401 and b"invalid request" in reply
            push(sock, 32 * MIB, chunked=chunked)
    assert server.rss_kb() - before < MAX_RSS_GROWTH_KB


def test_a_chunked_body_over_the_cap_is_cut_off(server: Server) -> None:
    before = server.rss_kb()
    with server.connect() as sock:
        sock.sendall(head("POST", chunked=True, signed=True))
        sent, answered_early = push(sock, 300 * MIB, chunked=True)
        assert answered_early, f"the server read all {sent} bytes without answering"
        reply = read_reply(sock)
    assert status_of(reply) == 413 and b"payload too large" in reply
    assert server.rss_kb() - before < MAX_RSS_GROWTH_KB


def test_a_head_or_body_trickled_byte_by_byte_is_dropped(server: Server) -> None:
    with server.connect() as sock:  # slow-loris: a request head that never ends
        sock.sendall(b"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        dropped = False
        give_up = time.monotonic() + GIVE_UP_S
        while not dropped and time.monotonic() < give_up:
            readable, _, _ = select.select([sock], [], [], 0.2)
            if readable:
                try:
                    dropped = sock.recv(1) == b""
                except ConnectionResetError:  # closed with our unread bytes in its buffer: a reset
                    dropped = True
                break
            try:
                sock.sendall(b"X-Trickle: a\r\n")
            except OSError:
                dropped = True
        assert dropped, "a request head trickled for a minute was still being read"
    with server.connect() as sock:  # a complete head, then a body that never ends
        sock.sendall(head("POST", length=1000, signed=True))
        for _ in range(int(GIVE_UP_S / 0.2)):
            readable, _, _ = select.select([sock], [], [], 0.2)
            if readable:
                break
            sock.sendall(b"x")
        reply = read_reply(sock)
    assert status_of(reply) == 408 and b"request body too slow" in reply
    health = http_request(f"http://127.0.0.1:{server.port}/healthz", timeout=10)
    assert health.status == 200  # the server itself is fine
