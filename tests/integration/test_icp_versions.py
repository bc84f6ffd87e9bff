"""Versions, approval, change log, export documents and the version a score names, on real
SQLite and PostgreSQL stores; the `icp versions/show/diff/export` commands on a real file."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest
from sqlalchemy import Engine
from sqlmodel import select
from typer.testing import CliRunner

from bot.cli.main import app as cli_app
from bot.services.icp.export import load_document, render
from bot.services.icp.versions import VersionNotFound, approval_label, change_log, version_history
from bot.services.scoring.service import score_inline
from bot.store import make_engine, session_scope, upgrade
from bot.store.models import (
    IcpStatus,
    IcpVersion,
    IcpVersionCreate,
    PersonaCreate,
    ReminderCreate,
    StakeholderCreate,
)
from bot.store.repo import icp as icp_repo
from bot.store.repo.audit import append_audit
from bot.store.repo.reminders import create_reminder
from bot.store.repo.stakeholders import get_or_create_stakeholder
from tests.support.knowledge_fixtures import new_workspace
from tests.support.version_fixtures import V1, V2


def draft(
    engine: Engine, ws: int, icp: dict[str, Any], *, author: str = "U0ANA", segment: str = "default"
) -> int:
    with session_scope(engine) as session:
        row = icp_repo.create_icp_draft(
            session=session,
            workspace_id=ws,
            data=IcpVersionCreate(segment=segment, name=icp["name"], icp_json=icp, author=author),
        )
        assert row.id is not None
        return row.id


def move(engine: Engine, ws: int, version_id: int, status: IcpStatus, actor: str = "U0BOSS") -> IcpVersion:
    with session_scope(engine) as session:
        return icp_repo.set_icp_status(
            session=session, workspace_id=ws, version_id=version_id, status=status, actor=actor
        )


def lifecycle(engine: Engine) -> tuple[str, int, int, int]:
    """v1 drafted and approved; v2 drafted, edited, submitted and approved (superseding v1)."""
    team, ws = new_workspace(engine)
    v1 = draft(engine, ws, V1)
    move(engine, ws, v1, IcpStatus.approved)
    v2 = draft(engine, ws, {**V2, "criteria": V2["criteria"][:2]})
    with session_scope(engine) as session:
        icp_repo.update_icp_version(
            session=session, workspace_id=ws, version_id=v2, icp_json=V2, actor="U0CARL"
        )
        icp_repo.update_icp_version(session=session, workspace_id=ws, version_id=v2, icp_json=V2)  # no change
    move(engine, ws, v2, IcpStatus.in_review, actor="U0ANA")
    move(engine, ws, v2, IcpStatus.approved)
    return team, ws, v1, v2


def test_history_and_change_log_say_who_changed_what_and_when(store_engine: Engine) -> None:
    _, ws, _, _ = lifecycle(store_engine)
    with session_scope(store_engine) as session:
        history = version_history(session, ws)
        log = change_log(session, ws)
    assert [(v.version, v.status) for v in history] == [(2, "approved"), (1, "superseded")]
    assert history[0].changes == "vs v1: criteria: 1 added, 1 re-weighted"
    assert history[1].changes == "first version"
    assert history[0].approver == "U0BOSS" and history[0].approved_at is not None
    assert [(e.actor, e.text) for e in log] == [
        ("U0BOSS", "approved v2"),
        ("U0BOSS", "superseded v1"),
        ("U0ANA", "submitted for review v2"),
        (
            "U0CARL",
            "edited v2 (icp_json); vs v1: criteria: 1 added, 1 re-weighted",
        ),  # no-change edit: no entry
        ("U0ANA", "drafted v2"),
        ("U0BOSS", "approved v1"),
        ("U0ANA", "drafted v1 (first version)"),
    ]
    assert all(a.at >= b.at for a, b in itertools.pairwise(log))


def test_the_review_services_entries_read_well_in_the_log(store_engine: Engine) -> None:
    """Drafting and editing through the review flow write their own audit entries (bot/services/
    drafting, draft_review); the log shows those instead of the store's plain "drafted"."""
    _, ws, _, _ = lifecycle(store_engine)
    v3 = draft(store_engine, ws, {**V2, "criteria": V2["criteria"][:1]}, author="U0DANA")
    v4 = draft(store_engine, ws, V2, author="U0ERIN")
    with session_scope(store_engine) as session:
        details = {"segment": "default", "version": 3, "drafted_with": "the offline drafter"}
        append_audit(
            session=session,
            workspace_id=ws,
            actor="U0DANA",
            action="icp.drafted",
            target_type="icp_version",
            target_id=v3,
            details=details,
        )
        append_audit(
            session=session,
            workspace_id=ws,
            actor="U0BOSS",
            action="icp.changes_requested",
            target_type="icp_version",
            target_id=v3,
            details={"version": 3, "segment": "default", "note": "add  the\ncountry back " + "x" * 300},
        )
        append_audit(
            session=session,
            workspace_id=ws,
            actor="U0ERIN",
            action="icp.edited",
            target_type="icp_version",
            target_id=v4,
            details={"from_version": 3, "version": 4, "summary": "country +10"},
        )
        log = [(e.actor, e.text) for e in change_log(session, ws, limit=5)]
    assert log[0] == ("U0ERIN", "edited v3 into v4; vs v3: criteria: 2 added")
    assert log[1][0] == "U0BOSS" and log[1][1].startswith(
        "asked for changes to v3: “add the country back xxx"
    )
    assert log[1][1].endswith("…”") and len(log[1][1]) < 260
    assert log[2] == (
        "U0DANA",
        "drafted v3 with the offline drafter (vs v2: criteria: 2 removed)",
    )
    assert log[3] == ("U0BOSS", "approved v2")  # the plain "drafted v3"/"drafted v4" entries are left out


