"""/icp show, /icp diff and /icp export end to end: the Bolt app over HTTP, signed requests, a
stand-in Slack that records the uploads (files_upload_v2), and a real SQLite store."""

from __future__ import annotations

import json
from typing import Any

import pypdfium2 as pdfium

from bot.store.db import session_scope
from bot.store.models import IcpStatus, IcpVersionCreate, PersonaCreate
from bot.store.repo.icp import create_icp_draft, replace_personas, set_icp_status
from bot.store.repo.workspaces import get_or_create_workspace
from tests.support.harness import (
    ADMIN_ID,
    MEMBER_ID,
    TEAM_ID,
    RecordedCall,
    SlackEnv,
    UploadedFile,
    assert_valid_blocks,
    assert_valid_view,
)
from tests.support.version_fixtures import V1, V2

BOSS = "U0BOSS"


def seed(env: SlackEnv, *, approve_v2: bool = False) -> tuple[int, int]:
    """v1 approved by BOSS (with a persona), v2 a draft (or approved too)."""
    with session_scope(env.engine) as session:
        ws = get_or_create_workspace(session=session, slack_team_id=TEAM_ID)
        assert ws.id is not None
        ids = []
        for doc in (V1, V2):
            row = create_icp_draft(
                session=session,
                workspace_id=ws.id,
                data=IcpVersionCreate(name=doc["name"], icp_json=doc, author=ADMIN_ID),
            )
            assert row.id is not None
            ids.append(row.id)
        replace_personas(
            session=session,
            workspace_id=ws.id,
            icp_version_id=ids[0],
            personas=[PersonaCreate(name="<!channel> VP Sales", persona_json={"role": "Head of Sales"})],
        )
        set_icp_status(
            session=session, workspace_id=ws.id, version_id=ids[0], status=IcpStatus.approved, actor=BOSS
        )
        if approve_v2:
            set_icp_status(
                session=session, workspace_id=ws.id, version_id=ids[1], status=IcpStatus.approved, actor=BOSS
            )
        return ws.id, ids[1]


def test_show_names_versions_approval_and_the_change_log(slack_env: SlackEnv) -> None:
    seed(slack_env)
    newest = slack_env.driver.slash_reply("show", user_id=ADMIN_ID).all_text()  # drafts: owners only
    assert "ICP: Mid-market SaaS (v2, draft)" in newest
    assert "scoring uses the approved v1" in newest and "vs v1: criteria: 1 added, 1 re-weighted" in newest
    assert f"<@{BOSS}> approved v1" in newest and "Change log" in newest
    older = slack_env.driver.slash_reply("show v1").all_text()
    assert f"approved by <@{BOSS}> on " in older and "first version" in older
    history = slack_env.driver.slash_reply("show versions").all_text()
    assert "*v2* Mid-market SaaS — draft" in history and "*v1* Mid-market SaaS — approved" in history
    assert f"<@{ADMIN_ID}> drafted v2" in history
    assert "There is no version 7; versions stored: v1, v2." in slack_env.driver.slash_reply("show v7").text


ONE_PAGE = ("Tiers and plays", "Characteristics", "Disqualifiers", "Personas", "In customers' words")


def test_show_and_the_app_home_are_the_one_page_in_the_same_order(slack_env: SlackEnv) -> None:
    seed(slack_env)
    reply = slack_env.driver.slash_reply("show", user_id=MEMBER_ID)  # the approved v1
    assert_valid_blocks(reply.blocks)
    shown = reply.all_text()
    positions = [shown.index(f"*{section}") for section in ONE_PAGE]
    assert positions == sorted(positions)
    assert "win rate" in shown or "not backtested yet" in shown  # the statement's proof
    assert "&lt;!channel&gt; VP Sales" in shown and "<!channel>" not in shown  # the persona, escaped
    assert f"Approver: {BOSS.lower()}" in shown  # by the name Slack shows, looked up with users.info
    assert slack_env.driver.app_home_opened(user=MEMBER_ID).status == 200
    (publish,) = slack_env.stand_in.wait_for("views.publish")
    assert publish.view is not None
    assert_valid_view(publish.view)
    home = json.dumps(publish.view, ensure_ascii=False)
    positions = [home.index(f"*{section}") for section in ONE_PAGE]
    assert positions == sorted(positions) and "Owner: " in home and "Next review: " in home
    assert f"Approver: {BOSS.lower()}" in home  # named in the home tab too


def test_diff_shows_added_removed_and_reweighted_criteria(slack_env: SlackEnv) -> None:
    seed(slack_env)

    def diff(text: str) -> Any:
        return slack_env.driver.slash_reply(text, user_id=ADMIN_ID)  # v2 is a draft: owners only

    reply = diff("diff v1 v2")
    text = reply.all_text()
    assert "ICP v1 → v2: what changed" in text
    assert "*Criteria added (1)*\n• +10 country in US" in text
    assert "*Re-weighted (1)*\n• industry in software: +30 → +40 (+10)" in text
    backwards = diff("diff v2 v1").all_text()
    assert "*Criteria removed (1)*\n• +10 country in US" in backwards
    assert "+40 → +30 (−10)" in backwards
    assert diff("diff").all_text() == text  # newest against the one before
    assert "There is no version 9" in diff("diff v1 v9").text
    assert "`abc` is not a version number" in diff("diff abc").text
    assert "v1 is the first version" in diff("diff v1").text


