"""The App Home view (pure): owners vs everyone else, every section, and Block Kit limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.services.home import HomeData, IcpSummary, ImportSummary, PersonaSummary, ReminderSummary
from bot.slack.views.home import HOME_ACTIONS, ago, home_view
from bot.store.models import IcpStatus, ImportKind, InterviewState
from icp_engine.model import ICP
from tests.support.blockkit_checks import all_text, check_view
from tests.support.strategies import round_trip_icps, scoring_icps

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
ICP_DOC: dict[str, Any] = {
    "name": "Mid-market SaaS",
    "criteria": [
        {"attribute": "industry", "op": "in", "values": ["software", "fintech"], "points": 25},
        {"attribute": "employees", "op": "between", "values": [200, 2000], "points": 20},
    ],
    "disqualifiers": [{"attribute": "employees", "op": "lt", "values": [20], "reason": "too small"}],
    "tiers": {"A": 70, "B": 40},
}


def summary(
    version_id: int, version: int, status: IcpStatus, icp: ICP | None = None, **kw: Any
) -> IcpSummary:
    icp = icp if icp is not None else ICP.model_validate(ICP_DOC)
    return IcpSummary(
        version_id=version_id,
        version=version,
        status=status,
        name=icp.name,
        icp=icp,
        problem=None,
        updated_at=NOW - timedelta(days=2),
        **kw,
    )


APPROVED = summary(1, 1, IcpStatus.approved, approved_at=NOW - timedelta(days=40), approver="UOWNER")
DRAFT = summary(2, 2, IcpStatus.draft, ICP.model_validate({**ICP_DOC, "name": "Next draft"}))
FULL = HomeData(
    now=NOW,
    approved=APPROVED,
    latest=DRAFT,
    personas={
        1: (PersonaSummary("Ops Olivia", role="VP Operations", seniority="executive"),),
        2: (PersonaSummary("Draft Dan", role="Head of RevOps"),),
    },
    interviews={InterviewState.completed: 3, InterviewState.in_progress: 2, InterviewState.pending: 1},
    stakeholders=6,
    crm_counts={"accounts": 12345, "deals": 2000, "health": 0},
    imports=(
        ImportSummary(
            ImportKind.accounts, "companies.csv", "succeeded", NOW - timedelta(days=3), 1000, 2, 990, 10
        ),
        ImportSummary(ImportKind.deals, "deals.csv", "failed", NOW - timedelta(days=1), 0, 50, 0, 0),
    ),
    last_review=NOW - timedelta(days=80),
    next_reminder=ReminderSummary(NOW + timedelta(days=10), "quarterly", "C0REVIEW"),
)


def _action_ids(view: dict[str, Any]) -> list[str]:
    return [e["action_id"] for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]


def test_owners_see_the_working_draft_every_section_and_the_action_buttons() -> None:
    view = check_view(home_view(FULL, is_owner=True))
    text = all_text(view["blocks"])
    assert _action_ids(view) == list(HOME_ACTIONS)
    assert "*Next draft* · v2 · draft" in text
    assert "Approved version in use for scoring: v1." in text
    assert "*Characteristics (2), points by value*" in text
    assert "• *industry*: software or fintech +25" in text
    assert "• *employees*: 200 to 2,000 +20" in text
    assert (
        "*Tiers:* A ≥ 70 (Best match) · B ≥ 40 (Good fit) · C below (Not a fit) · "
        "? when less than 50% of the ICP's weight is known (Not enough data)"
    ) in text
    assert "Unknown attributes score 0, like an average account." in text
    assert "Points predict the win rate of closed deals." in text
    assert "• too small (employees &lt; 20)" in text
    assert "*Draft Dan* — Head of RevOps" in text and "Ops Olivia" not in text
    assert "3 completed · 2 in progress · 1 pending (of 6 interviews, 6 stakeholders)" in text
    assert "12,345 accounts · 2,000 deals · 0 health records" in text
    assert "accounts: `companies.csv` succeeded" in text and "990 added, 10 updated, 2 rejected" in text
    assert "deals: `deals.csv` failed" in text
    assert (
        "Last review: <!date^" in text
        and "(2 months ago)" in text
        and "(in 10 days), quarterly in <#C0REVIEW>" in text
    )


def test_everyone_else_reads_the_approved_icp_without_buttons() -> None:
    hint = "ICP owners here: <@UOWNER>."
    view = check_view(home_view(FULL, is_owner=False, owners_hint=hint))
    text = all_text(view["blocks"])
    assert _action_ids(view) == []
    assert f"Read-only. {hint}" in text
    assert "*Mid-market SaaS* · v1 · approved" in text and "by <@UOWNER>" in text
    assert "Next draft" not in text and "Draft Dan" not in text
    assert "*Ops Olivia* — VP Operations, executive" in text


def test_without_an_approved_icp_readers_are_told_a_draft_is_coming() -> None:
    data = HomeData(now=NOW, latest=DRAFT)
    reader = all_text(check_view(home_view(data, is_owner=False))["blocks"])
    assert "No approved ICP yet: a draft (v2) is being worked on." in reader
    assert "*industry*" not in reader
    owner = all_text(check_view(home_view(data, is_owner=True))["blocks"])
    assert "*Next draft* · v2 · draft" in owner


def test_an_empty_workspace_gets_a_helpful_valid_home() -> None:
    for owner in (True, False):
        text = all_text(check_view(home_view(HomeData(now=NOW), is_owner=owner))["blocks"])
        assert "No ICP yet" in text
        assert "No interviews yet" in text
        assert "Nothing imported yet" in text
        assert "no review reminder set" in text


def test_an_unreadable_stored_icp_is_reported_not_crashed_on() -> None:
    broken = IcpSummary(
        3, 3, IcpStatus.draft, "Broken", None, "ICP v3: invalid ICP: name: field required", NOW
    )
    text = all_text(check_view(home_view(HomeData(now=NOW, latest=broken), is_owner=True))["blocks"])
    assert "⚠️ This version cannot be read: ICP v3: invalid ICP" in text


def test_stale_data_is_flagged() -> None:
    old = ImportSummary(ImportKind.accounts, "old.csv", "succeeded", NOW - timedelta(days=200), 5, 0, 5, 0)
    text = all_text(check_view(home_view(HomeData(now=NOW, imports=(old,)), is_owner=True))["blocks"])
    assert "older than 90 days" in text


def test_a_huge_icp_and_many_personas_stay_within_100_blocks_with_notes() -> None:
    values = [f"value-{i:03d}-" + "y" * 30 for i in range(12)]
    icp = ICP.model_validate(
        {
            "name": "Huge " + "n" * 3000,
            "description": "d" * 5000,
            "criteria": [
                {"attribute": f"a{i}", "op": "in", "values": values, "points": i} for i in range(600)
            ],
            "disqualifiers": [
                {"attribute": f"d{i}", "op": "eq", "values": ["z" * 200], "reason": "r" * 100}
                for i in range(100)
            ],
        }
    )
    personas = tuple(PersonaSummary(f"Persona {i} " + "p" * 200, role="r" * 300) for i in range(400))
    data = HomeData(now=NOW, approved=summary(9, 9, IcpStatus.approved, icp), personas={9: personas})
    for owner in (True, False):
        view = check_view(home_view(data, is_owner=owner))
        text = all_text(view["blocks"])
        assert len(view["blocks"]) <= 100
        assert "more characteristics not shown here" in text
        assert "more disqualifiers not shown here" in text
        assert "Review cycle" in text  # the sections after the ICP are never pushed out


def test_negative_points_and_long_bin_lists_read_well() -> None:
    icp = ICP.model_validate(
        {
            "name": "Scorecard",
            "characteristics": [
                {
                    "attribute": "industry",
                    "bins": [
                        {"op": "eq", "values": ["fintech"], "points": 12},
                        {"op": "eq", "values": ["software"], "points": 11},
                        {"op": "eq", "values": ["<!channel>"], "points": -8},
                    ],
                },
                {
                    "attribute": "country",
                    "bins": [{"op": "eq", "values": [f"c{i}"], "points": i + 1} for i in range(40)],
                },
            ],
        }
    )
    data = HomeData(now=NOW, approved=summary(9, 9, IcpStatus.approved, icp))
    text = all_text(check_view(home_view(data, is_owner=False))["blocks"])
    assert "• *industry*: fintech +12 · software +11 · &lt;!channel&gt; −8" in text
    assert "<!channel>" not in text
    assert "c11 +12 · …and 28 more" in text


def test_ago_reads_naturally() -> None:
    assert ago(NOW, NOW) == "today"
    assert ago(NOW - timedelta(days=1), NOW) == "yesterday"
    assert ago(NOW + timedelta(days=1), NOW) == "tomorrow"
    assert ago(NOW - timedelta(days=5), NOW) == "5 days ago"
    assert ago(NOW + timedelta(days=5), NOW) == "in 5 days"
    assert ago(NOW - timedelta(days=90), NOW) == "3 months ago"
    assert ago(NOW - timedelta(days=800), NOW) == "2 years ago"


@settings(max_examples=40, deadline=None)
@given(icp=st.one_of(scoring_icps(), round_trip_icps()), owner=st.booleans(), with_draft=st.booleans())
def test_any_icp_gives_a_valid_home(icp: ICP, owner: bool, with_draft: bool) -> None:
    approved = summary(1, 1, IcpStatus.approved, icp, approved_at=NOW, approver="U1")
    latest = summary(2, 2, IcpStatus.draft, icp) if with_draft else approved
    view = check_view(home_view(HomeData(now=NOW, approved=approved, latest=latest), is_owner=owner))
    text = all_text(view["blocks"])
    assert ("Characteristics (" in text) == bool(icp.characteristics)
    assert bool(_action_ids(view)) == owner
