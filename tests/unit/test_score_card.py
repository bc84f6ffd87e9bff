"""The score card, its Why? expansion, the account chooser and their button values (pure views)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.slack.views.score_card import (
    CHOOSE_ACCOUNT,
    WHY_BUTTON,
    CardSubject,
    Choice,
    WhyRequest,
    account_chooser,
    decode_choice,
    decode_why,
    encode_choice,
    encode_why,
    not_found_text,
    score_card,
    score_card_text,
)
from icp_engine.model import ICP
from icp_engine.scoring import score
from tests.support.blockkit_checks import all_text, check_blocks
from tests.support.strategies import accounts, scoring_icps

ICP_DOC: dict[str, Any] = {
    "name": "Mid-market SaaS",
    "version": 3,
    "criteria": [
        {
            "attribute": "industry",
            "op": "in",
            "values": ["software", "fintech"],
            "points": 25,
            "evidence": ["ans:41"],
        },
        {"attribute": "employees", "op": "between", "values": [200, 2000], "points": 20},
        {"attribute": "country", "op": "in", "values": ["US", "CA"], "points": 15},
        {"attribute": "tech_stack", "op": "contains_any", "values": ["salesforce"], "points": 10},
    ],
    "disqualifiers": [
        {"attribute": "employees", "op": "lt", "values": [20], "reason": "too small to need us"}
    ],
}
SUBJECT = CardSubject(title="Acme Inc", details=("acme.com", "CRM id 42"))


def _icp(**changes: Any) -> ICP:
    return ICP.model_validate({**ICP_DOC, **changes})


def _buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for block in blocks:
        if block["type"] == "actions":
            out += [e for e in block["elements"] if e["type"] == "button"]
        if block.get("accessory", {}).get("type") == "button":
            out.append(block["accessory"])
    return out


def test_compact_card_shows_score_tier_criteria_unknowns_and_icp_version() -> None:
    result = score({"industry": "software", "employees": 500, "country": "DE"}, _icp())
    blocks = check_blocks(
        score_card(
            result, subject=SUBJECT, icp_status="approved", why=WhyRequest(icp_version_id=7, account_id=42)
        )
    )
    text = all_text(blocks)
    assert blocks[0]["type"] == "header" and "Acme Inc" in blocks[0]["text"]["text"]
    assert f"{result.score:g}/100" in text and f"Tier {result.tier}" in text
    assert "Mid-market SaaS v3 (approved)" in text
    assert result.tier == "A" and result.confidence == 0.86
    assert f"*Score*\n{result.score:g}/100 · confidence 86%" in text
    assert "*Raises the score (2):* industry: software (+25); employees: 500 (+20)" in text
    assert "*Like the average account (1):* country: DE (0)" in text
    assert "*Unknown data:* tech_stack — Unknown attributes score 0, like an average account." in text
    assert "Win probability" not in text  # the ICP is not calibrated
    assert "Not enough data" not in text
    assert "acme.com · CRM id 42" in text
    assert "draft" not in text
    (button,) = _buttons(blocks)
    assert button["action_id"] == WHY_BUTTON
    assert decode_why(button["value"]) == WhyRequest(icp_version_id=7, account_id=42)


SCORECARD: dict[str, Any] = {
    "name": "Scorecard",
    "version": 4,
    "characteristics": [
        {
            "attribute": "industry",
            "bins": [
                {"op": "eq", "values": ["fintech"], "points": 12, "evidence": ["stat:1"]},
                {"op": "eq", "values": ["software"], "points": 11},
                {"op": "eq", "values": ["retail"], "points": -8},
            ],
        },
        {
            "attribute": "employees",
            "bins": [
                {"op": "lt", "values": [50], "points": -14},
                {"op": "between", "values": [200, 2000], "points": 9},
            ],
        },
        {"attribute": "country", "bins": [{"op": "eq", "values": ["US"], "points": 4}]},
        {
            "attributes": ["lead_source", "region"],
            "bins": [
                {
                    "all_of": [
                        {"attribute": "lead_source", "op": "eq", "values": ["inbound"]},
                        {"attribute": "region", "op": "eq", "values": ["EMEA"]},
                    ],
                    "points": 6,
                }
            ],
        },
    ],
    "calibration": {"base_rate": 0.2, "deals": 300},
}


def test_compact_card_says_what_raises_and_lowers_the_score_strongest_first() -> None:
    icp = ICP.model_validate(SCORECARD)
    account = {
        "industry": "retail",
        "employees": 12,
        "country": "US",
        "lead_source": "inbound",
        "region": "EMEA",
    }
    result = score(account, icp)
    text = all_text(check_blocks(score_card(result, subject=SUBJECT, icp_status="approved")))
    assert (
        "*Raises the score (2):* lead_source × region: lead_source inbound; region EMEA (+6); country: US (+4)"
        in text
    )
    assert "*Lowers the score (2):* employees: 12 (−14); industry: retail (−8)" in text
    # Retail is not listed as having "missed" fintech and software: one line per characteristic.
    assert "fintech" not in text and "Missed" not in text
    assert f"*Win probability*\n{result.win_probability:.0%}" in text


def test_win_probability_follows_the_calibration() -> None:
    icp = ICP.model_validate(SCORECARD)
    # +12 +9 −... : fintech and 200-2,000 staff give 21 points; odds of 0.25 double a bit more than once.
    result = score(
        {"industry": "software", "employees": 500, "country": "DE", "lead_source": "x", "region": "y"}, icp
    )
    assert result.earned == 20 and result.win_probability is not None
    text = all_text(check_blocks(score_card(result, subject=SUBJECT, icp_status="approved")))
    assert "*Win probability*\n33%" in text  # base odds 1:4 doubled by +20 points: 1:2
    assert "*Score*\n66.7/100 · confidence 100%" in text


def test_too_little_known_gives_not_enough_data_and_what_to_ask_for() -> None:
    icp = ICP.model_validate(SCORECARD)
    result = score({"country": "US", "lead_source": "inbound"}, icp)
    assert result.tier == "?" and result.ask_for == ["employees", "industry", "region"]
    blocks = check_blocks(score_card(result, subject=SUBJECT, icp_status="approved", expanded=True))
    text = all_text(blocks)
    assert blocks[0]["text"]["text"].endswith(f"{result.score:g}/100 · Not enough data")
    assert "*Tier*\nNot enough data\n" in text
    assert (
        "❔ *Not enough data for a tier* (confidence 11%). "
        "Find out: employees, industry, region (the most important first)."
    ) in text
    assert "? industry: unknown (0) — scores like an average account; worth up to ±12" in text
    assert "✓ country: US (+4) — country = US" in text
    assert "not enough data for a tier (confidence 11%)" in score_card_text(result, SUBJECT)


def test_expanded_card_has_one_line_per_criterion_with_values_and_points() -> None:
    icp = _icp()
    result = score({"industry": "software", "employees": 500, "country": "DE"}, icp)
    blocks = check_blocks(score_card(result, subject=SUBJECT, icp_status="approved", expanded=True))
    text = all_text(blocks)
    lines = [ln for ln in text.splitlines() if ln[:1] in {"✓", "✗", "○", "?"}]
    assert len(lines) == len(icp.characteristics)
    assert "✓ industry: software (+25) — industry in software, fintech  _evidence: ans:41_" in lines
    assert "○ country: DE (0) — like the average account" in lines
    assert "? tech_stack: unknown (0) — scores like an average account; worth up to ±10" in lines
    assert "*Why 82.6:* +45 points in total (the best possible is +70)." in text
    assert "every +20 points doubles the odds" in text
    assert not _buttons(blocks)


def test_disqualified_card_names_the_reason_and_the_fit_score() -> None:
    result = score({"industry": "software", "employees": 12, "country": "US"}, _icp())
    text = all_text(check_blocks(score_card(result, subject=SUBJECT, icp_status="approved")))
    assert result.disqualified and result.score == 0
    assert "⛔ *Disqualified:* too small to need us (employees &lt; 20: 12)" in text
    assert f"Fit points alone would have given {result.fit_score:g}/100." in text


def test_draft_icp_and_sharing_and_typed_value_notes_are_said() -> None:
    result = score({"industry": "software"}, _icp())
    subject = CardSubject(
        title="Attributes given", details=("industry=saas",), notes=("Read industry 'saas' as software",)
    )
    blocks = check_blocks(score_card(result, subject=subject, icp_status="draft", shared_by="U123"))
    text = all_text(blocks)
    assert "v3 (draft)" in text
    assert "No approved ICP yet" in text
    assert "Shared by <@U123>" in text
    assert "Read industry 'saas' as software" in text


def test_user_text_is_escaped_so_it_cannot_mention_or_link() -> None:
    result = score({}, _icp(name="<!channel> & friends"))
    subject = CardSubject(title="Evil <!here> Corp", details=("<http://x|click>",))
    blocks = check_blocks(score_card(result, subject=subject, icp_status="approved", shared_by="<!channel>"))
    text = all_text(blocks[1:])  # the header is plain text: no mrkdwn to escape
    assert "<!channel>" not in text and "<!here>" not in text and "<http" not in text
    assert "&lt;!channel&gt; &amp; friends" in text
    assert "Shared by" not in text  # not a user id: never rendered as a mention
    assert "<!here>" not in score_card_text(result, subject)


def test_a_huge_icp_stays_within_block_kit_limits_with_a_note() -> None:
    long_values = [f"value-{i:04d}-" + "x" * 40 for i in range(15)]  # ~700 characters per criterion
    criteria = [
        {"attribute": f"attr_{i}", "op": "in", "values": long_values, "points": 1} for i in range(400)
    ]
    icp = _icp(criteria=criteria, disqualifiers=[])
    result = score({f"attr_{i}": long_values[0] for i in range(0, 400, 2)}, icp)
    for expanded in (False, True):
        blocks = check_blocks(
            score_card(
                result, subject=SUBJECT, icp_status="approved", why=WhyRequest(1, 1), expanded=expanded
            )
        )
        text = all_text(blocks)
        if expanded:
            assert "more lines not shown: Slack limits a message's length" in text
        else:
            assert "*Raises the score (200):* attr_0: value-0000-" in text and "more" in text
        assert len(blocks) <= 50
    compact = check_blocks(score_card(result, subject=SUBJECT, icp_status="approved", why=WhyRequest(1, 1)))
    assert _buttons(compact), "the Why? button survives truncation"


def test_many_disqualifiers_hit_or_unchecked_are_listed_within_limits() -> None:
    disqualifiers = [
        {"attribute": f"flag_{i}", "op": "eq", "values": ["yes"], "reason": f"reason number {i} " + "r" * 60}
        for i in range(60)
    ]
    icp = _icp(disqualifiers=disqualifiers)
    hit = score({f"flag_{i}": "yes" for i in range(60)}, icp)
    text = all_text(check_blocks(score_card(hit, subject=SUBJECT, icp_status="approved")))
    assert "⛔ *Disqualified:* reason number 0" in text and "more" in text
    unchecked = score({}, icp)
    blocks = check_blocks(score_card(unchecked, subject=SUBJECT, icp_status="approved", expanded=True))
    text = all_text(blocks)
    assert "? *Could not check (data unknown):* reason number 0" in text and "more" in text


def test_a_long_title_is_cut_in_the_header_but_keeps_the_score() -> None:
    result = score({"industry": "software"}, _icp())
    blocks = check_blocks(score_card(result, subject=CardSubject(title="A" * 400), icp_status="approved"))
    header = blocks[0]["text"]["text"]
    assert result.tier == "?"  # a quarter of the ICP's weight is known
    assert len(header) <= 150 and header.endswith(f"{result.score:g}/100 · Not enough data")
    assert "…" in header


def test_typed_attributes_too_long_for_a_button_give_the_expanded_card_at_once() -> None:
    pairs = {f"field_{i}": "v" * 50 for i in range(60)}
    result = score({}, _icp())
    assert encode_why(WhyRequest(icp_version_id=1, pairs=pairs)) is None
    blocks = check_blocks(
        score_card(
            result, subject=SUBJECT, icp_status="approved", why=WhyRequest(icp_version_id=1, pairs=pairs)
        )
    )
    assert not _buttons(blocks)
    assert "points in total" in all_text(blocks)


@given(
    version=st.none() | st.integers(1, 2**31 - 1),
    account=st.integers(1, 2**31 - 1),
    user=st.none() | st.from_regex(r"U[A-Z0-9]{2,12}", fullmatch=True),
)
def test_why_values_round_trip_for_accounts(version: int | None, account: int, user: str | None) -> None:
    request = WhyRequest(icp_version_id=version, account_id=account, shared_by=user)
    value = encode_why(request)
    assert value is not None and len(value) <= 2000
    assert decode_why(value) == request


@given(pairs=st.dictionaries(st.text(min_size=1, max_size=20), st.text(max_size=30), min_size=1, max_size=8))
def test_why_values_round_trip_for_typed_attributes(pairs: dict[str, str]) -> None:
    request = WhyRequest(icp_version_id=5, pairs=pairs)
    value = encode_why(request)
    assert value is not None
    assert decode_why(value) == request


@given(
    junk=st.text(max_size=60)
    | st.builds(
        json.dumps,
        st.dictionaries(st.sampled_from("avpsu"), st.integers() | st.text(max_size=5) | st.booleans()),
    )
)
def test_forged_button_values_are_rejected_or_read_safely(junk: str) -> None:
    try:
        why = decode_why(junk)
    except ValueError:
        pass
    else:
        assert (why.account_id is None or why.account_id > 0) and (why.account_id is not None or why.pairs)
    try:
        account, share = decode_choice(junk)
    except ValueError:
        pass
    else:
        assert isinstance(account, int) and account > 0 and isinstance(share, bool)


@pytest.mark.parametrize(
    "value",
    ['{"a":2147483648}', '{"a":true}', '{"a":0}', '{"a":"12"}', "[1]", "", '{"v":"x","a":3}', '{"p":{}}'],
)
def test_specific_forgeries_are_rejected(value: str) -> None:
    with pytest.raises(ValueError):
        decode_why(value)


def test_chooser_offers_a_button_per_candidate_that_carries_the_account_and_share_flag() -> None:
    choices = [
        Choice(account_id=11, name="Acme Inc", domain="acme.com", crm_id="A-1"),
        Choice(account_id=12, name="Acme <Labs>", domain=None, crm_id="A-2"),
    ]
    blocks = check_blocks(account_chooser("acme", choices, exact=True, share=True))
    text = all_text(blocks)
    assert "Several accounts match *acme*" in text
    assert "Acme &lt;Labs&gt;" in text and "acme.com · CRM id A-1" in text
    buttons = _buttons(blocks)
    assert [b["action_id"] for b in buttons] == [CHOOSE_ACCOUNT, CHOOSE_ACCOUNT]
    assert [decode_choice(b["value"]) for b in buttons] == [(11, True), (12, True)]
    suggestions = all_text(check_blocks(account_chooser("acme.io", choices[:1], exact=False, share=False)))
    assert "No account matches *acme.io* exactly" in suggestions
    assert decode_choice(encode_choice(5, share=False)) == (5, False)


def test_chooser_lists_at_most_ten_candidates() -> None:
    choices = [Choice(account_id=i, name=f"Acme {i}") for i in range(1, 30)]
    assert len(_buttons(check_blocks(account_chooser("acme", choices, exact=True, share=False)))) == 10


def test_not_found_text_says_whether_anything_is_loaded() -> None:
    assert "No accounts are loaded" in not_found_text("acme", 0)
    text = not_found_text("<b>acme</b>", 1234)
    assert "among 1,234 accounts" in text and "&lt;b&gt;acme&lt;/b&gt;" in text


@settings(max_examples=60, deadline=None)
@given(
    icp=scoring_icps(),
    account=accounts(),
    expanded=st.booleans(),
    status=st.sampled_from(["approved", "draft"]),
)
def test_any_icp_and_account_give_a_valid_card(
    icp: ICP, account: dict[str, Any], expanded: bool, status: str
) -> None:
    result = score(account, icp)
    blocks = check_blocks(
        score_card(
            result, subject=SUBJECT, icp_status=status, why=WhyRequest(2, account_id=9), expanded=expanded
        )
    )
    text = all_text(blocks)
    assert f"{result.score:g}/100" in text
    if expanded:
        marks = [ln for ln in text.splitlines() if ln[:1] in {"✓", "✗", "○", "?"} and " — " in ln]
        assert len(marks) == len(icp.characteristics)
    else:
        assert [b["action_id"] for b in _buttons(blocks)] == [WHY_BUTTON]
