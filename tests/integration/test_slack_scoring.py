"""Scoring from Slack: which ICP is used, stored vs typed attributes, and the /icp score handler
and card buttons answering through ``respond`` (real SQLite and PostgreSQL stores)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, delete

from bot.services.imports.service import import_accounts
from bot.services.scoring.account_lookup import LookupResult
from bot.services.scoring.service import (
    AccountGoneError,
    NoIcpError,
    ScoreOutcome,
    ScoringError,
    parse_pairs,
    score_account,
    score_inline,
    score_query,
)
from bot.settings import Settings
from bot.slack.context import AppContext
from bot.slack.listeners.actions.score import STALE_BUTTON, choose, expand
from bot.slack.listeners.commands.icp.registry import SlashRequest
from bot.slack.listeners.commands.icp.score import score_command
from bot.slack.views.score_card import CHOOSE_ACCOUNT, NO_ICP_TEXT, WHY_BUTTON, decode_why, encode_choice
from bot.store.db import session_scope
from bot.store.models import Account, AccountCreate, IcpStatus, IcpVersionCreate
from bot.store.repo.crm import bulk_upsert_accounts, get_account, list_accounts
from bot.store.repo.icp import create_icp_draft, set_icp_status
from bot.store.repo.workspaces import get_or_create_workspace
from icp_engine.batch import score_batch
from icp_engine.crm import accounts_frame
from icp_engine.model import ICP
from icp_engine.normalize import normalize_account
from icp_engine.readers import read_accounts
from icp_engine.sample import generate, write_csv
from icp_engine.scoring import score

ICP_V1: dict[str, Any] = {
    "name": "Mid-market SaaS",
    "criteria": [
        {"attribute": "industry", "op": "in", "values": ["software", "fintech"], "points": 25},
        {"attribute": "employee_band", "op": "in", "values": ["201-500", "501-1000"], "points": 20},
        {"attribute": "country", "op": "in", "values": ["US", "CA"], "points": 15},
        {"attribute": "plan", "op": "eq", "values": ["enterprise"], "points": 10},
    ],
    "disqualifiers": [{"attribute": "employees", "op": "lt", "values": [20], "reason": "too small"}],
}
ICP_V2 = {**ICP_V1, "name": "Next draft", "criteria": ICP_V1["criteria"][:1]}
ACME = AccountCreate(
    crm_id="A1",
    name="Acme, Inc.",
    domain="acme.com",
    industry="software",
    employees=300,
    country="US",
    region="North America",
    tech_stack=["salesforce"],
    custom_attributes={"plan": "enterprise", "Industry": "retail", "nested": {"a": 1}},
)
OTHERS = [
    AccountCreate(crm_id="A2", name="Umbrella Group", domain="umbrella.com", industry="retail", employees=10),
    AccountCreate(
        crm_id="A3", name="Umbrella Group", domain="umbrella.de", industry="software", employees=800
    ),
]


class Recorder:
    """Stands in for Slack's ``respond`` callback: records what the app would have sent."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, text: str = "", **kwargs: Any) -> None:
        blocks = kwargs.get("blocks")
        if blocks is not None:
            kwargs["blocks"] = [b if isinstance(b, dict) else b.to_dict() for b in blocks]
        self.calls.append({"text": text, **kwargs})

    @property
    def last(self) -> dict[str, Any]:
        return self.calls[-1]


def workspace(
    engine: Engine, *, icps: tuple[tuple[dict[str, Any], IcpStatus], ...] = ((ICP_V1, IcpStatus.approved),)
) -> tuple[str, int, list[int]]:
    """A fresh team with the accounts above and the given ICP versions (oldest first)."""
    team = f"T{uuid.uuid4().hex[:10]}"
    with session_scope(engine) as session:
        ws = get_or_create_workspace(session=session, slack_team_id=team)
        assert ws.id is not None
        bulk_upsert_accounts(session=session, workspace_id=ws.id, rows=[ACME, *OTHERS])
        version_ids = []
        for doc, status in icps:
            row = create_icp_draft(
                session=session,
                workspace_id=ws.id,
                data=IcpVersionCreate(name=doc["name"], icp_json=doc, author="U1"),
            )
            assert row.id is not None
            if status == IcpStatus.approved:  # approving a later version supersedes this one
                set_icp_status(
                    session=session,
                    workspace_id=ws.id,
                    version_id=row.id,
                    status=IcpStatus.approved,
                    actor="U1",
                )
            version_ids.append(row.id)
        return team, ws.id, version_ids


def account_id(engine: Engine, workspace_id: int, crm_id: str) -> int:
    with session_scope(engine) as session:
        row = get_account(session=session, workspace_id=workspace_id, crm_id=crm_id)
        assert row is not None and row.id is not None
        return row.id


