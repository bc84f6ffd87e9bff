"""Reduce: one structured LLM call drafts the ICP's words from the engine's findings and evidence.

The prompt is assembled within ``min(DRAFT_PROMPT_TOKENS, client budget)``: engine facts first,
then statistics, then evidence — retrieved items first, then the rest in a deterministic order
(per topic, most representative first, topics interleaved). With more answers than fit, the
answers are summarised per stakeholder first (``summarise``) and the summaries take their place,
so the prompt stays the same size however many answers there are.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from langchain_core.messages import BaseMessage

from bot.knowledge.store import KnowledgeStoreError
from bot.llm.client import PromptTooLarge
from bot.llm.prompts import load_prompt
from bot.llm.tokens import count_tokens
from bot.services.icp.drafting.budget import answer_line, fit, round_robin, unique, untrusted
from bot.services.icp.drafting.buying_roles import role_key
from bot.services.icp.drafting.check import signed_points
from bot.services.icp.drafting.evidence import OVERALL_ID, citations_of, stat_texts
from bot.services.icp.drafting.gather import AnswerEvidence, Gathered
from bot.services.icp.drafting.models import DraftedPersona, Trait
from bot.services.icp.drafting.offline import offline_proposal
from bot.services.icp.drafting.persona_words import with_answer_words
from bot.services.icp.drafting.proposal import Proposal, ProposedCriterion
from bot.services.icp.drafting.retrieve import retrieve
from bot.services.icp.drafting.schemas import (
    LiteCriterion,
    LitePersona,
    LitePoint,
    LlmCriterion,
    LlmDraft,
    LlmDraftLite,
    LlmDraftTiny,
    LlmPersona,
    LlmPoint,
    TinyPoint,
)
from bot.services.icp.drafting.summarise import SummaryLine, summarise
from bot.services.icp.drafting.themes import rank_answers

if TYPE_CHECKING:
    from bot.knowledge.store import KnowledgeStore
    from bot.llm.client import LlmClient

PROMPT = "drafting/icp"
DRAFT_PROMPT_TOKENS = 12_000
DRAFT_OUTPUT_TOKENS = 2_000
LITE_BELOW_TOKENS = 6_000  # a client budget below this drafts with the lighter schema
LITE_OUTPUT_TOKENS = 700
TINY_BELOW_TOKENS = 3_000  # and below this with the smallest one
TINY_OUTPUT_TOKENS = 450  # a small model pads JSON with whitespace
DraftSchema = type[LlmDraft] | type[LlmDraftLite] | type[LlmDraftTiny]
LEARNED_SHARE = 0.25  # of what is left after the fixed parts
STATISTICS_SHARE = 0.3  # of what is left after the learned criteria
SAFETY_TOKENS = 32
NUMERIC_OPS = frozenset({"gte", "lt", "between"})


def data_summary(g: Gathered) -> str:
    lines = []
    if g.analysis is not None:
        o = g.analysis.overall
        lines.append(
            f"{o.deals:,} closed deals, {o.wins:,} won ({o.win_rate:.0%}), {o.accounts:,} accounts "
            f"[{OVERALL_ID}]"
        )
        lines += list(g.analysis.summary[:4])
    else:
        lines.append("No closed deals: nothing to learn characteristics from.")
    if g.crm.attributes:
        lines.append("Account attributes in the CRM data: " + ", ".join(sorted(g.crm.attributes)))
    lines.append(f"{len(g.answers):,} interview answers from {len(g.stakeholders)} people")
    return "\n".join(lines)


def learned_lines(g: Gathered) -> list[str]:
    """The learned characteristics, heaviest first, one bin a line with its signed points (best
    first), then the disqualifiers. Points are centred, so a negative bin reads as "wins less"."""
    if g.learned is None or not g.learned.icp.characteristics:
        return ["(none: the data support no characteristic)"]
    icp = g.learned.icp
    lines = []
    for ch in sorted(icp.characteristics, key=lambda ch: -ch.weight):  # stable: ties keep ICP order
        for c in sorted(ch.bins, key=lambda c: -c.points):
            lines.append(
                f"- {ch.name}: {c.describe()} ({signed_points(c.points)} points) [{', '.join(c.evidence)}]"
            )
    lines += [
        f"- disqualifier: {d.condition.describe()}: {d.reason} [{', '.join(d.evidence)}]"
        for d in icp.disqualifiers
    ]
    return lines


def statistic_lines(g: Gathered, first: list[str]) -> list[str]:
    """Retrieved statistics first, then significant segments by effect size, then the rest."""
    texts = stat_texts(g)
    order: list[str] = [i for i in first if i in texts]
    if g.analysis is not None:
        segments = sorted(g.analysis.segments, key=lambda s: (not s.significant, -abs(s.lift - 1.0), s.id))
        order += [s.id for s in segments]
    order += sorted(texts)
    return [f"{key} {texts[key]}" for key in unique(order) if key in texts and key != OVERALL_ID]


def ordered_answers(answers: list[AnswerEvidence], first: list[str]) -> list[AnswerEvidence]:
    by_id = {a.id: a for a in answers}
    topics: dict[str, list[AnswerEvidence]] = {}
    for a in answers:
        topics.setdefault(a.topic, []).append(a)
    rest = round_robin([rank_answers(topics[t]) for t in sorted(topics)])
    return unique([*(by_id[i] for i in first if i in by_id), *rest])


def _trait(p: LlmPoint | LitePoint | TinyPoint) -> Trait:
    return Trait(text=p.text, evidence=list(p.evidence))


def _traits(p: object, name: str) -> list[Trait]:
    return [_trait(t) for t in getattr(p, name, [])]


def _persona(p: LlmPersona | LitePersona) -> DraftedPersona:
    ids = list(p.evidence)

    def scalar(name: str) -> Trait | None:
        text = str(getattr(p, name, "") or "")
        return Trait(text=text, evidence=ids) if text.strip() else None

    return DraftedPersona(
        name=p.name or (p.titles[0] if p.titles else "Persona"),
        titles=list(p.titles),
        role=role_key(p.buying_role),
        seniority=scalar("seniority"),
        department=scalar("department"),
        buying_role=scalar("buying_role"),
        budget_authority=scalar("budget_authority"),
        **{name: _traits(p, name) for name in DraftedPersona.LIST_FIELDS},
    )


def _number(text: str) -> int | float | None:
    try:
        value = float(text.replace(",", "").strip())
    except ValueError:
        return None
    return int(value) if value.is_integer() else value


def _criterion(c: LlmCriterion | LiteCriterion) -> ProposedCriterion | None:
    attribute = "_".join(c.attribute.strip().casefold().split())
    if not attribute:
        return None
    values: list[str | int | float] = [v.strip() for v in c.values if v.strip()]
    if c.op in NUMERIC_OPS:
        numbers = [_number(str(v)) for v in values]
        if any(n is None for n in numbers):
            return None
        values = [n for n in numbers if n is not None]
        if c.op == "between" and len(values) == 2:
            values = sorted(values)
    elif attribute in ("industry", "country", "region", "tech_stack"):
        values = [str(v).casefold() for v in values]
    return ProposedCriterion(
        attribute=attribute, op=c.op, values=tuple(values), evidence=tuple(c.evidence), rationale=c.rationale
    )


def to_proposal(draft: LlmDraft | LlmDraftLite | LlmDraftTiny) -> Proposal:
    return Proposal(
        name=draft.name.strip(),
        criteria=[x for x in (_criterion(c) for c in getattr(draft, "criteria", [])) if x is not None],
        personas=[_persona(p) for p in getattr(draft, "personas", [])],
        pains=_traits(draft, "pains"),
        goals=_traits(draft, "goals"),
        triggers=_traits(draft, "triggers"),
        disqualifiers=_traits(draft, "disqualifiers"),
        narrative=draft.narrative.strip(),
    )


def draft_schema(llm: LlmClient) -> tuple[DraftSchema, int]:
    """The reduce schema and its output limit for this client: smaller budgets (small local
    models with small context windows) get fewer, shorter fields so they finish in time, and so
    does a client whose output limit could not hold the lighter schema's answer."""
    if llm.prompt_token_budget < TINY_BELOW_TOKENS or llm.max_output_tokens < LITE_OUTPUT_TOKENS:
        return LlmDraftTiny, min(TINY_OUTPUT_TOKENS, llm.max_output_tokens)
    if llm.prompt_token_budget < LITE_BELOW_TOKENS:
        return LlmDraftLite, min(LITE_OUTPUT_TOKENS, llm.max_output_tokens)
    return LlmDraft, min(DRAFT_OUTPUT_TOKENS, llm.max_output_tokens)


