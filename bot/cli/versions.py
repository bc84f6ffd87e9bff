"""`icp versions`, `icp show`, `icp diff` and `icp export`: the ICP's history and documents.

Plain functions, mounted by bot/cli/main.py as top-level commands. They read the configured store
(``DATABASE_URL``) for one workspace (``--workspace``, default ``DEFAULT_WORKSPACE``). Output is
plain text, or one JSON document with ``--json``; an export is written atomically (a temp file
renamed into place), so a failure never leaves half a document. Errors: one line, exit code 1.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import groupby
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy import Engine
from sqlmodel import Session

from bot.cli.errors import fail, user_errors
from bot.settings import Settings
from bot.store.models import DEFAULT_SEGMENT, IcpVersion

WorkspaceOpt = Annotated[
    str | None,
    typer.Option("--workspace", "-w", help="Slack team id of the workspace (default: DEFAULT_WORKSPACE)."),
]
SegmentOpt = Annotated[str, typer.Option("--segment", help="The ICP segment (default: the primary one).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one machine-readable JSON object.")]
VersionArg = Annotated[str, typer.Argument(help="A version number, e.g. v3 or 3.", show_default=False)]


@contextmanager
def _workspace(workspace: str | None) -> Iterator[tuple[Engine, Session, int, str]]:
    """The store, a read session and the workspace's id; a clear error if it does not exist."""
    from bot.services.icp.versions import workspace_of
    from bot.store.db import connect, read_scope

    settings = Settings()
    team = workspace or settings.default_workspace
    engine = connect(settings.resolved_database_url)
    try:
        with read_scope(engine) as session:
            ws = workspace_of(session, team)
            if ws is None or ws.id is None:
                fail(f"workspace {team} is not in the database (nothing imported or drafted there yet)")
            yield engine, session, ws.id, team
    finally:
        engine.dispose()


def _number(word: str, what: str = "VERSION") -> int:
    from bot.services.icp.versions import parse_version

    number = parse_version(word)
    if number is None:
        fail(f"{what} {word!r} is not a version number; write it as v3 or 3")
    return number


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def versions(
    workspace: WorkspaceOpt = None, segment: SegmentOpt | None = None, as_json: JsonOpt = False
) -> None:
    """List the ICP versions (newest first, with what each changed) and the change log."""
    with user_errors():
        from bot.services.icp.versions import change_log, version_history

        with _workspace(workspace) as (_, session, ws_id, team):
            history = version_history(session, ws_id, segment=segment)
            log = change_log(session, ws_id, segment=segment, limit=500)
    if as_json:
        _print_json(
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


def _load(session: Session, ws_id: int, number: int | None, segment: str) -> IcpVersion:
    from bot.services.icp.versions import pick_version, segment_versions

    return pick_version(segment_versions(session, ws_id, segment), number, segment)


def show(
    version: Annotated[
        str | None, typer.Argument(help="A version number (v3 or 3); default: the newest.")
    ] = None,
    workspace: WorkspaceOpt = None,
    segment: SegmentOpt = DEFAULT_SEGMENT,
    as_json: JsonOpt = False,
) -> None:
    """Print one ICP version: its status and approval, then the ICP itself as YAML."""
    with user_errors():
        from bot.services.icp.versions import approval_label, load_icp

        number = _number(version) if version is not None else None
        with _workspace(workspace) as (_, session, ws_id, _team):
            row = _load(session, ws_id, number, segment)
        icp = load_icp(row)
    if as_json:
        _print_json(
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
    before: VersionArg,
    after: VersionArg,
    workspace: WorkspaceOpt = None,
    segment: SegmentOpt = DEFAULT_SEGMENT,
    as_json: JsonOpt = False,
) -> None:
    """Compare two ICP versions: criteria added, removed and re-weighted, tiers, disqualifiers."""
    with user_errors():
        from bot.services.icp.versions import load_icp
        from icp_engine.diff import change_lines, diff_icps

        first, second = _number(before, "BEFORE"), _number(after, "AFTER")
        with _workspace(workspace) as (_, session, ws_id, _team):
            rows = (_load(session, ws_id, first, segment), _load(session, ws_id, second, segment))
        changes = diff_icps(load_icp(rows[0]), load_icp(rows[1]))
    lines = change_lines(changes)
    if as_json:
        _print_json(
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
    fmt: Annotated[str, typer.Option("--format", "-f", help="md, html or pdf.")] = "pdf",
    version: Annotated[
        str | None, typer.Option("--version", help="A version (v3 or 3); default: the approved one.")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="The file to write (default: stdout for md/html).")
    ] = None,
    workspace: WorkspaceOpt = None,
    segment: SegmentOpt = DEFAULT_SEGMENT,
) -> None:
    """Export the ICP as a one-page document (md, html or pdf), written atomically.

    The document holds the criteria, tiers, disqualifiers, personas, evidence, backtest,
    approval and version; the approved version unless --version names another.
    """
    with user_errors():
        from bot.cli.output import check_output, write_atomically
        from bot.services.icp.export import load_document, parse_format, render

        chosen = parse_format(fmt)
        if chosen is None:
            fail(f"--format {fmt!r} is not one of md, html, pdf")
        number = _number(version, "--version") if version is not None else None
        if output is not None:
            check_output(output, "--output")
        elif chosen == "pdf" and sys.stdout.isatty():
            fail("a PDF is binary: give a file with -o FILE (or pipe stdout into one)")
        settings = Settings()
        team = workspace or settings.default_workspace
        from bot.store.db import connect

        engine = connect(settings.resolved_database_url)
        try:
            doc = load_document(engine, team_id=team, version=number, segment=segment)
        finally:
            engine.dispose()
        data = render(doc, chosen)
        if output is None:
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
            return
        write_atomically(output, lambda tmp: tmp.write_bytes(data))
    typer.echo(f"Wrote ICP v{doc.version} ({doc.status}) as {chosen} to {output} ({len(data):,} bytes).")
