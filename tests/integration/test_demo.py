"""`icp demo --out DIR` as installed (`make demo`): the whole product, end to end, offline.

One run of the console script in a subprocess, in an empty working folder with its own TMPDIR
and no LLM configured. The transcript must show each step's real outcome, the store the demo
leaves in DIR/data must agree with it, the exported PDF must render, and nothing may be written
outside DIR (no ./data in the working folder, nothing left in TMPDIR).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pytest
from sqlmodel import select

from bot.services.icp.drafting.models import DraftOutcome
from bot.store.db import make_engine, session_scope
from bot.store.models import IcpStatus, IcpVersion, Interview, InterviewState, ReviewReminder

ICP_SCRIPT = Path(sys.executable).with_name("icp")
LLM_VARIABLES = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "LLM_BASE_URL", "LLM_PROVIDER", "LLM_MODEL")


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path, Path]:
    root = tmp_path_factory.mktemp("demo")
    cwd, tmp = root / "cwd", root / "tmp"
    cwd.mkdir()
    tmp.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in LLM_VARIABLES}
    env.update({"LLM_PROVIDER": "offline", "COLUMNS": "120", "TMPDIR": str(tmp), "TEMP": str(tmp)})
    process = subprocess.run(
        [str(ICP_SCRIPT), "demo", "--out", "out"],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        cwd=cwd,
    )
    return process, cwd, tmp


@pytest.fixture(scope="module")
def transcript(demo_run: tuple[subprocess.CompletedProcess[str], Path, Path]) -> str:
    process, cwd, _ = demo_run
    assert process.returncode == 0, process.stderr[-3000:]
    return (cwd / "out" / "transcript.md").read_text(encoding="utf-8")


def test_exits_cleanly_without_a_traceback(
    demo_run: tuple[subprocess.CompletedProcess[str], Path, Path],
) -> None:
    process, _, _ = demo_run
    assert process.returncode == 0, process.stderr[-3000:]
    assert "Traceback" not in process.stderr and "Traceback" not in process.stdout
    assert "6. The Slack bot, end to end" in process.stdout and "Summary" in process.stdout


def test_the_csvs_are_uploaded_in_a_dm_and_imported_by_the_app(transcript: str) -> None:
    for name in ("accounts.csv", "deals.csv", "health.csv"):
        assert f"**@alex** in their DM with the bot: `uploads {name}" in transcript
    assert "Imported *2,000 accounts* from *accounts.csv*" in transcript
    assert re.search(r"Imported \*[\d,]+ deals\* from \*deals\.csv\*", transcript)
    assert re.search(r"Imported \*[\d,]+ health records\* from \*health\.csv\*", transcript)


def test_three_interviews_complete_one_per_role(
    transcript: str, demo_run: tuple[subprocess.CompletedProcess[str], Path, Path]
) -> None:
    for who, role in (("sam", "sales"), ("cara", "customer_success"), ("mo", "marketing")):
        assert f"**@{who}** in their DM with the bot: `/icp interview me role={role}`" in transcript
        assert f"**@{who}** in their DM with the bot: `clicks [Start]`" in transcript
        assert f"Interview @{who} ({role}): 4 of " in transcript
    assert transcript.count("You answered 4 of 8 questions") == 3  # every role's set has 8 questions
    _, cwd, _ = demo_run
    engine = make_engine(f"sqlite:///{cwd / 'out' / 'data' / 'icp.db'}")
    try:
        with session_scope(engine) as session:
            states = [i.state for i in session.exec(select(Interview))]
            versions = list(session.exec(select(IcpVersion)))
            reminders = list(session.exec(select(ReviewReminder)))
    finally:
        engine.dispose()
    assert states == [InterviewState.completed] * 3
    (v1,) = versions
    assert (v1.version, v1.status, v1.approver) == (1, IcpStatus.approved, "U0ADMIN")
    (reminder,) = reminders
    assert reminder.channel_id == "C0REVOPS" and reminder.last_run_at is not None


def test_draft_is_labelled_offline_and_approved_as_the_active_v1(transcript: str) -> None:
    assert "**@alex** in #general: `/icp draft`" in transcript
    assert "Drafted without an LLM" in transcript and "Characteristics (" in transcript
    # The short post's details are one click away: the Full ICP modal, shown as the owner sees it.
    assert "**@alex** in #general: `clicks [Full ICP]`" in transcript
    modal = transcript.split("ICP bot → a modal “ICP v1 in full” (only the person who clicked sees it):")[1]
    modal = modal.split("**@alex**")[0]
    assert "*Personas (" in modal and "_In their words:_" in modal and "*Characteristics (" in modal
    assert "**@alex** in #general: `clicks [Approve]`" in transcript
    assert re.search(r"In the store: .+ v1 is approved \(approver @alex\)", transcript)
    assert "Draft approved with its button: active version v1." in transcript


def test_score_cards_name_the_tier_and_the_approved_version(transcript: str) -> None:
    cards = re.findall(r"\*([^*\n]+): ([\d.]+)/100 · Tier ([ABC])\*", transcript)
    assert len(cards) >= 4, cards  # the typed attributes (tech= is tech_stack) are enough for a tier
    assert {tier for _, _, tier in cards} >= {"A", "C"}
    # Centred points: the cards say in one line what raised and what lowered the score most.
    assert "*Why:* ✓ " in transcript and re.search(r"\*Why:\*[^\n]*✗ ", transcript)
    assert transcript.count("ICP v1, approved by @alex on ") >= 4
    assert "`/icp score industry=fintech employees=800 country=Canada tech=Salesforce`" in transcript


def test_the_engine_part_shows_the_scorecard_and_how_it_was_chosen(transcript: str) -> None:
    assert "How the characteristics were chosen" in transcript and "held-out" in transcript
    # Engine score cards: total points with a sign, and characteristics that lower a score.
    assert re.search(r"[+−]\d+ points, ", transcript)
    assert re.search(r"−\d+ \w", transcript)


def test_the_reminder_fires_once_with_the_review_kit(transcript: str) -> None:
    assert "`/icp remind quarterly #revops`" in transcript
    assert transcript.count("ICP bot → #revops") == 1
    assert transcript.count("*Time to review your ICP*") == 1
    assert "*Deals per tier*" in transcript
    assert "Scheduler: 1 review kit sent; a second pass at the same time sent 0" in transcript
    # A quarter passes first (a second import of newer deals), so the kit has something to show.
    assert re.search(r"Imported \*[\d,]+ deals\* from \*deals-next-quarter\.csv\*", transcript)
    found = re.search(r": ([\d,]+) closed deal\(s\), ([\d,]+) won and ([\d,]+) lost", transcript)
    assert found and int(found.group(2)) > 0 and int(found.group(3)) > 0, found
    assert "*Re-learned proposal* (on every closed deal) vs v1: " in transcript


def test_the_exported_files_exist_and_the_pdf_renders(
    demo_run: tuple[subprocess.CompletedProcess[str], Path, Path],
) -> None:
    _, cwd, _ = demo_run
    out = cwd / "out"
    names = {p.name for p in out.iterdir()}
    assert {
        "accounts.csv",
        "deals.csv",
        "health.csv",
        "icp.yaml",
        "transcript.md",
        "icp-review.png",
        "draft.json",
        "data",
    } <= names
    (md,) = out.glob("icp-*-v1.md")
    (pdf,) = out.glob("icp-*-v1.pdf")
    page_md = md.read_text(encoding="utf-8")
    # The approver by name (the demo's Slack profiles), not the raw id.
    assert "Version 1" in page_md and "Approved by " in page_md and "U0ADMIN" not in page_md
    assert (out / "icp-review.png").read_bytes().startswith(b"\x89PNG")
    document = pdfium.PdfDocument(pdf.read_bytes())
    try:
        assert len(document) == 1  # the one-page ICP is one page
        page = document[0]
        text = " ".join(page.get_textpage().get_text_range().split())
        image = page.render(scale=1).to_pil().convert("L")
    finally:
        document.close()
    assert "industry" in text.lower()
    for section in ("win rate vs", "Tiers and plays", "Disqualifiers", "Personas", "In customers' words"):
        assert section in text, section
    assert "Owner: " in text and "Next review: " in text and "U0ADMIN" not in text
    assert int((np.asarray(image) < 200).sum()) > 1000  # ink on the page


def test_draft_json_is_the_document_icp_draft_json_prints(
    demo_run: tuple[subprocess.CompletedProcess[str], Path, Path],
) -> None:
    _, cwd, _ = demo_run
    data = json.loads((cwd / "out" / "draft.json").read_text(encoding="utf-8"))
    outcome = DraftOutcome.model_validate(data)  # the same model `icp draft --json` dumps
    assert outcome.version == 1 and outcome.segment == "default" and outcome.drafted_with == "offline"
    assert outcome.icp.characteristics and outcome.personas and outcome.citations
    assert json.loads(outcome.model_dump_json()) == data


def test_nothing_is_written_outside_the_out_folder(
    demo_run: tuple[subprocess.CompletedProcess[str], Path, Path],
) -> None:
    _, cwd, tmp = demo_run
    assert [p.name for p in cwd.iterdir()] == ["out"]  # no ./data, no stray files
    assert list(tmp.iterdir()) == []  # the temporary folder was cleaned up
