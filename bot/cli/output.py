"""Writing what the CLI produces: rich output and JSON on stdout, output files never half-written."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console

from bot.cli.errors import fail

# Human output on stdout; errors go to `bot.cli.errors.err` on stderr.
out = Console(soft_wrap=False)


def check_output(path: Path, option: str) -> None:
    """Refuse an output path that cannot be written before any work is done."""
    if path.is_dir():
        fail(f"{option} {path}: is a folder; give a file name")
    if not path.parent.is_dir():
        fail(f"{option} {path}: folder {path.parent} does not exist")


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=_json_default) + "\n")


def _json_default(o: Any) -> Any:
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return None if math.isnan(o) else float(o)
    if isinstance(o, Path):
        return str(o)
    if hasattr(o, "isoformat"):
        return o.isoformat()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")
