"""Reviewing drafts on real stores (SQLite and PostgreSQL, embedded Chroma): approve, request
changes and edit, with the backtest redone by the engine and nothing crossing workspaces."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from bot.knowledge.store import KnowledgeStore
from bot.services.icp.drafting import draft_icp
from bot.services.icp.drafting.check import summarise_backtest
from bot.services.icp.drafting.gather import gather
from bot.services.icp.review import (
    CHANGES_REQUESTED,
    EDITED,
    DraftEdit,
    ReviewError,
    approve,
    edit,
    load_review,
    request_changes,
)
from bot.store import session_scope
from bot.store.models import IcpStatus
from bot.store.repo import icp as icp_repo
from bot.store.repo.audit import list_audit
from icp_engine.backtest import backtest
from tests.support.knowledge_fixtures import add_answers, insert_crm, new_workspace, sample_crm

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


def drafted(engine: Engine, knowledge: KnowledgeStore | None = None) -> tuple[str, int, int]:
    """A workspace with a small sample CRM, an answer and an offline draft: (team, ws, version id)."""
    data = sample_crm(7, 300)
    team, ws = new_workspace(engine)
    insert_crm(engine, ws, accounts=data.accounts, deals=data.deals, health=data.health)
    with session_scope(engine) as session:
        add_answers(session, ws, "U_SALES", ["Logistics firms with big dispatch teams close fastest."])
    outcome = draft_icp(engine=engine, knowledge=knowledge, llm=None, workspace=team, author="U_OWNER")
    return team, ws, outcome.version_id


def statuses(engine: Engine, ws: int) -> dict[int, IcpStatus]:
    with session_scope(engine) as session:
        return {v.version: v.status for v in icp_repo.list_icp_versions(session=session, workspace_id=ws)}


def test_edit_saves_a_new_backtested_version_and_leaves_the_old_one(
    store_engine: Engine, knowledge: KnowledgeStore
) -> None:
    team, ws, v1 = drafted(store_engine, knowledge)
    source, _ = load_review(store_engine, team_id=team, version_id=v1)
    assert len(source.icp.criteria) >= 2
    change = DraftEdit(points={0: 33}, removed=frozenset({1}), note="weight what sales said")
    new, facts = edit(
        store_engine,
        knowledge=knowledge,
        team_id=team,
        version_id=v1,
        actor="U_OWNER",
        change=change,
        now=NOW,
    )
    assert (new.version, facts.status, facts.author) == (2, IcpStatus.draft, "U_OWNER")
    assert new.icp.criteria[0].points == 33 and len(new.icp.criteria) == len(source.icp.criteria) - 1
    assert new.icp.criteria[1] == source.icp.criteria[2]
    g = gather(engine=store_engine, workspace=team)
    expected = summarise_backtest(backtest(new.icp, g.closed), backtest(g.learned.icp, g.closed).auc)
    assert new.backtest == expected
    assert (
        new.notes[0].startswith("Edited by <@U_OWNER> from v1") and "weight what sales said" in new.notes[0]
    )
    again, _ = load_review(store_engine, team_id=team, version_id=v1)
    assert again.icp == source.icp, "the old version is never rewritten"
    assert [p.name for p in new.personas] == [p.name for p in source.personas]
    with session_scope(store_engine) as session:
        (entry,) = list_audit(session=session, workspace_id=ws, action=EDITED)
    assert entry.details["from_version"] == 1 and entry.target_id == str(new.version_id)
    hits = knowledge.search(workspace=team, query="ICP version 2", k=20, kinds=["icp"])
    assert str(new.version_id) in {h.source_id for h in hits}


def test_approve_supersedes_and_rewrites_the_search_copies(
    store_engine: Engine, knowledge: KnowledgeStore
) -> None:
    team, ws, v1 = drafted(store_engine, knowledge)
    v2, _ = edit(
        store_engine,
        knowledge=knowledge,
        team_id=team,
        version_id=v1,
        actor="U_OWNER",
        change=DraftEdit(),
        now=NOW,
    )
    _, facts = approve(
        store_engine, knowledge=knowledge, team_id=team, version_id=v2.version_id, actor="U_BOSS"
    )
    assert facts.status == IcpStatus.approved and facts.approver == "U_BOSS" and not facts.open
    approve(store_engine, knowledge=knowledge, team_id=team, version_id=v1, actor="U_BOSS")
    assert statuses(store_engine, ws) == {1: IcpStatus.approved, 2: IcpStatus.superseded}
    firsts = knowledge.search(workspace=team, query="ICP", k=20, kinds=["icp"], where={"chunk": 0})
    texts = {h.source_id: h.text for h in firsts}
    assert "approved" in texts[str(v1)] and "superseded" in texts[str(v2.version_id)]
    with pytest.raises(ReviewError, match="already approved"):
        approve(store_engine, knowledge=knowledge, team_id=team, version_id=v1, actor="U_BOSS")
    with pytest.raises(ReviewError, match="cannot be approved"):
        approve(store_engine, knowledge=knowledge, team_id=team, version_id=v2.version_id, actor="U_BOSS")


def test_change_requests_are_recorded_and_read_back(store_engine: Engine) -> None:
    team, ws, v1 = drafted(store_engine)
    request_changes(store_engine, team_id=team, version_id=v1, actor="U_A", note="  add   fintech ")
    _, facts = request_changes(store_engine, team_id=team, version_id=v1, actor="U_B", note="drop retail")
    assert [(r.who, r.note) for r in facts.change_requests] == [
        ("U_A", "add fintech"),
        ("U_B", "drop retail"),
    ]
    with pytest.raises(ReviewError, match="Say what should change"):
        request_changes(store_engine, team_id=team, version_id=v1, actor="U_A", note="   ")
    approve(store_engine, knowledge=None, team_id=team, version_id=v1, actor="U_OWNER")
    with pytest.raises(ReviewError, match="ask for changes on a draft"):
        request_changes(store_engine, team_id=team, version_id=v1, actor="U_A", note="too late")
    with session_scope(store_engine) as session:
        assert len(list_audit(session=session, workspace_id=ws, action=CHANGES_REQUESTED)) == 2


def test_another_workspace_cannot_touch_the_draft(store_engine: Engine) -> None:
    _, ws, v1 = drafted(store_engine)
    other, _ = new_workspace(store_engine)
    for attempt in (
        lambda: approve(store_engine, knowledge=None, team_id=other, version_id=v1, actor="U_X"),
        lambda: request_changes(store_engine, team_id=other, version_id=v1, actor="U_X", note="mine now"),
        lambda: edit(
            store_engine,
            knowledge=None,
            team_id=other,
            version_id=v1,
            actor="U_X",
            change=DraftEdit(),
            now=NOW,
        ),
        lambda: load_review(store_engine, team_id="T_NOBODY", version_id=v1),
    ):
        with pytest.raises(ReviewError):
            attempt()
    assert statuses(store_engine, ws) == {1: IcpStatus.draft}


def test_bad_points_are_refused_before_anything_is_written(store_engine: Engine) -> None:
    team, ws, v1 = drafted(store_engine)
    with pytest.raises(ReviewError, match="between -100 and 100"):
        edit(
            store_engine,
            knowledge=None,
            team_id=team,
            version_id=v1,
            actor="U_OWNER",
            change=DraftEdit(points={0: 250}),
            now=NOW,
        )
    assert statuses(store_engine, ws) == {1: IcpStatus.draft}
