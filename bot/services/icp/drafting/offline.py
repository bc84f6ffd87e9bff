"""The offline drafter: a deterministic draft without an LLM, clearly labelled as such.

Characteristics and points come from the engine's learned ICP (``check`` adds them for every
drafter); the words come from the answers themselves: per topic, the most repeated themes, each
quoted from the answer that says it best. Personas are the job titles the answers give a buying
role (``buying_roles``), each with the clauses about it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from bot.services.icp.drafting.buying_roles import role_personas
from bot.services.icp.drafting.evidence import shorten
from bot.services.icp.drafting.gather import AnswerEvidence, Gathered
from bot.services.icp.drafting.models import OFFLINE_LABEL, Trait
from bot.services.icp.drafting.proposal import Proposal
from bot.services.icp.drafting.themes import Theme, themes

QUOTE_CHARS = 160

TOPICS_PAINS = ("pains",)
TOPICS_GOALS = ("value", "strategy", "expansion", "best_customers")
TOPICS_TRIGGERS = ("triggers",)
TOPICS_BAD_FIT = ("bad_fit", "churn")


def _by_topic(answers: Sequence[AnswerEvidence], topics: Sequence[str]) -> list[AnswerEvidence]:
    return [a for a in answers if a.topic in topics]


def theme_trait(theme: Theme) -> Trait:
    """“<quote>” (3 people mention “routing”)."""
    who = f"{theme.people} people mention" if theme.people != 1 else "1 person mentions"
    text = f"“{shorten(theme.quote.text, QUOTE_CHARS)}” ({who} “{theme.term}”)"
    return Trait(text=text, evidence=theme.evidence[:8])


def traits(answers: Sequence[AnswerEvidence], topics: Sequence[str], k: int = 3) -> list[Trait]:
    return [theme_trait(t) for t in themes(_by_topic(answers, topics), k=k)]


def _narrative(g: Gathered, p: Proposal) -> str:
    parts = [f"Draft ICP, {OFFLINE_LABEL}: the characteristics and points are the engine's, learned from"]
    if g.analysis is not None:
        o = g.analysis.overall
        parts.append(f"{o.deals:,} closed deals ({o.win_rate:.0%} won);")
    else:
        parts.append("no closed deals yet (so no data-backed characteristics);")
    people = len(g.stakeholders)
    if g.answers:
        who = "1 person" if people == 1 else f"{people} people"
        parts.append(f"the words are quotes from {len(g.answers):,} interview answers by {who}.")
    else:
        parts.append("there are no interview answers yet to quote.")
    if p.pains:
        parts.append(f"Most repeated pain: {p.pains[0].text}.")
    return " ".join(parts)


def offline_proposal(g: Gathered) -> Proposal:
    """The deterministic draft of the gathered inputs."""
    name = "Drafted ICP" if g.segment == "default" else f"Drafted ICP ({g.segment})"
    personas = role_personas(g.answers)
    proposal = Proposal(
        name=name,
        personas=personas,
        pains=traits(g.answers, TOPICS_PAINS),
        goals=traits(g.answers, TOPICS_GOALS),
        triggers=traits(g.answers, TOPICS_TRIGGERS),
        disqualifiers=traits(g.answers, TOPICS_BAD_FIT),
    )
    proposal.narrative = _narrative(g, proposal)
    if g.answers and not personas:
        proposal.notes.append("No job titles were named in the answers, so no persona was drafted.")
    counts = Counter(a.topic for a in g.answers)
    if g.answers and not counts.get("pains"):
        proposal.notes.append("No answer to a question about pains yet.")
    return proposal
