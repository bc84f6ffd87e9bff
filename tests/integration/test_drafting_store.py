"""Drafting against real stores: SQLite and PostgreSQL, embedded Chroma, an OpenAI-compatible
stand-in over HTTP for model faults, the CLI, and the shared CRM export nobody on the team wrote."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.knowledge.store import KnowledgeStore
from bot.llm.client import LlmClient
from bot.llm.factory import build_llm
from bot.llm.fake import QueueChatModel
from bot.services.icp.drafting import DraftingError, NoCrmDataError, draft_icp, load_draft
from bot.services.icp.drafting.privacy import NARRATIVE_ERASED
from bot.services.imports.service import import_accounts, import_deals
from bot.services.knowledge.sync import reindex
from bot.services.privacy.forget import forget_person
from bot.store import make_engine, session_scope, upgrade
from bot.store.models import GtmRole, IcpStatus
from bot.store.repo import audit as audit_repo
from bot.store.repo import icp as icp_repo
from tests.support.import_support import MAVEN, engine_url, run_cli
from tests.support.knowledge_fixtures import add_answers, insert_crm, new_workspace, sample_crm
from tests.support.llm import llm_settings
from tests.support.llm.fault_server import (
    FaultLlmServer,
    cut_off,
    empty_structured,
    garbage,
    ok_json,
    rate_limited,
    server_error,
    slow,
    truncated_body,
    truncated_json,
)

SALES = [
    "Our best customers are software companies with big support teams.",
    "Fintech firms renew because the audit trail saves their compliance team days.",
]
PAINS = [
    "Manual routing costs them overtime every week.",
    "Routing by hand means overtime and angry customers.",
]
BUYERS = ["The VP of Operations decides and the CFO signs the contract."]
BAD_FIT = ["Fintech outfits churn fast, a bad fit."]


def workspace_with_data(engine: Engine, *, answers: bool = True) -> tuple[str, int, dict[str, list[str]]]:
    """A workspace with the sample CRM and (unless told not to) six answers; their evidence ids."""
    data = sample_crm()
    team, ws = new_workspace(engine)
    insert_crm(engine, ws, accounts=data.accounts, deals=data.deals, health=data.health)
    ids: dict[str, list[int]] = {}
    if answers:
        with session_scope(engine) as session:
            ids["sales"] = add_answers(session, ws, "U_SALES", SALES, question_key="best_deals")
            ids["pains"] = add_answers(session, ws, "U_SALES2", PAINS, question_key="pains")
            ids["buyers"] = add_answers(session, ws, "U_SALES2", BUYERS, question_key="deciders")
            ids["bad_fit"] = add_answers(
                session, ws, "U_CS", BAD_FIT, role=GtmRole.customer_success, question_key="churn"
            )
    return team, ws, {key: [f"ans:{i}" for i in found] for key, found in ids.items()}


def test_an_offline_draft_is_stored_with_personas_audit_and_vectors(
    store_engine: Engine, knowledge: KnowledgeStore
) -> None:
    team, ws, _ = workspace_with_data(store_engine)
    outcome = draft_icp(engine=store_engine, knowledge=knowledge, llm=None, workspace=team, author="U_OWNER")
    assert outcome.offline and outcome.label == "drafted without an LLM"
    assert outcome.version == 1 and outcome.version_id > 0 and outcome.answers_used == 6
    assert outcome.icp.criteria and all(c.evidence for c in outcome.icp.criteria)
    assert outcome.backtest is not None and outcome.backtest.n > 1000
    assert [p.name for p in outcome.personas] == ["CFO", "VP of Operations"]
    assert any("overtime" in p.text for p in outcome.pains)
    kinds = {c.kind: c.statement for c in outcome.conflicts}
    assert kinds["data"].startswith("customer success calls fintech a bad fit; fintech win rate")
    assert kinds["stakeholders"].startswith("sales names fintech among the best customers; customer success")
    for ids in [c.evidence for c in outcome.icp.criteria] + [t.evidence for t in outcome.pains]:
        assert all(i in outcome.citations for i in ids)
    assert outcome.citations[outcome.pains[0].evidence[0]].source == "U_SALES2 (sales)"

    assert load_draft(engine=store_engine, workspace=team, version_id=outcome.version_id) == outcome
    with session_scope(store_engine) as session:
        row = icp_repo.get_icp_version(session=session, workspace_id=ws, version_id=outcome.version_id)
        assert row.status == IcpStatus.draft and row.author == "U_OWNER" and row.segment == "default"
        assert row.backtest is not None and row.backtest["n"] == outcome.backtest.n
        personas = icp_repo.list_personas(session=session, workspace_id=ws, icp_version_id=outcome.version_id)
        assert [p.persona_json["name"] for p in personas] == ["CFO", "VP of Operations"]
        entry = audit_repo.list_audit(session=session, workspace_id=ws, action="icp.drafted")[0]
        assert entry.actor == "U_OWNER" and entry.details["drafted_with"] == "offline"
        assert "overtime" not in json.dumps(entry.details)  # the audit log holds no answer text
    assert knowledge.count(workspace=team, kind="icp") >= 1
    assert knowledge.count(workspace=team, kind="persona") >= 2
    hits = knowledge.search(workspace=team, query="buyer persona CFO", k=3, kinds=["persona"])
    assert hits and "CFO" in hits[0].text

    again = draft_icp(engine=store_engine, knowledge=knowledge, llm=None, workspace=team, author="U_OWNER")
    assert again.version == 2 and again.icp == outcome.icp  # deterministic


def test_segments_are_drafted_and_numbered_apart(store_engine: Engine) -> None:
    team, _, _ = workspace_with_data(store_engine, answers=False)
    default = draft_icp(engine=store_engine, knowledge=None, llm=None, workspace=team, author="U1")
    fintech = draft_icp(
        engine=store_engine, knowledge=None, llm=None, workspace=team, segment="industry=fintech", author="U1"
    )
    assert (default.segment, default.version) == ("default", 1)
    assert (fintech.segment, fintech.version) == ("industry=fintech", 1)
    assert fintech.backtest is not None and default.backtest is not None
    assert fintech.backtest.n < default.backtest.n
    with pytest.raises(DraftingError, match="no attribute 'colour'"):
        draft_icp(
            engine=store_engine, knowledge=None, llm=None, workspace=team, segment="colour=red", author="U1"
        )


def test_without_crm_data_the_error_says_to_import_first(store_engine: Engine) -> None:
    team, _ = new_workspace(store_engine)
    with pytest.raises(NoCrmDataError, match=r"icp import accounts FILE --workspace"):
        draft_icp(engine=store_engine, knowledge=None, llm=None, workspace=team, author="U1")
    with pytest.raises(NoCrmDataError, match="no workspace 'TNOPE'"):
        draft_icp(engine=store_engine, knowledge=None, llm=None, workspace="TNOPE", author="U1")


def test_without_interviews_it_drafts_from_the_data_and_says_so(store_engine: Engine) -> None:
    team, _, _ = workspace_with_data(store_engine, answers=False)
    outcome = draft_icp(engine=store_engine, knowledge=None, llm=None, workspace=team, author="U1")
    assert outcome.icp.criteria and outcome.personas == [] and outcome.pains == []
    assert any(note.startswith("No interview answers yet") for note in outcome.notes)


def test_the_llm_path_retrieves_from_chroma_and_cites_answers(
    store_engine: Engine, knowledge: KnowledgeStore
) -> None:
    team, _, ids = workspace_with_data(store_engine)
    reindex(engine=store_engine, knowledge=knowledge, workspace=team)
    fake = QueueChatModel(
        responses=[
            {
                "name": "Support-heavy software",
                "narrative": "Software companies with big support teams.",
                "criteria": [
                    {
                        "attribute": "support team size",
                        "op": "gte",
                        "values": ["20"],
                        "evidence": [ids["sales"][0]],
                        "rationale": "big support teams",
                    }
                ],
                "personas": [],
                "pains": [{"text": "Overtime from manual routing", "evidence": ids["pains"]}],
                "goals": [],
                "triggers": [],
                "disqualifiers": [],
            }
        ]
    )
    outcome = draft_icp(
        engine=store_engine, knowledge=knowledge, llm=LlmClient(fake), workspace=team, author="U_OWNER"
    )
    assert outcome.drafted_with == "QueueChatModel" and len(fake.calls) == 1
    user = fake.calls[0][1].content
    evidence = user[user.index("<evidence>") : user.index("</evidence>")]
    assert evidence.count("<answer ") == 6  # all six answers fit; retrieved ones first
    assert [h.describe() for h in outcome.drafted.hypotheses] == ["support_team_size ≥ 20"]
    assert outcome.drafted.hypotheses[0].points == 0
    pain = outcome.pains[0]
    assert pain.text == "Overtime from manual routing"
    assert pain.evidence == ids["pains"] and {outcome.citations[i].kind for i in pain.evidence} == {"answer"}
    assert outcome.citations[pain.evidence[0]].quote in PAINS


def _valid_draft() -> dict[str, object]:
    return {
        "name": "From the stand-in",
        "narrative": "",
        "criteria": [],
        "personas": [],
        "pains": [],
        "goals": [],
        "triggers": [],
        "disqualifiers": [],
    }


FAULTS = {
    "5xx and garbage": lambda: [server_error(500), server_error(503), garbage()],
    "rate limited": lambda: [rate_limited(0.2)] * 3,
    "truncated JSON": lambda: [truncated_json(_valid_draft())] * 3,
    "cut off at the token limit": lambda: [cut_off(_valid_draft())] * 3,
    "empty structured answer": lambda: [empty_structured()] * 3,
    "truncated body": lambda: [truncated_body(_valid_draft())] * 3,
}


@pytest.fixture(scope="module")
def sqlite_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """One SQLite store for tests where the database does not matter (model faults)."""
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('faults') / 'icp.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.mark.parametrize("fault", list(FAULTS))
def test_model_faults_fall_back_to_the_offline_drafter(
    sqlite_engine: Engine, fault_llm_server: FaultLlmServer, fault: str
) -> None:
    store_engine = sqlite_engine
    team, _, _ = workspace_with_data(store_engine)
    fault_llm_server.script(*FAULTS[fault]())
    llm = build_llm(llm_settings(fault_llm_server.base_url, llm_max_retries=2))
    outcome = draft_icp(engine=store_engine, knowledge=None, llm=llm, workspace=team, author="U1")
    assert outcome.offline and len(fault_llm_server.chat_requests) == 3
    assert outcome.notes[0].startswith("fell back to the offline drafter (drafted without an LLM): ")
    assert "language model gave no usable answer" in outcome.notes[0]
    assert outcome.icp.criteria and outcome.version == 1  # a draft all the same
    request = fault_llm_server.chat_requests[0].body or {}
    assert request["response_format"]["type"] == "json_schema" and request["temperature"] == 0


def test_all_model_calls_of_a_draft_share_one_deadline(
    sqlite_engine: Engine, fault_llm_server: FaultLlmServer
) -> None:
    """A model slower than the draft's time budget: the offline draft, not a wait per retry."""
    team, _, _ = workspace_with_data(sqlite_engine)
    fault_llm_server.script(*[slow(3.0, ok_json(_valid_draft()))] * 3)
    llm = build_llm(llm_settings(fault_llm_server.base_url, llm_max_retries=2))
    outcome = draft_icp(
        engine=sqlite_engine, knowledge=None, llm=llm, workspace=team, author="U1", model_seconds=1.0
    )
    assert outcome.offline and outcome.icp.criteria
    assert outcome.notes[0].startswith("fell back to the offline drafter")
    # One attempt used the whole budget; no retry was started after it.
    assert len(fault_llm_server.chat_requests) == 1


