"""A small workspace whose review kit figures are computed by hand (see the numbers below).

ICP (centred points): industry software +30 (score 73.9, tier A), retail −30 (score 26.1, tier C);
default tiers A ≥ 70, B ≥ 55.
Last review: 2026-09-01. Closed since then (hand-computed):

    deal  account  industry  outcome  amount  closed       tier
    D1    A1       software  won      1000    2026-09-10   A
    D2    A2       software  won      2000    2026-10-01   A
    D3    A3       software  lost             2026-10-05   A
    D4    A4       retail    won      5000    2026-10-10   C   ← a win outside the ICP
    D5    A5       retail    lost             2026-11-01   C
    D6    A4       retail    lost             2026-11-02   C

Before the review (not counted): D0 (A1 won 2026-05-01), D00 (A4 lost 2026-06-01).
Per tier now: A 2 won / 1 lost (67%), B 0 / 0, C 1 won / 2 lost (33%). Overall 3 of 6 (50%).
AUC on the new deals: wins score 73.9, 73.9, 26.1; losses 73.9, 26.1, 26.1 → pairs: 2 × (0.5 + 1 + 1) +
(0 + 0.5 + 0.5) = 6 of 9 = 0.667. At approval (stored backtest): AUC 0.80, win rate 40% of 40
deals, A 12 of 20, C 4 of 20. Drift in AUC: −0.133.
Churned: A6 (software, tier A, 2026-10-15) counts; A7 (retail, tier C) does not; A8 (industry
unknown: tier ?, not enough data) does not; A1 churned on 2026-08-01, before the review, does not. Interviews completed since: 2 (one more before).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Engine

from bot.store import session_scope
from bot.store.models import (
    AccountCreate,
    CustomerHealthCreate,
    DealCreate,
    DealStage,
    IcpStatus,
    IcpVersionCreate,
    Interview,
    InterviewState,
    StakeholderCreate,
)
from bot.store.repo.crm import bulk_upsert_accounts, bulk_upsert_deals, bulk_upsert_health
from bot.store.repo.icp import create_icp_draft, set_icp_status
from bot.store.repo.stakeholders import get_or_create_stakeholder
from bot.store.repo.workspaces import get_or_create_workspace

LAST_REVIEW = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
ICP_DOC = {
    "name": "Software companies",
    "criteria": [
        {"attribute": "industry", "op": "in", "values": ["software"], "points": 30},
        {"attribute": "industry", "op": "in", "values": ["retail"], "points": -30},
    ],
}
APPROVAL_BACKTEST = {
    "icp_name": "Software companies",
    "n": 40,
    "wins": 16,
    "win_rate": 0.4,
    "auc": 0.8,
    "tiers": [
        {"tier": "A", "label": "Best match", "n": 20, "wins": 12},
        {"tier": "B", "label": "Good fit", "n": 0, "wins": 0},
        {"tier": "C", "label": "Not a fit", "n": 20, "wins": 4},
    ],
}
INDUSTRY = {
    "A1": "software",
    "A2": "software",
    "A3": "software",
    "A4": "retail",
    "A5": "retail",
    "A6": "software",
    "A7": "retail",
    "A8": None,
}
DEALS = [
    ("D0", "A1", DealStage.won, 700.0, date(2026, 5, 1)),
    ("D00", "A4", DealStage.lost, None, date(2026, 6, 1)),
    ("D1", "A1", DealStage.won, 1000.0, date(2026, 9, 10)),
    ("D2", "A2", DealStage.won, 2000.0, date(2026, 10, 1)),
    ("D3", "A3", DealStage.lost, None, date(2026, 10, 5)),
    ("D4", "A4", DealStage.won, 5000.0, date(2026, 10, 10)),
    ("D5", "A5", DealStage.lost, None, date(2026, 11, 1)),
    ("D6", "A4", DealStage.lost, None, date(2026, 11, 2)),
    ("D7", "A2", DealStage.open, 900.0, None),
]
CHURN = [
    ("A6", date(2026, 10, 15)),
    ("A7", date(2026, 10, 20)),
    ("A8", date(2026, 10, 25)),
    ("A1", date(2026, 8, 1)),
]


def seed_review_workspace(engine: Engine, team_id: str) -> int:
    """The workspace above, with an approved ICP carrying its approval backtest; its id."""
    with session_scope(engine) as session:
        ws = get_or_create_workspace(session=session, slack_team_id=team_id)
        assert ws.id is not None
        wid = ws.id
        version = create_icp_draft(
            session=session,
            workspace_id=wid,
            data=IcpVersionCreate(
                name="Software companies", icp_json=ICP_DOC, backtest=APPROVAL_BACKTEST, author="UOWNER"
            ),
        )
        assert version.id is not None
        set_icp_status(
            session=session,
            workspace_id=wid,
            version_id=version.id,
            status=IcpStatus.approved,
            actor="UOWNER",
        )
        bulk_upsert_accounts(
            session=session,
            workspace_id=wid,
            rows=[AccountCreate(crm_id=a, name=f"Company {a}", industry=i) for a, i in INDUSTRY.items()],
        )
        bulk_upsert_deals(
            session=session,
            workspace_id=wid,
            rows=[
                DealCreate(crm_id=d, account_crm_id=a, stage=s, amount=amount, closed_on=closed)
                for d, a, s, amount, closed in DEALS
            ],
        )
        bulk_upsert_health(
            session=session,
            workspace_id=wid,
            rows=[CustomerHealthCreate(crm_id=a, churned=True, churned_on=on) for a, on in CHURN]
            + [CustomerHealthCreate(crm_id="A2", churned=False, arr=1000.0)],
        )
        for i, completed in enumerate(
            [
                datetime(2026, 9, 15, tzinfo=UTC),
                datetime(2026, 10, 2, tzinfo=UTC),
                datetime(2026, 7, 1, tzinfo=UTC),
            ]
        ):
            person = get_or_create_stakeholder(
                session=session, workspace_id=wid, data=StakeholderCreate(slack_user_id=f"UPERSON{i}")
            )
            assert person.id is not None
            session.add(
                Interview(
                    workspace_id=wid,
                    stakeholder_id=person.id,
                    state=InterviewState.completed,
                    completed_at=completed,
                )
            )
        session.flush()
    return wid
