"""Map: summarise the answers per stakeholder (or per group when there are many people), so that
the reduce prompt holds summaries instead of every answer and stays within its budget.

Units are planned deterministically: one per stakeholder, merged by role (in id order) when there
are more stakeholders than ``MAX_MAP_CALLS``; each unit's answers are the most representative
ones that fit the map budget. A point may only cite answers of its own unit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.llm.prompts import load_prompt
from bot.services.icp.drafting.budget import answer_line, fit, round_robin, untrusted
from bot.services.icp.drafting.evidence import shorten
from bot.services.icp.drafting.gather import AnswerEvidence
from bot.services.icp.drafting.schemas import SUMMARY_TOPICS, StakeholderSummary
from bot.services.icp.drafting.themes import rank_answers, themes

if TYPE_CHECKING:
    from bot.llm.client import LlmClient

MAX_MAP_CALLS = 8
MAP_PROMPT_TOKENS = 3_000  # per map call, below the client's budget
MAP_OUTPUT_TOKENS = 900
MAP_SECONDS = 15.0  # no map call starts later than this into the map step
PROMPT = "drafting/summarise"


@dataclass(frozen=True)
class Unit:
    who: str
    answers: tuple[AnswerEvidence, ...]


@dataclass(frozen=True)
class SummaryLine:
    """One summarised point: its topic, who said it, and the answers behind it."""

    topic: str
    who: str
    text: str
    evidence: tuple[str, ...]

    def line(self) -> str:
        ids = " ".join(self.evidence)
        return f'{ids} <summary who="{self.who}" topic="{self.topic}">{untrusted(self.text, 240)}</summary>'


def plan_units(answers: list[AnswerEvidence], max_units: int = MAX_MAP_CALLS) -> list[Unit]:
    """Stakeholders in order of their first answer; grouped by role when there are too many."""
    people: dict[str, list[AnswerEvidence]] = {}
    for a in answers:
        people.setdefault(a.stakeholder, []).append(a)
    if len(people) <= max_units:
        return [Unit(f"{s} ({said[0].role})", tuple(said)) for s, said in people.items()]
    by_role: dict[str, list[str]] = {}
    for s, said in people.items():
        by_role.setdefault(said[0].role, []).append(s)
    # Share the units among roles by headcount (each role at least one), then split each role's
    # people into that many consecutive groups.
    roles = sorted(by_role, key=lambda r: (-len(by_role[r]), r))
    shares = dict.fromkeys(roles, 1)
    spare = max_units - len(roles)
    for r in roles:
        extra = min(spare, round((max_units - len(roles)) * len(by_role[r]) / len(people)))
        shares[r] += extra
        spare -= extra
    units: list[Unit] = []
    for r in roles:
        members = by_role[r]
        n = min(shares[r], len(members))
        for i in range(n):
            group = members[i * len(members) // n : (i + 1) * len(members) // n]
            pooled = tuple(a for s in group for a in people[s])
            units.append(Unit(f"{len(group)} {r.replace('_', ' ')} people", pooled))
    return units[:max_units] if len(units) > max_units else units


def unit_answers(unit: Unit, budget: int) -> tuple[list[str], int]:
    """The unit's answers as prompt lines: representative first, topics interleaved, within budget."""
    topics: dict[str, list[AnswerEvidence]] = {}
    for a in unit.answers:
        topics.setdefault(a.topic, []).append(a)
    ordered = round_robin([rank_answers(topics[t]) for t in sorted(topics)])
    return fit((answer_line(a) for a in ordered), budget)


def summarise_unit(
    unit: Unit, llm: LlmClient, deadline: float | None = None
) -> tuple[list[SummaryLine], int]:
    """One map call; returns the unit's summary lines and how many answers did not fit."""
    prompt = load_prompt(PROMPT)
    budget = min(MAP_PROMPT_TOKENS, llm.prompt_token_budget)
    overhead = llm.count_prompt_tokens(prompt.render(who=unit.who, answers=""), StakeholderSummary)
    lines, left_out = unit_answers(unit, budget - overhead - 16)
    messages = prompt.render(who=unit.who, answers="\n".join(lines))
    result = llm.structured(
        StakeholderSummary,
        messages,
        max_output_tokens=min(MAP_OUTPUT_TOKENS, llm.max_output_tokens),
        deadline=deadline,
    )
    allowed = {a.id for a in unit.answers}
    out: list[SummaryLine] = []
    for field_name, topic in SUMMARY_TOPICS.items():
        for point in getattr(result, field_name):
            ids = tuple(dict.fromkeys(i.strip() for i in point.evidence if i.strip() in allowed))
            if ids and point.text.strip():
                out.append(SummaryLine(topic=topic, who=unit.who, text=point.text.strip(), evidence=ids))
    return out, left_out


def extractive_unit(unit: Unit) -> list[SummaryLine]:
    """A unit summarised without the model: its most repeated themes per topic, quoted."""
    topics: dict[str, list[AnswerEvidence]] = {}
    for a in unit.answers:
        topics.setdefault(a.topic, []).append(a)
    return [
        SummaryLine(
            topic=topic, who=unit.who, text=shorten(t.quote.text, 200), evidence=tuple(t.evidence[:4])
        )
        for topic in sorted(topics)
        for t in themes(topics[topic], k=2)
    ]


def summarise(
    answers: list[AnswerEvidence],
    llm: LlmClient,
    *,
    seconds: float = MAP_SECONDS,
    clock: Callable[[], float] = time.monotonic,
    deadline: float | None = None,
) -> tuple[list[SummaryLine], list[str]]:
    """Map every unit (a model fault propagates: the caller falls back to the offline drafter).

    No map call starts after ``seconds``: the units left are summarised extractively, so a slow
    model costs at most that plus one call's deadline before the drafting call.
    """
    lines: list[SummaryLine] = []
    left_out = 0
    units = plan_units(answers)
    started = clock()
    extractive = 0
    for unit in units:
        if clock() - started >= seconds:
            lines.extend(extractive_unit(unit))
            extractive += 1
            continue
        got, missed = summarise_unit(unit, llm, deadline)
        lines.extend(got)
        left_out += missed
    notes = [f"summarised {len(answers):,} answers in {len(units)} groups before drafting"]
    if extractive:
        notes.append(
            f"{extractive} of {len(units)} groups were summarised without the LLM (quoted themes): "
            f"the summaries had used their {seconds:g} s"
        )
    if left_out:
        notes.append(f"{left_out:,} less representative answers did not fit the summaries' token budget")
    return lines, notes
