"""``icp serve``: run the Slack bot over Socket Mode (development) or HTTP (production)."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from bot.cli.state import cli_settings
from bot.logs import configure_logging
from bot.store.db import StoreConfigError


def serve(
    ctx: typer.Context,
    socket: Annotated[
        bool, typer.Option("--socket", help="Connect over Socket Mode (needs SLACK_APP_TOKEN).")
    ] = False,
    http: Annotated[
        bool, typer.Option("--http", help="Serve POST /slack/events and GET /healthz over HTTP.")
    ] = False,
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="HTTP port (with --http).")] = 3000,
    host: Annotated[str, typer.Option("--host", help="HTTP bind address (with --http).")] = "0.0.0.0",
) -> None:
    """Run the Slack bot: --socket for development, --http --port P behind a public URL."""
    # Imported here: the Slack app, its server and the scheduler are slow to load; `icp --help` needs none.
    from bot.llm.factory import LlmConfigError, check_llm_settings
    from bot.scheduler.loop import start_in_server
    from bot.services.prompt_check import PromptFileError, check_prompt_files
    from bot.slack.installations import OAuthUnavailable
    from bot.slack.server import ServeConfigError, serve_http, serve_socket

    if socket == http:
        typer.echo("icp serve: choose one of --socket or --http.", err=True)
        raise typer.Exit(2)
    settings = cli_settings(ctx)  # read now: the environment is what the operator just set
    configure_logging(settings)  # LOG_LEVEL, LOG_FORMAT; secrets masked in every record
    try:
        loaded = check_prompt_files()
    except PromptFileError as exc:
        typer.echo(f"icp serve: {exc}", err=True)
        raise typer.Exit(2) from exc
    logging.getLogger(__name__).info("loaded %d prompt and question files", loaded)
    try:  # the model itself is built on first use; a wrong provider setting stops start-up here
        check_llm_settings(settings)
    except LlmConfigError as exc:
        typer.echo(f"icp serve: {exc}", err=True)
        raise typer.Exit(2) from exc
    try:
        if socket:
            serve_socket(settings, background=start_in_server)
        else:
            serve_http(settings, port, host=host, background=start_in_server)
    except (ServeConfigError, StoreConfigError, OAuthUnavailable) as exc:
        typer.echo(f"icp serve: {exc}", err=True)
        raise typer.Exit(2) from exc
