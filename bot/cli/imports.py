"""`icp import accounts|deals|health FILE` and `icp db upgrade`: the CLI over the import service.

Registered in bot/cli/main.py as `import` and `db`. Success prints a summary on stdout (or one JSON object
with --json) and exits 0; any failure prints one `error:` line on stderr (plus the rejected rows,
when there are some) and exits 1. Never a traceback, unless ICP_DEBUG is set.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer

from bot.cli.errors import fail, user_errors
from bot.cli.options import CsvFileArg, ImportMapOpt, JsonOpt, RevenueUnitOpt, SkipBadRowsOpt, WorkspaceOpt
from bot.cli.progress import counted, wanted
from bot.cli.state import cli_settings
from bot.cli.store import cli_user, open_store, refresh_statistics
from bot.services.imports.service import ImportSummary, import_accounts, import_deals, import_health
from bot.store.db import (
    current_revision,
    display_url,
    make_engine,
    upgrade,
)
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
    for method, label in (
        ("exact", "written differently, mapped exactly"),
        ("derived", "derived"),
        ("kept", "kept as written (no canonical match)"),
    ):
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


@dataclass(frozen=True)
class ImportRequest:
    """What every `icp import` command was asked: the file, where it goes, and how to read it."""

    file: Path
    workspace: str | None
    maps: list[str] | None
    skip_bad_rows: bool
    as_json: bool


def _run(
    ctx: typer.Context, service: Callable[..., ImportSummary], request: ImportRequest, **extra: Any
) -> None:
    with user_errors():
        overrides = parse_map_options(request.maps or [])
        settings = cli_settings(ctx)
        engine = open_store(settings)
        workspace = request.workspace or settings.default_workspace
        name = request.file.name
        try:
            with counted(
                f"{name}: reading and checking", then=f"{name}: storing rows", show=wanted(request.as_json)
            ) as on_progress:
                summary = service(
                    engine=engine,
                    workspace=workspace,
                    path=request.file,
                    overrides=overrides,
                    skip_bad_rows=request.skip_bad_rows,
                    actor=cli_user(),
                    on_progress=on_progress,
                    **extra,
                )
            indexed = (
                refresh_statistics(settings, engine, workspace) if summary.status == "imported" else None
            )
        finally:
            engine.dispose()
    _report(summary, request.as_json, indexed)


@import_app.command("accounts")
def accounts_cmd(
    ctx: typer.Context,
    file: CsvFileArg,
    workspace: WorkspaceOpt = None,
    maps: ImportMapOpt = None,
    skip_bad_rows: SkipBadRowsOpt = False,
    revenue_unit: RevenueUnitOpt = 1.0,
    as_json: JsonOpt = False,
) -> None:
    """Import accounts (companies): id or name, industry, size, revenue, country, custom columns."""
    if not revenue_unit > 0:
        fail(f"--revenue-unit must be a positive number (got {revenue_unit})")
    request = ImportRequest(file, workspace, maps, skip_bad_rows, as_json)
    _run(ctx, import_accounts, request, revenue_unit=revenue_unit)


@import_app.command("deals")
def deals_cmd(
    ctx: typer.Context,
    file: CsvFileArg,
    workspace: WorkspaceOpt = None,
    maps: ImportMapOpt = None,
    skip_bad_rows: SkipBadRowsOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Import deals (won, lost, open), each joined to a stored account by account id or name."""
    _run(ctx, import_deals, ImportRequest(file, workspace, maps, skip_bad_rows, as_json))


@import_app.command("health")
def health_cmd(
    ctx: typer.Context,
    file: CsvFileArg,
    workspace: WorkspaceOpt = None,
    maps: ImportMapOpt = None,
    skip_bad_rows: SkipBadRowsOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Import customer health (ARR, tenure, churn, NPS, health score), one row per stored account."""
    _run(ctx, import_health, ImportRequest(file, workspace, maps, skip_bad_rows, as_json))


@db_app.command("upgrade")
def upgrade_cmd(ctx: typer.Context) -> None:
    """Bring the database schema up to date (Alembic upgrade head) and print its revision."""
    with user_errors():
        url = cli_settings(ctx).resolved_database_url
        engine = make_engine(url)
        try:
            upgrade(engine)
            revision = current_revision(engine)
        finally:
            engine.dispose()
        shown = display_url(url)
        typer.echo(f"database {shown} is at revision {revision}")
