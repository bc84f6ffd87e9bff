"""The engine commands start without the bot's heavy stack: Slack, the knowledge base, the chat model.

Each case runs the real CLI entry point in a fresh interpreter (a subprocess), runs the command on
small files, and reports which of those packages ended up in ``sys.modules``. Importing any of
them costs seconds users wait for, and none is needed to read CSV files and score or analyse them.
"""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from bot.cli.lazy import load_command
from bot.cli.main import COMMANDS, SHORT_HELP, IcpGroup, app
from icp_engine.sample import generate, write_csv

BOT_STACK = (
    "langchain",
    "langchain_core",
    "langchain_openai",
    "langsmith",
    "openai",
    "slack_bolt",
    "slack_sdk",
    "chromadb",
    "onnxruntime",
    "tokenizers",
    "uvicorn",
    "starlette",
    "matplotlib",
    "fpdf",
    "alembic",
)
SQL_STACK = ("sqlalchemy", "sqlmodel")
SETTINGS_STACK = ("pydantic_settings", "dotenv")  # read by the commands that need a configuration

PROBE = """
import json, sys
from bot.cli.main import app
try:
    app(sys.argv[1:], standalone_mode=False)
finally:
    print("LOADED " + json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def modules_after(*args: str | Path) -> set[str]:
    """Run `icp ARGS` in a new interpreter; the modules it had imported by the end."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *map(str, args)], capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr[-2000:]
    line = next(ln for ln in done.stderr.splitlines() if ln.startswith("LOADED "))
    return set(json.loads(line.removeprefix("LOADED ")))


def loaded_after(*args: str | Path) -> set[str]:
    """Run `icp ARGS` in a new interpreter; the top-level packages it had imported by the end."""
    return {name.split(".")[0] for name in modules_after(*args)}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("lazy")
    csvs = write_csv(generate(n_accounts=300, seed=3), folder)
    icp = folder / "icp.yaml"
    icp.write_text(
        yaml.safe_dump(
            {
                "name": "Tiny",
                "criteria": [{"attribute": "industry", "op": "in", "values": ["software"], "points": 50}],
                "tiers": {"A": 40, "B": 20},
            }
        ),
        encoding="utf-8",
    )
    return {"folder": folder, "icp": icp, **csvs}


def test_score_of_a_file_loads_neither_the_bot_stack_nor_sql(files: dict[str, Path]) -> None:
    out = files["folder"] / "scores.csv"
    loaded = loaded_after("score", "--icp", files["icp"], "--accounts", files["accounts"], "--out", out)
    assert out.is_file()  # the command really ran
    assert "pandas" in loaded
    assert not loaded & {*BOT_STACK, *SQL_STACK}, loaded & {*BOT_STACK, *SQL_STACK}


def test_score_of_one_account_loads_no_bot_stack(files: dict[str, Path]) -> None:
    loaded = loaded_after("score", "--icp", files["icp"], "industry=software")
    assert not loaded & {*BOT_STACK, *SQL_STACK}, loaded & {*BOT_STACK, *SQL_STACK}


@pytest.mark.parametrize("command", ["analyze", "learn"])
def test_analyze_and_learn_load_no_bot_stack(files: dict[str, Path], command: str) -> None:
    args: list[str | Path] = [command, "--accounts", files["accounts"], "--deals", files["deals"]]
    if command == "learn":
        args += ["--output", files["folder"] / "learned.yaml"]
    loaded = loaded_after(*args)
    assert not loaded & set(BOT_STACK), loaded & set(BOT_STACK)


@pytest.mark.parametrize("command", ["score", "analyze"])
def test_engine_commands_read_no_settings_and_detect_no_encoding(
    files: dict[str, Path], command: str
) -> None:
    """They need no configuration, and UTF-8 files need no encoding detector."""
    args: list[str | Path] = [command, "--accounts", files["accounts"]]
    args += ["--icp", files["icp"], "--out", files["folder"] / "scores.csv"] if command == "score" else []
    args += ["--deals", files["deals"]] if command == "analyze" else []
    loaded = modules_after(*args)
    assert "bot.cli.engine" in loaded  # the command really ran
    unwanted = loaded & {"bot.settings", "bot.llm.tracing"}
    unwanted |= {name.split(".")[0] for name in loaded} & {*SETTINGS_STACK, "charset_normalizer"}
    assert not unwanted, unwanted


def test_help_of_a_bot_command_still_works_and_loads_it(files: dict[str, Path]) -> None:
    """The lazy registry is no filter: a command that needs the store gets it when it runs."""
    loaded = loaded_after("versions", "--help")
    assert "sqlalchemy" in loaded


# --- `icp --help` lists the commands from SHORT_HELP, without importing them ------------------


def test_root_help_imports_no_command_module() -> None:
    loaded = modules_after("--help")
    command_modules = {target.partition(":")[0] for target in COMMANDS.values()}
    assert "bot.cli.main" in loaded  # the probe really ran the CLI
    assert not loaded & command_modules, loaded & command_modules
    assert "pandas" not in loaded


def test_each_short_help_is_the_first_paragraph_of_the_commands_own_help() -> None:
    assert list(SHORT_HELP) == list(COMMANDS)
    for name, target in COMMANDS.items():
        command = load_command(name, target)
        own = inspect.cleandoc(command.short_help or command.help or "").split("\n\n")[0]
        assert SHORT_HELP[name] == own, name
        # the summary stands for a visible, current command in the default panel
        assert not (command.hidden or command.deprecated or getattr(command, "rich_help_panel", None)), name


def test_root_help_reads_as_it_does_with_every_command_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    listed = runner.invoke(app, ["--help"])
    monkeypatch.setattr(IcpGroup, "summaries", {})  # no summaries: each command is imported to list it
    loaded = runner.invoke(app, ["--help"])
    assert listed.exit_code == loaded.exit_code == 0
    assert "score" in listed.output
    assert listed.output == loaded.output
