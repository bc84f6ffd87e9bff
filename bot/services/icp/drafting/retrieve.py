"""Retrieve: for each learned characteristic and topic, the closest answers and statistics in Chroma,
through the workspace's LangChain retriever (``bot.knowledge.retriever``).

Hits become evidence ids of the pool (``ans:<id>``, ``stat:<segment key>``, ``cohort:…``); a hit
the pool does not know (another segment's answer, a stale vector) is ignored.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.services.icp.drafting.budget import round_robin, unique
from bot.services.icp.drafting.gather import Gathered
from bot.services.icp.drafting.models import Citation

if TYPE_CHECKING:
    from bot.knowledge.store import Hit, KnowledgeStore

HITS_PER_QUERY = 4
TOPIC_QUERIES = (
    "our best customers and why they are great",
    "pains and problems the product solves",
    "what happens just before a prospect starts looking to buy",
    "who decides, who signs the contract, budget owner job titles",
    "objections and who we lose to",
    "bad fit prospects, churn and warning signs",
)


def evidence_id(hit: Hit) -> str:
    source = hit.source_id
    if hit.kind == "answer":
        return f"ans:{source}"
    return source if source.startswith(("cohort:", "stat:")) else f"stat:{source}"


MAX_CHARACTERISTIC_QUERIES = 8


def queries_for(g: Gathered) -> list[str]:
    """One query per learned characteristic (its strongest bin in words: the one that moves a score
    most, either way), heaviest characteristics first, and one per interview topic."""
    bins = []
    if g.learned is not None:
        ranked = sorted(g.learned.icp.characteristics, key=lambda ch: -ch.weight)  # stable on ties
        bins = [max(ch.bins, key=lambda b: abs(b.points)).describe() for ch in ranked]
    return unique([*bins[:MAX_CHARACTERISTIC_QUERIES], *TOPIC_QUERIES])


def retrieve(
    g: Gathered,
    knowledge: KnowledgeStore | None,
    pool: dict[str, Citation],
    queries: Sequence[str] | None = None,
) -> list[str]:
    """Evidence ids most relevant to the draft, interleaved across queries, best first."""
    if knowledge is None:
        return []
    from bot.knowledge.retriever import KnowledgeRetriever, hit_of

    retriever = KnowledgeRetriever(
        store=knowledge, workspace=g.workspace, k=HITS_PER_QUERY, kinds=("answer", "statistic")
    )
    per_query: list[list[str]] = []
    for query in queries if queries is not None else queries_for(g):
        hits = [hit_of(d) for d in retriever.invoke(query)]
        per_query.append([i for i in (evidence_id(h) for h in hits) if i in pool])
    return unique(round_robin(per_query))
