"""Views of the ICP's versions: /icp show (with approval and change log), /icp diff, the
version list, and the score card's version label; Block Kit valid and within Slack's limits."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.services.icp.versions import ChangeLogEntry, VersionSummary
from bot.slack.views.icp_card import VersionFacts, icp_blocks
from bot.slack.views.icp_diff import diff_blocks, diff_text
from bot.slack.views.icp_history import log_lines, versions_blocks
from bot.slack.views.score_card import Approval, CardSubject, score_card
from icp_engine.diff import diff_icps
from icp_engine.model import ICP
from icp_engine.scoring import score
from tests.support.blockkit_checks import all_text, check_blocks
from tests.support.strategies import scoring_icps

BASE: dict[str, Any] = {
    "name": "Mid-market SaaS",
    "criteria": [
        {"attribute": "industry", "op": "in", "values": ["software", "fintech"], "points": 25},
        {"attribute": "employees", "op": "between", "values": [200, 2000], "points": 20},
    ],
    "disqualifiers": [{"attribute": "employees", "op": "lt", "values": [20], "reason": "too small"}],
}
AT = datetime(2026, 11, 30, 14, 2, tzinfo=UTC)


def icp(**changes: Any) -> ICP:
    return ICP.model_validate({**BASE, **changes})


def many_criteria(n: int, text: str = "value") -> list[dict[str, Any]]:
    return [
        {"attribute": f"attr_{i}", "op": "eq", "values": [f"{text} {i} " + "x" * 200], "points": i % 40}
        for i in range(n)
    ]


# ------------------------------------------------------------------ /icp diff


def test_diff_view_groups_changes_and_names_the_versions() -> None:
    after = icp(
        criteria=[
            {**BASE["criteria"][0], "points": 30},
            {"attribute": "country", "op": "in", "values": ["US"], "points": 10},
        ]
    )
    diff = diff_icps(icp(), after)
    text = all_text(check_blocks(diff_blocks(diff, before=1, after=2)))
    assert "ICP v1 → v2: what changed" in text
    assert "*Criteria added (1)*\n• +10 country in US" in text
    assert "*Criteria removed (1)*\n• +20 employees between 200 and 2,000" in text
    assert "*Re-weighted (1)*\n• industry in software, fintech: +25 → +30 (+5)" in text
    assert diff_text(diff, before=1, after=2) == "ICP v1 → v2: criteria: 1 added, 1 removed, 1 re-weighted"


def test_diff_of_identical_versions_says_so() -> None:
    blocks = check_blocks(diff_blocks(diff_icps(icp(), icp()), before=2, after=3))
    assert "No differences" in all_text(blocks) and len(blocks) == 2


def test_a_huge_diff_stays_within_slack_limits_and_says_what_was_left_out() -> None:
    diff = diff_icps(icp(), icp(criteria=many_criteria(1500)))
    blocks = check_blocks(diff_blocks(diff, before=1, after=2))
    assert len(blocks) == 50
    assert "more lines not shown" in all_text(blocks) and "icp diff v1 v2" in all_text(blocks)


def test_untrusted_text_in_a_diff_is_escaped() -> None:
    evil = icp(
        criteria=[{"attribute": "industry", "op": "eq", "values": ["<!channel> <https://x|y>"], "points": 5}]
    )
    text = all_text(check_blocks(diff_blocks(diff_icps(icp(), evil), before=1, after=2)))
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text


@settings(max_examples=60, deadline=None)
@given(scoring_icps(), scoring_icps())
def test_any_diff_is_valid_block_kit(a: ICP, b: ICP) -> None:
    check_blocks(diff_blocks(diff_icps(a, b), before=1, after=2))


# ------------------------------------------------------------------ /icp show


def facts(**changes: Any) -> VersionFacts:
    values: dict[str, Any] = {
        "version": 3,
        "status": "approved",
        "segment": "default",
        "updated_at": AT,
        "approver": "U0BOSS",
        "approved_at": AT,
        "author": "U0ANA",
        "change_note": "tightened size <!here>",
        "changes": "vs v2: criteria: 1 added",
        "backtest": "AUC 0.71 on 340 closed deals",
        "history": ("2026-11-30 14:02 <@U0BOSS> approved v3", "2026-11-29 10:00 <@U0ANA> drafted v3"),
    }
    values.update(changes)
    return VersionFacts(**values)


def test_show_names_approval_changes_backtest_and_the_change_log() -> None:
    text = all_text(check_blocks(icp_blocks(icp(), facts())))
    assert "approved by <@U0BOSS> on 2026-11-30" in text and "drafted by <@U0ANA>" in text
    assert "vs v2: criteria: 1 added" in text and "*Backtest:* AUC 0.71" in text
    assert "*Change log:*\n2026-11-30 14:02 <@U0BOSS> approved v3" in text
    assert "<!here>" not in text and "&lt;!here&gt;" in text


def test_show_groups_bins_by_characteristic_and_states_the_rules() -> None:
    scorecard = ICP.model_validate(
        {
            "name": "Scorecard",
            "characteristics": [
                {
                    "attribute": "industry",
                    "bins": [
                        {"op": "eq", "values": ["fintech"], "points": 12},
                        {"op": "eq", "values": ["software"], "points": 11},
                        {"op": "eq", "values": ["retail"], "points": -8},
                    ],
                },
                {"attribute": "employees", "bins": [{"op": "between", "values": [200, 2000], "points": 9}]},
            ],
            "min_confidence": 0.6,
        }
    )
    text = all_text(check_blocks(icp_blocks(scorecard, facts())))
    assert "*Characteristics (points by value)*\n• *industry*: fintech +12 · software +11 · retail −8" in text
    assert "• *employees*: 200 to 2,000 +9" in text
    assert "*?* (Not enough data) when less than 60% of the ICP's weight is known" in text
    assert (
        "Points predict the win rate of closed deals. Unknown attributes score 0, like an average account."
        in text
    )


def test_diff_shows_target_and_minimum_confidence_changes() -> None:
    diff = diff_icps(icp(), icp(target="retention", min_confidence=0.7))
    text = all_text(check_blocks(diff_blocks(diff, before=1, after=2)))
    assert "*Other (2)*" in text
    assert "• target: win rate of closed deals → kept and expanding customers" in text
    assert "• minimum confidence: 50% → 70%" in text


def test_show_of_a_big_icp_keeps_within_limits() -> None:
    big = icp(
        criteria=many_criteria(300), disqualifiers=[{**BASE["disqualifiers"][0], "reason": "r" * 900}] * 80
    )
    blocks = check_blocks(icp_blocks(big, facts()))
    assert len(blocks) <= 50 and "did not fit" in all_text(blocks)
    assert "Change log" in all_text(blocks)  # the history survives a full card


def test_a_cli_approver_is_text_not_a_mention() -> None:
    text = all_text(check_blocks(icp_blocks(icp(), facts(approver="alice<@U1>", author="bob"))))
    assert "approved by alice&lt;@U1&gt; on 2026-11-30" in text and "drafted by" not in text


# ------------------------------------------------------------------ versions and change log


def summary(version: int, **changes: Any) -> VersionSummary:
    values: dict[str, Any] = {
        "id": version,
        "version": version,
        "segment": "default",
        "status": "superseded",
        "name": f"ICP <b>{version}</b>",
        "author": "U0ANA",
        "created_at": AT,
        "updated_at": AT,
        "approver": "U0BOSS",
        "approved_at": AT,
        "superseded_at": AT,
        "change_note": None,
        "changes": f"vs v{version - 1}: criteria: 1 added",
    }
    values.update(changes)
    return VersionSummary(**values)


def entry(i: int, actor: str = "U0BOSS") -> ChangeLogEntry:
    return ChangeLogEntry(
        at=AT, actor=actor, action="icp.approved", version=i, segment="default", text=f"approved v{i}"
    )


def test_versions_view_lists_versions_then_the_log() -> None:
    blocks = check_blocks(
        versions_blocks([summary(2, status="approved"), summary(1)], [entry(2), entry(1, "cli")])
    )
    text = all_text(blocks)
    assert "*v2* ICP &lt;b&gt;2&lt;/b&gt; — approved, drafted by <@U0ANA> 2026-11-30" in text
    assert "2026-11-30 14:02 <@U0BOSS> approved v2" in text and "14:02 cli approved v1" in text


def test_a_long_history_stays_within_limits() -> None:
    versions = [summary(i, changes="x" * 500) for i in range(400, 0, -1)]
    blocks = check_blocks(versions_blocks(versions, [entry(i) for i in range(400)]))
    assert len(blocks) <= 50 and "more lines not shown" in all_text(blocks)
    assert len(log_lines([entry(i) for i in range(20)])) == 5


# ------------------------------------------------------------------ the score card names its version


def test_score_card_names_the_version_and_who_approved_it() -> None:
    result = score({"industry": "software"}, icp(version=3))
    subject = CardSubject(title="Acme")
    approved = all_text(
        check_blocks(
            score_card(
                result,
                subject=subject,
                icp_status="approved",
                approval=Approval("U0BOSS", date(2026, 11, 30)),
            )
        )
    )
    assert "Mid-market SaaS v3, approved by <@U0BOSS> on 2026-11-30" in approved
    by_cli = all_text(
        check_blocks(
            score_card(
                result, subject=subject, icp_status="approved", approval=Approval("<!channel>", AT.date())
            )
        )
    )
    assert "approved by &lt;!channel&gt; on 2026-11-30" in by_cli
    draft = all_text(
        check_blocks(score_card(result, subject=subject, icp_status="draft", approval=Approval(None, None)))
    )
    assert "Mid-market SaaS v3 (draft)" in draft and "No approved ICP yet" in draft


@settings(max_examples=30, deadline=None)
@given(st.text(max_size=40), st.dates())
def test_any_approver_text_keeps_the_card_valid(approver: str, on: date) -> None:
    result = score({}, icp(version=1))
    check_blocks(
        score_card(
            result, subject=CardSubject(title="X"), icp_status="approved", approval=Approval(approver, on)
        )
    )
