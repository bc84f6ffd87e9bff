"""What a draft is: the engine's ICP plus personas, pains, conflicts and the evidence behind each.

These are the result models that the CLI, the Slack views and the store share. Every statement a
draft makes carries evidence ids: ``ans:<answer id>`` for an interview answer, the engine's
``stat:<segment key>`` / ``cohort:<segment key>`` for a CRM statistic, ``stat:overall`` for the
baseline. ``DraftOutcome.citations`` says what each id is (kind, source, a short quote).

Kept stable for the Slack layer: add fields with defaults, never rename or remove one.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from icp_engine.model import ICP, Criterion

OFFLINE = "offline"
OFFLINE_LABEL = "drafted without an LLM"

CitationKind = Literal["answer", "statistic", "summary"]
ConflictKind = Literal["stakeholders", "data"]


class Trait(BaseModel):
    """One statement of a draft (a pain, a persona's goal…) and the evidence ids behind it."""

    model_config = ConfigDict(frozen=True)

    text: str
    evidence: list[str] = Field(default_factory=list)


class Citation(BaseModel):
    """What an evidence id points at: an answer (who said it) or a statistic, with a short quote."""

    model_config = ConfigDict(frozen=True)

    id: str
    kind: CitationKind
    source: str  # "U012AB (sales)", "CRM statistics"
    quote: str


#: The buying roles a persona can play, in the order a draft lists them.
BUYING_ROLES: dict[str, str] = {
    "economic_buyer": "economic buyer",
    "decision_maker": "decision maker",
    "champion": "champion",
    "user": "user",
    "blocker": "blocker",
    "influencer": "influencer",
}


class DraftedPersona(BaseModel):
    """A buyer persona; each trait carries its evidence ids.

    ``role`` is one key of :data:`BUYING_ROLES` ("" for personas stored before roles existed);
    ``quotes`` are the answers' own words that put the persona in that role.
    """

    model_config = ConfigDict(frozen=True)

    name: str
    titles: list[str] = Field(default_factory=list)
    role: str = ""
    seniority: Trait | None = None
    department: Trait | None = None
    goals: list[Trait] = Field(default_factory=list)
    challenges: list[Trait] = Field(default_factory=list)
    motivators: list[Trait] = Field(default_factory=list)
    objections: list[Trait] = Field(default_factory=list)
    tools: list[Trait] = Field(default_factory=list)
    buying_role: Trait | None = None
    budget_authority: Trait | None = None
    channels: list[Trait] = Field(default_factory=list)
    message_hooks: list[Trait] = Field(default_factory=list)
    triggers: list[Trait] = Field(default_factory=list)
    quotes: list[Trait] = Field(default_factory=list)

    LIST_FIELDS: ClassVar[tuple[str, ...]] = (
        "goals",
        "challenges",
        "motivators",
        "objections",
        "tools",
        "channels",
        "message_hooks",
        "triggers",
        "quotes",
    )
    SCALAR_FIELDS: ClassVar[tuple[str, ...]] = ("seniority", "department", "buying_role", "budget_authority")

    @property
    def evidence(self) -> list[str]:
        """Every evidence id the persona cites, in order of first use."""
        seen: dict[str, None] = {}
        for name in self.SCALAR_FIELDS:
            trait = getattr(self, name)
            if trait is not None:
                seen.update(dict.fromkeys(trait.evidence))
        for name in self.LIST_FIELDS:
            for trait in getattr(self, name):
                seen.update(dict.fromkeys(trait.evidence))
        return list(seen)

    @property
    def role_label(self) -> str:
        """ "champion", or "" when the persona has no buying role."""
        return BUYING_ROLES.get(self.role, "")

    def to_store(self) -> dict[str, Any]:
        """``Persona.persona_json``: plain strings per field (what views and search read) and the
        evidence ids per field alongside, so nothing is lost."""
        data: dict[str, Any] = {"name": self.name, "titles": list(self.titles)}
        evidence: dict[str, Any] = {}
        if self.titles:
            data["role"] = self.titles[0]  # the title, the name `/icp personas` read before roles
        if self.role:
            data["buyer_role"] = self.role
        for name in self.SCALAR_FIELDS:
            trait = getattr(self, name)
            if trait is not None:
                data[name] = trait.text
                evidence[name] = list(trait.evidence)
        for name in self.LIST_FIELDS:
            traits = getattr(self, name)
            data[name] = [t.text for t in traits]
            evidence[name] = [list(t.evidence) for t in traits]
        data["hooks"] = data["message_hooks"]  # the name `/icp personas` shows
        data["evidence"] = evidence
        return data

    @classmethod
    def from_store(cls, data: dict[str, Any]) -> DraftedPersona:
        """The inverse of :meth:`to_store` (tolerant of personas written by hand)."""
        evidence = data.get("evidence") or {}
        fields: dict[str, Any] = {"name": data.get("name") or "Persona", "titles": data.get("titles") or []}
        if data.get("buyer_role") in BUYING_ROLES:
            fields["role"] = data["buyer_role"]
        for name in cls.SCALAR_FIELDS:
            if data.get(name):
                fields[name] = Trait(text=str(data[name]), evidence=list(evidence.get(name) or []))
        for name in cls.LIST_FIELDS:
            texts = data.get(name) or []
            ids = evidence.get(name) or []
            fields[name] = [
                Trait(text=str(text), evidence=list(ids[i]) if i < len(ids) else [])
                for i, text in enumerate(texts)
            ]
        return cls(**fields)


class DraftedIcp(BaseModel):
    """The engine ICP that scoring will use, plus the criteria nobody could check against the data.

    ``icp.characteristics`` are the learned ones: each bin keeps the signed, centred points the data
    gave it (0 = like the average account) and gains the evidence people cited. ``hypotheses`` are
    criteria on attributes the CRM data does not have, or values it cannot test or does not
    support: 0 points (no effect on any score) until an owner gives them weight. Tiers are
    ``icp.tiers``.
    """

    model_config = ConfigDict(frozen=True)

    icp: ICP
    hypotheses: list[Criterion] = Field(default_factory=list)


class Conflict(BaseModel):
    """A disagreement: between stakeholders, or between what someone said and the data."""

    model_config = ConfigDict(frozen=True)

    kind: ConflictKind
    topic: str
    statement: str  # "sales names fintech; fintech win rate 12% vs 25% overall, n=41"
    evidence: list[str] = Field(default_factory=list)


class TierSummary(BaseModel):
    model_config = ConfigDict(frozen=True)

    tier: str
    label: str
    n: int
    wins: int
    win_rate: float
    share: float


class BacktestSummary(BaseModel):
    """How the drafted ICP separates won from lost deals on the CRM history."""

    model_config = ConfigDict(frozen=True)

    n: int
    wins: int
    win_rate: float
    auc: float
    top_tier: str
    top_tier_lift: float
    top_tier_win_capture: float
    tiers: list[TierSummary] = Field(default_factory=list)
    learned_auc: float | None = None  # the data-only ICP's AUC on the same deals, for comparison

    def text(self) -> str:
        line = (
            f"Backtest on {self.n:,} closed deals (win rate {self.win_rate:.0%}): AUC {self.auc:.2f}; "
            f"tier {self.top_tier} wins {self.top_tier_lift:.2f}× the average and holds "
            f"{self.top_tier_win_capture:.0%} of the wins"
        )
        if self.learned_auc is not None:
            line += f" (data-only ICP: AUC {self.learned_auc:.2f})"
        return line + "."


class DraftOutcome(BaseModel):
    """Everything one draft produced; ``version_id`` is the stored draft ICP version."""

    model_config = ConfigDict(frozen=True)

    workspace: str
    segment: str
    version_id: int
    version: int
    drafted: DraftedIcp
    personas: list[DraftedPersona] = Field(default_factory=list)
    pains: list[Trait] = Field(default_factory=list)
    goals: list[Trait] = Field(default_factory=list)
    triggers: list[Trait] = Field(default_factory=list)
    disqualifiers: list[Trait] = Field(default_factory=list)  # in words; the rules are icp.disqualifiers
    narrative: str = ""
    backtest: BacktestSummary | None = None
    conflicts: list[Conflict] = Field(default_factory=list)
    citations: dict[str, Citation] = Field(default_factory=dict)
    drafted_with: str = OFFLINE  # "offline" or the model's name
    notes: list[str] = Field(default_factory=list)
    answers_used: int = 0
    stakeholders: int = 0

    @property
    def icp(self) -> ICP:
        return self.drafted.icp

    @property
    def offline(self) -> bool:
        return self.drafted_with == OFFLINE

    @property
    def label(self) -> str:
        """How the draft says how it was made: "drafted without an LLM" or "drafted with <model>"."""
        return OFFLINE_LABEL if self.offline else f"drafted with {self.drafted_with}"

    def to_json_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")
