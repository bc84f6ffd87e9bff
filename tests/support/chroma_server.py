"""A real Chroma server (``chroma run`` from the chromadb package) on a free 127.0.0.1 port.

The replicas suite points several ``icp serve`` processes at one server, as a deployment does
(``CHROMA_HOST``/``CHROMA_PORT``); the embedded store cannot be shared between processes.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from tests.support.harness import free_port


@contextlib.contextmanager
def chroma_server(path: Path, *, timeout: float = 60, env: dict[str, str] | None = None) -> Iterator[int]:
    """Run ``chroma run --path path`` (``env`` added to its environment) until the block ends;
    yields its port once it answers."""
    port = free_port()
    binary = Path(sys.executable).with_name("chroma")
    log = path.with_suffix(".log")
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [str(binary), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "ANONYMIZED_TELEMETRY": "False", **(env or {})},
        )
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2):
                    break
            except (OSError, urllib.error.URLError):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"chroma run did not come up: {log.read_text(errors='replace')[-2000:]}"
                    ) from None
                time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
