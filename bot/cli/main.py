"""`icp`: the root Typer app. It registers every command and group; the commands live one group per module.

Human output goes to stdout (`--json`: one stable JSON document instead). Errors go to stderr as
one clear sentence and exit with code 1; usage errors exit with 2.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from typing import Annotated

import typer

from bot.cli.approve import approve
from bot.cli.config import config
from bot.cli.demo import demo
from bot.cli.draft import draft
from bot.cli.engine import analyze, backtest, learn, score
from bot.cli.imports import db_app, import_app
from bot.cli.knowledge import forget, reindex
from bot.cli.llm import llm_app
from bot.cli.reminders import reminders_app
from bot.cli.serve import serve
from bot.cli.state import CliState
from bot.cli.versions import diff, export, show, versions

app = typer.Typer(
    name="icp",
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


# Registration order is the order `icp --help` lists them.
app.command("analyze")(analyze)
app.command("learn")(learn)
app.command("score")(score)
app.command("backtest")(backtest)
app.command("demo")(demo)
app.command("forget")(forget)
app.command("reindex")(reindex)
app.command("draft")(draft)
app.command("approve")(approve)
app.command("serve")(serve)
app.command("config")(config)
app.command("versions")(versions)
app.command("show")(show)
app.command("diff")(diff)
app.command("export")(export)
app.add_typer(import_app, name="import")
app.add_typer(db_app, name="db")
app.add_typer(llm_app, name="llm")
app.add_typer(reminders_app, name="reminders")


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover - `python -m bot.cli.main`
    main()
