"""ICP version history: find a version by number, list versions, and the change log.

Every draft and every edit of an ICP is a stored version (bot/store/repo/icp.py); approving one
supersedes the segment's previously approved version. This module reads that history back for
people: which versions exist, who drafted, edited, submitted, approved or superseded which one
and when (from the audit log), and what each version changed against the one before it (from
the pure diff in ``icp_engine.diff``). The default segment is the primary one: scoring, ``/icp
show`` and export use it unless another segment is named.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.store.db import Engine, Session, read_scope
from bot.store.models import DEFAULT_SEGMENT, AuditEntry, IcpStatus, IcpVersion, Workspace
from bot.store.repo.audit import list_audit_of_targets
from bot.store.repo.errors import NotFoundError
from bot.store.repo.icp import get_active_icp, list_icp_versions
from bot.store.repo.workspaces import get_workspace
from icp_engine.diff import IcpDiff, diff_icps
from icp_engine.model import ICP, ICPError

# The store's lifecycle actions (bot/store/repo/icp.py) and the review service's (drafted with an
# LLM or offline, edited into a new version, changes requested).
ICP_ACTIONS = (
    "icp.draft",
    "icp.drafted",
    "icp.edit",
    "icp.edited",
    "icp.changes_requested",
    "icp.in_review",
    "icp.approved",
    "icp.superseded",
    "icp.reviewed",
)
_VERBS = {
    "icp.draft": "drafted",
    "icp.drafted": "drafted",
    "icp.edit": "edited",
    "icp.edited": "edited",
    "icp.changes_requested": "asked for changes to",
    "icp.in_review": "submitted for review",
    "icp.approved": "approved",
    "icp.superseded": "superseded",
    "icp.reviewed": "reviewed",
}
# Entries that change a version's content: the newest one of each version carries its changes.
_CONTENT = frozenset({"icp.drafted", "icp.edit", "icp.edited"})
_NOTE_MAX = 200


class VersionNotFound(NotFoundError):
    """The version number asked for does not exist; the message lists the ones that do."""


class WorkspaceNotFound(NotFoundError):
    """The bot has no data for this Slack team yet; the message says so."""


def parse_version(word: str) -> int | None:
    """``"3"`` or ``"v3"`` as 3; None for anything else."""
    text = word.strip().lower().removeprefix("v")
    return int(text) if text.isdigit() and 0 < int(text) < 1_000_000 else None


def workspace_of(session: Session, team_id: str) -> Workspace | None:
    return get_workspace(session=session, slack_team_id=team_id)


def load_icp(row: IcpVersion) -> ICP:
    """The engine's ICP of a stored version, numbered; ICPError when it no longer validates."""
    icp = ICP.from_dict(row.icp_json, source=f"ICP v{row.version}")
    return icp.model_copy(update={"version": row.version})


def segment_versions(session: Session, workspace_id: int, segment: str = DEFAULT_SEGMENT) -> list[IcpVersion]:
    """The segment's versions, oldest first."""
    rows = list_icp_versions(session=session, workspace_id=workspace_id, segment=segment)
    return sorted(rows, key=lambda r: r.version)


def pick_version(
    rows: Sequence[IcpVersion], number: int | None, segment: str = DEFAULT_SEGMENT
) -> IcpVersion:
    """Version ``number`` among ``rows`` (the newest when None); VersionNotFound says what exists."""
    if not rows:
        where = "" if segment == DEFAULT_SEGMENT else f" in segment {segment!r}"
        raise VersionNotFound(f"there is no ICP yet{where}")
    if number is None:
        return max(rows, key=lambda r: r.version)
    for row in rows:
        if row.version == number:
            return row
    numbers = ", ".join(f"v{r.version}" for r in sorted(rows, key=lambda r: r.version))
    raise VersionNotFound(f"there is no version {number}; versions stored: {numbers}")


def approval_label(row: IcpVersion, *, mention: bool = True) -> str:
    """ "ICP v3, approved by <@U1> on 2026-11-30", or what the version is when not approved."""
    who = (f"<@{row.approver}>" if mention and _is_slack_id(row.approver) else row.approver) or "someone"
    status = IcpStatus(row.status)
    if status == IcpStatus.approved and row.approved_at is not None:
        return f"ICP v{row.version}, approved by {who} on {row.approved_at:%Y-%m-%d}"
    if status == IcpStatus.superseded and row.approved_at is not None:
        return f"ICP v{row.version}, approved by {who} on {row.approved_at:%Y-%m-%d}, since superseded"
    return f"ICP v{row.version} ({status.value.replace('_', ' ')}, not approved)"


def _is_slack_id(value: str | None) -> bool:
    if not value:
        return False
    return value[:1] in "UW" and value.isascii() and value.isalnum()


