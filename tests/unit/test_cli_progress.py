"""Progress on a terminal, silence everywhere else: bot/cli/progress.py and `icp analyze` on a pty.

When progress is off the helpers hand the service ``None``, so the service runs its usual path and
the output of pipes, files and ``--json`` stays exactly what it was.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from bot.cli import progress
from bot.cli.main import app
from icp_engine.sample import generate, write_csv
from tests.support.terminal import run_on_terminal

ICP_SCRIPT = Path(sys.executable).parent / "icp"


class Terminal(io.StringIO):
    """A stdout that says it is a terminal (what `wanted` asks)."""

    def isatty(self) -> bool:
        return True


def terminal() -> tuple[Console, io.StringIO]:
    screen = io.StringIO()
    return Console(file=screen, force_terminal=True, width=100), screen


def test_wanted_only_for_a_terminal_and_never_with_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    assert progress.wanted() is False and progress.wanted(as_json=True) is False
    monkeypatch.setattr(sys, "stdout", Terminal())
    assert progress.wanted() is True and progress.wanted(as_json=True) is False


def test_silent_progress_gives_the_service_no_callback_and_writes_nothing() -> None:
    console, screen = terminal()
    with progress.counted("rows", show=False, console=console) as on_progress:
        assert on_progress is None
    with progress.steps("draft", show=False, console=console) as on_step:
        assert on_step is None
        progress.announce(on_step, "gather")  # a no-op, not an error
    assert screen.getvalue() == ""


def test_counted_progress_renders_the_count_on_a_terminal() -> None:
    console, screen = terminal()
    with progress.counted(
        "deals.csv: reading", then="deals.csv: storing rows", show=True, console=console
    ) as cb:
        assert cb is not None
        cb(0, 10)
        cb(7, 10)
    shown = screen.getvalue()
    assert "deals.csv: storing rows" in shown and "7/10" in shown


def test_steps_progress_names_the_current_step_on_a_terminal() -> None:
    console, screen = terminal()
    with progress.steps("Drafting", show=True, console=console) as on_step:
        assert on_step is not None
        on_step("reduce")
    assert "Drafting: reduce" in screen.getvalue()


@pytest.fixture(scope="module")
def crm(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_csv(generate(seed=11, n_accounts=400), tmp_path_factory.mktemp("crm"))


def test_analyze_shows_its_steps_on_a_terminal(crm: dict[str, Path]) -> None:
    run = run_on_terminal([ICP_SCRIPT, "analyze", "--accounts", crm["accounts"], "--deals", crm["deals"]])
    assert run.returncode == 0, run.stderr
    text = run.screen
    # The bar's last frame (drawn when it stops, then erased), then the report as before.
    assert "analyze: analysing" in text and "Findings" in text
    assert text.index("analyze: analysing") < text.index("Findings")


def test_analyze_into_a_pipe_or_with_json_shows_no_progress(crm: dict[str, Path]) -> None:
    args = ["analyze", "--accounts", str(crm["accounts"]), "--deals", str(crm["deals"])]
    human = CliRunner().invoke(app, args)
    assert human.exit_code == 0, human.output
    assert "Findings" in human.stdout
    assert (
        "reading the CSV files" not in human.output and "\x1b[?25l" not in human.output
    )  # no bar, no cursor hiding
    as_json = CliRunner().invoke(app, [*args, "--json"])
    assert as_json.exit_code == 0, as_json.output
    assert as_json.stdout.lstrip().startswith("{") and "reading the CSV files" not in as_json.output
