"""The one-page ICP's parts (statement, plays) and its Block Kit form in `/icp show` and the App
Home: the same sections in the same order, within Slack's limits, whatever the ICP's size."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

from slack_sdk.models.blocks import HeaderBlock, SectionBlock

from bot.services.home import HomeData, IcpSummary
from bot.services.icp.export.document import backtest_doc, persona_doc
from bot.services.icp.export.outline import Heading, Para, page
from bot.services.icp.export.plays import FALLBACK_PLAY, NO_TIER_PLAY, TOP_PLAY, tier_play
from bot.services.icp.export.statement import icp_statement
from bot.slack.views.blocks_text import MAX_MESSAGE_BLOCKS, MAX_VIEW_BLOCKS, SECTION_TEXT_MAX
from bot.slack.views.home import home_view
from bot.slack.views.icp_card import VersionFacts
from bot.slack.views.icp_page import page_blocks
from bot.slack.views.icp_show import show_blocks
from bot.store.models import IcpStatus
from icp_engine.model import ICP
from tests.unit.test_export_render import BACKTEST, ICP_DATA, make_doc

NOW = datetime(2026, 12, 1, tzinfo=UTC)
SECTIONS = ("Tiers and plays", "Characteristics", "Disqualifiers", "Personas", "In customers' words")

SCORECARD: dict[str, Any] = {
    "name": "Mid-market",
    "characteristics": [
        {
            "attribute": "industry",
            "bins": [
                {"op": "eq", "values": ["software"], "points": 14},
                {"op": "eq", "values": ["fintech"], "points": 12},
                {"op": "eq", "values": ["retail"], "points": -9},
            ],
        },
        {"attribute": "employees", "bins": [{"op": "between", "values": [200, 1000], "points": 10}]},
        {"attribute": "country", "bins": [{"op": "in", "values": ["US", "Canada"], "points": 8}]},
        {"attribute": "tech_stack", "bins": [{"op": "contains_any", "values": ["Salesforce"], "points": 6}]},
        {"attribute": "plan", "bins": [{"op": "eq", "values": ["free"], "points": -20}]},
    ],
}


def test_the_statement_names_the_best_values_and_its_proof_is_the_top_tier_against_the_average() -> None:
    icp = ICP.model_validate(SCORECARD)
    said = icp_statement(icp, backtest_doc(BACKTEST)).sentence()
    assert said == (
        "Software and fintech companies with 200 to 1,000 employees in US and Canada: "
        "60% win rate vs 29% overall (tier A, 340 closed deals)"
    )
    assert "retail" not in said and "free" not in said  # only what earns points
    calibrated = ICP.model_validate({**SCORECARD, "calibration": {"base_rate": 0.27, "deals": 400}})
    assert "the average account wins 27% (400 deals" in icp_statement(calibrated, None).proof
    assert icp_statement(ICP.model_validate({"name": "Empty"}), None).text == "Accounts that fit Empty"


def test_each_tier_has_a_play_and_a_stored_play_wins() -> None:
    icp = ICP.model_validate(ICP_DATA)
    assert tier_play(icp, "A") == TOP_PLAY and tier_play(icp, "C") == FALLBACK_PLAY
    assert tier_play(icp, "?") == NO_TIER_PLAY and tier_play(icp, "B") not in (TOP_PLAY, FALLBACK_PLAY)
    assert tier_play(icp, "A", (("A", "Founder calls"),)) == "Founder calls"


def test_the_page_holds_its_sections_in_order() -> None:
    elements = page(make_doc(pains=("manual reports",), triggers=("new CRO",), owner="U0ANA"))
    headings = [e.text for e in elements if isinstance(e, Heading)]
    order = [next(i for i, h in enumerate(headings) if h.startswith(s)) for s in SECTIONS]
    assert order == sorted(order) and headings[0].startswith("Ideal Customer Profile")
    assert isinstance(elements[2], Para) and elements[2].lead  # the statement comes first
    last = elements[-1]
    assert isinstance(last, Para) and last.text.startswith("Owner: U0ANA · Approver: U0BOSS")
    assert not any(isinstance(e, Heading) and "Appendix" in e.text for e in elements)


def _texts(blocks: list[Any]) -> list[str]:
    out = []
    for block in blocks:
        data = block.to_dict()
        if "text" in data:
            out.append(data["text"]["text"])
        for element in data.get("elements", []):
            if "text" in element and isinstance(element["text"], str):
                out.append(element["text"])
    return out


def _huge_doc() -> Any:
    criteria = [
        {
            "attribute": f"attr_{i}",
            "op": "in",
            "values": [f"v{j} " + "w " * 30 for j in range(20)],
            "points": 5,
        }
        for i in range(80)
    ]
    disqualifiers = [
        {"attribute": f"d{i}", "op": "eq", "values": ["x"], "reason": "r " * 200} for i in range(40)
    ]
    icp = ICP.model_validate({**ICP_DATA, "criteria": criteria, "disqualifiers": disqualifiers})
    persona = {"role": "role " * 300, "goals": ["goal " * 200] * 4}
    return make_doc(
        icp,
        personas=tuple(persona_doc(f"P{i}", persona) for i in range(30)),
        pains=tuple("pain " * 300 for _ in range(10)),
    )


def test_show_is_the_page_then_the_version_facts_within_block_kit_limits() -> None:
    facts = VersionFacts(version=3, status="approved", segment="default", approver="U0BOSS", history=("x",))
    blocks = show_blocks(make_doc(pains=("manual reports",)), facts)
    texts = "\n".join(_texts(blocks))
    assert isinstance(blocks[0], HeaderBlock) and blocks[0].text.text == "ICP: Mid-market SaaS (v3, approved)"
    positions = [texts.index(f"*{s}") for s in SECTIONS]
    assert positions == sorted(positions)
    assert "60% win rate vs 29% overall" in texts and "“manual reports”" in texts
    assert "• *industry*: software or fintech +25" in texts and "approved by <@U0BOSS>" in texts
    assert "&lt;script&gt;" in texts and "<script>" not in texts  # the hostile persona name, escaped
    for doc in (_huge_doc(), make_doc()):
        blocks = show_blocks(doc, facts)
        assert len(blocks) <= MAX_MESSAGE_BLOCKS
        assert all(len(t) <= SECTION_TEXT_MAX for t in _texts(blocks))
    huge = "\n".join(_texts(show_blocks(_huge_doc(), facts)))
    assert "+70 more characteristics" in huge and "+26 more personas" in huge


def test_page_blocks_count_what_does_not_fit() -> None:
    blocks = page_blocks(page(_huge_doc()), max_blocks=6)
    assert len(blocks) <= 6 and "did not fit here" in _texts(blocks)[-1]


def test_the_home_tab_shows_the_same_page_within_100_blocks() -> None:
    summary = IcpSummary(
        version_id=7,
        version=3,
        status=IcpStatus.approved,
        name="Mid-market SaaS",
        icp=ICP.model_validate(ICP_DATA),
        problem=None,
        updated_at=NOW,
        approved_at=NOW,
        approver="U0BOSS",
    )
    data = HomeData(
        now=NOW, approved=summary, latest=summary, documents={7: make_doc(pains=("manual reports",))}
    )
    for is_owner in (True, False):
        view = home_view(data, is_owner=is_owner)
        texts = "\n".join(_texts(view.blocks))
        positions = [texts.index(f"*{s}") for s in SECTIONS]
        assert positions == sorted(positions) and "Owner: " in texts and "Next review: " in texts
        assert "*Interviews*" not in texts and "Review cycle" in texts  # the rest of the home stays
    big = home_view(dataclasses.replace(data, documents={7: _huge_doc()}), is_owner=True)
    assert len(big.blocks) <= MAX_VIEW_BLOCKS
    assert all(len(t) <= SECTION_TEXT_MAX for t in _texts(big.blocks))
    assert sum(isinstance(b, SectionBlock) for b in big.blocks) > 5
