"""`icp import accounts|deals|health FILE` and `icp db upgrade`: the CLI over the import service.

Mounted in bot/cli/main.py as `import` and `db`. Success prints a summary on stdout (or one JSON object
with --json) and exits 0; any failure prints one `error:` line on stderr (plus the rejected rows,
when there are some) and exits 1. Never a traceback, unless ICP_DEBUG is set.
"""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from bot.cli.errors import fail, user_errors
from bot.services.imports.service import ImportSummary, import_accounts, import_deals, import_health
from bot.settings import Settings
from bot.store.db import connect, current_revision, head_revision, make_engine, upgrade
from icp_engine.readers import parse_map_options

import_app = typer.Typer(
    help="Import CRM exports (accounts first, then deals and customer health) into the store.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(
    help="The SQL store's schema.", no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False
)

MAX_SHOWN_ERRORS = 50
MAX_SHOWN_FINDINGS = 40
_DETAILED_METHODS = ("fuzzy", "synonym", "unknown", "parsed")

FileArg = Annotated[Path, typer.Argument(help="The CSV export.")]
WorkspaceOpt = Annotated[
    str | None,
    typer.Option(
        "--workspace", "-w", help="Workspace (Slack team id); default: DEFAULT_WORKSPACE or 'local'."
    ),
]
MapOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--map", help="Column for a field when the name is not recognised: FIELD=COLUMN. Repeatable."
    ),
]
SkipOpt = Annotated[
    bool, typer.Option("--skip-bad-rows", help="Import the good rows and list the rejected ones.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one machine-readable JSON object.")]


def _actor() -> str:
    try:
        return getpass.getuser() or "cli"
    except (OSError, KeyError):
        return "cli"


def _open_store(settings: Settings) -> Engine:
    """The configured store; SQLite upgrades itself, PostgreSQL must already be at head."""
    engine = connect(settings.resolved_database_url)
    current, head = current_revision(engine), head_revision()
    if current != head:
        engine.dispose()
        fail(
            f"the database schema is at {current or 'nothing'}, this version needs {head}: run `icp db upgrade`"
        )
    return engine


def _print_summary(summary: ImportSummary) -> None:
    echo = typer.echo
    echo(summary.message)
    if summary.errors:
        echo(f"Rejected rows (skipped, {summary.rejected:,}):")
        for line in _error_lines(summary):
            echo(f"  {line}")
    quality = [*summary.findings, *_mapping_lines(summary)]
    if quality:
        echo("Data quality:")
        for line in quality[:MAX_SHOWN_FINDINGS]:
            echo(f"  - {line}")
        if len(quality) > MAX_SHOWN_FINDINGS:
            echo(f"  ... and {len(quality) - MAX_SHOWN_FINDINGS:,} more (--json lists them all)")


def _mapping_lines(summary: ImportSummary) -> list[str]:
    """Misspellings, synonyms, unknown and parsed values one by one; exact and derived as counts."""
    lines = [m.describe(rows) for m, rows in summary.mappings if m.method in _DETAILED_METHODS]
    for method, label in (("exact", "written differently, mapped exactly"), ("derived", "derived")):
        found = [(m, rows) for m, rows in summary.mappings if m.method == method]
        if found:
            fields = sorted({m.field for m, _ in found})
            total = sum(rows for _, rows in found)
            lines.append(f"{', '.join(fields)}: {len(found):,} values {label} ({total:,} rows)")
    return lines


def _error_lines(summary: ImportSummary) -> list[str]:
    lines = [str(e) for e in summary.errors[:MAX_SHOWN_ERRORS]]
    if len(summary.errors) > MAX_SHOWN_ERRORS:
        lines.append(f"... and {len(summary.errors) - MAX_SHOWN_ERRORS:,} more")
    return lines


