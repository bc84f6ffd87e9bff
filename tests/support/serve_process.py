"""How the e2e tests start ``icp serve`` in a child process: the command and a clean environment."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]  # on the child's PYTHONPATH
LAUNCH = "import typer; from bot.cli.serve import serve; app = typer.Typer(); app.command()(serve); app()"


def clean_env(**extra: str) -> dict[str, str]:
    """The parent's environment without any Slack/ICP/database settings, plus ``extra``."""
    prefixes = ("SLACK_", "ICP_", "DATABASE_URL", "CHROMA_", "OPENAI_", "DATA_DIR")
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(prefixes)}
    env["PYTHONPATH"] = str(REPO)
    env.update(extra)
    return env
