"""The review's re-learned proposal: learned on every closed deal, diffed against the active ICP."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from bot.services.reviews.proposal import MAX_CHANGES, MIN_DEALS, relearned_proposal
from icp_engine.crm import load_crm
from icp_engine.model import ICP
from icp_engine.sample import generate, write_csv

ACTIVE = ICP.model_validate(
    {
        "name": "Hand-made",
        "criteria": [{"attribute": "industry", "op": "in", "values": ["retail"], "points": 20}],
    }
)


def test_a_proposal_lists_its_changes_and_both_backtests(tmp_path: Path) -> None:
    paths = write_csv(generate(seed=5, n_accounts=400), tmp_path)
    crm = load_crm(paths["accounts"], paths["deals"], paths["health"])
    proposal = relearned_proposal(ACTIVE, crm)
    assert proposal is not None
    assert proposal.summary.startswith("criteria: ") and "added" in proposal.summary
    assert len(proposal.changes) == MAX_CHANGES < proposal.changes_total  # capped; the rest counted
    assert all(
        line.split(": ", 1)[0] in {"Criteria added", "Criteria removed", "Re-weighted", "Condition changed"}
        for line in proposal.changes
    )
    assert proposal.active.n == proposal.proposed.n == len(crm.closed)
    assert proposal.proposed.auc > proposal.active.auc  # learned on these deals, it ranks them better


def test_too_few_closed_deals_give_no_proposal(tmp_path: Path) -> None:
    paths = write_csv(generate(seed=5, n_accounts=400), tmp_path)
    crm = load_crm(paths["accounts"], paths["deals"], paths["health"])
    few = dataclasses.replace(crm, deals=crm.closed.head(MIN_DEALS - 1))
    assert relearned_proposal(ACTIVE, few) is None
