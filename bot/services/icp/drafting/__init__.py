"""Drafting the ICP and its buyer personas from CRM data and interview answers.

Entry points (stable for the CLI and the Slack layer):

* :func:`draft_icp` gathers the evidence, drafts (with the LLM when there is one, else the
  deterministic offline drafter), checks the draft with the engine, stores it as a new draft ICP
  version with its personas and returns a :class:`DraftOutcome`.
* :func:`load_draft` reads a stored draft back as a :class:`DraftOutcome` (App Home, buttons).

Modules, one job each: ``gather`` (store → inputs), ``summarise`` (map: per stakeholder),
``retrieve`` (Chroma evidence per candidate), ``compose`` (reduce: the structured LLM call),
``offline`` (drafter without an LLM), ``check`` (engine validation, backtest, conflicts),
``persist`` (IcpVersion + personas + audit + vectors), ``service`` (the pipeline).
"""

from __future__ import annotations

from bot.services.icp.drafting.models import (
    OFFLINE,
    OFFLINE_LABEL,
    BacktestSummary,
    Citation,
    Conflict,
    DraftedIcp,
    DraftedPersona,
    DraftOutcome,
    TierSummary,
    Trait,
)
from bot.services.icp.drafting.service import (
    DraftingError,
    NoCrmDataError,
    draft_icp,
    load_draft,
)

__all__ = [
    "OFFLINE",
    "OFFLINE_LABEL",
    "BacktestSummary",
    "Citation",
    "Conflict",
    "DraftOutcome",
    "DraftedIcp",
    "DraftedPersona",
    "DraftingError",
    "NoCrmDataError",
    "TierSummary",
    "Trait",
    "draft_icp",
    "load_draft",
]
