"""The review decision modal, its reading and the texts it leads to (pure views, escaped)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.services.reviews.checkins import CheckinAnswer
from bot.services.reviews.decisions import NOTE_MAX, Decision, clean_note
from bot.services.reviews.proposal import BacktestFigures, Proposal
from bot.slack.views.blocks_text import SECTION_TEXT_MAX
from bot.slack.views.review_decision import (
    CHECKIN_QUESTIONS,
    CHECKINS_SHOWN,
    DECISION_ACTION,
    DECISION_BLOCK,
    NOTE_ACTION,
    NOTE_BLOCK,
    DecisionTarget,
    checkin_blocks,
    checkin_text,
    checkin_thanks,
    closed_text,
    decision_modal,
    read_decision,
)
from bot.slack.views.review_kit import proposal_text
from tests.support.harness import assert_valid_view

NEXT = datetime(2027, 3, 1, 9, tzinfo=UTC)


def test_the_modal_is_valid_and_carries_its_target() -> None:
    target = DecisionTarget(7, "C0REVOPS", "1700000000.000100")
    view = decision_modal(target, icp_name="<Mid> & market").to_dict()
    assert_valid_view(view)
    assert DecisionTarget.decode(view["private_metadata"]) == target
    assert "*&lt;Mid&gt; &amp; market*" in view["blocks"][0]["text"]["text"]


@pytest.mark.parametrize("raw", ["", "[]", '{"r":0}', '{"r":true}', '{"r":"7"}', '{"r":7,"c":3}', "{"])
def test_a_forged_target_is_refused(raw: str) -> None:
    with pytest.raises(ValueError):
        DecisionTarget.decode(raw)


def test_reading_the_decision() -> None:
    values = {
        DECISION_BLOCK: {DECISION_ACTION: {"selected_option": {"value": "edit"}}},
        NOTE_BLOCK: {NOTE_ACTION: {"value": "tighten size"}},
    }
    assert read_decision(values) == (Decision.edit, "tighten size")
    assert read_decision({}) == {DECISION_BLOCK: "Pick a decision."}
    bad = {DECISION_BLOCK: {DECISION_ACTION: {"selected_option": {"value": "burn it"}}}}
    assert read_decision(bad) == {DECISION_BLOCK: "Pick a decision."}


def test_the_thread_note_escapes_the_owner_note_and_says_what_next() -> None:
    text = closed_text("U1", Decision.adopt, "<b> & co", 3, NEXT)
    assert text.startswith("<@U1> closed the review of the ICP v3: *adopt the re-learned proposal*")
    assert "“&lt;b&gt; &amp; co”" in text and "<b>" not in text
    assert "Drafting the re-learned proposal as the next version now" in text
    assert "closed the review of the ICP: *keep the ICP as it is*. Recorded" in closed_text(
        "U1", Decision.keep, "", None, NEXT
    )


def test_notes_are_one_line_and_bounded() -> None:
    assert clean_note("  a\n\n b  ") == "a b"
    assert len(clean_note("x" * 2000)) == NOTE_MAX


def test_the_checkin_asks_two_questions() -> None:
    text = checkin_text("U0BOSS", "<ICP>")
    assert "*&lt;ICP&gt;*" in text and len(CHECKIN_QUESTIONS) == 2
    assert all(q in text for q in CHECKIN_QUESTIONS)


def test_the_proposal_lists_its_changes_escaped_and_both_backtests() -> None:
    proposal = Proposal(
        summary="1 criterion added, 1 re-weighted",
        changes=("Criteria added: +10 industry in <b>&co", "Re-weighted: employees: +20 → +25 (+5)"),
        changes_total=11,
        active=BacktestFigures(auc=0.7, top_tier="A", top_tier_win_rate=0.5, win_rate=0.3, n=120),
        proposed=BacktestFigures(auc=0.76, top_tier="A", top_tier_win_rate=0.58, win_rate=0.3, n=120),
    )
    text = proposal_text(proposal, 3)
    assert text.splitlines() == [
        "*Re-learned proposal* (on every closed deal) vs v3: 1 criterion added, 1 re-weighted",
        "• Criteria added: +10 industry in &lt;b&gt;&amp;co",
        "• Re-weighted: employees: +20 → +25 (+5)",
        "…and 9 more change(s); adopting it (Mark reviewed) drafts it in full",
        "Backtest on the same 120 deals: v3 AUC 0.70, tier A wins 50% · proposal AUC 0.76, tier A wins 58% "
        "(in-sample: learned on these deals)",
    ]


def test_the_checkin_asks_for_the_reply_in_the_dm() -> None:
    text = checkin_text("U0BOSS", None)
    assert "reply right here in this DM" in text and "never posted in a channel" in text
    assert checkin_thanks("U0BOSS") == "Thanks — I've added this to the review <@U0BOSS> started."


def test_the_modal_shows_the_answers_escaped_and_who_has_not_answered() -> None:
    answers = [
        CheckinAnswer("U0ANA", "Sales", "We win <fintech> & lose <!channel>", NEXT),
        CheckinAnswer("U0BEN", "", "Retail churns", NEXT),
        CheckinAnswer("U0CY", "Product", None, None),
    ]
    view = decision_modal(DecisionTarget(7), checkins=answers).to_dict()
    assert_valid_view(view)
    texts = [b["text"]["text"] for b in view["blocks"] if b["type"] == "section"]
    assert "*Check-ins*: 2 of 3 answered (shown to owners only, here)" in texts
    assert "*Sales* (<@U0ANA>): “We win &lt;fintech&gt; &amp; lose &lt;!channel&gt;”" in texts
    assert "<@U0BEN>: “Retail churns”" in texts
    assert "Not answered yet: <@U0CY>" in texts
    assert not [b for b in decision_modal(DecisionTarget(7)).to_dict()["blocks"] if "Check-ins" in str(b)]


def test_many_long_answers_still_fit_a_modal() -> None:
    long = CheckinAnswer("U0ANA", "x" * 500, "<&>" * 3000, NEXT)
    blocks = checkin_blocks([long] * (CHECKINS_SHOWN + 5))
    assert len(blocks) == 1 + CHECKINS_SHOWN + 1  # heading, the answers shown, "…and 5 more"
    assert blocks[-1].to_dict()["text"]["text"] == "…and 5 more answer(s)"
    view = decision_modal(DecisionTarget(7), checkins=[long] * (CHECKINS_SHOWN + 5)).to_dict()
    assert_valid_view(view)
    shown = view["blocks"][2]["text"]["text"]  # intro, check-ins heading, the first answer
    assert len(shown) <= SECTION_TEXT_MAX and shown.endswith("…”")
    assert shown[: -len("…”")].endswith(";")  # the cut never splits an escape
