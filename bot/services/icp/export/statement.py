"""The ICP in one sentence with its proof, built from the scorecard and its backtest (no LLM).

"Software and fintech companies with 200 to 1,000 employees in US and CA that run Salesforce:
52% win rate vs 27% overall". The sentence names the values that earn the most points on the
strongest positive characteristics; the proof is the best tier's backtest win rate against the
average, or (without a backtest) the calibration the points were learned on.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.services.icp.export.document import BacktestDoc
from icp_engine.model import ICP, Characteristic, Criterion, format_value
from icp_engine.wording import condition_value, names_list

MAX_CHARACTERISTICS = 3  # in the sentence
MAX_VALUES = 3  # per characteristic
STRONG_SHARE = 0.5  # a bin counts as "best" with at least half the characteristic's top points

# Attribute-name words -> how the sentence phrases that characteristic's values.
_NOUN = ("industry", "vertical", "sector")
_SIZE = ("employee", "headcount", "staff", "size")
_PLACE = ("country", "region", "geo", "territory", "state", "city", "market")
_STACK = ("tech", "stack", "crm", "tool", "software_used")


@dataclass(frozen=True)
class Statement:
    text: str  # "Software and fintech companies with 200 to 1,000 employees in US and CA"
    proof: str  # "52% win rate vs 27% overall (tier A, 340 closed deals)", or why there is none

    def sentence(self) -> str:
        return f"{self.text}: {self.proof}" if self.proof else self.text


def _best_bins(ch: Characteristic) -> list[Criterion]:
    top = max((float(b.points) for b in ch.bins), default=0.0)
    if top <= 0:
        return []
    best = [b for b in ch.bins if float(b.points) >= top * STRONG_SHARE]
    return sorted(best, key=lambda b: -float(b.points))[:MAX_VALUES]


def _values(bins: list[Criterion]) -> str:
    """ "software, fintech and healthtech": each value of the best bins once (``in`` split up)."""
    texts: dict[str, None] = {}
    for b in bins:
        if b.label:
            texts.setdefault(b.label, None)
        elif len(b.conditions) == 1 and b.conditions[0].op in ("in", "eq", "contains_any"):
            for value in b.conditions[0].values:
                texts.setdefault(format_value(value), None)
        else:
            texts.setdefault(" & ".join(condition_value(c) for c in b.conditions), None)
    return names_list(list(texts)[:MAX_VALUES])


def _kind(attribute: str) -> str:
    name = attribute.lower()
    for kind, words in (("noun", _NOUN), ("size", _SIZE), ("place", _PLACE), ("stack", _STACK)):
        if any(word in name for word in words):
            return kind
    return "other"


def statement_text(icp: ICP) -> str:
    """Who the ICP is, from its strongest positive single-attribute characteristics."""
    ranked = sorted(
        (ch for ch in icp.characteristics if ch.attribute is not None and _best_bins(ch)),
        key=lambda ch: -max(float(b.points) for b in ch.bins),
    )[:MAX_CHARACTERISTICS]
    if not ranked:
        return f"Accounts that fit {icp.name}"
    noun = "Companies"
    phrases: list[str] = []
    for ch in ranked:
        values = _values(_best_bins(ch))
        kind = _kind(ch.attribute or "")
        if kind == "noun" and noun == "Companies":
            noun = f"{values[:1].upper()}{values[1:]} companies"
        elif kind == "size":
            phrases.append(f"with {values} employees")
        elif kind == "place":
            phrases.append(f"in {values}")
        elif kind == "stack":
            phrases.append(f"that run {values}")
        else:
            phrases.append(f"with {ch.name.replace('_', ' ')} {values}")
    return " ".join([noun, *phrases])


def proof_text(icp: ICP, backtest: BacktestDoc | None) -> str:
    """The numbers behind the sentence: the top tier's win rate against the average."""
    if backtest is not None and backtest.tiers and backtest.win_rate is not None:
        top = next((t for t in backtest.tiers if t.tier == backtest.top_tier), backtest.tiers[0])
        if top.win_rate is not None:
            deals = f", {backtest.deals:,} closed deals" if backtest.deals else ""
            return f"{top.win_rate:.0%} win rate vs {backtest.win_rate:.0%} overall (tier {top.tier}{deals})"
    if icp.calibration is not None:
        return (
            f"not backtested yet; the average account wins {icp.calibration.base_rate:.0%} "
            f"({icp.calibration.deals:,} deals learned from)"
        )
    return "not backtested yet (import won and lost deals, then re-draft)"


def icp_statement(icp: ICP, backtest: BacktestDoc | None) -> Statement:
    return Statement(statement_text(icp), proof_text(icp, backtest))