def test_a_garbled_answer_is_retried_and_the_next_one_used(
    store_engine: Engine, fault_llm_server: FaultLlmServer
) -> None:
    team, _, _ = workspace_with_data(store_engine)
    fault_llm_server.script(garbage(), ok_json(_valid_draft()))
    llm = build_llm(llm_settings(fault_llm_server.base_url))
    outcome = draft_icp(engine=store_engine, knowledge=None, llm=llm, workspace=team, author="U1")
    assert outcome.drafted_with == "stand-in" and outcome.icp.name == "From the stand-in"
    assert not any("fell back" in n for n in outcome.notes)


@pytest.mark.shared_data
def test_the_null_control_gets_no_invented_criteria(store_engine: Engine) -> None:
    if not MAVEN.is_dir():
        pytest.skip(f"shared data not found at {MAVEN} (a clone without ../shared/data)")
    team, _ = new_workspace(store_engine)
    for service, name in ((import_accounts, "accounts.csv"), (import_deals, "sales_pipeline.csv")):
        summary = service(
            engine=store_engine,
            workspace=team,
            path=MAVEN / name,
            overrides={},
            skip_bad_rows=False,
            actor="t",
        )
        assert summary.status == "imported", summary.message
    outcome = draft_icp(engine=store_engine, knowledge=None, llm=None, workspace=team, author="U1")
    assert outcome.icp.criteria == [] and outcome.drafted.hypotheses == []
    assert any("No segment is statistically supported" in n for n in outcome.notes)
    assert outcome.backtest is not None and outcome.backtest.n == 6711 and outcome.backtest.auc == 0.5