@dataclass(frozen=True)
class VersionSummary:
    """One stored version as the history shows it."""

    id: int
    version: int
    segment: str
    status: str
    name: str
    author: str
    created_at: datetime
    updated_at: datetime
    approver: str | None
    approved_at: datetime | None
    superseded_at: datetime | None
    change_note: str | None
    changes: str  # against the segment's previous version: "criteria: 1 added, 2 re-weighted"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "version": self.version,
            "segment": self.segment,
            "status": self.status,
            "name": self.name,
            "author": self.author,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "approver": self.approver,
            "approved_at": self.approved_at.isoformat() if self.approved_at else None,
            "superseded_at": self.superseded_at.isoformat() if self.superseded_at else None,
            "change_note": self.change_note,
            "changes": self.changes,
        }


@dataclass(frozen=True)
class ChangeLogEntry:
    """Who did what to which version, and when."""

    at: datetime
    actor: str
    action: str  # icp.draft | icp.edit | icp.in_review | icp.approved | icp.superseded
    version: int | None
    segment: str | None
    text: str  # "drafted v3 (criteria: 1 added)"

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "actor": self.actor,
            "action": self.action,
            "version": self.version,
            "segment": self.segment,
            "text": self.text,
        }


def _safe_diff(before: IcpVersion, after: IcpVersion) -> IcpDiff | None:
    try:
        return diff_icps(load_icp(before), load_icp(after))
    except ICPError:
        return None


def _changes_text(previous: IcpVersion | None, row: IcpVersion) -> str:
    if previous is None:
        return "first version"
    diff = _safe_diff(previous, row)
    if diff is None:
        return "cannot compare (a stored version no longer validates)"
    return f"vs v{previous.version}: {diff.summary()}"


def version_history(
    session: Session, workspace_id: int, *, segment: str | None = None
) -> list[VersionSummary]:
    """Every version (of one segment, or all), newest first, each with what it changed."""
    rows = list_icp_versions(session=session, workspace_id=workspace_id, segment=segment)
    by_segment: dict[str, list[IcpVersion]] = {}
    for row in sorted(rows, key=lambda r: r.version):
        by_segment.setdefault(row.segment, []).append(row)
    out: list[VersionSummary] = []
    for seg_rows in by_segment.values():
        previous: IcpVersion | None = None
        for row in seg_rows:
            assert row.id is not None
            out.append(
                VersionSummary(
                    id=row.id,
                    version=row.version,
                    segment=row.segment,
                    status=IcpStatus(row.status).value,
                    name=row.name,
                    author=row.author,
                    created_at=row.created_at,
                    updated_at=row.updated_at,
                    approver=row.approver,
                    approved_at=row.approved_at,
                    superseded_at=row.superseded_at,
                    change_note=row.change_note,
                    changes=_changes_text(previous, row),
                )
            )
            previous = row
    return sorted(out, key=lambda v: (v.segment != DEFAULT_SEGMENT, v.segment, -v.version))


def change_log(
    session: Session, workspace_id: int, *, segment: str | None = None, limit: int = 200
) -> list[ChangeLogEntry]:
    """The ICP's audit trail, newest first: drafts, edits, reviews, approvals, supersessions.

    The newest draft-or-edit entry of each version carries what that version changes against
    the one before it (its content now is the content that entry left behind).
    """
    history = {v.id: v for v in version_history(session, workspace_id, segment=segment)}
    entries = list_audit_of_targets(
        session,
        workspace_id=workspace_id,
        target_type="icp_version",
        actions=ICP_ACTIONS,
        target_ids=[str(i) for i in history] if segment is not None else None,
        limit=limit * 2,  # twice the limit: each rich entry hides at most one plain one
    )
    # The review service writes its own richer entry next to the store's plain "icp.draft".
    described = {e.target_id for e in entries if e.action in ("icp.drafted", "icp.edited")}
    out: list[ChangeLogEntry] = []
    summarised: set[str] = set()
    for entry in entries:
        details = entry.details or {}
        fresh_draft = entry.action == "icp.draft" and "from" not in details
        if fresh_draft and entry.target_id in described:
            continue
        version, seg = details.get("version"), details.get("segment")
        text = _entry_text(entry)
        if (entry.action in _CONTENT or fresh_draft) and entry.target_id not in summarised:
            summarised.add(entry.target_id or "")
            summary = _summary_of(entry, history)
            if summary:
                text = (
                    f"{text}; {summary}"
                    if entry.action in ("icp.edit", "icp.edited")
                    else f"{text} ({summary})"
                )
        out.append(
            ChangeLogEntry(
                at=entry.at,
                actor=entry.actor,
                action=entry.action,
                version=version if isinstance(version, int) else None,
                segment=seg if isinstance(seg, str) else None,
                text=text,
            )
        )
    return out[:limit]