def test_approval_supersedes_per_segment_and_the_log_keeps_segments_apart(store_engine: Engine) -> None:
    _, ws, _, v2 = lifecycle(store_engine)
    ent = draft(store_engine, ws, {**V1, "name": "Enterprise"}, segment="enterprise")
    move(store_engine, ws, ent, IcpStatus.approved)
    with session_scope(store_engine) as session:
        assert icp_repo.get_active_icp(session=session, workspace_id=ws).id == v2  # type: ignore[union-attr]
        default_log = change_log(session, ws, segment="default")
        all_log = change_log(session, ws)
        history = version_history(session, ws)
    assert "approved v1 (enterprise)" in [e.text for e in all_log]
    assert all(e.segment == "default" for e in default_log) and len(default_log) == len(all_log) - 2
    assert [(v.segment, v.version, v.status) for v in history] == [
        ("default", 2, "approved"),
        ("default", 1, "superseded"),
        ("enterprise", 1, "approved"),
    ]


def test_a_score_right_after_an_approval_uses_the_new_version(store_engine: Engine) -> None:
    team, ws = new_workspace(store_engine)
    pairs = {"industry": "software", "employees": "500", "country": "US"}
    v1 = draft(store_engine, ws, V1)
    first = score_inline(store_engine, team_id=team, pairs=pairs)
    assert (first.icp.version, first.icp.status) == (1, IcpStatus.draft) and first.icp.approver is None
    move(store_engine, ws, v1, IcpStatus.approved)
    approved = score_inline(store_engine, team_id=team, pairs=pairs)
    assert (approved.icp.version, approved.icp.status, approved.icp.approver) == (
        1,
        IcpStatus.approved,
        "U0BOSS",
    )
    v2 = draft(
        store_engine, ws, {**V2, "criteria": [*V2["criteria"][:2], {**V2["criteria"][2], "points": 0}]}
    )
    assert score_inline(store_engine, team_id=team, pairs=pairs).icp.version == 1  # a draft does not score
    with session_scope(store_engine) as session:
        icp_repo.update_icp_version(session=session, workspace_id=ws, version_id=v2, icp_json=V2)
    move(store_engine, ws, v2, IcpStatus.approved, actor="U0DANA")
    now = score_inline(store_engine, team_id=team, pairs=pairs)
    assert (now.icp.version, now.icp.approver, now.result.icp_version) == (2, "U0DANA", 2)
    assert now.result.achievable == 70 and approved.result.achievable == 50  # the new criteria count
    with session_scope(store_engine) as session:
        row = icp_repo.get_active_icp(session=session, workspace_id=ws)
        assert row is not None
        label = approval_label(row)
    assert label.startswith("ICP v2, approved by <@U0DANA> on ")