def test_the_cli_drafts_and_reports_errors_in_one_line(store_engine: Engine, tmp_path: Path) -> None:
    url = engine_url(store_engine)
    team, _ = new_workspace(store_engine)
    empty = run_cli(url, ["draft", "--workspace", team], data_dir=tmp_path, LLM_PROVIDER="offline")
    assert empty.exit_code == 1
    assert f"has no CRM data yet: run `icp import accounts FILE --workspace {team}`" in empty.stderr
    assert "Traceback" not in empty.stderr
    team, _, _ = workspace_with_data(store_engine)
    result = run_cli(url, ["draft", "--workspace", team, "--json"], data_dir=tmp_path, LLM_PROVIDER="offline")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["drafted_with"] == "offline" and data["version"] == 1
    bins = [b for ch in data["drafted"]["icp"]["characteristics"] for b in ch["bins"]]
    assert bins and any(b["points"] < 0 for b in bins), "centred points: the learned bins keep their sign"
    human = run_cli(url, ["draft", "--workspace", team], data_dir=tmp_path, LLM_PROVIDER="offline")
    assert human.exit_code == 0, human.stderr
    assert "Draft ICP v2" in human.stdout and "drafted without an LLM" in human.stdout
    assert "Persona: CFO" in human.stdout and "Backtest on" in human.stdout


