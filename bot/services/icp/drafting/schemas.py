"""Bounded schemas for the model's structured output: short strings, few items.

A small local model (SmolLM2-135M) only returns valid objects when every string has a maxLength
and every list a maxItems. Measured: with bounded schemas (maxItems, short maxLength strings,
integer ranges), the ``json_schema`` method, temperature 0 and max_tokens of at least 800 it
returned a valid object 20 times out of 20, while ``json_mode`` invented keys and
``function_calling`` returned None. Large models are not hurt by the bounds. Points are
deliberately absent: the engine computes them.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

EvidenceId = Annotated[str, StringConstraints(max_length=48)]
Short = Annotated[str, StringConstraints(max_length=60)]
Sentence = Annotated[str, StringConstraints(max_length=200)]
Ids = Annotated[list[EvidenceId], Field(max_length=4)]

ProposedOp = Literal["in", "not_in", "eq", "gte", "lt", "between", "contains_any"]


class LlmPoint(BaseModel):
    """One short statement and the evidence ids behind it."""

    model_config = ConfigDict(extra="ignore")

    text: Sentence
    evidence: Ids


Points = Annotated[list[LlmPoint], Field(max_length=3)]


class StakeholderSummary(BaseModel):
    """Map step: what one group of stakeholders said, per topic."""

    model_config = ConfigDict(extra="ignore")

    best_customers: Points
    pains: Points
    triggers: Points
    buyers: Points
    objections: Points
    bad_fit: Points


SUMMARY_TOPICS: dict[str, str] = {
    "best_customers": "best_customers",
    "pains": "pains",
    "triggers": "triggers",
    "buyers": "buying_committee",
    "objections": "objections",
    "bad_fit": "bad_fit",
}


class LlmCriterion(BaseModel):
    model_config = ConfigDict(extra="ignore")

    attribute: Annotated[str, StringConstraints(max_length=40)]
    op: ProposedOp
    values: Annotated[
        list[Annotated[str, StringConstraints(max_length=40)]], Field(min_length=1, max_length=6)
    ]
    evidence: Ids
    rationale: Sentence


class LlmPersona(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: Short
    titles: Annotated[list[Short], Field(max_length=3)]
    seniority: Short
    department: Short
    buying_role: Short
    budget_authority: Short
    evidence: Ids  # behind the role fields above
    goals: Points
    challenges: Points
    motivators: Points
    objections: Points
    tools: Points
    channels: Points
    message_hooks: Points


class LlmDraft(BaseModel):
    """Reduce step: the draft's words; criteria without points."""

    model_config = ConfigDict(extra="ignore")

    name: Annotated[str, StringConstraints(max_length=80)]
    narrative: Annotated[str, StringConstraints(max_length=600)]
    criteria: Annotated[list[LlmCriterion], Field(max_length=8)]
    personas: Annotated[list[LlmPersona], Field(max_length=3)]
    pains: Annotated[list[LlmPoint], Field(max_length=5)]
    goals: Annotated[list[LlmPoint], Field(max_length=5)]
    triggers: Annotated[list[LlmPoint], Field(max_length=5)]
    disqualifiers: Annotated[list[LlmPoint], Field(max_length=5)]


# -- a lighter draft for small models with small context windows (a 4,096-token SmolLM2) ----------

Brief = Annotated[str, StringConstraints(max_length=80)]
FewIds = Annotated[list[EvidenceId], Field(max_length=2)]


class LitePoint(BaseModel):
    model_config = ConfigDict(extra="ignore")

    text: Brief
    evidence: FewIds


LitePoints = Annotated[list[LitePoint], Field(max_length=2)]


class LiteCriterion(BaseModel):
    model_config = ConfigDict(extra="ignore")

    attribute: Annotated[str, StringConstraints(max_length=30)]
    op: ProposedOp
    values: Annotated[
        list[Annotated[str, StringConstraints(max_length=30)]], Field(min_length=1, max_length=2)
    ]
    evidence: FewIds
    rationale: Brief


class LitePersona(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: Annotated[str, StringConstraints(max_length=40)]
    titles: Annotated[list[Annotated[str, StringConstraints(max_length=40)]], Field(max_length=2)]
    buying_role: Annotated[str, StringConstraints(max_length=40)]
    evidence: FewIds
    goals: LitePoints
    challenges: LitePoints


class LlmDraftLite(BaseModel):
    """The reduce step's schema when the client's budget is small: fewer, shorter fields, so a
    small local model finishes well within the call's deadline. Same meaning, same checks."""

    model_config = ConfigDict(extra="ignore")

    name: Annotated[str, StringConstraints(max_length=60)]
    narrative: Annotated[str, StringConstraints(max_length=200)]
    criteria: Annotated[list[LiteCriterion], Field(max_length=2)]
    personas: Annotated[list[LitePersona], Field(max_length=1)]
    pains: LitePoints
    triggers: LitePoints


TinyId = Annotated[str, StringConstraints(max_length=16)]


class TinyPoint(BaseModel):
    model_config = ConfigDict(extra="ignore")

    text: Annotated[str, StringConstraints(max_length=60)]
    evidence: Annotated[list[TinyId], Field(max_length=1)]


class LlmDraftTiny(BaseModel):
    """The smallest reduce schema (a client budget under 3,000 tokens): a name, one sentence and
    the top pains and trigger; the offline drafter fills the sections it leaves out."""

    model_config = ConfigDict(extra="ignore")

    name: Annotated[str, StringConstraints(max_length=40)]
    narrative: Annotated[str, StringConstraints(max_length=120)]
    pains: Annotated[list[TinyPoint], Field(max_length=2)]
    triggers: Annotated[list[TinyPoint], Field(max_length=1)]
