"""The offline drafter: a deterministic draft without an LLM, clearly labelled as such.

Characteristics and points come from the engine's learned ICP (``check`` adds them for every
drafter); the words come from the answers themselves: per topic, the most repeated themes, each
quoted from the answer that says it best. Personas are the job titles people name when asked who
decides and signs.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from bot.services.icp.drafting.evidence import shorten
from bot.services.icp.drafting.gather import AnswerEvidence, Gathered
from bot.services.icp.drafting.models import OFFLINE_LABEL, DraftedPersona, Trait
from bot.services.icp.drafting.proposal import Proposal
from bot.services.icp.drafting.themes import Theme, themes

QUOTE_CHARS = 160
MAX_PERSONAS = 3

TOPICS_PAINS = ("pains",)
TOPICS_GOALS = ("value", "strategy", "expansion", "best_customers")
TOPICS_TRIGGERS = ("triggers",)
TOPICS_BAD_FIT = ("bad_fit", "churn")
TOPICS_OBJECTIONS = ("objections", "competitors", "sales_process")
TOPICS_CHANNELS = ("channels",)
TOPICS_BUYERS = ("buying_committee",)

_C_LEVEL = {
    "ceo": "CEO",
    "cfo": "CFO",
    "cto": "CTO",
    "coo": "COO",
    "cio": "CIO",
    "cmo": "CMO",
    "cro": "CRO",
    "ciso": "CISO",
}
_AREAS = (
    "revenue operations",
    "customer success",
    "supply chain",
    "operations",
    "finance",
    "sales",
    "marketing",
    "engineering",
    "it",
    "logistics",
    "procurement",
    "revops",
    "security",
    "data",
    "product",
    "growth",
    "compliance",
    "dispatch",
    "people",
    "hr",
)
_TITLE = re.compile(
    r"\b(?:(?P<c>ceo|cfo|cto|coo|cio|cmo|cro|ciso)"
    r"|(?P<rank>vp|vice president|head|director|manager|lead)\s+(?:of\s+)?(?P<area>"
    + "|".join(re.escape(a) for a in _AREAS)
    + r")"
    r"|(?P<area2>" + "|".join(re.escape(a) for a in _AREAS) + r")\s+(?P<rank2>manager|lead|director)s?)\b",
    re.IGNORECASE,
)
_DEPARTMENTS = (
    ("finance", ("cfo", "finance", "financial", "procurement")),
    ("operations", ("coo", "operations", "ops", "logistics", "dispatch")),
    ("engineering / IT", ("cto", "cio", "ciso", "engineering", "it", "security", "technology", "data")),
    ("marketing", ("cmo", "marketing", "growth", "demand")),
    ("sales", ("cro", "sales", "revenue", "revops")),
    ("executive", ("ceo", "founder")),
)


def _by_topic(answers: Sequence[AnswerEvidence], topics: Sequence[str]) -> list[AnswerEvidence]:
    return [a for a in answers if a.topic in topics]


def theme_trait(theme: Theme) -> Trait:
    """“<quote>” (3 people mention “routing”)."""
    who = f"{theme.people} people mention" if theme.people != 1 else "1 person mentions"
    text = f"“{shorten(theme.quote.text, QUOTE_CHARS)}” ({who} “{theme.term}”)"
    return Trait(text=text, evidence=theme.evidence[:8])


def traits(answers: Sequence[AnswerEvidence], topics: Sequence[str], k: int = 3) -> list[Trait]:
    return [theme_trait(t) for t in themes(_by_topic(answers, topics), k=k)]


def _title_of(match: re.Match[str]) -> str:
    if match.group("c"):
        return _C_LEVEL[match.group("c").casefold()]
    rank = (match.group("rank") or match.group("rank2")).casefold()
    rank = {"vp": "VP", "vice president": "VP"}.get(rank, rank.capitalize())
    area = " ".join((match.group("area") or match.group("area2")).split())
    area = area.upper() if area.casefold() in ("it", "hr") else area.title()
    return f"{rank} of {area}"


def titles_named(answers: Sequence[AnswerEvidence]) -> list[tuple[str, list[AnswerEvidence]]]:
    """Job titles named in the answers, most named first (ties: alphabetical)."""
    found: dict[str, list[AnswerEvidence]] = {}
    for a in sorted(answers, key=lambda a: a.answer_id):
        for match in _TITLE.finditer(a.text):
            title = _title_of(match)
            if title and a not in found.setdefault(title, []):
                found[title].append(a)
    return sorted(found.items(), key=lambda kv: (-len(kv[1]), kv[0]))


def _seniority(title: str) -> str:
    t = title.casefold()
    if title in _C_LEVEL.values():
        return "C-level"
    if t.startswith("vp"):
        return "VP"
    if t.startswith(("head", "director")):
        return "Director / Head"
    return "Manager / Lead"


def _department(title: str) -> str | None:
    words = set(re.findall(r"[a-z]+", title.casefold()))
    for name, keys in _DEPARTMENTS:
        if words & set(keys):
            return name
    return None


def _persona(
    title: str, said: list[AnswerEvidence], shared: dict[str, list[Trait]], *, first: bool
) -> DraftedPersona:
    ids = [a.id for a in said]
    signs = [a.id for a in said if re.search(r"\bsign|budget|approv|decid", a.text, re.IGNORECASE)]
    role = "decision maker (named most often)" if first else "influencer"
    if signs:
        role = "economic buyer (signs or approves)" if first else "approver"
    department = _department(title)
    return DraftedPersona(
        name=title,
        titles=[title],
        seniority=Trait(text=_seniority(title), evidence=ids[:4]),
        department=Trait(text=department, evidence=ids[:4]) if department else None,
        buying_role=Trait(text=role, evidence=(signs or ids)[:4]),
        budget_authority=Trait(text="yes: signs or approves", evidence=signs[:4]) if signs else None,
        goals=shared["goals"][:2],
        challenges=shared["pains"][:2],
        objections=shared["objections"][:2],
        channels=shared["channels"][:2],
    )


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
    buyers = _by_topic(g.answers, TOPICS_BUYERS) or list(g.answers)
    named = titles_named(buyers)[:MAX_PERSONAS]
    # Themes are greedy, so the first two of three are what k=2 would give: computed once.
    shared = {
        "pains": traits(g.answers, TOPICS_PAINS),
        "goals": traits(g.answers, TOPICS_GOALS),
        "objections": traits(g.answers, TOPICS_OBJECTIONS, k=2),
        "channels": traits(g.answers, TOPICS_CHANNELS, k=2),
    }
    proposal = Proposal(
        name=name,
        personas=[_persona(title, said, shared, first=n == 0) for n, (title, said) in enumerate(named)],
        pains=shared["pains"],
        goals=shared["goals"],
        triggers=traits(g.answers, TOPICS_TRIGGERS),
        disqualifiers=traits(g.answers, TOPICS_BAD_FIT),
    )
    proposal.narrative = _narrative(g, proposal)
    if g.answers and not named:
        proposal.notes.append("No job titles were named in the answers, so no persona was drafted.")
    counts = Counter(a.topic for a in g.answers)
    if g.answers and not counts.get("pains"):
        proposal.notes.append("No answer to a question about pains yet.")
    return proposal
