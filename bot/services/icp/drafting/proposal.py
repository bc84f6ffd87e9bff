"""A proposal: what a drafter (the LLM or the offline one) suggests, before the engine checks it.

Nothing here is trusted: criteria carry the attribute, values and evidence a drafter proposed,
never points. ``check`` turns a proposal into the stored draft (points from the data only).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.services.icp.drafting.models import DraftedPersona, Trait


@dataclass(frozen=True)
class ProposedCriterion:
    """ "industry in [software, fintech]" as a drafter wrote it, with the evidence it cited."""

    attribute: str
    op: str
    values: tuple[str | int | float, ...]
    evidence: tuple[str, ...]
    rationale: str = ""


@dataclass
class Proposal:
    name: str
    criteria: list[ProposedCriterion] = field(default_factory=list)
    personas: list[DraftedPersona] = field(default_factory=list)
    pains: list[Trait] = field(default_factory=list)
    goals: list[Trait] = field(default_factory=list)
    triggers: list[Trait] = field(default_factory=list)
    disqualifiers: list[Trait] = field(default_factory=list)
    narrative: str = ""
    notes: list[str] = field(default_factory=list)
