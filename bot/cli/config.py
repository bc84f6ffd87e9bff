"""``icp config``: print the settings documentation (a `.env` template or a Markdown table)."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.settings_doc import env_example, markdown_table


def config(
    env: Annotated[
        bool, typer.Option("--env", help="Print a .env template listing every setting (default).")
    ] = False,
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print the settings as a Markdown table.")
    ] = False,
) -> None:
    """Show every setting with its default and what it does (never the values of secrets)."""
    if env and markdown:
        typer.echo("icp config: choose one of --env or --markdown.", err=True)
        raise typer.Exit(2)
    typer.echo(markdown_table() if markdown else env_example(), nl=False)