def request(team: str, text: str, *, channel: str = "C1") -> SlashRequest:
    words = text.split()
    return SlashRequest(team_id=team, user_id="U9", channel_id=channel, name="score", args=words, raw=text)


def ctx_for(engine: Engine) -> AppContext:
    return AppContext(settings=Settings(_env_file=None), engine=engine)  # type: ignore[call-arg]


# --- which ICP, which attributes ---------------------------------------------------------------


def test_the_approved_icp_is_used_even_when_a_newer_draft_exists(store_engine: Engine) -> None:
    team, _, versions = workspace(
        store_engine, icps=((ICP_V1, IcpStatus.approved), (ICP_V2, IcpStatus.draft))
    )
    outcome = score_query(store_engine, team_id=team, query="acme.com")
    assert isinstance(outcome, ScoreOutcome)
    assert (outcome.icp.version_id, outcome.icp.version, outcome.icp.status) == (
        versions[0],
        1,
        IcpStatus.approved,
    )
    assert outcome.result.icp_name == "Mid-market SaaS" and outcome.result.icp_version == 1


def test_without_an_approved_icp_the_latest_draft_is_used(store_engine: Engine) -> None:
    team, _, _ = workspace(store_engine, icps=((ICP_V1, IcpStatus.draft), (ICP_V2, IcpStatus.draft)))
    outcome = score_query(store_engine, team_id=team, query="Acme")
    assert isinstance(outcome, ScoreOutcome)
    assert (outcome.icp.version, outcome.icp.status, outcome.result.icp_name) == (
        2,
        IcpStatus.draft,
        "Next draft",
    )


def test_a_stored_account_scores_as_the_engine_scores_its_attributes(store_engine: Engine) -> None:
    team, _, _ = workspace(store_engine)
    outcome = score_query(store_engine, team_id=team, query="ACME inc")
    assert isinstance(outcome, ScoreOutcome)
    raw = {
        "industry": "software",
        "employees": 300,
        "country": "US",
        "region": "North America",
        "tech_stack": ["salesforce"],
        "plan": "enterprise",
        "nested": '{"a": 1}',
    }
    values, _ = normalize_account(raw)
    assert outcome.result == score(values, ICP.model_validate({**ICP_V1, "version": 1}))
    # 70 points (the custom 'plan' counts; the custom 'Industry' does not override): 100 / (1 + 2**-3.5)
    assert (outcome.result.earned, outcome.result.score) == (70.0, 91.9)
    assert (outcome.subject.kind, outcome.subject.title, outcome.subject.domain, outcome.subject.crm_id) == (
        "account",
        "Acme, Inc.",
        "acme.com",
        "A1",
    )


def test_typed_attributes_are_normalised_and_the_readings_reported(store_engine: Engine) -> None:
    team, _, _ = workspace(store_engine)
    pairs = parse_pairs(["industry=SaaS", "employees=300", "country=usa", "plan=enterprise"])
    outcome = score_inline(store_engine, team_id=team, pairs=pairs)
    assert (outcome.result.earned, outcome.result.score) == (70.0, 91.9)
    assert outcome.subject.kind == "inline" and outcome.subject.inline == pairs
    assert "Read industry 'SaaS' as software" in outcome.subject.notes
    typo = score_inline(store_engine, team_id=team, pairs={"industy": "software", "employees": "300"})
    assert typo.subject.notes[-1] == "Not used by this ICP: industy"  # employees is, through employee_band
    # Keys are read as the ICP and the export headers name them: 'Plan' is the ICP's 'plan',
    # 'tech' is tech_stack (which this ICP does not use), 'Number of Employees' is employees.
    keyed = score_inline(
        store_engine,
        team_id=team,
        pairs={"Plan": "enterprise", "tech": "salesforce", "Number of Employees": "300"},
    )
    assert keyed.subject.notes[-1] == "Not used by this ICP: tech_stack"
    assert {c.name: c.points for c in keyed.result.characteristics if c.status == "matched"} == {
        "employee_band": 20,
        "plan": 10,
    }
    assert "industry" in typo.result.unknown


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (["employees=lots"], "Cannot read employees: not a number: 'lots'."),
        (["industry=software", "big"], "`big` is not attribute=value"),
        (["=5"], "`=5` is not attribute=value"),
    ],
)
def test_bad_typed_attributes_get_a_one_line_reason(
    store_engine: Engine, words: list[str], message: str
) -> None:
    team, _, _ = workspace(store_engine)
    with pytest.raises(ScoringError) as err:
        score_inline(store_engine, team_id=team, pairs=parse_pairs(words))
    assert message in str(err.value) and "\n" not in str(err.value)


