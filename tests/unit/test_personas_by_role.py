"""Personas per buying role: the offline drafter's extraction from the demo's interview answers,
the "no sentence in two personas" property (offline and on the LLM path), and old stored personas."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.demo.script import ANSWERS, INTERVIEWEES
from bot.llm.client import LlmClient, RetryPolicy
from bot.llm.fake import QueueChatModel
from bot.services.icp.drafting.buying_roles import clauses, role_key, role_personas
from bot.services.icp.drafting.check import check
from bot.services.icp.drafting.compose import DRAFT_PROMPT_TOKENS
from bot.services.icp.drafting.evidence import citations_of
from bot.services.icp.drafting.gather import AnswerEvidence
from bot.services.icp.drafting.models import DraftedPersona, Trait
from bot.services.icp.drafting.offline import offline_proposal
from bot.services.icp.drafting.persona_overlap import distinct_personas, sentences, shared_sentences
from bot.services.icp.drafting.service import propose
from bot.services.interviews.questions import load_question_set
from tests.support.drafting_support import answer, gathered


def demo_answers() -> list[AnswerEvidence]:
    """The demo's interview answers, each on the topic of the question it answers."""
    out: list[AnswerEvidence] = []
    for person in INTERVIEWEES:
        assert person.role is not None
        questions = load_question_set(person.role).questions
        for text, question in zip(ANSWERS[person.user_id], questions, strict=False):
            out.append(
                answer(
                    len(out) + 1,
                    text,
                    stakeholder=person.user_id,
                    role=person.role.value,
                    topic=question.topic,
                )
            )
    return out


def by_role(personas: list[DraftedPersona]) -> dict[str, DraftedPersona]:
    return {p.role: p for p in personas}


def texts(p: DraftedPersona) -> list[str]:
    return [t.text for name in DraftedPersona.LIST_FIELDS for t in getattr(p, name)]


def test_demo_answers_give_each_buying_role_its_own_persona() -> None:
    said = demo_answers()
    personas = role_personas(said)
    roles = by_role(personas)
    assert roles["decision_maker"].name == "VP of Sales", "sales said: the VP of Sales decides"
    assert roles["economic_buyer"].name == "CFO"
    assert roles["champion"].name == "RevOps Admin"
    assert roles["blocker"].name == "IT Security"
    assert roles["user"].name == "Sales Reps"
    blocker = roles["blocker"]
    assert [q.text for q in blocker.quotes] == ["“IT security can block us if SSO is missing”"]
    assert [o.text for o in blocker.objections] == ["“SSO is missing”"]
    assert [q.text for q in roles["champion"].quotes] == ["“A RevOps admin owns the rollout”"]
    assert "“The VP of Sales decides”" in [q.text for q in roles["decision_maker"].quotes]
    assert roles["economic_buyer"].budget_authority is not None
    assert any("forecast" in t.text for t in roles["economic_buyer"].triggers)
    assert any("reps spend hours" in t.text for t in roles["user"].quotes)
    assert any("RevOps community Slack groups" in t.text for t in roles["champion"].channels)
    for p in personas:
        assert p.quotes and p.message_hooks and p.buying_role is not None, p.name
    # Attributed: every statement cites the answer whose words it quotes.
    by_id = {a.id: a.text.casefold() for a in said}
    for p in personas:
        for name in ("quotes", "challenges", "goals", "triggers", "channels", "objections"):
            for t in getattr(p, name):
                (ref,) = t.evidence
                quoted = t.text.split("“", 1)[1].rstrip("”").casefold()
                assert quoted in by_id[ref].replace("'", "'"), (t.text, ref)
    assert shared_sentences(personas) == set()


def test_the_offline_draft_of_the_demo_has_distinct_personas_after_the_checks() -> None:
    g = gathered(demo_answers())
    checked = check(offline_proposal(g), g, citations_of(g))
    assert {"economic_buyer", "decision_maker", "champion", "user", "blocker"} <= {
        p.role for p in checked.personas
    }
    assert shared_sentences(checked.personas) == set()
    assert not any("repeated another persona" in n for n in checked.notes), "nothing to remove offline"


ACTORS = ("the CFO", "the VP of Sales", "a RevOps admin", "IT security", "our reps", "the Head of Finance")
DOINGS = (
    "signs",
    "decides",
    "owns the rollout",
    "can block us",
    "uses it every day",
    "pushes for it",
    "likes it",
)
TOPICS = ("pains", "triggers", "channels", "objections", "value", "buying_committee", "best_customers")
FREE = (
    "forecasts still miss",
    "pipeline data is cleaned by hand",
    "referrals convert best",
    "SSO is missing",
)


@st.composite
def answer_sets(draw: st.DrawFn) -> list[AnswerEvidence]:
    n = draw(st.integers(1, 8))
    out = []
    for i in range(n):
        parts = draw(
            st.lists(
                st.one_of(
                    st.tuples(st.sampled_from(ACTORS), st.sampled_from(DOINGS)).map(" ".join),
                    st.sampled_from(FREE),
                ),
                min_size=1,
                max_size=4,
            )
        )
        text = ", and ".join(parts) + "."
        out.append(answer(i + 1, text[0].upper() + text[1:], topic=draw(st.sampled_from(TOPICS))))
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(said=answer_sets())
def test_no_sentence_is_in_two_personas_and_every_statement_is_cited(said: list[AnswerEvidence]) -> None:
    personas = role_personas(said)
    assert shared_sentences(personas) == set()
    ids = {a.id for a in said}
    for p in personas:
        assert p.role in {"economic_buyer", "decision_maker", "champion", "user", "blocker", "influencer"}
        for name in DraftedPersona.LIST_FIELDS:
            for t in getattr(p, name):
                assert t.evidence and set(t.evidence) <= ids
    assert len({p.name for p in personas}) == len(personas)