def _report(summary: ImportSummary, as_json: bool, indexed: int | str | None = None) -> None:
    if as_json:
        data = summary.to_dict()
        # Always both keys (null when nothing was written), so the object's shape never changes.
        data["statistics_indexed"] = indexed if isinstance(indexed, int) else None
        data["statistics_error"] = indexed if isinstance(indexed, str) else None
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    if summary.ok:
        if not as_json:
            _print_summary(summary)
            if isinstance(indexed, int):
                sys.stdout.write(f"knowledge store: {indexed:,} statistic summaries regenerated\n")
        if isinstance(indexed, str):
            sys.stderr.write(f"warning: statistic summaries not regenerated: {indexed}\n")
        return
    if not as_json and summary.errors:
        sys.stderr.write(f"error: {summary.message}\n")
        for line in _error_lines(summary):
            sys.stderr.write(f"  {line}\n")
        raise typer.Exit(1)
    fail(summary.message)


def _run(
    service: Callable[..., ImportSummary],
    file: Path,
    workspace: str | None,
    maps: list[str] | None,
    skip_bad_rows: bool,
    as_json: bool,
    **extra: Any,
) -> None:
    with user_errors():
        overrides = parse_map_options(maps or [])
        settings = Settings()
        engine = _open_store(settings)
        workspace = workspace or settings.default_workspace
        try:
            summary = service(
                engine=engine,
                workspace=workspace,
                path=file,
                overrides=overrides,
                skip_bad_rows=skip_bad_rows,
                actor=_actor(),
                **extra,
            )
            indexed = _sync_statistics(settings, engine, workspace) if summary.status == "imported" else None
        finally:
            engine.dispose()
    _report(summary, as_json, indexed)


def _sync_statistics(settings: Settings, engine: Engine, workspace: str) -> int | str:
    """Regenerate the workspace's statistic summaries in the knowledge store after a write.

    Returns how many there are now, or why it failed: the import itself is committed either way,
    and `icp reindex` rebuilds the summaries from SQL later.
    """
    from bot.knowledge.store import knowledge_store_from
    from bot.services.knowledge.sync import sync_statistics

    try:
        return sync_statistics(engine=engine, knowledge=knowledge_store_from(settings), workspace=workspace)
    except Exception as exc:  # reported, never a traceback: the data is safely in SQL
        reason = " ".join(str(exc).split()) or type(exc).__name__
        return f"{reason}; run `icp reindex --workspace {workspace}` to rebuild them"


@import_app.command("accounts")
def accounts_cmd(
    file: FileArg,
    workspace: WorkspaceOpt = None,
    maps: MapOpt = None,
    skip_bad_rows: SkipOpt = False,
    revenue_unit: Annotated[
        float,
        typer.Option("--revenue-unit", help="Multiply annual revenue by this (1e6 when it is in millions)."),
    ] = 1.0,
    as_json: JsonOpt = False,
) -> None:
    """Import accounts (companies): id or name, industry, size, revenue, country, custom columns."""
    if not revenue_unit > 0:
        fail(f"--revenue-unit must be a positive number (got {revenue_unit})")
    _run(import_accounts, file, workspace, maps, skip_bad_rows, as_json, revenue_unit=revenue_unit)


@import_app.command("deals")
def deals_cmd(
    file: FileArg,
    workspace: WorkspaceOpt = None,
    maps: MapOpt = None,
    skip_bad_rows: SkipOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Import deals (won, lost, open), each joined to a stored account by account id or name."""
    _run(import_deals, file, workspace, maps, skip_bad_rows, as_json)


@import_app.command("health")
def health_cmd(
    file: FileArg,
    workspace: WorkspaceOpt = None,
    maps: MapOpt = None,
    skip_bad_rows: SkipOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Import customer health (ARR, tenure, churn, NPS, health score), one row per stored account."""
    _run(import_health, file, workspace, maps, skip_bad_rows, as_json)


@db_app.command("upgrade")
def upgrade_cmd() -> None:
    """Bring the database schema up to date (Alembic upgrade head) and print its revision."""
    with user_errors():
        url = Settings().resolved_database_url
        engine = make_engine(url)
        try:
            upgrade(engine)
            revision = current_revision(engine)
        finally:
            engine.dispose()
        shown = make_url(url).render_as_string(hide_password=True)
        typer.echo(f"database {shown} is at revision {revision}")
