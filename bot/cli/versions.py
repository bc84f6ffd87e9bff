"""`icp versions`, `icp show`, `icp diff` and `icp export`: the ICP's history and documents.

Plain functions, registered by bot/cli/main.py as top-level commands. They read the configured store
(``DATABASE_URL``) for one workspace (``--workspace``, default ``DEFAULT_WORKSPACE``). Output is
plain text, or one JSON document with ``--json``; an export is written atomically (a temp file
renamed into place), so a failure never leaves half a document. Errors: one line, exit code 1.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import groupby
from pathlib import Path
from typing import Annotated

import typer

from bot.cli.errors import fail, user_errors
from bot.cli.options import JsonOpt, SegmentOpt, VersionArg, WorkspaceOpt
from bot.cli.output import check_output, print_json
from bot.cli.state import cli_settings
from bot.console.files import write_atomically
from bot.services.icp.versions import (
    approval_label,
    load_icp,
    parse_version,
    pick_team_versions,
    team_history,
)
from bot.settings import Settings
from bot.store.db import Engine, connect
from bot.store.models import DEFAULT_SEGMENT
from icp_engine.diff import change_lines, diff_icps


@contextmanager
def _store(settings: Settings, workspace: str | None) -> Iterator[tuple[Engine, str]]:
    """The configured store and the workspace's team id (an unknown one is the services' error)."""
    team = workspace or settings.default_workspace
    engine = connect(settings.resolved_database_url)
    try:
        yield engine, team
    finally:
        engine.dispose()


def _number(word: str, what: str = "VERSION") -> int:
    number = parse_version(word)
    if number is None:
        fail(f"{what} {word!r} is not a version number; write it as v3 or 3")
    return number


def versions(
    ctx: typer.Context,
    workspace: WorkspaceOpt = None,
    segment: SegmentOpt | None = None,
    as_json: JsonOpt = False,
) -> None:
    """List the ICP versions (newest first, with what each changed) and the change log."""
    with user_errors(), _store(cli_settings(ctx), workspace) as (engine, team):
        history, log = team_history(engine, team_id=team, segment=segment, log_limit=500)
    if as_json:
        print_json(
            {
                "workspace": team,
                "versions": [v.to_dict() for v in history],
                "log": [e.to_dict() for e in log],
            }
        )
        return
    if not history:
        typer.echo(f"No ICP versions in workspace {team} yet.")
        return
    typer.echo(f"ICP versions in workspace {team} (newest first):")
    for v in history:
        seg = "" if v.segment == DEFAULT_SEGMENT else f" [{v.segment}]"
        approved = f", approved by {v.approver} {v.approved_at:%Y-%m-%d}" if v.approved_at is not None else ""
        typer.echo(
            f"  v{v.version}{seg}  {v.status:<10} {v.name}  (by {v.author} {v.created_at:%Y-%m-%d}{approved})"
        )
        typer.echo(f"      {v.changes}")
    typer.echo("Change log (newest first):")
    for e in log:
        typer.echo(f"  {e.at:%Y-%m-%d %H:%M}  {e.actor}  {e.text}")


def show(
    ctx: typer.Context,
    version: Annotated[
        str | None, typer.Argument(help="A version number (v3 or 3); default: the newest.")
    ] = None,
    workspace: WorkspaceOpt = None,
    segment: SegmentOpt = DEFAULT_SEGMENT,
    as_json: JsonOpt = False,
) -> None:
    """Print one ICP version: its status and approval, then the ICP itself as YAML."""
    with user_errors():
        number = _number(version) if version is not None else None
        with _store(cli_settings(ctx), workspace) as (engine, team):
            (row,) = pick_team_versions(engine, team_id=team, numbers=[number], segment=segment)
        icp = load_icp(row)
    if as_json:
        print_json(
            {
                "version": row.version,
                "segment": row.segment,
                "status": row.status.value,
                "author": row.author,
                "approver": row.approver,
                "approved_at": row.approved_at.isoformat() if row.approved_at else None,
                "change_note": row.change_note,
                "backtest": row.backtest,
                "icp": icp.to_dict(),
            }
        )
        return
    typer.echo(f"# {approval_label(row, mention=False)}; drafted by {row.author} {row.created_at:%Y-%m-%d}")
    if row.change_note:
        typer.echo(f"# note: {' '.join(row.change_note.split())}")
    typer.echo(icp.to_yaml(), nl=False)


def diff(
    ctx: typer.Context,
    before: VersionArg,
    after: VersionArg,
    workspace: WorkspaceOpt = None,
    segment: SegmentOpt = DEFAULT_SEGMENT,
    as_json: JsonOpt = False,
) -> None:
    """Compare two ICP versions: criteria added, removed and re-weighted, tiers, disqualifiers."""
    with user_errors():
        first, second = _number(before, "BEFORE"), _number(after, "AFTER")
        with _store(cli_settings(ctx), workspace) as (engine, team):
            rows = pick_team_versions(engine, team_id=team, numbers=[first, second], segment=segment)
        changes = diff_icps(load_icp(rows[0]), load_icp(rows[1]))
    lines = change_lines(changes)
    if as_json:
        print_json(
            {
                "before": first,
                "after": second,
                "segment": segment,
                "summary": changes.summary(),
                "changes": [{"group": group, "change": line} for group, line in lines],
            }
        )
        return
    typer.echo(f"ICP v{first} → v{second}: {changes.summary()}")
    for group, items in groupby(lines, key=lambda item: item[0]):
        typer.echo(f"{group}:")
        for _, line in items:
            typer.echo(f"  {line}")


def export(
    ctx: typer.Context,
    fmt: Annotated[str, typer.Option("--format", "-f", help="md, html or pdf.")] = "pdf",
    version: Annotated[
        str | None, typer.Option("--version", help="A version (v3 or 3); default: the approved one.")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="The file to write (default: stdout for md/html).")
    ] = None,
    workspace: WorkspaceOpt = None,
    segment: SegmentOpt = DEFAULT_SEGMENT,
    with_appendix: Annotated[
        bool,
        typer.Option("--appendix", help="Add the appendix: evidence, citations and the backtest."),
    ] = False,
) -> None:
    """Export the ICP as a one-page document (md, html or pdf), written atomically.

    The page holds the ICP in one sentence with its proof, the tiers with their plays, the
    characteristics, disqualifiers, personas, pains and triggers, owner, approver and next
    review; --appendix adds the evidence, citations and backtest (a PDF's appendix starts on
    page 2). The approved version unless --version names another.
    """
    with user_errors():
        # Imported here: the PDF renderer is slow to load and only `icp export` needs it.
        from bot.services.icp.export import load_document, parse_format, render

        chosen = parse_format(fmt)
        if chosen is None:
            fail(f"--format {fmt!r} is not one of md, html, pdf")
        number = _number(version, "--version") if version is not None else None
        if output is not None:
            check_output(output, "--output")
        elif chosen == "pdf" and sys.stdout.isatty():
            fail("a PDF is binary: give a file with -o FILE (or pipe stdout into one)")
        settings = cli_settings(ctx)
        team = workspace or settings.default_workspace
        engine = connect(settings.resolved_database_url)
        try:
            doc = load_document(engine, team_id=team, version=number, segment=segment)
        finally:
            engine.dispose()
        data = render(doc, chosen, appendix=with_appendix)
        if output is None:
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
            return
        write_atomically(output, lambda tmp: tmp.write_bytes(data))
    typer.echo(f"Wrote ICP v{doc.version} ({doc.status}) as {chosen} to {output} ({len(data):,} bytes).")
