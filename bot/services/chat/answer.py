"""Chat: answer a question about the ICP, the personas or the data, grounded in evidence.

* A score question ("why is Acme tier B?") is answered by the scoring engine alone: the account
  is looked up and scored like ``/icp score``; no model sees it, so no score is ever estimated.
* A data question retrieves evidence (interview answers, CRM statistics, ICP versions, personas)
  and the engine's figures. With a language model, it writes a short answer citing evidence ids;
  the ids are checked against what was retrieved (unknown ones are dropped; an answer citing none
  is not shown). Without a model, or when it fails, the evidence and figures are shown as they
  are, labelled as such.

No Slack here: the listener turns a :class:`ChatReply` into a message (``bot/slack/views/chat.py``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field

from bot.llm.prompts import untrusted
from bot.services.chat.audience import FULL, Audience, Shown, present
from bot.services.chat.evidence import Evidence, Figure, Gathered, gather
from bot.services.chat.intent import ScoreQuestion, SmallTalk, classify, data_question
from bot.services.privacy.posted import people_allowing_names
from bot.services.scoring.account_lookup import LookupResult
from bot.services.scoring.service import NoIcpError, ScoreOutcome, ScoringError, score_inline, score_query
from bot.store.db import Engine

if TYPE_CHECKING:
    from bot.knowledge.store import KnowledgeStore
    from bot.llm.client import LlmClient

log = logging.getLogger(__name__)

PROMPT = "chat/answer"
MAX_OUTPUT_TOKENS = 700
ANSWER_MAX = 2000
MAX_CITED = 8
_BRACKETS = re.compile(r"\s?\[([^\[\]\n]{1,400})\]")
_CITED_ID = re.compile(r"^(?:ans|stat|icp|persona):\S")

Mode = Literal["llm", "offline", "score", "choose", "no_icp", "empty", "help"]

NO_MODEL = "No language model is configured, so here is what the data and the interviews say."
UNAVAILABLE = "The language model did not answer ({reason}), so here is what the data and the interviews say."
UNCITED = "The model's answer did not cite the evidence it was given, so here is the evidence itself."
NOT_A_COMPANY = "I found no company called “{name}” among your accounts, so I looked in the data instead."


class ChatAnswer(BaseModel):
    """What the model returns: a short answer, and the evidence ids it stands on."""

    answer: str = Field(min_length=1, max_length=ANSWER_MAX, description="The answer, in plain sentences.")
    cited: list[str] = Field(
        default_factory=list,
        max_length=MAX_CITED,
        description="Ids of the evidence the answer uses, e.g. ans:12 or stat:industry=software.",
    )


@dataclass(frozen=True)
class ChatReply:
    """What to tell the person; ``mode`` says which parts are filled."""

    question: str
    mode: Mode
    answer: str | None = None  # the model's validated prose (mode "llm")
    cited: tuple[Evidence, ...] = ()  # evidence the answer cites (llm) or the closest (offline)
    figures: tuple[Figure, ...] = ()
    score: ScoreOutcome | None = None
    lookup: LookupResult | None = None
    note: str | None = None  # why the answer is offline, or how the question was read
    model: str | None = None
    drawn_on: frozenset[str] = frozenset()  # interviewees cited (set once names are hidden)

    @property
    def people(self) -> frozenset[str]:
        """The interviewees whose answers this reply draws on (its message is redacted on forget)."""
        return self.drawn_on | frozenset(e.person for e in self.cited if e.kind == "answer" and e.person)


def _load_knowledge(
    knowledge: KnowledgeStore | Callable[[], KnowledgeStore | None] | None,
) -> KnowledgeStore | None:
    if knowledge is None or not callable(knowledge):
        return knowledge
    try:
        return knowledge()
    except Exception:  # the store failing to open still leaves the engine's figures
        log.exception("the knowledge store could not be opened for chat")
        return None


def answer_question(
    *,
    engine: Engine,
    knowledge: KnowledgeStore | Callable[[], KnowledgeStore | None] | None,
    llm: LlmClient | None,
    team_id: str,
    text: str,
    audience: Audience = FULL,
) -> ChatReply:
    """Answer ``text`` for the workspace of ``team_id``, as ``audience`` may read it."""
    reply = _answer(engine=engine, knowledge=knowledge, llm=llm, team_id=team_id, text=text)
    if audience.sees_quotes or not reply.cited:
        return reply
    shown = present(
        Shown(cited=reply.cited, figures=reply.figures, answer=reply.answer),
        audience,
        people_allowing_names(engine=engine, team_id=team_id),
    )
    people = reply.people  # who the answer drew on, whether or not they are named
    return replace(reply, cited=shown.cited, figures=shown.figures, answer=shown.answer, drawn_on=people)


def _answer(
    *,
    engine: Engine,
    knowledge: KnowledgeStore | Callable[[], KnowledgeStore | None] | None,
    llm: LlmClient | None,
    team_id: str,
    text: str,
) -> ChatReply:
    question = classify(text)
    if isinstance(question, SmallTalk):
        return ChatReply(question=question.text, mode="help")
    note = None
    if isinstance(question, ScoreQuestion):
        reply = _score(engine, team_id, question)
        if reply is not None:
            return reply
        note = NOT_A_COMPANY.format(name=question.company)
        question = data_question(text)
    gathered = gather(engine=engine, knowledge=_load_knowledge(knowledge), team_id=team_id, question=question)
    if not gathered.evidence:
        return ChatReply(question=question.text, mode="empty", note=note)
    if llm is None:
        return _offline(question.text, gathered, note or NO_MODEL)
    return _with_model(question.text, gathered, llm, note)


def _score(engine: Engine, team_id: str, question: ScoreQuestion) -> ChatReply | None:
    """The engine's answer; None when the named company is not an account (a data question then)."""
    try:
        if question.pairs:
            outcome: ScoreOutcome | LookupResult = score_inline(
                engine, team_id=team_id, pairs=dict(question.pairs)
            )
        else:
            assert question.company is not None
            outcome = score_query(engine, team_id=team_id, query=question.company)
    except NoIcpError:
        return ChatReply(question=question.text, mode="no_icp")
    except ScoringError as exc:
        return ChatReply(question=question.text, mode="empty", note=str(exc))
    if isinstance(outcome, ScoreOutcome):
        return ChatReply(question=question.text, mode="score", score=outcome)
    if outcome.status == "ambiguous" and outcome.candidates:
        return ChatReply(question=question.text, mode="choose", lookup=outcome)
    return None