def test_forgetting_a_person_removes_their_words_from_drafts_and_search_copies(
    store_engine: Engine, knowledge: KnowledgeStore
) -> None:
    team, _, ids = workspace_with_data(store_engine)
    before = draft_icp(engine=store_engine, knowledge=knowledge, llm=None, workspace=team, author="U_OWNER")
    assert any("overtime" in p.text for p in before.pains) and before.personas
    assert any(c.source.startswith("U_SALES2 (") for c in before.citations.values())

    forget_person(
        engine=store_engine, knowledge=knowledge, workspace=team, slack_user_id="U_SALES2", actor="U_OWNER"
    )

    after = load_draft(engine=store_engine, workspace=team, version_id=before.version_id)
    gone = set(ids["pains"] + ids["buyers"])
    assert not any(c.source.startswith("U_SALES2 (") for c in after.citations.values())
    assert not gone & set(after.citations)
    assert after.pains == []  # every pain rested on their answers alone
    assert after.personas == []  # who they are (titles, roles) was in that person's answers
    assert [(c.describe(), c.points) for c in after.icp.criteria] == [
        (c.describe(), c.points) for c in before.icp.criteria
    ]
    for c in after.icp.criteria:
        assert not gone & set(c.evidence)
    assert after.conflicts == before.conflicts  # U_SALES and U_CS said those
    assert after.narrative == after.icp.description == NARRATIVE_ERASED
    for kind in ("icp", "persona"):
        for hit in knowledge.search(workspace=team, query="overtime routing by hand", k=10, kinds=[kind]):
            assert "overtime" not in hit.text.casefold()
