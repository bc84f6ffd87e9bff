"""What sales does with each tier: who works it, how fast, with what offer.

A sensible default per tier position (the best tier, the tiers between, the fallback, "not
enough data"); a draft may store its own (``draft_json["plays"] = {"A": "…"}``), which wins.
"""

from __future__ import annotations

from icp_engine.model import FALLBACK_TIER, ICP, NO_TIER

TOP_PLAY = "Account executive within 1 business day; multi-thread the buying group; tailored demo and pilot."
MIDDLE_PLAY = "SDR sequence within 3 business days; discovery call with a matching case study."
FALLBACK_PLAY = "Marketing nurture only, no outbound; self-serve trial or newsletter."
NO_TIER_PLAY = "Fill in the unknown attributes (enrich or ask), then score again before working it."


def default_play(icp: ICP, tier: str) -> str:
    ordered = [name for name, _ in icp.ordered_tiers()]
    if tier == NO_TIER:
        return NO_TIER_PLAY
    if tier == FALLBACK_TIER:
        return FALLBACK_PLAY
    if ordered and tier == ordered[0]:
        return TOP_PLAY
    return MIDDLE_PLAY


def tier_play(icp: ICP, tier: str, stored: tuple[tuple[str, str], ...] = ()) -> str:
    """The stored play of ``tier`` if the draft has one, else the default for its position."""
    return dict(stored).get(tier) or default_play(icp, tier)
