"""The evidence pool: every id a draft may cite, and what each one is (kind, source, short quote).

A draft may only cite ids in this pool; anything else a model writes is dropped by ``check``.
"""

from __future__ import annotations

from bot.services.icp.drafting.gather import Gathered
from bot.services.icp.drafting.models import Citation

QUOTE_CHARS = 240
OVERALL_ID = "stat:overall"


def shorten(text: str, limit: int = QUOTE_CHARS) -> str:
    """One line, at most ``limit`` characters, cut at a word with an ellipsis."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1].rsplit(" ", 1)[0] or flat[: limit - 1]
    return cut + "…"


def stat_texts(g: Gathered) -> dict[str, str]:
    """Statistic evidence id → its sentence: the overall rate, every tested segment, the cohort."""
    out: dict[str, str] = {}
    if g.analysis is None:
        return out
    overall = g.analysis.overall
    out[OVERALL_ID] = (
        f"All closed deals: {overall.wins:,} of {overall.deals:,} won ({overall.win_rate:.0%}) "
        f"across {overall.accounts:,} accounts"
    )
    for s in g.analysis.segments:
        text = (
            f"{s.segment.label}: win rate {s.win_rate:.0%} (n={s.deals}, 95% CI {s.ci_low:.0%}–"
            f"{s.ci_high:.0%}) vs {overall.win_rate:.0%} overall"
        )
        text += "; significant" if s.significant else "; not significant"
        out[s.id] = text
    if g.analysis.cohort is not None:
        cohort = g.analysis.cohort
        for d in cohort.diffs:
            if d.significant:
                out[d.id] = (
                    f"Best customers ({cohort.description}): {d.segment.label} describes "
                    f"{d.share_in_cohort:.0%} of them vs {d.share_in_rest:.0%} of the rest"
                )
    if g.learned is not None:
        out.update(g.learned.icp.evidence)
    return out


def citations_of(g: Gathered) -> dict[str, Citation]:
    """Citations for every answer and every statistic of the gathered inputs."""
    out: dict[str, Citation] = {}
    for a in g.answers:
        out[a.id] = Citation(id=a.id, kind="answer", source=a.source, quote=shorten(a.text))
    for key, text in stat_texts(g).items():
        out[key] = Citation(id=key, kind="statistic", source="CRM statistics", quote=shorten(text))
    return out
