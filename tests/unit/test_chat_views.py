"""Chat answers as Slack messages: valid Block Kit within limits, sources shown, text escaped."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.services.chat.answer import ChatReply
from bot.services.chat.evidence import Evidence, Figure
from bot.services.scoring.account_lookup import AccountRef, Candidate, LookupResult
from bot.services.scoring.service import IcpInUse, ScoreOutcome, Subject
from bot.slack.views.chat import EMPTY_TEXT, HOW_TO_ASK, OFFLINE_LABEL, chat_message
from bot.store.models import IcpStatus
from icp_engine.model import ICP
from icp_engine.scoring import score
from tests.support.blockkit_checks import all_text, check_blocks

ICP_DOC = {
    "name": "Mid-market SaaS",
    "criteria": [
        {"attribute": "industry", "op": "in", "values": ["software"], "points": 40},
        {"attribute": "employees", "op": "between", "values": [200, 2000], "points": 30},
    ],
}


def _evidence(i: int, text: str = "Fintechs with 200+ staff buy fastest") -> Evidence:
    return Evidence(id=f"ans:{i}", kind="answer", text=text, source=f"interview answer by <@U{i}> (sales)")


def _figure(i: int) -> Figure:
    return Figure(
        text=f"industry software: win rate {i}% of 120 closed deals", evidence_id=f"stat:industry=s{i}"
    )


def test_offline_answer_is_labelled_and_lists_figures_and_evidence() -> None:
    reply = ChatReply(
        question="which industries win most?",
        mode="offline",
        cited=(_evidence(1), _evidence(2, "Retail churns after a year")),
        figures=(_figure(41),),
        note="No language model is configured.",
    )
    text, blocks = chat_message(reply)
    raw = check_blocks(blocks)
    shown = all_text(raw)
    assert OFFLINE_LABEL in shown and "No language model is configured." in shown
    assert "`ans:1`" in shown and "Retail churns after a year" in shown
    assert "win rate 41%" in shown and "`stat:industry=s41`" in shown
    assert "no language model" in text


def test_model_answer_shows_only_its_cited_sources_and_escapes_prose() -> None:
    reply = ChatReply(
        question="q",
        mode="llm",
        answer="Software wins most <!channel> [stat:industry=s41].\nSales agree & say so [ans:1].",
        cited=(_evidence(1),),
        figures=(_figure(41),),
        model="gpt-test",
    )
    text, blocks = chat_message(reply)
    shown = all_text(check_blocks(blocks))
    assert "&lt;!channel&gt;" in shown and "<!channel>" not in shown
    assert "Sales agree &amp; say so" in shown
    assert "*Sources*" in shown and "`ans:1`" in shown
    assert "Answered by gpt-test from 1 cited source" in shown
    assert text.startswith("Software wins most")


def test_score_answer_is_the_engine_card() -> None:
    icp = ICP.model_validate(ICP_DOC)
    result = score({"industry": "software", "employees": 500}, icp)
    outcome = ScoreOutcome(
        subject=Subject(kind="account", title="Acme Inc", account_id=1, crm_id="A1", domain="acme.com"),
        icp=IcpInUse(version_id=1, version=1, status=IcpStatus.approved, segment="default", icp=icp),
        result=result,
    )
    text, blocks = chat_message(ChatReply(question="why is Acme tier A?", mode="score", score=outcome))
    shown = all_text(check_blocks(blocks))
    assert f"{result.score:g}/100" in shown and "scoring engine" in shown
    assert "Acme Inc" in text


def test_ambiguous_company_offers_a_choice() -> None:
    candidates = tuple(
        Candidate(
            account=AccountRef(id=i, crm_id=f"A{i}", name=f"Acme {i}", domain=None), method="fuzzy", score=80
        )
        for i in range(1, 4)
    )
    lookup = LookupResult(query="acme", status="ambiguous", candidates=candidates, searched=10)
    _, blocks = chat_message(ChatReply(question="why is acme tier B?", mode="choose", lookup=lookup))
    shown = all_text(check_blocks(blocks))
    assert "Acme 2" in shown


def test_empty_help_and_no_icp_replies() -> None:
    for mode, needle in (("empty", EMPTY_TEXT), ("help", HOW_TO_ASK), ("no_icp", "no ICP")):
        text, blocks = chat_message(ChatReply(question="q", mode=mode))  # type: ignore[arg-type]
        check_blocks(blocks)
        assert needle in text


long_text = st.text(min_size=0, max_size=4000)


@settings(max_examples=30, deadline=None)
@given(
    answer=long_text.filter(lambda t: t.strip()),
    quotes=st.lists(long_text, min_size=0, max_size=80),
    figures=st.integers(0, 60),
    mode=st.sampled_from(["llm", "offline"]),
)
def test_big_replies_stay_within_slack_limits(
    answer: str, quotes: list[str], figures: int, mode: str
) -> None:
    reply = ChatReply(
        question="q",
        mode=mode,  # type: ignore[arg-type]
        answer=answer * 3,
        cited=tuple(_evidence(i, q or "x") for i, q in enumerate(quotes)),
        figures=tuple(_figure(i) for i in range(figures)),
        note="n" * 5000,
    )
    text, blocks = chat_message(reply)
    raw = check_blocks(blocks)
    assert len(raw) <= 50 and len(text) <= 3000


def test_evidence_that_does_not_fit_is_counted() -> None:
    reply = ChatReply(question="q", mode="offline", cited=tuple(_evidence(i, "w" * 600) for i in range(400)))
    raw = check_blocks(chat_message(reply)[1])
    assert "more pieces of evidence not shown here" in all_text(raw)