def test_no_icp_and_unknown_teams_say_so(store_engine: Engine) -> None:
    team, _, _ = workspace(store_engine, icps=())
    for which in (team, "TNOSUCHTEAM"):
        with pytest.raises(NoIcpError):
            score_query(store_engine, team_id=which, query="acme")
        with pytest.raises(NoIcpError):
            score_inline(store_engine, team_id=which, pairs={"industry": "software"})


def test_a_card_redone_later_uses_the_icp_version_it_was_made_with(store_engine: Engine) -> None:
    team, wid, versions = workspace(
        store_engine, icps=((ICP_V1, IcpStatus.approved), (ICP_V2, IcpStatus.approved))
    )
    acme = account_id(store_engine, wid, "A1")
    old = score_account(store_engine, team_id=team, account_id=acme, icp_version_id=versions[0])
    assert (old.icp.version, old.icp.status) == (1, IcpStatus.superseded)
    assert old.result.icp_name == "Mid-market SaaS"
    gone = score_account(store_engine, team_id=team, account_id=acme, icp_version_id=10**9)
    assert (gone.icp.version, gone.icp.status) == (2, IcpStatus.approved)


def test_another_workspaces_account_and_a_broken_icp_are_refused(store_engine: Engine) -> None:
    team, _, _ = workspace(store_engine)
    _, other_wid, _ = workspace(store_engine)
    with pytest.raises(AccountGoneError):
        score_account(store_engine, team_id=team, account_id=account_id(store_engine, other_wid, "A1"))
    broken_team, _, _ = workspace(
        store_engine,
        icps=(
            (
                {"name": "x", "criteria": [{"attribute": "a", "op": "between", "values": [1], "points": 1}]},
                IcpStatus.draft,
            ),
        ),
    )
    with pytest.raises(ScoringError, match="The stored ICP v1 cannot be used for scoring"):
        score_inline(store_engine, team_id=broken_team, pairs={"industry": "software"})


def test_an_account_erased_after_it_was_indexed_is_looked_up_again(store_engine: Engine) -> None:
    team, wid, _ = workspace(store_engine)
    first = score_query(store_engine, team_id=team, query="acme.com")
    assert isinstance(first, ScoreOutcome)
    with session_scope(store_engine) as session:
        session.execute(delete(Account).where(Account.workspace_id == wid, Account.crm_id == "A1"))
    again = score_query(store_engine, team_id=team, query="acme.com")
    assert isinstance(again, LookupResult) and again.status != "found"


# --- the handler and the buttons, answering through respond ------------------------------------


