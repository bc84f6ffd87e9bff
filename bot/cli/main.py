"""`icp`: the root Typer app. It registers every command and group; the commands live one group per module.

Commands are registered by where they live and imported only when used (bot/cli/lazy.py), so
`icp score` or `icp analyze` never pays for the Slack, knowledge-base and chat-model imports.

Human output goes to stdout (`--json`: one stable JSON document instead). Errors go to stderr as
one clear sentence and exit with code 1; usage errors exit with 2.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from typing import Annotated

import typer

import bot.cli.options  # noqa: F401  (help shows flags without a type, root help included)
from bot.cli.lazy import LazyGroup
from bot.cli.state import CliState

# Registration order is the order `icp --help` lists them: name -> "module:command or sub-app".
COMMANDS = {
    "analyze": "bot.cli.engine:analyze",
    "learn": "bot.cli.engine:learn",
    "score": "bot.cli.engine:score",
    "backtest": "bot.cli.engine:backtest",
    "demo": "bot.cli.demo:demo",
    "forget": "bot.cli.knowledge:forget",
    "reindex": "bot.cli.knowledge:reindex",
    "draft": "bot.cli.draft:draft",
    "approve": "bot.cli.approve:approve",
    "serve": "bot.cli.serve:serve",
    "config": "bot.cli.config:config",
    "versions": "bot.cli.versions:versions",
    "show": "bot.cli.versions:show",
    "diff": "bot.cli.versions:diff",
    "export": "bot.cli.versions:export",
    "import": "bot.cli.imports:import_app",
    "db": "bot.cli.imports:db_app",
    "llm": "bot.cli.llm:llm_app",
    "reminders": "bot.cli.reminders:reminders_app",
}


class IcpGroup(LazyGroup):
    targets = COMMANDS


app = typer.Typer(
    name="icp",
    cls=IcpGroup,
    help="ICP assistant: analyse CRM exports, learn and backtest an Ideal Customer Profile, score accounts.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
)

PACKAGE = "icp-assistant"


def _print_version(value: bool) -> None:
    """`icp --version`: the installed package's version, read from its metadata (never hard-coded)."""
    if not value:
        return
    try:
        number = package_version(PACKAGE)
    except PackageNotFoundError:  # run from a source tree that was never installed
        number = "unknown (not installed)"
    typer.echo(f"{PACKAGE} {number}")
    raise typer.Exit(0)


@app.callback()
def root(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print the version and exit.",
            callback=_print_version,
            is_eager=True,
        ),
    ] = False,
) -> None:
    # No docstring: the app's help above is what `icp --help` shows.
    ctx.obj = CliState()  # settings are read when a command first asks for them


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover - `python -m bot.cli.main`
    main()
