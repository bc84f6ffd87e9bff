"""The plain-English summary of an analysis, which says so when nothing survives the correction."""

from __future__ import annotations

import math
from typing import Any

from icp_engine.stats.results import Cohort, Overall, SegmentStat
from icp_engine.stats.segments import SegmentPlan


def _pct(x: float) -> str:
    v = 100.0 * x
    if 0 < v < 9.95 and round(v, 1) != round(v):
        return f"{v:.1f}%"
    return f"{v:.0f}%"


def _ci(lo: float, hi: float) -> str:
    return f"{_pct(lo)[:-1]}–{_pct(hi)}"


def _q(q: float) -> str:
    return "q<0.001" if q < 0.001 else f"q={q:.2g}"


def _times(lift: float) -> str:
    if not math.isfinite(lift):
        return "only here"
    return f"{lift:.2f}×" if lift < 0.095 else f"{lift:.1f}×"


def _pretty(label: str) -> str:
    attribute, sep, rest = label.partition(" ")
    text = attribute.replace("_", " ") + sep + rest
    return text[:1].upper() + text[1:]


_MAX_LINES = 8


def _ranked(items: list[Any]) -> list[Any]:
    sig = [(i, s) for i, s in enumerate(items) if s.significant]
    sig.sort(key=lambda t: (t[1].q_value, -abs(math.log(t[1].lift)) if t[1].lift > 0 else 0.0, t[0]))
    return [s for _, s in sig]


def _summary(
    overall: Overall,
    segments: list[SegmentStat],
    tested: int,
    alpha: float,
    plans: list[SegmentPlan],
    cohort: Cohort | None,
    cohort_note: str | None,
    icc: float,
) -> list[str]:
    lines = [
        f"Overall: {overall.wins:,} of {overall.deals:,} closed deals won ({_pct(overall.win_rate)}, "
        f"95% CI {_ci(overall.ci_low, overall.ci_high)}) across {overall.accounts:,} accounts."
    ]
    sig = _ranked(segments)
    if not sig:
        if tested:
            lines.append(
                f"No segment's win rate differs significantly from the overall {_pct(overall.win_rate)} "
                f"({tested} segments tested, Benjamini–Hochberg q < {alpha:g}): "
                "the data do not support firmographic criteria."
            )
        else:
            lines.append(
                "No segment could be tested (no attribute value has enough deals): "
                "the data do not support firmographic criteria."
            )
    else:
        lines.append(
            f"{len(sig)} of {tested} segments differ significantly from the overall win rate "
            f"(Benjamini–Hochberg q < {alpha:g}):"
        )
        for s in sig[:_MAX_LINES]:
            lines.append(
                f"{_pretty(s.segment.label)} wins {_pct(s.win_rate)} (n={s.deals:,}, 95% CI "
                f"{_ci(s.ci_low, s.ci_high)}) vs {_pct(overall.win_rate)} overall — "
                f"{_times(s.lift)} ({_q(s.q_value)})"
            )
        if len(sig) > _MAX_LINES:
            lines.append(f"…and {len(sig) - _MAX_LINES} more significant segments.")
    if cohort is not None:
        csig = _ranked(cohort.diffs)
        who = f"Best customers: {cohort.description}, {cohort.size:,} of {cohort.population:,} accounts"
        if not csig:
            lines.append(
                f"{who}. No segment sets them apart significantly ({cohort.tested} segments tested, "
                f"Benjamini–Hochberg q < {alpha:g})."
            )
        else:
            lines.append(f"{who}. What sets them apart (Benjamini–Hochberg q < {alpha:g}):")
        for d in csig[:_MAX_LINES]:
            lines.append(
                f"{_pretty(d.segment.label)} is {_pct(d.share_in_cohort)} of them vs "
                f"{_pct(d.share_in_rest)} of the rest — {_times(d.lift)} ({_q(d.q_value)})"
            )
        if len(csig) > _MAX_LINES:
            lines.append(f"…and {len(csig) - _MAX_LINES} more segments that set the best customers apart.")
    elif cohort_note:
        lines.append(cohort_note)
    if icc >= 0.01:
        lines.append(
            f"Deals of the same account tend to end alike (intra-account correlation {icc:.2f}), so the "
            "intervals and tests count them as less evidence than deals of different accounts."
        )
    for plan in plans:
        for sk in plan.skipped:
            lines.append(
                f"Not tested: {sk.values} value{'s' if sk.values != 1 else ''} of {_pretty(plan.attribute)} "
                f"({sk.rows:,} deals, {sk.reason}, e.g. {', '.join(sk.examples[:3])})."
            )
    return lines
