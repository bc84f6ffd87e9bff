"""`icp approve vN`: approve an ICP version from a shell, under the same rules as Slack's Approve button.

The work is the review service's ``approve`` (the one the Slack action calls), so what can be
approved, the superseding of the previous version and the audit entry are the same; the approver
recorded is ``cli:<OS user>``. `icp draft --approve` uses :func:`approve_version` too.
"""

from __future__ import annotations

import getpass
import re
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import typer

from bot.cli.errors import err, fail, user_errors
from bot.cli.options import JsonOpt, SegmentOpt, VersionArg, WorkspaceOpt
from bot.cli.output import print_json
from bot.cli.state import cli_settings
from bot.services.icp.review import ReviewError
from bot.services.icp.review import approve as approve_in_review
from bot.services.icp.versions import (
    VersionNotFound,
    approved_version,
    parse_version,
    pick_team_versions,
)
from bot.settings import Settings
from bot.store.db import Engine, connect
from bot.store.models import DEFAULT_SEGMENT, IcpStatus
from bot.store.models.base import SLACK_ID

if TYPE_CHECKING:
    from bot.knowledge.store import KnowledgeStore

_MENTION = re.compile(r"<@([^>]+)>")


def cli_actor() -> str:
    """``cli:<OS user name>``, cut to the approver column's size; ``cli`` when there is no user name."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError):  # no USER/LOGNAME and no passwd entry (some containers)
        user = ""
    return f"cli:{user}"[:SLACK_ID] if user else "cli"


@dataclass(frozen=True)
class Approval:
    """What an approval did, as `icp approve --json` prints it."""

    workspace: str
    segment: str
    version: int
    status: str
    approver: str
    approved_at: datetime | None
    superseded: int | None  # the version that was approved before, now superseded

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["approved_at"] = self.approved_at.isoformat() if self.approved_at else None
        return data

    def text(self) -> str:
        seg = "" if self.segment == DEFAULT_SEGMENT else f" (segment {self.segment})"
        replaced = f"; v{self.superseded} is superseded" if self.superseded is not None else ""
        return (
            f"Approved ICP v{self.version}{seg} in workspace {self.workspace} as {self.approver}: "
            f"scoring uses it from now on{replaced}."
        )


def _open_knowledge(settings: Settings) -> KnowledgeStore | None:
    """The vector store, or None: the approval stands without it and `icp reindex` repairs the copy."""
    from bot.knowledge.store import knowledge_store_from

    try:
        return knowledge_store_from(settings)
    except Exception as exc:  # same fallback as Slack's approve action (knowledge_or_none)
        err.print(
            f"warning: knowledge store not updated ({type(exc).__name__}); run `icp reindex` later",
            highlight=False,
        )
        return None


def approve_version(
    engine: Engine,
    *,
    settings: Settings,
    team: str,
    number: int,
    segment: str = DEFAULT_SEGMENT,
    knowledge: KnowledgeStore | None = None,
) -> Approval:
    """Approve version ``number`` of ``segment``; every refusal is a one-line error naming it."""
    try:
        (row,) = pick_team_versions(engine, team_id=team, numbers=[number], segment=segment)
    except VersionNotFound as exc:
        fail(f"cannot approve ICP v{number}: {exc}")
    if row.status == IcpStatus.approved:
        when = f" on {row.approved_at:%Y-%m-%d}" if row.approved_at else ""
        fail(f"ICP v{number} is already approved (by {row.approver}{when}); nothing changed")
    before = approved_version(engine, team_id=team, segment=row.segment)
    assert row.id is not None
    try:
        outcome, facts = approve_in_review(
            engine,
            knowledge=knowledge if knowledge is not None else _open_knowledge(settings),
            team_id=team,
            version_id=row.id,
            actor=cli_actor(),
        )
    except ReviewError as exc:  # the rules' own words, without Slack's mention markup
        fail(_MENTION.sub(r"\1", str(exc)))
    return Approval(
        workspace=team,
        segment=outcome.segment,
        version=outcome.version,
        status=facts.status.value,
        approver=facts.approver or cli_actor(),
        approved_at=facts.approved_at,
        superseded=before.version if before is not None and before.id != row.id else None,
    )


def approve(
    ctx: typer.Context,
    version: VersionArg,
    workspace: WorkspaceOpt = None,
    segment: SegmentOpt = DEFAULT_SEGMENT,
    as_json: JsonOpt = False,
) -> None:
    """Approve an ICP version (e.g. v3): scoring uses it from now on; the approver is cli:<you>."""
    with user_errors():
        number = parse_version(version)
        if number is None:
            fail(f"VERSION {version!r} is not a version number; write it as v3 or 3")
        settings = cli_settings(ctx)
        team = workspace or settings.default_workspace
        engine = connect(settings.resolved_database_url)
        try:
            done = approve_version(engine, settings=settings, team=team, number=number, segment=segment)
        finally:
            engine.dispose()
    if as_json:
        print_json(done.to_dict())
        return
    typer.echo(done.text())
