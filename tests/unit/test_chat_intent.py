"""Routing chat questions: score questions go to the engine, the rest to the evidence (pure)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.services.chat.answer import ChatAnswer, validate_answer
from bot.services.chat.intent import (
    MAX_QUESTION,
    DataQuestion,
    ScoreQuestion,
    SmallTalk,
    classify,
    clean_question,
    data_question,
)


@pytest.mark.parametrize(
    ("text", "company"),
    [
        ("why is Acme tier B?", "Acme"),
        ("<@U0BOT> why is Acme Inc. a good fit?", "Acme Inc."),
        ("how does acme.com score?", "acme.com"),
        ("what tier is Globex in?", "Globex"),
        ("What is the score of Initech?", "Initech"),
        ("is Umbrella Corp a good fit?", "Umbrella Corp"),
        ("Acme's score?", "Acme"),
        ("score Hooli", "Hooli"),
        ("why isn't the company Stark Industries in our ICP?", "Stark Industries"),
    ],
)
def test_score_questions_name_the_company(text: str, company: str) -> None:
    question = classify(text)
    assert isinstance(question, ScoreQuestion)
    assert question.company == company and not question.pairs


def test_typed_attributes_are_scored_inline() -> None:
    question = classify("score industry=software employees=500")
    assert isinstance(question, ScoreQuestion)
    assert question.company is None
    assert question.pairs == (("industry", "software"), ("employees", "500"))


@pytest.mark.parametrize(
    ("text", "attributes", "roles", "about_icp"),
    [
        ("which industries win most?", ("industry",), (), False),
        ("what do CS people say about churn?", (), ("customer_success",), False),
        (
            "Which countries and company sizes do sales reps like?",
            ("employees", "country"),
            ("sales",),
            False,
        ),
        ("what are the tiers of our ICP?", (), (), True),
        ("is it a good fit?", (), (), False),
        ("why is churn high in mid-market retail?", ("employees",), (), False),
    ],
)
def test_data_questions_carry_what_to_retrieve(
    text: str, attributes: tuple[str, ...], roles: tuple[str, ...], about_icp: bool
) -> None:
    question = classify(text)
    assert question == DataQuestion(
        text=clean_question(text), attributes=attributes, roles=roles, about_icp=about_icp
    )


@pytest.mark.parametrize("text", ["thanks!", "hi there", "Thank you so much", "help", "ok", "?"])
def test_small_talk_is_not_a_question(text: str) -> None:
    assert isinstance(classify(text), SmallTalk)


def test_mentions_and_spaces_are_removed() -> None:
    assert clean_question("<@U0BOT|icp>   which\n industries  <@U123> win?") == "which industries win?"
    assert data_question("<@U0BOT> industries?").text == "industries?"


@given(st.text(max_size=3000))
def test_any_text_is_routed_without_error(text: str) -> None:
    question = classify(text)
    assert len(question.text) <= MAX_QUESTION
    if isinstance(question, ScoreQuestion) and question.company is not None:
        assert question.company.strip() and len(question.company) <= 120


ids = st.sampled_from(
    ["ans:1", "ans:2", "stat:industry=software", "icp:3", "ans:99", "stat:made up", "persona:7"]
)
ALLOWED = frozenset({"ans:1", "stat:industry=software", "icp:3"})


@settings(deadline=None)
@given(
    words=st.lists(st.one_of(st.text(max_size=12), ids.map(lambda i: f"[{i}]")), max_size=20),
    cited=st.lists(ids, max_size=8),
)
def test_validated_answers_cite_only_what_was_retrieved(words: list[str], cited: list[str]) -> None:
    text, kept = validate_answer(ChatAnswer(answer=" ".join(words) or "x", cited=cited), ALLOWED)
    assert set(kept) <= ALLOWED and len(kept) == len(set(kept))
    for unknown in {"ans:2", "ans:99", "stat:made up", "persona:7"}:
        assert f"[{unknown}]" not in text
    for word in words:
        if word.startswith("[") and word[1:-1] in ALLOWED:
            assert word[1:-1] in kept