def test_clauses_cut_an_answer_at_its_actors() -> None:
    (a,) = [
        answer(1, "The VP of Sales decides, the CFO signs, and IT security can block us if SSO is missing.")
    ]
    assert [c.text for c in clauses(a)] == [
        "The VP of Sales decides",
        "The CFO signs",
        "IT security can block us if SSO is missing",
    ]


def test_repeated_statements_are_removed_from_later_personas() -> None:
    shared = Trait(text="Forecasts still miss. Reps clean data by hand!", evidence=["ans:1"])
    first = DraftedPersona(name="CFO", goals=[shared], channels=[Trait(text="C-level", evidence=["ans:1"])])
    second = DraftedPersona(
        name="VP of Sales",
        challenges=[Trait(text="“forecasts still miss”", evidence=["ans:2"])],
        goals=[Trait(text="Hit the number every quarter", evidence=["ans:2"])],
        channels=[Trait(text="C-level", evidence=["ans:2"])],
    )
    assert shared_sentences([first, second]) == {"forecasts still miss"}
    kept, removed = distinct_personas([first, second])
    assert removed == 1 and kept[0] == first
    assert kept[1].challenges == [] and [t.text for t in kept[1].goals] == ["Hit the number every quarter"]
    assert kept[1].channels == second.channels, "short labels are not sentences"
    assert sentences("Yes. It is fine.") == ["it is fine"]


def _llm(*responses: object) -> LlmClient:
    retry = RetryPolicy(max_retries=1, attempt_timeout_seconds=5, deadline_seconds=10, backoff_seconds=0.01)
    fake = QueueChatModel(responses=list(responses))
    return LlmClient(fake, prompt_token_budget=DRAFT_PROMPT_TOKENS, retry=retry, sleep=lambda _s: None)


def _llm_persona(name: str, role: str, goal: str, ids: list[str]) -> dict[str, object]:
    point = {"text": goal, "evidence": ids}
    shared = {"text": "Their reps spend hours a week cleaning pipeline data by hand.", "evidence": ["ans:2"]}
    return {
        "name": name,
        "titles": [name],
        "seniority": "exec",
        "department": "sales",
        "buying_role": role,
        "budget_authority": "",
        "evidence": ids,
        "goals": [point],
        "challenges": [shared],  # the copy a model tends to make into every persona
        "motivators": [],
        "objections": [],
        "tools": [],
        "channels": [],
        "message_hooks": [],
    }


def test_the_llm_path_is_checked_for_sentences_shared_between_personas() -> None:
    g = gathered(demo_answers())
    draft = {
        "name": "Drafted",
        "narrative": "",
        "criteria": [],
        "personas": [
            _llm_persona("VP of Sales", "Decision maker", "Forecasts the board can trust.", ["ans:4"]),
            _llm_persona("CFO", "Economic buyer (signs)", "Forecasts the board can trust.", ["ans:4"]),
            _llm_persona("RevOps admin", "Champion", "A rollout in three weeks.", ["ans:7"]),
        ],
        "pains": [],
        "goals": [],
        "triggers": [],
        "disqualifiers": [],
    }
    proposal, drafted_with, _ = propose(g, llm=_llm(draft), knowledge=None)
    assert drafted_with == "QueueChatModel"
    assert shared_sentences(proposal.personas), "the model's personas repeat each other"
    checked = check(proposal, g, citations_of(g))
    assert shared_sentences(checked.personas) == set()
    first, second, third, *added = checked.personas
    assert [p.role for p in checked.personas[:3]] == ["decision_maker", "economic_buyer", "champion"]
    # The model wrote no quotes or triggers: they come from the answers of the same buying role,
    # and the roles it left out (the blocker the answers name) join as their extractive persona.
    assert "“The VP of Sales decides”" in [q.text for q in first.quotes]
    assert [q.text for q in third.quotes] == ["“A RevOps admin owns the rollout”"]
    assert any("forecast" in t.text for t in second.triggers)
    (blocker,) = [p for p in added if p.role == "blocker"]
    assert [q.text for q in blocker.quotes] == ["“IT security can block us if SSO is missing”"]
    assert any("left out" in n for n in proposal.notes)
    assert first.challenges and first.goals
    assert second.challenges == [] and second.goals == [], "both repeated the VP of Sales's"
    assert third.challenges == [] and [t.text for t in third.goals] == ["A rollout in three weeks."]
    assert "removed 3 statement(s) that repeated another persona's" in checked.notes


def test_role_key_reads_free_text_roles() -> None:
    assert role_key("Economic buyer (signs)") == "economic_buyer"
    assert role_key("Can veto the deal") == "blocker"
    assert role_key("the one who decides") == "decision_maker"
    assert role_key("a friend") == ""


def test_personas_stored_before_buying_roles_still_load() -> None:
    old = {
        "name": "CFO",
        "titles": ["CFO"],
        "role": "CFO",
        "goals": ["control cost"],
        "hooks": [],
        "message_hooks": [],
        "evidence": {"goals": [["ans:5"]]},
    }
    persona = DraftedPersona.from_store(old)
    assert persona.role == "" and persona.triggers == [] and persona.quotes == []
    assert persona.goals == [Trait(text="control cost", evidence=["ans:5"])]
    new = persona.model_copy(update={"role": "economic_buyer", "quotes": [Trait(text="“The CFO signs”")]})
    assert DraftedPersona.from_store(new.to_store()) == new
