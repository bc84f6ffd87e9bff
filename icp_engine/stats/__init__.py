"""Segment statistics for closed deals: who wins, what they are worth, and whether it is more than noise.

`analyze` splits the deals by every attribute (industry, size band, country, tech stack, custom
fields), reports counts, win rates with Wilson intervals, deal value, retention, NPS and lifetime
value per segment, tests each segment against the rest of the deals, and corrects for testing many
segments at once (Benjamini–Hochberg). An ICP must only be built from what survives that
correction, so when nothing does, the summary says so in plain words instead of inventing a pattern.

Everything is deterministic (same input, same output, regardless of row order) and columnar, so a
million deals cost a few vector operations per attribute. No scipy: the handful of distributions
needed are written out with `math`.

Modules: ``primitives`` (the tests and intervals), ``value_keys`` (raw values to comparable keys),
``segments`` (cutting a column into segments), ``input_checks`` (reading the frames given),
``computation`` (``analyze`` itself), ``results`` (what it returns) and ``summary`` (its wording).
"""

from __future__ import annotations

from icp_engine.stats.computation import BestBy as BestBy
from icp_engine.stats.computation import analyze
from icp_engine.stats.input_checks import BAND_COLUMNS as BAND_COLUMNS
from icp_engine.stats.input_checks import HEALTH_COLUMNS as HEALTH_COLUMNS
from icp_engine.stats.input_checks import ID_COLUMNS as ID_COLUMNS
from icp_engine.stats.input_checks import NAME_COLUMNS as NAME_COLUMNS
from icp_engine.stats.input_checks import OUTCOME_COLUMNS as OUTCOME_COLUMNS
from icp_engine.stats.input_checks import _flags as _flags  # backtest reads won/lost the same way
from icp_engine.stats.primitives import Z95 as Z95
from icp_engine.stats.primitives import (
    benjamini_hochberg,
    design_effect,
    fisher_exact_p,
    intra_account_correlation,
    two_proportion_p,
    wilson_interval,
)
from icp_engine.stats.results import Analysis, Cohort, CohortDiff, Overall, SegmentStat
from icp_engine.stats.segments import (
    SegmentDef,
    SegmentPlan,
    SkippedValues,
    plan_segments,
    segment_definitions,
)
from icp_engine.stats.segments import SegmentKind as SegmentKind
from icp_engine.stats.summary import _ci as _ci  # the summary's wording, reused by knowledge documents
from icp_engine.stats.summary import _pct as _pct
from icp_engine.stats.summary import _q as _q
from icp_engine.stats.value_keys import ColumnKind as ColumnKind

__all__ = [
    "Analysis",
    "Cohort",
    "CohortDiff",
    "Overall",
    "SegmentDef",
    "SegmentPlan",
    "SegmentStat",
    "SkippedValues",
    "analyze",
    "benjamini_hochberg",
    "design_effect",
    "fisher_exact_p",
    "intra_account_correlation",
    "plan_segments",
    "segment_definitions",
    "two_proportion_p",
    "wilson_interval",
]