def uploads(env: SlackEnv) -> list[UploadedFile]:
    return [u for u in env.stand_in.uploads.values() if u.completed]


def pdf_text(data: bytes) -> tuple[int, str]:
    doc = pdfium.PdfDocument(data)
    try:
        return len(doc), " ".join(
            " ".join(doc[i].get_textpage().get_text_range().split()) for i in range(len(doc))
        )
    finally:
        doc.close()


def test_export_uploads_the_approved_icp_as_a_pdf_in_the_channel(slack_env: SlackEnv) -> None:
    seed(slack_env)
    reply = slack_env.driver.slash_reply("export", user_id=MEMBER_ID, channel_id="C0SALES")
    assert (
        "Exported ICP v1 (approved) as PDF: `icp-mid-market-saas-v1.pdf`, shared in this channel"
        in reply.text
    )
    (upload,) = uploads(slack_env)
    assert upload.channel == "C0SALES" and upload.filename == "icp-mid-market-saas-v1.pdf"
    assert upload.content.startswith(b"%PDF-") and len(upload.content) == upload.length
    pages, text = pdf_text(upload.content)
    assert pages == 1
    assert "industry software +30" in text and "employees 200 to 2,000 +20" in text  # v1's characteristics
    # The approver by the name Slack shows (users.info), not the raw id.
    assert "<!channel> VP Sales" in text and f"Approved by {BOSS.lower()}" in text and BOSS not in text
    assert "Tiers and plays" in text and "Owner: " in text and "Next review: " in text
    (complete,) = slack_env.stand_in.calls_to("files.completeUploadExternal")
    assert f"<@{MEMBER_ID}> exported ICP v1" in str(complete.params.get("initial_comment"))


def test_export_of_a_named_version_as_markdown(slack_env: SlackEnv) -> None:
    seed(slack_env)
    reply = slack_env.driver.slash_reply("export v2 md", user_id=ADMIN_ID)  # a draft: owners only
    assert "Exported ICP v2 (draft) as Markdown" in reply.text
    (upload,) = uploads(slack_env)
    md = upload.content.decode()
    assert upload.filename == "icp-mid-market-saas-v2.md"
    assert "_Draft: not approved yet, scores may change · Version 2 · drafted by " in md
    # v2's characteristics, each with its points
    assert "| industry | software +40 |" in md and "| country | US +10 |" in md
    assert "Appendix" not in md  # evidence and backtest only with `appendix`
    slack_env.driver.slash_reply("export v2 md appendix", user_id=ADMIN_ID)
    full = uploads(slack_env)[-1].content.decode()
    assert "## Appendix: evidence, citations and backtest" in full
    assert "| industry | software +40 | — |" in full  # characteristics with their evidence ids
    assert "neither a version nor a format" in slack_env.driver.slash_reply("export docx").text
    assert "There is no version 4" in slack_env.driver.slash_reply("export v4").text


def test_export_goes_to_the_dm_where_the_bot_cannot_post(slack_env: SlackEnv) -> None:
    seed(slack_env)
    stand_in = slack_env.stand_in

    def refuse_channel(call: RecordedCall) -> dict[str, Any]:
        if call.params.get("channel_id") == "C0PRIVATE":
            return {"ok": False, "error": "not_in_channel"}
        return stand_in._default(call)

    stand_in.respond_with("files.completeUploadExternal", refuse_channel)
    reply = slack_env.driver.slash_reply("export html", channel_id="C0PRIVATE", user_id=MEMBER_ID)
    assert "sent to you in a direct message" in reply.text
    (upload,) = uploads(slack_env)
    assert upload.channel == f"D{MEMBER_ID[1:]}" and upload.filename.endswith(".html")
    assert b"&lt;!channel&gt; VP Sales" in upload.content


def test_export_without_an_icp_says_how_to_get_one(slack_env: SlackEnv) -> None:
    reply = slack_env.driver.slash_reply("export")
    assert "There is no ICP to export yet" in reply.text
    assert uploads(slack_env) == []


def test_a_score_right_after_approval_names_the_new_version(slack_env: SlackEnv) -> None:
    ws, v2 = seed(slack_env)
    pairs = "score industry=software employees=500 country=US"
    before = slack_env.driver.slash_reply(pairs).all_text()
    assert f"Mid-market SaaS v1, approved by <@{BOSS}> on " in before
    # v1 has no country characteristic: +30 +20 = +50 points -> 100·sigmoid(50·ln2/20) = 85
    assert "Attributes given: 85/100 · Tier A" in before
    assert "*Why:* ✓ industry: software (+30)" in before
    with session_scope(slack_env.engine) as session:
        set_icp_status(
            session=session, workspace_id=ws, version_id=v2, status=IcpStatus.approved, actor=ADMIN_ID
        )
    after = slack_env.driver.slash_reply(pairs).all_text()
    assert f"Mid-market SaaS v2, approved by <@{ADMIN_ID}> on " in after
    # v2's new country characteristic is used at once: +40 +20 +10 = +70 points -> 91.9
    assert "Attributes given: 91.9/100 · Tier A" in after
    assert "*Why:* ✓ industry: software (+40)" in after
