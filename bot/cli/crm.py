"""`icp connect hubspot|salesforce|status|remove` and `icp sync`: the live CRM from the terminal.

Secrets never go on the command line (where `ps` and the shell's history would keep them): the
token, password and security token are asked for without echo in a terminal, or read one per line
from standard input when it is piped (`printf '%s\\n' "$HUBSPOT_TOKEN" | icp connect hubspot`).
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from bot.cli.errors import fail, user_errors
from bot.cli.options import JsonOpt, WorkspaceOpt
from bot.cli.state import cli_settings
from bot.cli.store import cli_user, open_store, refresh_statistics

if TYPE_CHECKING:  # imported when a command runs: `icp --help` stays light
    from bot.services.crm_sync.credentials import CrmCredentials

SKIPPED_SHOWN = 20

connect_app = typer.Typer(
    help="Connect the workspace to HubSpot or Salesforce (credentials checked, then stored encrypted).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

InstanceUrlOpt = Annotated[
    str, typer.Option("--instance-url", help="Your Salesforce address, e.g. https://acme.my.salesforce.com.")
]
UsernameOpt = Annotated[
    str | None,
    typer.Option(
        "--username",
        help="Use the username-password flow (asks for the password and security token) instead of an "
        "access token.",
    ),
]
SandboxOpt = Annotated[bool, typer.Option("--sandbox", help="Log in to a sandbox (test.salesforce.com).")]


def _secret(label: str) -> str:
    """A secret from the terminal without echo, or the next line of piped standard input."""
    if sys.stdin is not None and sys.stdin.isatty():
        value = str(typer.prompt(label, hide_input=True))
    else:
        value = sys.stdin.readline() if sys.stdin is not None else ""
    value = value.strip()
    if not value:
        fail(
            f"no {label.lower()} given: run this in a terminal to be asked for it, or pipe it on standard "
            "input (never as an argument)"
        )
    return value


def _connect(ctx: typer.Context, workspace: str | None, as_json: bool, credentials: CrmCredentials) -> None:
    from bot.services.crm_sync.connect import connect_crm

    with user_errors():
        settings = cli_settings(ctx)
        engine = open_store(settings)
        try:
            outcome = connect_crm(
                engine=engine,
                settings=settings,
                workspace=workspace or settings.default_workspace,
                credentials=credentials,
                actor=cli_user(),
            )
        finally:
            engine.dispose()
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "ok": outcome.ok,
                    "provider": outcome.provider.value,
                    "label": outcome.label,
                    "message": outcome.message,
                }
            )
        )
        if not outcome.ok:
            raise typer.Exit(1)
        return
    if not outcome.ok:
        fail(outcome.message)
    typer.echo(outcome.message[0].upper() + outcome.message[1:])


@connect_app.command("hubspot")
def connect_hubspot(ctx: typer.Context, workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    """Connect HubSpot with a private app's access token (asked for, never an argument).

    The private app needs the scopes crm.objects.companies.read/write, crm.objects.deals.read,
    crm.schemas.companies.read/write and crm.objects.owners.read.
    """
    from bot.connectors.records import Provider
    from bot.services.crm_sync.credentials import CrmCredentials

    token = _secret("HubSpot private app token")
    _connect(ctx, workspace, as_json, CrmCredentials(Provider.hubspot, token=token))


@connect_app.command("salesforce")
def connect_salesforce(
    ctx: typer.Context,
    instance_url: InstanceUrlOpt,
    username: UsernameOpt = None,
    sandbox: SandboxOpt = False,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Connect Salesforce with a connected app's access token, or --username (password and security
    token asked for, never arguments)."""
    from bot.connectors.records import Provider
    from bot.services.crm_sync.credentials import CrmCredentials

    domain = "test" if sandbox else "login"
    if username is None:
        credentials = CrmCredentials(
            Provider.salesforce,
            token=_secret("Salesforce access token"),
            instance_url=instance_url,
            domain=domain,
        )
    else:
        password = _secret("Salesforce password")
        credentials = CrmCredentials(
            Provider.salesforce,
            instance_url=instance_url,
            username=username,
            password=password,
            security_token=_secret("Salesforce security token"),
            domain=domain,
        )
    _connect(ctx, workspace, as_json, credentials)


