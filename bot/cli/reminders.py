"""``icp reminders run-due`` (one scheduler pass, for cron) and ``icp reminders list``.

``icp serve`` already runs the scheduler loop; this is for deployments that disable it
(``SCHEDULER_ENABLED=false``) and call a pass from cron or a job runner instead. Several such
passes may overlap safely: each reminder is claimed atomically (see ``bot.scheduler``).
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from bot.cli.errors import user_errors
from bot.cli.options import JsonListOpt, JsonOpt
from bot.cli.state import cli_settings

reminders_app = typer.Typer(
    help="Review reminders: run the due ones now, or list them.", no_args_is_help=True
)


@reminders_app.command("run-due")
def run_due_command(
    ctx: typer.Context,
    interviews: Annotated[
        bool, typer.Option("--interviews/--no-interviews", help="Also send due interview reminder DMs.")
    ] = True,
    as_json: JsonOpt = False,
) -> None:
    """Send every review (and interview) reminder that is due now, once, then exit."""
    from bot.scheduler import run_due, worker_id
    from bot.scheduler.clients import client_factory
    from bot.slack.context import AppContext
    from bot.store import connect

    with user_errors():
        settings = cli_settings(ctx)
        engine = connect(settings.resolved_database_url)
        try:
            app_ctx = AppContext(settings=settings, engine=engine)
            report = run_due(
                app_ctx, clients=client_factory(settings, engine), worker=worker_id(), interviews=interviews
            )
        finally:
            engine.dispose()
    nudges = report.interviews
    figures = {
        "reviews_sent": report.reviews_sent,
        "reviews_failed": report.reviews_failed,
        "reviews_skipped": report.reviews_skipped,
        "interview_reminders_sent": nudges.sent if nudges else 0,
        "interview_reminders_failed": nudges.failed if nudges else 0,
    }
    if as_json:
        typer.echo(json.dumps(figures))
        return
    typer.echo(
        f"review reminders: {report.reviews_sent} sent, {report.reviews_failed} failed, "
        f"{report.reviews_skipped} taken by another replica; interview reminders: "
        f"{figures['interview_reminders_sent']} sent, {figures['interview_reminders_failed']} failed"
    )
    if report.reviews_failed or figures["interview_reminders_failed"]:
        raise typer.Exit(1)


@reminders_app.command("list")
def list_command(ctx: typer.Context, as_json: JsonListOpt = False) -> None:
    """Every review reminder in every workspace: cadence, channel, next run, last review."""
    from bot.services.reviews.reminders import list_all_reminders
    from bot.store import connect

    with user_errors():
        settings = cli_settings(ctx)
        engine = connect(settings.resolved_database_url)
        try:
            items = [
                {
                    "workspace": team,
                    "id": r.id,
                    "cadence": r.cadence.value,
                    "cron": r.cron,
                    "channel": r.channel_id,
                    "timezone": r.timezone,
                    "enabled": r.enabled,
                    "next_run_at": r.next_run_at.isoformat(),
                    "last_reviewed_at": r.last_reviewed_at.isoformat() if r.last_reviewed_at else None,
                }
                for team, r in list_all_reminders(engine)
            ]
        finally:
            engine.dispose()
    if as_json:
        typer.echo(json.dumps(items))
        return
    if not items:
        typer.echo("no review reminders")
    for item in items:
        state = "on" if item["enabled"] else "off"
        cadence = item["cron"] or item["cadence"]
        typer.echo(
            f"{item['workspace']} #{item['id']}: {cadence} to {item['channel']} ({item['timezone']}), "
            f"{state}, next {item['next_run_at']}"
        )