def fill_from_offline(proposal: Proposal, g: Gathered) -> list[str]:
    """Sections a lighter schema did not ask for come from the offline drafter; says which."""
    offline = offline_proposal(g)
    pool = citations_of(g)

    def cited(items: list[Trait] | list[DraftedPersona]) -> bool:
        ids = (i for item in items for i in item.evidence)
        return any(i in pool for i in ids)

    filled = []
    for name in ("personas", "pains", "goals", "triggers", "disqualifiers"):
        if not cited(getattr(proposal, name)) and getattr(offline, name):
            setattr(proposal, name, getattr(offline, name))
            filled.append(name)
    if not filled:
        return []
    return [f"{', '.join(filled)} drafted without an LLM (the model's compact schema leaves them out)"]


def build_messages(
    g: Gathered, *, llm: LlmClient, knowledge: KnowledgeStore | None, deadline: float | None = None
) -> tuple[list[BaseMessage], list[str]]:
    """The reduce prompt within budget, and notes on what was summarised or left out."""
    prompt = load_prompt(PROMPT)
    pool = citations_of(g)
    notes: list[str] = []
    try:
        retrieved = retrieve(g, knowledge, pool)
    except KnowledgeStoreError as exc:  # drafting goes on; the evidence is just not reordered
        retrieved = []
        notes.append(
            f"the knowledge store could not be searched ({type(exc).__name__}); evidence kept in its usual order"
        )
    fixed = {"segment": untrusted(g.segment, 128), "data_summary": data_summary(g)}
    budget = min(DRAFT_PROMPT_TOKENS, llm.prompt_token_budget)
    empty = prompt.render(**fixed, learned_criteria="", statistics="", evidence="")
    overhead = llm.count_prompt_tokens(empty, draft_schema(llm)[0])
    room = budget - overhead - SAFETY_TOKENS
    if room <= 0:
        raise PromptTooLarge(overhead, budget)
    learned, _ = fit(learned_lines(g), int(room * LEARNED_SHARE))
    room -= _tokens(learned)
    stats, _ = fit(statistic_lines(g, retrieved), int(room * STATISTICS_SHARE))
    room -= _tokens(stats)
    answers = ordered_answers(g.answers, retrieved)
    lines = [answer_line(a) for a in answers]
    # Summarising first pays off with a capable model; a small one (the lighter schemas) would
    # spend its whole deadline on the summaries, so it gets the most representative answers.
    if _tokens(lines) > room and draft_schema(llm)[0] is LlmDraft:
        summaries, mapped = summarise(g.answers, llm, deadline=deadline)
        notes.extend(mapped)
        first = set(retrieved)
        ranked = sorted(summaries, key=lambda s: (not (set(s.evidence) & first), -len(s.evidence)))
        lines = [s.line() for s in round_robin(_by_topic(ranked))]
    evidence, left_out = fit(lines, room)
    if left_out:
        notes.append(f"{left_out:,} evidence lines did not fit the drafting prompt's token budget")
    values = {**fixed, "learned_criteria": "\n".join(learned), "statistics": "\n".join(stats)}
    return prompt.render(**values, evidence="\n".join(evidence)), notes


