"""The five-second card's parts: the engine's gaps, why and plays, and the pure view builders
(every user text escaped, at most eight gap lines, Block Kit limits kept)."""

from __future__ import annotations

from typing import Any

from bot.services.scoring.service import PersonaBrief
from bot.slack.views.score_card import (
    MAX_GAP_LINES,
    CardGuide,
    CardSubject,
    Contact,
    OtherSegment,
    WhyRequest,
    add_line,
    contact_line,
    decode_why,
    encode_why,
    gap_line,
    gap_lines,
    guide_lines,
    pick_contact,
    score_card,
)
from icp_engine.card import DEFAULT_PLAYS, Gap, attributes_to_ask, card_lines, gaps, tier_play, why
from icp_engine.model import ICP
from icp_engine.scoring import score
from tests.support.blockkit_checks import all_text, check_blocks

ICP_DOC: dict[str, Any] = {
    "name": "Mid-market <SaaS>",
    "version": 2,
    "characteristics": [
        {
            "attribute": "industry",
            "bins": [
                {"op": "in", "values": ["fintech"], "points": 12},
                {"op": "in", "values": ["software"], "points": 8},
                {"op": "in", "values": ["retail"], "points": -10},
            ],
        },
        {
            "attribute": "employees",
            "bins": [
                {"op": "between", "values": [200, 1000], "points": 15},
                {"op": "lt", "values": [50], "points": -5},
            ],
        },
        {"attribute": "country", "bins": [{"op": "in", "values": ["US", "CA"], "points": 6}]},
        {"attribute": "employee_band", "bins": [{"op": "in", "values": ["200-999"], "points": 1}]},
    ],
}
ICP_MODEL = ICP.from_dict(ICP_DOC)


def test_gaps_name_the_best_bin_and_sort_by_points_lost() -> None:
    result = score({"industry": "professional services", "employees": 30, "country": "US"}, ICP_MODEL)
    found = gaps(result, ICP_MODEL)
    assert [(g.name, g.value, g.points, g.best, g.best_points) for g in found] == [
        ("employees", "30", -5.0, "200–1,000", 15.0),
        ("industry", "professional services", 0.0, "fintech", 12.0),
    ]  # country is in its best bin; employee_band is unknown, so it is asked for instead


def test_a_list_attributes_best_names_every_item_whose_points_add_up() -> None:
    tools = ICP.from_dict(
        {
            "name": "Tools",
            "characteristics": [
                {
                    "attribute": "tech_stack",
                    "bins": [
                        {"op": "contains_any", "values": ["hubspot"], "points": 12},
                        {"op": "contains_any", "values": ["salesforce"], "points": 20},
                        {"op": "contains_any", "values": ["excel"], "points": -4},
                    ],
                }
            ],
        }
    )
    (gap,) = gaps(score({"tech_stack": ["hubspot", "excel"]}, tools), tools)
    assert (gap.points, gap.best, gap.best_points) == (8.0, "salesforce + hubspot", 32.0)


def test_why_is_the_strongest_plus_and_minus() -> None:
    result = score({"industry": "software", "employees": 30, "country": "US"}, ICP_MODEL)
    found = why(result)
    assert found.plus is not None and found.plus.name == "industry" and found.plus.points == 8
    assert found.minus is not None and found.minus.name == "employees" and found.minus.points == -5
    assert why(score({}, ICP_MODEL)).plus is None


def test_plays_default_per_tier_and_an_icp_play_wins() -> None:
    assert tier_play("A") == DEFAULT_PLAYS["A"]
    assert tier_play("?").startswith("Find out the missing data")
    assert tier_play("Z").startswith("Work it after tier A and B")
    assert tier_play("A", {"A": "  Call today  "}) == "Call today"


def test_derived_attributes_are_asked_for_through_their_source() -> None:
    result = score({"industry": "software"}, ICP_MODEL)
    assert attributes_to_ask(result) == ["employees", "country"]  # heaviest first; band via employees


def test_gap_lines_are_escaped_and_capped_at_eight() -> None:
    line = gap_line(Gap("industry", "<b>&co", 0.0, "fin*tech", 12.0))
    assert line == "industry: &lt;b&gt;&amp;co 0 · best: fin*tech +12"
    many = [Gap(f"attr{i}", "x", 0.0, "y", float(20 - i)) for i in range(11)]
    lines = gap_lines(many)
    assert lines[0] == "*Below the best (11):*"
    assert len(lines) == 1 + MAX_GAP_LINES + 1
    assert lines[-1] == "…and 3 more: press Why? for every line"
    assert gap_lines([]) == []