def test_the_parsed_icp_is_cached_per_version_and_edit(store_engine: Engine) -> None:
    team, ws = new_workspace(store_engine)
    pairs = {"industry": "software", "employees": "500", "country": "US"}
    v1 = draft(store_engine, ws, V1)
    first, again = (score_inline(store_engine, team_id=team, pairs=pairs) for _ in range(2))
    assert first.icp.icp is again.icp.icp  # one parse (and one engine compile) per version
    with session_scope(store_engine) as session:
        icp_repo.update_icp_version(session=session, workspace_id=ws, version_id=v1, icp_json=V2)
    edited = score_inline(store_engine, team_id=team, pairs=pairs)
    assert edited.icp.icp is not first.icp.icp and edited.result.achievable == 70  # the edit, at once
    assert first.result.achievable == 50
    move(store_engine, ws, v1, IcpStatus.approved)
    approved = score_inline(store_engine, team_id=team, pairs=pairs)
    assert approved.icp.status == IcpStatus.approved and approved.result.achievable == 70


def test_export_document_is_the_approved_version_unless_one_is_named(store_engine: Engine) -> None:
    team, ws, _, _ = lifecycle(store_engine)
    v3 = draft(store_engine, ws, {**V2, "name": "Next"})
    with session_scope(store_engine) as session:
        icp_repo.replace_personas(
            session=session,
            workspace_id=ws,
            icp_version_id=v3,
            personas=[PersonaCreate(name="<b>VP</b> Sales", persona_json={"role": "Head of Sales"})],
        )
        icp_repo.update_icp_version(
            session=session, workspace_id=ws, version_id=v3, backtest={"n": 40, "auc": 0.66, "tiers": []}
        )
    approved = load_document(store_engine, team_id=team)
    assert (approved.version, approved.status, approved.approver) == (2, "approved", "U0BOSS")
    named = load_document(store_engine, team_id=team, version=3)
    assert named.status == "draft" and named.personas[0].name == "<b>VP</b> Sales"
    assert named.backtest is not None and named.backtest.auc == 0.66
    html = render(named, "html").decode()
    assert "&lt;b&gt;VP&lt;/b&gt; Sales" in html and "<b>VP" not in html
    with pytest.raises(VersionNotFound, match="there is no version 9; versions stored: v1, v2, v3"):
        load_document(store_engine, team_id=team, version=9)
    with pytest.raises(VersionNotFound, match="no ICP yet"):
        load_document(store_engine, team_id="T_NOWHERE")


def test_export_document_names_people_and_carries_words_and_the_next_review(store_engine: Engine) -> None:
    team, ws, _, _ = lifecycle(store_engine)
    due = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
    with session_scope(store_engine) as session:
        get_or_create_stakeholder(
            session=session,
            workspace_id=ws,
            data=StakeholderCreate(slack_user_id="U0BOSS", display_name="Bea Boss"),
        )
        create_reminder(
            session=session,
            workspace_id=ws,
            data=ReminderCreate(channel_id="C0REVOPS", owner="U0BOSS", next_run_at=due),
        )
        row = session.exec(
            select(IcpVersion).where(IcpVersion.workspace_id == ws, IcpVersion.version == 2)
        ).one()
        row.draft_json = {
            "pains": [{"text": "We rebuild the forecast by hand every Monday", "evidence": ["ans:1"]}],
            "triggers": [{"text": "A new CRO joins", "evidence": []}, "A new CRO joins"],
            "plays": {"A": "Founder calls them the same day"},
        }
        session.add(row)
    doc = load_document(store_engine, team_id=team)
    assert doc.owner == "U0BOSS" and doc.name_of("U0BOSS") == "Bea Boss" and doc.next_review == due
    assert doc.pains == ("We rebuild the forecast by hand every Monday",)
    assert doc.triggers == ("A new CRO joins",)  # each once
    md = render(doc, "md").decode()
    assert "Approved by Bea Boss on " in md and "U0BOSS" not in md
    assert "Owner: Bea Boss · Approver: Bea Boss" in md and "Next review: 2027-03-01" in md
    assert "“We rebuild the forecast by hand every Monday”" in md
    assert "| A | Best match: score ≥ 70 | — | Founder calls them the same day |" in md  # the stored play


