"""The review kit's figures against the hand-computed ones in review_fixtures (SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine

from bot.services.reviews.kit import TierFigures, load_review_kit
from tests.support.review_fixtures import LAST_REVIEW, seed_review_workspace

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def test_review_kit_matches_the_hand_computed_figures(store_engine: Engine) -> None:
    team = f"T{uuid.uuid4().hex[:10]}"
    wid = seed_review_workspace(store_engine, team)
    kit = load_review_kit(store_engine, workspace_id=wid, team_id=team, now=NOW, last_reviewed_at=LAST_REVIEW)

    assert kit.since == LAST_REVIEW
    assert kit.icp_version == 1
    assert kit.new_deals == 6
    # Score = 100·sigmoid(points·ln2/20): software +30 → 100·2^1.5/(1 + 2^1.5) = 100·2.828/3.828 = 73.9
    # ≥ 70 → A; retail −30 → 100·1/(1 + 2^1.5) = 26.1 < 55 → C. Deals closed since 2026-09-01:
    # A = D1, D2 won + D3 lost (2/3); C = D4 won + D5, D6 lost (1/3); no account lands in B.
    assert kit.tiers_now == (
        TierFigures("A", "Best match", 2, 1),
        TierFigures("B", "Good fit", 0, 0),
        TierFigures("C", "Not a fit", 1, 2),
    )
    assert kit.tiers_now[0].win_rate == pytest.approx(2 / 3)
    assert kit.tiers_now[2].win_rate == pytest.approx(1 / 3)
    assert (kit.won_now, kit.lost_now) == (3, 3)
    assert kit.tiers_then == (
        TierFigures("A", "Best match", 12, 8),
        TierFigures("B", "Good fit", 0, 0),
        TierFigures("C", "Not a fit", 4, 16),
    )
    assert kit.misses_total == 1
    assert [(m.deal_id, m.account_id, m.amount) for m in kit.misses] == [("D4", "A4", 5000.0)]
    # Churned since the review and above the lowest tier: A6 (software, A) counts; A7 (retail, C)
    # does not, nor A8 (industry unknown: confidence 0 → tier "?"); A1 churned before the review.
    assert kit.churned_total == 1
    assert [(c.account_id, c.tier, c.churned_on) for c in kit.churned] == [("A6", "A", date(2026, 10, 15))]
    assert kit.new_interviews == 2

    drift = kit.drift
    assert drift is not None
    # AUC now: wins score 73.9, 73.9, 26.1 vs losses 73.9, 26.1, 26.1; each software win beats
    # 2 losses and ties 1 (0.5 + 1 + 1), the retail win ties 2 (0 + 0.5 + 0.5): (2·2.5 + 1)/9 = 6/9.
    assert drift.auc_then == pytest.approx(0.8)
    assert drift.auc_now == pytest.approx(6 / 9)
    assert drift.auc_change == pytest.approx(6 / 9 - 0.8)
    assert drift.win_rate_then == pytest.approx(0.4)
    assert drift.win_rate_now == pytest.approx(0.5)
    assert (drift.n_then, drift.n_now) == (40, 6)


def test_without_a_review_since_is_the_approval(store_engine: Engine) -> None:
    team = f"T{uuid.uuid4().hex[:10]}"
    wid = seed_review_workspace(store_engine, team)
    kit = load_review_kit(store_engine, workspace_id=wid, team_id=team, now=NOW, last_reviewed_at=None)
    assert kit.since is not None  # approved just now (wall clock): no deal closed since
    assert kit.new_deals == 0
    assert kit.misses_total == 0


def test_a_workspace_with_nothing_gets_an_empty_kit(store_engine: Engine) -> None:
    from bot.store import session_scope
    from bot.store.repo.workspaces import get_or_create_workspace

    team = f"T{uuid.uuid4().hex[:10]}"
    with session_scope(store_engine) as session:
        wid = get_or_create_workspace(session=session, slack_team_id=team).id
    assert wid is not None
    kit = load_review_kit(store_engine, workspace_id=wid, team_id=team, now=NOW, last_reviewed_at=None)
    assert (kit.icp_version, kit.new_deals, kit.tiers_now, kit.drift, kit.new_interviews) == (
        None,
        0,
        (),
        None,
        0,
    )