def test_add_line_escapes_the_command_and_names_each_attribute() -> None:
    result = score({"industry": "software"}, ICP_MODEL)
    guide = CardGuide(add_command='/icp score "<Acme> & Co"', add_attributes=("employees", "Lead Source"))
    assert add_line(result, guide) == (
        "*Unknown:* employees, Lead Source — add them: "
        '`/icp score "&lt;Acme&gt; &amp; Co" employees=… Lead_Source=…`'
    )


def test_the_contact_is_who_decides_and_is_escaped() -> None:
    personas = [
        PersonaBrief(name="Ann <user>", role="Analyst", buying_role="user"),
        PersonaBrief(name="Cy", role="RevOps", buying_role="champion"),
        PersonaBrief(name="Di", role="VP Sales", buying_role="economic buyer", hook="Win <more> & faster"),
    ]
    contact = pick_contact(personas)
    assert contact == Contact(
        name="Di", role="VP Sales", buying_role="economic buyer", hook="Win <more> & faster"
    )
    assert contact_line(contact) == (
        "*Contact:* Di (VP Sales, economic buyer) — open with: Win &lt;more&gt; &amp; faster"
    )
    assert pick_contact(personas[:2]) == Contact(name="Cy", role="RevOps", buying_role="champion")
    assert pick_contact([]) is None
    assert contact_line(Contact(name="<x>")) == "*Contact:* &lt;x&gt;"


def test_the_five_second_card_within_block_kit_limits() -> None:
    result = score({"industry": "retail", "employees": 30}, ICP_MODEL)
    other = score({"industry": "retail", "employees": 30}, ICP_MODEL)
    guide = CardGuide(
        gaps=tuple(gaps(result, ICP_MODEL)),
        play=tier_play(result.tier),
        contact=Contact(name="Di <b>", role="CFO"),
        add_command="/icp score acme.com",
        add_attributes=tuple(attributes_to_ask(result)),
        segment="emea <eu>",
        others=tuple(OtherSegment(f"seg{i}", other) for i in range(7)),
        segment_command="/icp score acme.com",
    )
    blocks = check_blocks(
        score_card(
            result,
            subject=CardSubject(title="Acme <Inc>"),
            icp_status="approved",
            why=WhyRequest(icp_version_id=4, account_id=9, pairs={"employees": "30"}),
            guide=guide,
        )
    )
    text = all_text(blocks)
    # the header is plain text; every mrkdwn text is escaped
    assert "Di <b>" not in text and "emea <eu>" not in text and "Di &lt;b&gt; (CFO)" in text
    assert "(segment emea &lt;eu&gt;)" in text
    assert "*Best fit: segment emea &lt;eu&gt;.* Other segments: seg0 " in text and "…and 2 more" in text
    assert "`/icp score acme.com segment=seg0`" in text
    assert "Missed" not in text
    lines = guide_lines(result, guide)
    assert lines[0] == "*Why:* ✗ industry: retail (−10)"
    assert lines[1] == "*Below the best (2):*"


def test_why_buttons_keep_the_typed_values_of_an_account() -> None:
    value = encode_why(WhyRequest(icp_version_id=3, account_id=7, pairs={"employees": "250"}))
    assert value is not None
    assert decode_why(value) == WhyRequest(icp_version_id=3, account_id=7, pairs={"employees": "250"})


def test_the_cli_card_says_why_what_is_below_the_best_and_the_play() -> None:
    result = score({"industry": "software", "employees": 30}, ICP_MODEL)
    lines = card_lines(result, ICP_MODEL)
    assert lines[0] == "Score 52.6/100 — tier C (Not a fit) — ICP 'Mid-market <SaaS>' v2"
    assert "Why: ✓ industry: software (+8) · ✗ employees: 30 (−5)" in lines
    assert "  employees: 30 −5 · best: 200–1,000 +15" in lines
    assert "  industry: software +8 · best: fintech +12" in lines
    # employee_band is unknown (the raw values were not normalised): asked for through employees
    assert "Unknown: country, employees — add them: icp score … country=… employees=…" in lines
    assert lines[-1] == f"Play: {DEFAULT_PLAYS['C']}"