def _entry_text(entry: AuditEntry) -> str:
    details = entry.details or {}
    version = details.get("version")
    label = f"v{version}" if isinstance(version, int) else "a version"
    seg = details.get("segment")
    if isinstance(seg, str) and seg != DEFAULT_SEGMENT:
        label += f" ({seg})"
    verb = _VERBS.get(entry.action, entry.action)
    if entry.action == "icp.draft" and details.get("from") == IcpStatus.in_review.value:
        verb = "moved back to draft"
    text = f"{verb} {label}"
    fields = details.get("fields")
    if entry.action == "icp.edit" and isinstance(fields, list) and fields:
        text += f" ({', '.join(str(f) for f in fields)})"
    source = details.get("from_version")
    if entry.action == "icp.edited" and isinstance(source, int):
        text = f"edited v{source} into {label}"
    drafted_with = details.get("drafted_with")
    if entry.action == "icp.drafted" and isinstance(drafted_with, str) and drafted_with:
        text += f" with {drafted_with}"
    decision = details.get("decision")
    if entry.action == "icp.reviewed" and isinstance(decision, str) and decision:
        text += f", decided: {decision}"
    note = details.get("note")
    if entry.action in ("icp.changes_requested", "icp.reviewed") and isinstance(note, str) and note.strip():
        flat = " ".join(note.split())
        text += f": “{flat if len(flat) <= _NOTE_MAX else flat[: _NOTE_MAX - 1] + '…'}”"
    return text


def _summary_of(entry: AuditEntry, history: dict[int, VersionSummary]) -> str | None:
    try:
        summary = history.get(int(entry.target_id or ""))
    except ValueError:
        return None
    return summary.changes if summary is not None else None


# -- units of work for the slash commands and the CLI ----------------------------------------------


@dataclass(frozen=True)
class VersionCard:
    """One version of the default segment as ``/icp show`` presents it."""

    row: IcpVersion
    approved: IcpVersion | None  # the segment's approved version (maybe ``row`` itself)
    summary: VersionSummary
    log: list[ChangeLogEntry]  # the segment's latest change-log entries


def version_card(
    engine: Engine, *, team_id: str, number: int | None, log_limit: int = 5
) -> VersionCard | None:
    """Version ``number`` (the newest when None) of the team's default segment.

    None when there is no ICP yet (no workspace, or no version); VersionNotFound when the number
    is not stored.
    """
    with read_scope(engine) as session:
        workspace = workspace_of(session, team_id)
        if workspace is None or workspace.id is None:
            return None
        rows = segment_versions(session, workspace.id)
        if not rows:
            return None
        row = pick_version(rows, number)
        approved = next((r for r in rows if r.status == IcpStatus.approved), None)
        history = version_history(session, workspace.id, segment=DEFAULT_SEGMENT)
        summary = next(v for v in history if v.id == row.id)
        log = change_log(session, workspace.id, segment=DEFAULT_SEGMENT, limit=log_limit)
    return VersionCard(row, approved, summary, log)


def team_history(
    engine: Engine, *, team_id: str, segment: str | None = None, log_limit: int = 200
) -> tuple[list[VersionSummary], list[ChangeLogEntry]]:
    """The team's version history and change log (one segment, or all); WorkspaceNotFound if unknown."""
    with read_scope(engine) as session:
        workspace_id = _known_workspace_id(session, team_id)
        history = version_history(session, workspace_id, segment=segment)
        return history, change_log(session, workspace_id, segment=segment, limit=log_limit)


def team_versions(engine: Engine, *, team_id: str, segment: str = DEFAULT_SEGMENT) -> list[IcpVersion]:
    """The segment's versions of the team, oldest first (none for an unknown team)."""
    with read_scope(engine) as session:
        workspace = workspace_of(session, team_id)
        if workspace is None or workspace.id is None:
            return []
        return segment_versions(session, workspace.id, segment)


def pick_team_versions(
    engine: Engine, *, team_id: str, numbers: Sequence[int | None], segment: str = DEFAULT_SEGMENT
) -> list[IcpVersion]:
    """The versions numbered ``numbers`` (None: the newest), in that order.

    WorkspaceNotFound for an unknown team; VersionNotFound for the first number not stored.
    """
    with read_scope(engine) as session:
        workspace_id = _known_workspace_id(session, team_id)
        return [pick_version(segment_versions(session, workspace_id, segment), n, segment) for n in numbers]


def _known_workspace_id(session: Session, team_id: str) -> int:
    workspace = workspace_of(session, team_id)
    if workspace is None or workspace.id is None:
        raise WorkspaceNotFound(
            f"workspace {team_id} is not in the database (nothing imported or drafted there yet)"
        )
    return workspace.id


def approved_version(engine: Engine, *, team_id: str, segment: str = DEFAULT_SEGMENT) -> IcpVersion | None:
    """The team's approved version of the segment, if any."""
    with read_scope(engine) as session:
        workspace = workspace_of(session, team_id)
        if workspace is None or workspace.id is None:
            return None
        return get_active_icp(session=session, workspace_id=workspace.id, segment=segment)