@connect_app.command("status")
def connect_status(ctx: typer.Context, workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    """Which CRM the workspace is connected to, and how its last sync went."""
    from bot.services.crm_sync.connect import connection_status

    with user_errors():
        settings = cli_settings(ctx)
        name = workspace or settings.default_workspace
        engine = open_store(settings)
        try:
            status = connection_status(engine=engine, workspace=name)
        finally:
            engine.dispose()
    if status is None:
        if as_json:
            typer.echo(json.dumps({"connected": False, "workspace": name}))
            return
        typer.echo(f"workspace '{name}' has no CRM connected (icp connect hubspot | salesforce)")
        return
    data = {
        "connected": True,
        "workspace": name,
        "provider": status.provider.value,
        "label": status.label,
        "connected_by": status.connected_by,
        "last_sync_at": None if status.last_sync_at is None else status.last_sync_at.isoformat(),
        "last_sync_status": None if status.last_sync_status is None else status.last_sync_status.value,
        "last_sync_message": status.last_sync_message,
        "next_sync_at": None if status.next_sync_at is None else status.next_sync_at.isoformat(),
        "token_refused": status.token_refused,
    }
    if as_json:
        typer.echo(json.dumps(data))
        return
    typer.echo(f"{status.provider.label}: {status.label} (connected by {status.connected_by})")
    if status.token_refused:
        typer.echo(f"  the token was refused: connect again (icp connect {status.provider.value})")
    if status.last_sync_at is None:
        typer.echo("  never synced yet: run `icp sync`")
    else:
        state = status.last_sync_status.value if status.last_sync_status else "unknown"
        typer.echo(
            f"  last sync {status.last_sync_at:%Y-%m-%d %H:%M} UTC, {state}: {status.last_sync_message}"
        )
    if status.next_sync_at is not None and not status.token_refused:
        typer.echo(f"  next scheduled sync {status.next_sync_at:%Y-%m-%d %H:%M} UTC")


@connect_app.command("remove")
def connect_remove(ctx: typer.Context, workspace: WorkspaceOpt = None) -> None:
    """Disconnect the CRM: its stored credentials are deleted (synced records stay)."""
    from bot.services.crm_sync.connect import disconnect_crm

    with user_errors():
        settings = cli_settings(ctx)
        name = workspace or settings.default_workspace
        engine = open_store(settings)
        try:
            removed = disconnect_crm(engine=engine, workspace=name, actor=cli_user())
        finally:
            engine.dispose()
    typer.echo(
        f"disconnected the CRM of workspace '{name}'"
        if removed
        else f"workspace '{name}' had no CRM connected"
    )


def sync(
    ctx: typer.Context,
    workspace: WorkspaceOpt = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Read the CRM and report what would change; write nothing anywhere."),
    ] = False,
    full: Annotated[
        bool, typer.Option("--full", help="Read every record, not only those changed since the last sync.")
    ] = False,
    write_back: Annotated[
        bool,
        typer.Option("--write-back/--no-write-back", help="Write changed ICP scores onto the CRM's records."),
    ] = True,
    as_json: JsonOpt = False,
) -> None:
    """Sync the connected CRM now: accounts and deals in (all or nothing), ICP scores back out."""
    from bot.services.crm_sync.sync import SyncContext, SyncRequest, run_sync

    with user_errors():
        settings = cli_settings(ctx)
        name = workspace or settings.default_workspace
        engine = open_store(settings)
        try:
            summary = run_sync(
                SyncContext(
                    engine=engine,
                    settings=settings,
                    refresh_statistics=lambda ws: refresh_statistics(settings, engine, ws),
                ),
                SyncRequest(
                    workspace=name,
                    actor=cli_user(),
                    trigger="cli",
                    dry_run=dry_run,
                    full=full,
                    write_back=write_back,
                ),
            )
        finally:
            engine.dispose()
    if as_json:
        sys.stdout.write(json.dumps(summary.to_dict(), indent=2, ensure_ascii=False) + "\n")
        if not summary.ok:
            raise typer.Exit(1)
        return
    if not summary.ok:
        fail(summary.message)
    typer.echo(summary.message)
    if summary.skipped:
        typer.echo(
            f"Skipped records ({len(summary.skipped):,}; fix them in the CRM, the next sync reads them again):"
        )
        for record in summary.skipped[:SKIPPED_SHOWN]:
            typer.echo(f"  {record}")
        if len(summary.skipped) > SKIPPED_SHOWN:
            typer.echo(f"  ... and {len(summary.skipped) - SKIPPED_SHOWN:,} more (--json lists them)")
    for note in summary.notes:
        typer.echo(f"note: {note}")
