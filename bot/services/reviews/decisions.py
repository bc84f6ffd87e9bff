"""Closing a review: the owner's decision (keep, adopt the proposal, edit) and a note.

The decision is written to the audit log against the active ICP version (action ``icp.reviewed``),
so the ICP's change log shows it next to drafts and approvals; the reminder's "last reviewed"
moves to now, so the next kit reports what happens from then on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.services.reviews import reminders
from bot.store.db import Engine, session_scope
from bot.store.repo.audit import append_audit
from bot.store.repo.icp import get_active_icp
from bot.store.repo.workspaces import get_workspace

NOTE_MAX = 500


class Decision(StrEnum):
    keep = "keep"
    adopt = "adopt"
    edit = "edit"


DECISION_WORDS: dict[Decision, str] = {
    Decision.keep: "keep the ICP as it is",
    Decision.adopt: "adopt the re-learned proposal",
    Decision.edit: "edit the ICP",
}


@dataclass(frozen=True)
class ClosedReview:
    state: reminders.ReminderState
    decision: Decision
    note: str
    version: int | None  # the active ICP version the decision is about
    segment: str | None = None  # its segment: adopting re-drafts the same segment


def clean_note(note: str | None) -> str:
    """One line, at most NOTE_MAX characters."""
    flat = " ".join((note or "").split())
    return flat if len(flat) <= NOTE_MAX else flat[: NOTE_MAX - 1] + "…"


def close_review(
    engine: Engine,
    *,
    team_id: str,
    reminder_id: int,
    actor: str,
    now: datetime,
    decision: Decision,
    note: str | None,
) -> ClosedReview | None:
    """Mark the review done and record the decision; None when the reminder no longer exists."""
    state = reminders.mark_reviewed(engine, team_id=team_id, reminder_id=reminder_id, actor=actor, now=now)
    if state is None:
        return None
    text = clean_note(note)
    with session_scope(engine) as session:
        workspace = get_workspace(session=session, slack_team_id=team_id)
        if workspace is None or workspace.id is None:
            return None
        active = get_active_icp(session=session, workspace_id=workspace.id)
        details = {"decision": decision.value, "note": text, "reminder": reminder_id}
        if active is not None:
            details |= {"version": active.version, "segment": active.segment}
        append_audit(
            session=session,
            workspace_id=workspace.id,
            actor=actor,
            action="icp.reviewed",
            target_type="icp_version" if active is not None else "review_reminder",
            target_id=active.id if active is not None else reminder_id,
            details=details,
        )
    if active is None:
        return ClosedReview(state, decision, text, None)
    return ClosedReview(state, decision, text, active.version, active.segment)