def test_slash_score_by_name_answers_privately_with_a_card(store_engine: Engine) -> None:
    team, _, _ = workspace(store_engine)
    respond = Recorder()
    score_command(request(team, "Acme Inc"), ctx_for(store_engine), None, respond)  # type: ignore[arg-type]
    sent = respond.last
    assert sent["response_type"] == "ephemeral"
    assert sent["text"].startswith("Acme, Inc.: 91.9/100, tier A")
    why = [
        e
        for b in sent["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == WHY_BUTTON
    ]
    assert len(why) == 1 and decode_why(why[0]["value"]).account_id is not None


def test_slash_score_ambiguous_offers_a_chooser_and_the_pick_is_scored(store_engine: Engine) -> None:
    team, _, _ = workspace(store_engine)
    ctx, respond = ctx_for(store_engine), Recorder()
    score_command(request(team, "umbrella group"), ctx, None, respond)  # type: ignore[arg-type]
    chooser = respond.last
    buttons = [
        b["accessory"] for b in chooser["blocks"] if b.get("accessory", {}).get("action_id") == CHOOSE_ACCOUNT
    ]
    assert len(buttons) == 2
    body = {
        "team": {"id": team},
        "user": {"id": "U9"},
        "actions": [{"value": buttons[1]["value"]}],
        "response_url": "http://x",
        "container": {"channel_id": "C1"},
    }
    choose(body, ctx=ctx, client=None, respond=respond)  # type: ignore[arg-type]
    card = respond.last
    assert card["replace_original"] is True and card["text"].startswith("Umbrella Group: ")


def test_why_expands_the_card_with_one_line_per_criterion(store_engine: Engine) -> None:
    team, _, _ = workspace(store_engine)
    ctx, respond = ctx_for(store_engine), Recorder()
    score_command(request(team, "industry=software employees=300 country=DE"), ctx, None, respond)  # type: ignore[arg-type]
    value = next(e["value"] for b in respond.last["blocks"] if b["type"] == "actions" for e in b["elements"])
    body = {
        "team": {"id": team},
        "user": {"id": "U9"},
        "actions": [{"value": value}],
        "response_url": "http://x",
    }
    expand(body, ctx=ctx, client=None, respond=respond)  # type: ignore[arg-type]
    expanded = respond.last
    assert expanded["replace_original"] is True
    text = json.dumps(expanded["blocks"], ensure_ascii=False)
    # One line per characteristic: a bin that matched, a value in no bin (0, like the average account).
    assert "✓ industry: software (+25) — industry in software, fintech" in text
    assert "country: DE (0) — like the average account" in text
    assert WHY_BUTTON not in text


@pytest.mark.parametrize(
    "value", ["not json", '{"a": 0}', encode_choice(2**31 - 1, share=False), '{"a":99999999999999}']
)
def test_forged_or_stale_buttons_get_a_polite_note(store_engine: Engine, value: str) -> None:
    team, _, _ = workspace(store_engine)
    ctx, respond = ctx_for(store_engine), Recorder()
    body = {
        "team": {"id": team},
        "user": {"id": "U9"},
        "actions": [{"value": value}],
        "response_url": "http://x",
    }
    choose(body, ctx=ctx, client=None, respond=respond)  # type: ignore[arg-type]
    expand(body, ctx=ctx, client=None, respond=respond)  # type: ignore[arg-type]
    assert len(respond.calls) == 2
    for sent in respond.calls:
        assert sent["replace_original"] is False and sent["response_type"] == "ephemeral"
        assert sent["text"] in {
            STALE_BUTTON,
            "That account is no longer in the store; try `/icp score` again.",
        }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "Tell me what to score"),
        ("--share", "Tell me what to score"),
        ("Zyxwvut Quorp", "I found no account matching “Zyxwvut Quorp” among 3 accounts"),
        ("employees=lots", "Cannot read employees"),
    ],
)
def test_slash_score_helpful_answers(store_engine: Engine, text: str, expected: str) -> None:
    team, _, _ = workspace(store_engine)
    respond = Recorder()
    score_command(request(team, text), ctx_for(store_engine), None, respond)  # type: ignore[arg-type]
    assert expected in respond.last["text"]
    no_icp, _, _ = workspace(store_engine, icps=())
    score_command(request(no_icp, "acme"), ctx_for(store_engine), None, respond)  # type: ignore[arg-type]
    assert respond.last["text"] == NO_ICP_TEXT


# --- the same score as the command line, for accounts imported from a CRM export ---------------

SAMPLE_ICP: dict[str, Any] = {
    "name": "Sample fit",
    "criteria": [
        {"attribute": "industry", "op": "in", "values": ["software", "fintech"], "points": 25},
        {
            "attribute": "employee_band",
            "op": "in",
            "values": ["201-500", "501-1000", "1001-5000"],
            "points": 20,
        },
        {"attribute": "region", "op": "eq", "values": ["North America"], "points": 15},
        {"attribute": "tech_stack", "op": "contains_any", "values": ["salesforce", "hubspot"], "points": 10},
        {"attribute": "annual_revenue", "op": "gte", "values": [10_000_000], "points": 10},
        {"attribute": "Lead Source", "op": "eq", "values": ["Inbound"], "points": 5},
    ],
    "disqualifiers": [{"attribute": "employees", "op": "lt", "values": [15], "reason": "too small"}],
}


def test_imported_accounts_score_in_slack_as_the_command_line_scores_the_file(
    store_engine: Engine, tmp_path: Path
) -> None:
    paths = write_csv(generate(seed=11, n_accounts=150, messy=True), tmp_path)
    team = f"T{uuid.uuid4().hex[:10]}"
    summary = import_accounts(engine=store_engine, workspace=team, path=paths["accounts"])
    assert summary.status == "imported" and summary.rejected == 0, summary.message
    with session_scope(store_engine) as session:
        wid = get_or_create_workspace(session=session, slack_team_id=team).id
        create_icp_draft(
            session=session,
            workspace_id=wid,
            data=IcpVersionCreate(name="s", icp_json=SAMPLE_ICP, author="U1"),
        )  # type: ignore[arg-type]
        stored = {a.crm_id: a.id for a in list_accounts(session=session, workspace_id=wid)}  # type: ignore[arg-type]
    read = read_accounts(paths["accounts"])
    frame, _ = accounts_frame(read.rows)
    batch = score_batch(frame, ICP.model_validate(SAMPLE_ICP)).to_frame()
    expected = dict(zip(frame["account_id"], zip(batch["score"], batch["tier"], strict=True), strict=True))
    assert set(expected) == set(stored)
    for crm_id, (want_score, want_tier) in expected.items():
        outcome = score_account(store_engine, team_id=team, account_id=stored[crm_id])  # type: ignore[arg-type]
        assert (outcome.result.score, outcome.result.tier) == (want_score, want_tier), crm_id
