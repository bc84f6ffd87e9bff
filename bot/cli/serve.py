"""``icp serve``: run the Slack bot over Socket Mode (development) or HTTP (production)."""

from __future__ import annotations

import logging

import typer


def serve(
    socket: bool = typer.Option(False, "--socket", help="Connect over Socket Mode (needs SLACK_APP_TOKEN)."),
    http: bool = typer.Option(False, "--http", help="Serve POST /slack/events and GET /healthz over HTTP."),
    port: int = typer.Option(3000, "--port", min=1, max=65535, help="HTTP port (with --http)."),
    host: str = typer.Option("0.0.0.0", "--host", help="HTTP bind address (with --http)."),
) -> None:
    """Run the Slack bot: --socket for development, --http --port P behind a public URL."""
    from bot.settings import Settings
    from bot.slack.installations import OAuthUnavailable
    from bot.slack.server import ServeConfigError, serve_http, serve_socket
    from bot.store.db import StoreConfigError

    if socket == http:
        typer.echo("icp serve: choose one of --socket or --http.", err=True)
        raise typer.Exit(2)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = Settings()  # read now, not cached: the environment is what the operator just set
    try:
        if socket:
            serve_socket(settings)
        else:
            serve_http(settings, port, host=host)
    except (ServeConfigError, StoreConfigError, OAuthUnavailable) as exc:
        typer.echo(f"icp serve: {exc}", err=True)
        raise typer.Exit(2) from exc
