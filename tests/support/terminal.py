"""Run a command on a real pseudo-terminal, as a person at a terminal would, and read its screen."""

from __future__ import annotations

import os
import pty
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

# Variables that tell rich to treat a terminal as something else (CI sets some of them).
_RICH_OVERRIDES = {"TTY_COMPATIBLE", "TTY_INTERACTIVE", "FORCE_COLOR", "NO_COLOR", "FORCE_TERMINAL"}


def terminal_env() -> dict[str, str]:
    """This environment without the variables that make rich ignore a real terminal."""
    return {k: v for k, v in os.environ.items() if k not in _RICH_OVERRIDES}


@dataclass(frozen=True)
class TerminalRun:
    returncode: int
    screen: str  # everything written to the terminal (stdout), decoded
    stderr: str


def run_on_terminal(args: Sequence[str | Path], *, timeout: float = 120.0, columns: int = 100) -> TerminalRun:
    """``args`` with stdout on a pseudo-terminal (stderr piped), until it exits."""
    controller, follower = pty.openpty()
    try:
        process = subprocess.Popen(
            [str(a) for a in args],
            stdout=follower,
            stderr=subprocess.PIPE,
            env={**terminal_env(), "COLUMNS": str(columns), "TERM": "xterm"},
        )
        os.close(follower)
        screen = b""
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the terminal closed: the process has exited
                break
            if not chunk:
                break
            screen += chunk
        _, stderr = process.communicate(timeout=timeout)
    finally:
        os.close(controller)
    return TerminalRun(
        process.returncode, screen.decode("utf-8", "replace"), stderr.decode("utf-8", "replace")
    )
