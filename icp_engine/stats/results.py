"""The records analyze returns, JSON-ready, with the rounding their serialised form uses."""

from __future__ import annotations

import json
import math
from dataclasses import Field, dataclass, field, fields
from typing import Any, ClassVar

from icp_engine.stats.segments import SegmentDef, SegmentPlan


def _finite(x: float | None) -> float | None:
    if x is None:
        return None
    f = float(x)
    return f if math.isfinite(f) else None


def _r(x: float | None, digits: int) -> float | None:
    f = _finite(x)
    return None if f is None else round(f, digits)


def _sig(x: float | None, digits: int = 4) -> float | None:
    f = _finite(x)
    if f is None or f == 0:
        return f
    return round(f, digits - 1 - math.floor(math.log10(abs(f))))


class _Fields:
    """Read access by key as well as by attribute (`overall["win_rate"]`), for callers that treat
    these small records as the plain mappings they serialise to."""

    # Set by @dataclass on each subclass; declared here so `fields(self)` type-checks.
    __dataclass_fields__: ClassVar[dict[str, Field[Any]]]

    def __getitem__(self, key: str) -> Any:
        if key not in {f.name for f in fields(self)}:
            raise KeyError(key)
        return getattr(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default


@dataclass(frozen=True)
class Overall(_Fields):
    """All closed deals together: the baseline every segment is compared with."""

    deals: int
    wins: int
    losses: int
    win_rate: float
    ci_low: float
    ci_high: float
    accounts: int
    mean_value: float | None
    median_value: float | None
    retention: float | None
    nps: float | None
    ltv: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "deals": self.deals,
            "wins": self.wins,
            "losses": self.losses,
            "win_rate": _r(self.win_rate, 4),
            "ci_low": _r(self.ci_low, 4),
            "ci_high": _r(self.ci_high, 4),
            "accounts": self.accounts,
            "mean_value": _r(self.mean_value, 2),
            "median_value": _r(self.median_value, 2),
            "retention": _r(self.retention, 4),
            "nps": _r(self.nps, 2),
            "ltv": _r(self.ltv, 2),
        }


@dataclass(frozen=True)
class SegmentStat:
    """Deals, wins and value of one segment; the test is against the rest of the deals.

    `mean_value`/`median_value` are of WON deal amounts (lost amounts are often 0 in exports);
    `retention`, `nps` and `ltv` are means over the segment's accounts that have them.
    """

    segment: SegmentDef
    accounts: int
    deals: int
    wins: int
    losses: int
    win_rate: float
    ci_low: float
    ci_high: float
    lift: float
    p_value: float
    q_value: float
    significant: bool
    mean_value: float | None
    median_value: float | None
    retention: float | None
    nps: float | None
    ltv: float | None
    tested: bool = True
    design_effect: float = 1.0

    @property
    def id(self) -> str:
        return self.segment.id

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "segment": self.segment.to_dict(),
            "accounts": self.accounts,
            "deals": self.deals,
            "wins": self.wins,
            "losses": self.losses,
            "win_rate": _r(self.win_rate, 4),
            "ci_low": _r(self.ci_low, 4),
            "ci_high": _r(self.ci_high, 4),
            "lift": _r(self.lift, 3),
            "p_value": _sig(self.p_value),
            "q_value": _sig(self.q_value),
            "significant": self.significant,
            "tested": self.tested,
            "design_effect": _r(self.design_effect, 3),
            "mean_value": _r(self.mean_value, 2),
            "median_value": _r(self.median_value, 2),
            "retention": _r(self.retention, 4),
            "nps": _r(self.nps, 2),
            "ltv": _r(self.ltv, 2),
        }


@dataclass(frozen=True)
class CohortDiff:
    """How much more (or less) common a segment is among the best customers than among the rest."""

    segment: SegmentDef
    share_in_cohort: float
    share_in_rest: float
    lift: float
    p_value: float
    q_value: float
    significant: bool
    in_cohort: int = 0
    in_rest: int = 0
    tested: bool = True

    @property
    def id(self) -> str:
        return f"cohort:{self.segment.key}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "segment": self.segment.to_dict(),
            "in_cohort": self.in_cohort,
            "in_rest": self.in_rest,
            "share_in_cohort": _r(self.share_in_cohort, 4),
            "share_in_rest": _r(self.share_in_rest, 4),
            "lift": _r(self.lift, 3),
            "p_value": _sig(self.p_value),
            "q_value": _sig(self.q_value),
            "significant": self.significant,
        }


@dataclass(frozen=True)
class Cohort(_Fields):
    """The best customers by one measure, and the segments that set them apart."""

    by: str
    size: int
    population: int
    threshold: float | None
    description: str
    diffs: list[CohortDiff]
    tested: int = 0

    @property
    def significant(self) -> bool:
        return any(d.significant for d in self.diffs)

    def to_dict(self) -> dict[str, Any]:
        return {
            "by": self.by,
            "size": self.size,
            "population": self.population,
            "threshold": _sig(self.threshold, 6),
            "description": self.description,
            "tested": self.tested,
            "significant": self.significant,
            "diffs": [d.to_dict() for d in self.diffs],
        }


@dataclass(frozen=True)
class Analysis:
    """Everything `analyze` found, JSON-ready via `to_dict`, with a plain-English `summary`."""

    overall: Overall
    segments: list[SegmentStat]
    cohort: Cohort | None
    significant: bool
    summary: list[str]
    tested: int
    alpha: float
    attributes: list[SegmentPlan] = field(default_factory=list)
    icc: float = 0.0

    def segment(self, segment_id: str) -> SegmentStat:
        """Look a segment up by its evidence id ('stat:industry=software')."""
        for s in self.segments:
            if s.id == segment_id:
                return s
        raise KeyError(f"no segment {segment_id!r} in this analysis")

    def to_dict(self) -> dict[str, Any]:
        return {
            "overall": self.overall.to_dict(),
            "tested": self.tested,
            "alpha": self.alpha,
            "icc": _r(self.icc, 4),
            "significant": self.significant,
            "summary": list(self.summary),
            "segments": [s.to_dict() for s in self.segments],
            "cohort": None if self.cohort is None else self.cohort.to_dict(),
            "attributes": [p.to_dict() for p in self.attributes],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, allow_nan=False)
