"""The options every `icp` user meets: --version, shell completion, and flags shown as flags in help.

Typer's rich help printed a type after every option, flags included (``--json <bool>``), which
reads as if the flag took a value; bot/cli/options.py leaves the type column of flags empty.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
import typer
import typer.core
from typer.testing import CliRunner

from bot.cli.main import app

ICP_SCRIPT = Path(sys.executable).parent / "icp"
WIDE = {"COLUMNS": "200", "TERMINAL_WIDTH": "200"}


def invoke(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), env=WIDE)
    assert result.exit_code == 0, (args, result.output)
    return result.stdout


def every_command() -> list[list[str]]:
    """The path of every command and group under `icp`, e.g. ["import", "accounts"]."""
    found: list[list[str]] = []

    def walk(command: object, path: list[str]) -> None:
        found.append(path)
        if isinstance(command, typer.core.TyperGroup):
            for name, sub in command.commands.items():
                walk(sub, [*path, name])

    walk(typer.main.get_command(app), [])
    return found


def option_line(help_text: str, option: str) -> str:
    lines = [line for line in help_text.splitlines() if re.search(rf"{re.escape(option)}(?![\w-])", line)]
    assert lines, (option, help_text)
    return lines[0]


def test_version_prints_the_installed_package_version_and_exits_0() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"icp-assistant {version('icp-assistant')}\n"


def test_the_root_help_offers_version_and_shell_completion() -> None:
    text = invoke("--help")
    for option in ("--version", "--install-completion", "--show-completion", "--help"):
        assert option in text, option


def test_show_completion_prints_a_script_for_the_named_shell() -> None:
    """Run as a user would; the variable makes Typer take the shell's name instead of detecting it."""
    env = {**os.environ, "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}
    done = subprocess.run(
        [ICP_SCRIPT, "--show-completion", "bash"], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "_icp_completion" in done.stdout and "complete " in done.stdout


@pytest.mark.parametrize("path", every_command(), ids=lambda p: " ".join(p) or "icp")
def test_flags_show_no_value_in_help(path: list[str]) -> None:
    """`--json`, `--help` and every other flag take no value, so help shows none after them."""
    text = invoke(*path, "--help")
    assert "<bool>" not in text and "BOOLEAN" not in text, text
    assert "--help" in option_line(text, "--help")
    command = typer.main.get_command(app)
    for name in path:
        assert isinstance(command, typer.core.TyperGroup)
        command = command.commands[name]
    flags = [p for p in command.params if isinstance(p, typer.core.TyperOption) and p.is_flag]
    for flag in flags:
        line = option_line(text, flag.opts[0])
        after = line.split(flag.opts[0], 1)[1]
        assert not re.match(r"\s+(<|\[|[A-Z]{3,}\b)", after.replace("--no-", "")), (path, flag.opts[0], line)


def test_options_that_take_a_value_still_show_its_type() -> None:
    line = option_line(invoke("import", "accounts", "--help"), "--revenue-unit")
    assert "<float>" in line


def test_every_command_with_json_output_lists_it_as_a_flag() -> None:
    with_json = [path for path in every_command() if "--json" in invoke(*path, "--help")]
    assert ["approve"] in with_json and ["draft"] in with_json and ["import", "accounts"] in with_json
    for path in with_json:
        line = option_line(invoke(*path, "--help"), "--json")
        assert re.search(r"--json\s{2,}Print", line), (path, line)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"LOG_FORMAT": "xml"}, "LOG_FORMAT: Input should be 'text' or 'json' (got 'xml')"),
        ({"PROMPTS_DIR": "/no/such/folder"}, "PROMPTS_DIR: Path does not point to a directory"),
        ({"SCORE_PROCESSES": "99"}, "SCORE_PROCESSES: Input should be less than or equal to 16"),
    ],
)
def test_an_invalid_setting_is_one_line_naming_it_not_a_traceback(
    tmp_path: Path, env: dict[str, str], expected: str
) -> None:
    process = subprocess.run(
        [str(ICP_SCRIPT), "approve", "v1"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**os.environ, **WIDE, **env},
    )
    assert process.returncode == 1  # bad input, as the README's exit codes say
    assert process.stderr.startswith("error: invalid setting: ") and expected in process.stderr
    assert "Traceback" not in process.stderr and len(process.stderr.strip().splitlines()) == 1


def test_an_invalid_secret_setting_is_named_without_echoing_its_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pydantic import ValidationError

    from bot.cli.state import _setting_problems
    from bot.settings import Settings

    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None, slack_bot_token=["not", "text", "hunter2"])  # type: ignore[call-arg,arg-type]
    problems = _setting_problems(caught.value)
    assert problems.startswith("SLACK_BOT_TOKEN: ") and "hunter2" not in problems