def _offline(question: str, gathered: Gathered, note: str) -> ChatReply:
    return ChatReply(
        question=question, mode="offline", cited=gathered.evidence, figures=gathered.figures, note=note
    )


def render_evidence(gathered: Gathered) -> str:
    """The evidence as the prompt shows it: one line per id (the prompt file delimits it)."""
    return "\n".join(f"[{e.id}] ({untrusted(e.source)}) {untrusted(e.text)}" for e in gathered.evidence)


def render_figures(gathered: Gathered) -> str:
    return "\n".join(f"- {untrusted(f.text)} [{f.evidence_id}]" for f in gathered.figures) or "(none)"


def validate_answer(raw: ChatAnswer, allowed: frozenset[str]) -> tuple[str, list[str]]:
    """The answer with citations of ids that were not retrieved removed, and the ids it cites."""
    cited = [c.strip() for c in raw.cited if c.strip() in allowed]

    def fix(match: re.Match[str]) -> str:
        parts = [part.strip() for part in re.split(r"[,;]", match.group(1))]
        if not all(_CITED_ID.match(part) for part in parts):
            return match.group(0)  # brackets that are not a citation
        kept = [part for part in parts if part in allowed]
        cited.extend(kept)
        return f" [{', '.join(kept)}]" if kept else ""

    text = _BRACKETS.sub(fix, raw.answer).strip()
    return text, list(dict.fromkeys(cited))[:MAX_CITED]


def _with_model(question: str, gathered: Gathered, llm: LlmClient, note: str | None) -> ChatReply:
    from bot.llm.client import LlmUnavailable, PromptTooLarge
    from bot.llm.prompts import load_prompt

    try:
        messages = load_prompt(PROMPT).render(
            question=untrusted(question), evidence=render_evidence(gathered), figures=render_figures(gathered)
        )
        # A client fitted to a small served context may allow fewer output tokens than we would ask.
        max_output = min(MAX_OUTPUT_TOKENS, llm.max_output_tokens)
        raw = llm.structured(ChatAnswer, messages, max_output_tokens=max_output)
    except (LlmUnavailable, PromptTooLarge) as exc:
        reason = getattr(exc, "reason", None) or str(exc) or type(exc).__name__
        log.warning("chat answered offline: %s", reason)
        return _offline(question, gathered, UNAVAILABLE.format(reason=str(reason)[:200]))
    except Exception:
        log.exception("the chat model call failed")
        return _offline(question, gathered, UNAVAILABLE.format(reason="an unexpected error"))
    if not isinstance(raw, ChatAnswer):
        raw = ChatAnswer.model_validate(raw.model_dump() if isinstance(raw, BaseModel) else raw)
    text, cited = validate_answer(raw, gathered.ids)
    if not cited or not text:
        return _offline(question, gathered, UNCITED)
    by_id = gathered.by_id()
    return ChatReply(
        question=question,
        mode="llm",
        answer=text,
        cited=tuple(by_id[c] for c in cited),
        figures=gathered.figures,
        note=note,
        model=_model_name(llm),
    )


def _model_name(llm: object) -> str | None:
    model = getattr(llm, "model", None)
    name = getattr(model, "model_name", None) or getattr(model, "model", None)
    return str(name) if isinstance(name, str) and name else None
