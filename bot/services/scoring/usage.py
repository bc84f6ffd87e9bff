"""Adoption: every score card given is recorded (action ``score.run`` in the audit log, with the
tier and segment, never the company), so a review can say how much the ICP is used."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from bot.services.scoring.service import ScoreOutcome
from bot.store.db import Engine, Session, session_scope
from bot.store.repo.audit import append_audit, audit_details_since
from bot.store.repo.workspaces import get_workspace

SCORE_RUN = "score.run"


def record_score(engine: Engine, *, team_id: str, actor: str, outcome: ScoreOutcome) -> None:
    """One scored card: who asked, with which ICP version, and the tier it got."""
    with session_scope(engine) as session:
        workspace = get_workspace(session=session, slack_team_id=team_id)
        if workspace is None or workspace.id is None:
            return
        append_audit(
            session=session,
            workspace_id=workspace.id,
            actor=actor,
            action=SCORE_RUN,
            target_type="icp_version",
            target_id=outcome.icp.version_id,
            details={"tier": outcome.result.tier, "segment": outcome.icp.segment},
        )


def scores_by_tier(session: Session, *, workspace_id: int, since: datetime | None) -> dict[str, int]:
    """How many score cards were given since ``since`` (all time for None), per tier."""
    counts: Counter[str] = Counter()
    for details in audit_details_since(session, workspace_id=workspace_id, action=SCORE_RUN, since=since):
        tier = details.get("tier")
        counts[str(tier) if tier is not None else "?"] += 1
    return dict(counts)