def _by_topic(summaries: list[SummaryLine]) -> list[list[SummaryLine]]:
    groups: dict[str, list[SummaryLine]] = {}
    for s in summaries:
        groups.setdefault(s.topic, []).append(s)
    return [groups[t] for t in sorted(groups)]


def _tokens(lines: list[str]) -> int:
    return sum(count_tokens(line) + 1 for line in lines)


def llm_proposal(
    g: Gathered,
    *,
    llm: LlmClient,
    knowledge: KnowledgeStore | None,
    deadline: float | None = None,
    on_step: Callable[[str], None] | None = None,
) -> Proposal:
    """The model's proposal (raises LlmUnavailable / PromptTooLarge for the caller to fall back).

    ``deadline`` (from ``llm.deadline_in``) bounds every call of this draft together; ``on_step``
    hears "map" (evidence retrieved and, when it does not fit, summarised) and "reduce"."""
    if on_step is not None:
        on_step("map")
    messages, notes = build_messages(g, llm=llm, knowledge=knowledge, deadline=deadline)
    if on_step is not None:
        on_step("reduce")
    schema, max_output = draft_schema(llm)
    draft = llm.structured(schema, messages, max_output_tokens=max_output, deadline=deadline)
    proposal = to_proposal(draft)
    proposal.notes.extend(notes)
    if schema is not LlmDraft:
        proposal.notes.extend(fill_from_offline(proposal, g))
    proposal.personas, added = with_answer_words(proposal.personas, g.answers)
    if added:
        proposal.notes.append(f"persona(s) the answers name but the model left out: {', '.join(added)}")
    return proposal
