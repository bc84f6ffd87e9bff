"""Every score card given counts once, whichever way it was asked for (command, button, shortcut,
chat): the scores metric and the adoption record a review reports (``score.run``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.services.scoring.usage import record_score

if TYPE_CHECKING:
    from bot.services.scoring.service import ScoreOutcome
    from bot.slack.context import AppContext


def count_score(ctx: AppContext, *, team_id: str, user_id: str, outcome: ScoreOutcome) -> None:
    """One card given to ``user_id``: never the company, only the tier, version and segment."""
    ctx.metrics.scores.inc()
    record_score(ctx.engine, team_id=team_id, actor=user_id, outcome=outcome)
