"""The draft's ICP in one sentence with its proof, for the short Slack post.

The sentence is the one-page document's (``bot/services/icp/export/statement.py``: the values
that earn the most points on the strongest characteristics, and the best tier's backtest win rate
against the average), fed with the draft's own backtest. Also: which characteristics weigh most.
"""

from __future__ import annotations

from bot.services.icp.drafting.models import BacktestSummary
from bot.services.icp.export.document import backtest_doc
from bot.services.icp.export.statement import icp_statement
from icp_engine.model import ICP, Characteristic


def draft_statement(icp: ICP, backtest: BacktestSummary | None) -> str:
    """ "Software and fintech companies with 200 to 1,000 employees: 52% win rate vs 27% overall (…)"."""
    doc = backtest_doc(backtest.model_dump(mode="json")) if backtest is not None else None
    return icp_statement(icp, doc).sentence() + "."


def top_characteristics(icp: ICP, n: int) -> list[Characteristic]:
    """The ``n`` characteristics that weigh most (largest points either way; ties: the ICP's order)."""
    ranked = sorted(enumerate(icp.characteristics), key=lambda ic: (-ic[1].weight, ic[0]))
    return [ch for _, ch in ranked[:n]]
