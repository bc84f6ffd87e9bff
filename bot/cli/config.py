"""``icp config``: print the settings documentation (a `.env` template or a Markdown table)."""

from __future__ import annotations

import typer


def config(
    env: bool = typer.Option(False, "--env", help="Print a .env template listing every setting (default)."),
    markdown: bool = typer.Option(False, "--markdown", help="Print the settings as a Markdown table."),
) -> None:
    """Show every setting with its default and what it does (never the values of secrets)."""
    from bot.settings_doc import env_example, markdown_table

    if env and markdown:
        typer.echo("icp config: choose one of --env or --markdown.", err=True)
        raise typer.Exit(2)
    typer.echo(markdown_table() if markdown else env_example(), nl=False)
