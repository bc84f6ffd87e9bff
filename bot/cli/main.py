"""`icp`: the root Typer app. It registers every command and group; the commands live one group per module.

Commands are registered by where they live and imported only when used (bot/cli/lazy.py), so
`icp score` or `icp analyze` never pays for the Slack, knowledge-base and chat-model imports.

Human output goes to stdout (`--json`: one stable JSON document instead). Errors go to stderr as
one clear sentence and exit with code 1; usage errors exit with 2.
"""

from __future__ import annotations

from typing import Annotated

import typer

import bot.cli.options  # noqa: F401  (help shows flags without a type, root help included)
from bot.cli.lazy import LazyGroup

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
    "connect": "bot.cli.crm:connect_app",
    "sync": "bot.cli.crm:sync",
}

# What `icp --help` lists for each command without importing it: the first paragraph of its help.
# tests/unit/test_cli_lazy_imports.py checks each against the command's own help.
SHORT_HELP = {
    "analyze": "Win rate, deal value, retention, NPS and LTV per segment, with intervals and significance.",
    "learn": "Learn a scorecard ICP from the data: a few characteristics with centred points.",
    "score": "Score one account (key=value ...) or a whole accounts CSV (--accounts ... --out ...).",
    "backtest": "Learn on the first rows and test on the held-out rest, or backtest a given ICP (--icp).",
    "demo": "Run the whole product on a sample company, offline; print the transcript.",
    "forget": "Erase everything a person said (answers, follow-up questions, summaries, review check-ins) "
    "from SQL and vectors.",
    "reindex": "Rebuild the knowledge store from the database (all workspaces unless --workspace is given).",
    "draft": "Draft the ICP and buyer personas from CRM data and interview answers; store it as a draft.",
    "approve": "Approve an ICP version (e.g. v3): scoring uses it from now on; the approver is cli:<you>.",
    "serve": "Run the Slack bot: --socket for development, --http --port P behind a public URL.",
    "config": "Show every setting with its default and what it does (never the values of secrets).",
    "versions": "List the ICP versions (newest first, with what each changed) and the change log.",
    "show": "Print one ICP version: its status and approval, then the ICP itself as YAML.",
    "diff": "Compare two ICP versions: criteria added, removed and re-weighted, tiers, disqualifiers.",
    "export": "Export the ICP as a one-page document (md, html or pdf), written atomically.",
    "import": "Import CRM exports (accounts first, then deals and customer health) into the store.",
    "db": "The SQL store's schema.",
    "llm": "The language model the assistant drafts and chats with.",
    "reminders": "Review reminders: run the due ones now, or list them.",
    "connect": "Connect the workspace to HubSpot or Salesforce (credentials checked, then stored encrypted).",
    "sync": "Sync the connected CRM now: accounts and deals in (all or nothing), ICP scores back out.",
}


class IcpGroup(LazyGroup):
    targets = COMMANDS
    summaries = SHORT_HELP


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
    # Imported here: the metadata machinery (email, zipfile, ...) is no cost to every other command.
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as package_version

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
    from bot.cli.state import CliState  # here, not at the top: `icp --help` then imports no pandas

    ctx.obj = CliState()  # settings are read when a command first asks for them


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover - `python -m bot.cli.main`
    main()
