"""The draft message, its modals and the personas listing (pure views), small and huge drafts."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.services.icp.drafting import (
    BacktestSummary,
    Citation,
    Conflict,
    DraftedIcp,
    DraftedPersona,
    DraftOutcome,
    TierSummary,
    Trait,
)
from bot.services.icp.review import ChangeRequest, DraftEdit, ReviewFacts
from bot.slack.views.draft import (
    CHANGES_CALLBACK,
    DRAFT_APPROVE,
    DRAFT_EDIT,
    DRAFT_FULL,
    DRAFT_REQUEST_CHANGES,
    EDIT_CALLBACK,
    FULL_CALLBACK,
    SUMMARY_MAX,
    ModalTarget,
    block_text_chars,
    changes_modal,
    draft_blocks,
    draft_text,
    edit_modal,
    full_icp_modal,
    persona_of,
    personas_blocks,
    read_changes,
    read_edit,
)
from bot.store.models import IcpStatus
from icp_engine.model import ICP, Criterion, Disqualifier
from tests.support.blockkit_checks import all_text, check_blocks

OPEN = ReviewFacts(status=IcpStatus.draft, author="U0OWNER")


def outcome(
    n: int = 2, text: str = "Fintechs with 200+ staff buy fastest", *, offline: bool = True
) -> DraftOutcome:
    criteria = [
        Criterion(
            attribute="industry",
            op="in",
            values=[f"v{i}", "software"],
            points=10 + i,
            evidence=[f"ans:{i}", "stat:x"],
        )
        for i in range(n)
    ]
    hypotheses = [
        Criterion(attribute="plan", op="eq", values=[f"p{i}"], points=0, evidence=[f"ans:{i}"])
        for i in range(n)
    ]
    trait = Trait(text=text, evidence=["ans:1"])
    persona = DraftedPersona(
        name="Head of RevOps",
        titles=["VP Revenue Operations", "Head of RevOps"],
        seniority=trait,
        goals=[trait] * 3,
        objections=[trait],
        message_hooks=[trait],
    )
    return DraftOutcome(
        workspace="T1",
        segment="default",
        version_id=7,
        version=3,
        drafted=DraftedIcp(
            icp=ICP(
                name="Mid-market software",
                criteria=criteria,
                disqualifiers=[Disqualifier(attribute="employees", op="lt", values=[20], reason="too small")]
                * n,
            ),
            hypotheses=hypotheses,
        ),
        personas=[persona] * n,
        pains=[trait] * n,
        goals=[trait] * n,
        triggers=[trait] * n,
        narrative=text,
        backtest=BacktestSummary(
            n=400,
            wins=120,
            win_rate=0.3,
            auc=0.71,
            top_tier="A",
            top_tier_lift=1.8,
            top_tier_win_capture=0.5,
            tiers=[TierSummary(tier="A", label="Best match", n=80, wins=43, win_rate=0.54, share=0.2)],
        ),
        conflicts=[
            Conflict(
                kind="data", topic="fintech", statement=f"sales names fintech; {text}", evidence=["ans:2"]
            )
        ]
        * n,
        citations={
            f"ans:{i}": Citation(id=f"ans:{i}", kind="answer", source="U1 (sales)", quote=text)
            for i in range(n)
        },
        drafted_with="offline" if offline else "gpt-test",
        notes=["fell back to the offline drafter (drafted without an LLM): the model timed out"],
        answers_used=12,
        stakeholders=4,
    )


def buttons(raw: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["action_id"]: e for b in raw if b["type"] == "actions" for e in b["elements"]}


def check_modal(view: View) -> dict[str, Any]:
    data = view.to_dict()
    assert data["type"] == "modal" and len(data["title"]["text"]) <= 24
    again = View(**data)
    again.validate_json()
    assert again.to_dict() == data
    assert 0 < len(data["blocks"]) <= 100
    for block in data["blocks"]:
        parsed = Block.parse(block)
        assert parsed is not None and type(parsed) is not Block
        parsed.validate_json()
        assert parsed.to_dict() == block
    assert len(data.get("private_metadata", "")) <= 3000
    return data


def test_draft_message_is_a_short_summary_with_buttons() -> None:
    draft = outcome()
    raw = check_blocks(draft_blocks(draft, OPEN))
    shown = all_text(raw)
    assert "Drafted without an LLM" in shown and "fell back to the offline drafter" in shown
    assert "V1, software and v0 companies: 54% win rate vs 30% overall (tier A, 400 closed deals)." in shown
    assert "*Characteristics (1)*\n• *industry*: v0 or software +10 · v1 or software +11" in shown
    assert "*Disqualifiers (2)*\n• employees &lt; 20" in shown
    assert "*Personas (2)*: *Head of RevOps*" in shown
    assert "2 conflicts · 2 hypotheses · 2 citations" in shown
    assert "`ans:0`" not in shown and "Backtest on 400" not in shown, "evidence is in the Full ICP modal"
    assert "Tiers:" in shown
    assert list(buttons(raw)) == [DRAFT_APPROVE, DRAFT_REQUEST_CHANGES, DRAFT_EDIT, DRAFT_FULL]
    assert {b["value"] for b in buttons(raw).values()} == {"7"}
    assert block_text_chars(raw, draft_text(draft, OPEN)) <= SUMMARY_MAX


def test_full_icp_modal_shows_everything_with_evidence() -> None:
    draft = outcome()
    data = check_modal(full_icp_modal(draft, OPEN))
    assert data["callback_id"] == FULL_CALLBACK and "submit" not in data
    shown = all_text(data["blocks"])
    assert "Drafted without an LLM" in shown and "fell back to the offline drafter" in shown
    assert "*Characteristics (1), points by value*" in shown
    assert "• *industry*: v0 or software +10 · v1 or software +11 · `ans:0` `stat:x` `ans:1`" in shown
    assert "Unknown attributes score 0, like an average account." in shown
    assert "hypothesis" in shown and "too small" in shown
    assert "Head of RevOps" in shown and "VP Revenue Operations" in shown
    assert "Backtest on 400 closed deals" in shown and "Tier A (Best match)" in shown
    assert "sales names fintech" in shown and "Citations (2)" in shown
    assert "Tiers:" in shown
    assert "drafted without an LLM" in draft_text(draft, OPEN)


def test_model_drafts_say_which_model() -> None:
    draft = outcome(offline=False).model_copy(update={"notes": []})
    shown = all_text(check_blocks(draft_blocks(draft, OPEN)))
    assert "Drafted with gpt-test" in shown and "without an LLM" not in shown


def test_approved_and_edited_versions_have_only_the_full_icp_button() -> None:
    approved = ReviewFacts(
        status=IcpStatus.approved,
        author="U0OWNER",
        approver="U0ADMIN",
        approved_at=datetime(2026, 11, 30, tzinfo=UTC),
    )
    raw = check_blocks(draft_blocks(outcome(), approved))
    assert list(buttons(raw)) == [DRAFT_FULL] and "Approved* by <@U0ADMIN> on 2026-11-30" in all_text(raw)
    edited = ReviewFacts(status=IcpStatus.draft, author="U0OWNER", successor=4)
    raw = check_blocks(draft_blocks(outcome(), edited))
    assert list(buttons(raw)) == [DRAFT_FULL] and "Edited into *v4*" in all_text(raw)


def test_change_requests_are_listed_escaped() -> None:
    facts = ReviewFacts(
        status=IcpStatus.draft,
        author="U0OWNER",
        change_requests=tuple(
            ChangeRequest("U0BEN", f"<!channel> drop fintech {i}", datetime.now(UTC)) for i in range(5)
        ),
    )
    shown = all_text(check_blocks(draft_blocks(outcome(), facts)))
    assert "&lt;!channel&gt; drop fintech 4" in shown and "<!channel>" not in shown
    assert "2 earlier requests" in shown


@settings(max_examples=15, deadline=None)
@given(n=st.integers(0, 120), text=st.text(min_size=1, max_size=3000))
def test_any_draft_fits_slack_limits(n: int, text: str) -> None:
    draft = outcome(n, text)
    raw = check_blocks(draft_blocks(draft, OPEN))
    assert raw[-1]["type"] == "actions", "the buttons are never cut off"
    assert len(draft_text(draft, OPEN)) <= 3000
    assert block_text_chars(raw, draft_text(draft, OPEN)) <= SUMMARY_MAX, "one screen, whatever the draft"
    check_modal(full_icp_modal(draft, OPEN))


def test_huge_drafts_count_what_is_left_out() -> None:
    data = check_modal(full_icp_modal(outcome(300, "w" * 900), OPEN))
    shown = all_text(data["blocks"])
    assert "v11 or software +21 · …and 288 more" in shown and "more citations not shown here" in shown
    short = all_text(check_blocks(draft_blocks(outcome(300, "w" * 900), OPEN)))
    assert "*Disqualifiers (300)*" in short and "…and 297 more" in short


def test_edit_modal_round_trips_points_and_removals() -> None:
    draft = outcome(3)
    data = check_modal(edit_modal(draft, channel="C1", message_ts="123.4"))
    assert data["callback_id"] == EDIT_CALLBACK
    target = ModalTarget.decode(data["private_metadata"])
    assert (target.version_id, target.channel, target.message_ts, target.criteria, target.hypotheses) == (
        7,
        "C1",
        "123.4",
        3,
        3,
    )
    values = {
        "crit_0": {"points": {"type": "number_input", "value": "25"}},
        "crit_1": {"points": {"type": "number_input", "value": "11"}},
        "crit_2": {"points": {"type": "number_input", "value": "12"}},
        "hyp_0": {"points": {"type": "number_input", "value": "5.5"}},
        "hyp_1": {"points": {"type": "number_input", "value": "0"}},
        "hyp_2": {"points": {"type": "number_input", "value": "0"}},
        "remove": {
            "remove": {"type": "multi_static_select", "selected_options": [{"value": "c1"}, {"value": "c99"}]}
        },
        "note": {"note": {"type": "plain_text_input", "value": "fintech matters more"}},
    }
    edit = read_edit(values, target)
    assert edit == DraftEdit(
        points={0: 25, 1: 11, 2: 12},
        hypothesis_points={0: 5.5, 1: 0, 2: 0},
        removed=frozenset({1}),
        note="fintech matters more",
    )


@pytest.mark.parametrize("bad", ["", "abc", "500", "nan", "inf", None])
def test_edit_modal_rejects_bad_points_by_block(bad: object) -> None:
    target = ModalTarget(version_id=7, criteria=1)
    result = read_edit({"crit_0": {"points": {"value": bad}}}, target)
    assert isinstance(result, dict) and set(result) == {"crit_0"}


def test_huge_edit_modal_stays_under_100_blocks() -> None:
    data = check_modal(edit_modal(outcome(200)))
    assert "cannot be edited here" in all_text(data["blocks"])


def test_changes_modal_and_forged_metadata() -> None:
    data = check_modal(changes_modal(outcome(), channel="C1", message_ts="1.2"))
    assert data["callback_id"] == CHANGES_CALLBACK
    assert read_changes({"changes": {"changes": {"value": "  more fintech  "}}}) == "more fintech"
    for forged in ("", "[]", '{"v": "7"}', '{"v": true}', '{"v": 0}', '{"v": 7, "c": 5}', "{"):
        with pytest.raises(ValueError):
            ModalTarget.decode(forged)


def test_personas_listing() -> None:
    draft = outcome(80)
    raw = check_blocks(personas_blocks(3, "draft", draft.personas))
    shown = all_text(raw)
    assert "Personas of ICP v3 (draft)" in shown and "Not approved yet" in shown and "Head of RevOps" in shown
    raw = check_blocks(personas_blocks(3, "approved", draft.personas[:2]))
    assert "Not approved yet" not in all_text(raw)


def test_hand_written_personas_are_read_tolerantly() -> None:
    persona = persona_of(
        "VP Sales",
        {
            "role": "Sales leader",
            "goals": "pipeline",
            "hooks": ["speed"],
            "seniority": ["VP", "exec"],
            "tools": 3,
        },
    )
    assert persona.titles == ["Sales leader"]
    assert [t.text for t in persona.goals] == ["pipeline"]
    assert [t.text for t in persona.message_hooks] == ["speed"]
    assert persona.seniority is not None and persona.seniority.text == "VP, exec"
    assert [t.text for t in persona.tools] == ["3"]
    text = all_text(check_blocks(personas_blocks(1, "approved", [persona])))
    assert "*VP Sales* — Sales leader · VP, exec" in text and "_Goals:_ pipeline" in text


def test_a_draft_groups_bins_by_characteristic_and_counts_what_does_not_fit() -> None:
    characteristics = [
        {
            "attribute": f"attr_{i}",
            "bins": [
                {
                    "op": "eq",
                    "values": ["good"],
                    "points": 12,
                    "rationale": "wins more",
                    "evidence": ["stat:1"],
                },
                {"op": "eq", "values": ["bad"], "points": -8, "rationale": "wins less"},
            ],
        }
        for i in range(300)
    ]
    icp = ICP.model_validate({"name": "Scorecard", "characteristics": characteristics})
    draft = outcome()
    drafted = draft.drafted.model_copy(update={"icp": icp})
    draft = (
        dataclasses.replace(draft, drafted=drafted)
        if dataclasses.is_dataclass(draft)
        else draft.model_copy(update={"drafted": drafted})
    )
    shown = all_text(check_modal(full_icp_modal(draft, OPEN))["blocks"])
    assert "*Characteristics (300), points by value*" in shown
    assert "• *attr_0*: good +12 · bad −8 — wins more; wins less · `stat:1`" in shown
    assert "*attr_299*" in shown, "the modal has room for every characteristic"
    assert "300 characteristics" in draft_text(draft, OPEN)
    short = all_text(check_blocks(draft_blocks(draft, OPEN)))
    assert "*Characteristics (300)*, the top 5 by weight\n• *attr_0*: good +12 · bad −8" in short
