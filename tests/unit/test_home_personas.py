"""App Home persona lines carry what drafting adds: the buying role and the first goal."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.services.home import HomeData, IcpSummary, PersonaSummary
from bot.store.models import IcpStatus
from icp_engine.model import ICP
from tests.support.blockkit_checks import all_text, check_view

NOW = datetime(2026, 11, 30, tzinfo=UTC)


def test_drafted_personas_show_buying_role_and_goal() -> None:
    from bot.slack.views.home import home_view

    summary = IcpSummary(
        version_id=1,
        version=2,
        status=IcpStatus.draft,
        name="Draft",
        icp=ICP(name="Draft"),
        problem=None,
        updated_at=NOW,
    )
    persona = PersonaSummary(
        "Rita RevOps", role="VP Revenue Operations", buying_role="economic buyer", goal="<one> forecast"
    )
    data = HomeData(now=NOW, latest=summary, personas={1: (persona,)})
    text = all_text(check_view(home_view(data, is_owner=True))["blocks"])
    assert "*Rita RevOps* — VP Revenue Operations, economic buyer" in text
    assert "_Goal:_ &lt;one&gt; forecast" in text