# ------------------------------------------------------------------ the command line


@pytest.fixture
def cli_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Engine, str]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = make_engine(url)
    upgrade(engine)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    team, _, _, _ = lifecycle(engine)
    monkeypatch.setenv("DEFAULT_WORKSPACE", team)
    yield engine, team
    engine.dispose()


def run(*args: str) -> Any:
    return CliRunner().invoke(cli_app, list(args))


def test_cli_versions_show_and_diff(cli_store: tuple[Engine, str]) -> None:
    _, team = cli_store
    listed = run("versions", "--workspace", team)
    assert listed.exit_code == 0, listed.output
    assert "v2  approved" in listed.output and "vs v1: criteria: 1 added, 1 re-weighted" in listed.output
    assert "U0CARL  edited v2 (icp_json); vs v1" in listed.output
    data = json.loads(run("versions", "--json").stdout)
    assert [v["version"] for v in data["versions"]] == [2, 1] and data["log"][0]["text"] == "approved v2"
    shown = run("show", "v1")
    assert (
        shown.exit_code == 0
        and "ICP v1, approved by U0BOSS on" in shown.output
        and "since superseded" in shown.output
    )
    assert "industry" in shown.output and "points: 30" in shown.output
    diff = run("diff", "v1", "v2")
    assert diff.exit_code == 0, diff.output
    assert "Criteria added:\n  +10 country in US" in diff.output
    assert "Re-weighted:\n  industry in software: +30 → +40 (+10)" in diff.output
    as_json = json.loads(run("diff", "1", "2", "--json").stdout)
    assert as_json["summary"] == "criteria: 1 added, 1 re-weighted"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("show", "v7"), "there is no version 7; versions stored: v1, v2"),
        (("show", "latest"), "VERSION 'latest' is not a version number"),
        (("diff", "v1", "v9"), "there is no version 9"),
        (("versions", "--workspace", "T_NOPE"), "workspace T_NOPE is not in the database"),
        (("export", "--format", "docx", "-o", "x.docx"), "--format 'docx' is not one of md, html, pdf"),
        (("export", "--version", "v5", "-o", "x.md", "--format", "md"), "there is no version 5"),
    ],
)
def test_cli_errors_are_one_line(cli_store: tuple[Engine, str], args: tuple[str, ...], message: str) -> None:
    result = run(*args)
    assert result.exit_code == 1
    assert message in result.stderr and "Traceback" not in result.output + result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_cli_export_writes_each_format_atomically(cli_store: tuple[Engine, str], tmp_path: Path) -> None:
    for fmt in ("md", "html", "pdf"):
        out = tmp_path / f"icp.{fmt}"
        result = run("export", "--format", fmt, "-o", str(out))
        assert result.exit_code == 0, result.output
        assert f"Wrote ICP v2 (approved) as {fmt}" in result.output
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".icp.")] == []  # no temp left
    assert "Approved by U0BOSS" in (tmp_path / "icp.md").read_text()
    pdf = pdfium.PdfDocument(str(tmp_path / "icp.pdf"))
    try:
        text = pdf[0].get_textpage().get_text_range()
        # One row per characteristic with its values and signed points.
        assert len(pdf) == 1 and "country US +10" in " ".join(text.split())
    finally:
        pdf.close()
    older = run("export", "--format", "md", "--version", "v1")
    assert older.exit_code == 0 and "Version 1" in older.stdout and "since superseded" in older.stdout
    assert "Appendix" not in older.stdout
    full = run("export", "--format", "md", "--appendix")
    assert full.exit_code == 0 and "## Appendix: evidence, citations and backtest" in full.stdout
    pdf_out = tmp_path / "full.pdf"
    assert run("export", "--format", "pdf", "--appendix", "-o", str(pdf_out)).exit_code == 0
    both = pdfium.PdfDocument(str(pdf_out))
    try:
        assert len(both) == 2  # the one page, then the appendix on a page of its own
        assert "Appendix" in both[1].get_textpage().get_text_range()
    finally:
        both.close()
    # A folder that does not exist is refused before anything is written.
    missing = run("export", "--format", "md", "-o", str(tmp_path / "nope" / "x.md"))
    assert missing.exit_code == 1 and "does not exist" in missing.stderr
