"""`/icp draft` end to end: the draft message, Approve / Request changes / Edit, over signed HTTP.

Real CRM data imported with the CLI's rules and interview answers in SQLite, the real drafting
pipeline (offline, or with a failing ``QueueChatModel`` to see the fallback note), the real
review service; Slack is the stand-in, and every message, modal and home tab is validated at
teardown.
"""

from __future__ import annotations

import itertools
import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.demo.script import ANSWERS as DEMO_ANSWERS
from bot.demo.script import INTERVIEWEES
from bot.llm.client import LlmClient, RetryPolicy
from bot.llm.fake import QueueChatModel
from bot.services.icp.drafting import DraftedPersona
from bot.services.icp.drafting.persona_overlap import shared_sentences
from bot.services.imports.service import import_accounts, import_deals, import_health
from bot.services.interviews.questions import load_question_set
from bot.slack.views.draft import (
    CHANGES_CALLBACK,
    DRAFT_APPROVE,
    DRAFT_EDIT,
    DRAFT_FULL,
    DRAFT_REQUEST_CHANGES,
    EDIT_CALLBACK,
    FULL_CALLBACK,
    block_text_chars,
)
from bot.store.db import session_scope
from bot.store.models import (
    AnswerCreate,
    GtmRole,
    IcpStatus,
    IcpVersion,
    InterviewCreate,
    QuestionCreate,
    StakeholderCreate,
)
from bot.store.repo import answers as answers_repo
from bot.store.repo import interviews as interviews_repo
from bot.store.repo import stakeholders as stakeholders_repo
from bot.store.repo.audit import list_audit
from bot.store.repo.icp import list_icp_versions, list_personas
from bot.store.repo.workspaces import get_or_create_workspace
from icp_engine.model import ICP
from icp_engine.sample import generate, write_csv
from tests.support.blockkit_checks import check_blocks
from tests.support.harness import ADMIN_ID, MEMBER_ID, TEAM_ID, RecordedCall, SlackEnv, StandInSlack

CHANNEL = "C0GENERAL"
COUNTER = itertools.count()
ADMIN_DM = f"D{ADMIN_ID[1:]}"
ANSWERS = [
    (
        "U0SAM",
        GtmRole.sales,
        "best_deals",
        "Our best customers are software companies with big support teams.",
    ),
    ("U0SAM", GtmRole.sales, "pains", "Manual routing costs them overtime every week."),
    ("U0SAM", GtmRole.sales, "deciders", "The VP of Operations decides and the CFO signs the contract."),
    ("U0CARA", GtmRole.customer_success, "churn", "Retail outfits churn fast, a bad fit."),
]


@pytest.fixture(scope="module")
def crm_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_csv(generate(seed=11, n_accounts=400), tmp_path_factory.mktemp("draft-crm"))


def seed(
    env: SlackEnv, files: dict[str, Path], answers: list[tuple[str, GtmRole, str, str]] | None = None
) -> None:
    stamped(env.stand_in)
    import_accounts(engine=env.engine, workspace=TEAM_ID, path=files["accounts"])
    import_deals(engine=env.engine, workspace=TEAM_ID, path=files["deals"])
    import_health(engine=env.engine, workspace=TEAM_ID, path=files["health"])
    with session_scope(env.engine) as session:
        ws = get_or_create_workspace(session=session, slack_team_id=TEAM_ID)
        for user, role, key, text in ANSWERS if answers is None else answers:
            person = stakeholders_repo.get_or_create_stakeholder(
                session=session,
                workspace_id=ws.id,
                data=StakeholderCreate(slack_user_id=user, display_name=user, gtm_role=role),
            )
            interview = interviews_repo.get_active_interview(
                session=session, workspace_id=ws.id, stakeholder_id=person.id
            ) or interviews_repo.create_interview(
                session=session, workspace_id=ws.id, data=InterviewCreate(stakeholder_id=person.id)
            )
            question = interviews_repo.record_question(
                session=session,
                workspace_id=ws.id,
                interview_id=interview.id,
                data=QuestionCreate(question_key=key, text=f"Question {key}"),
            )
            answers_repo.record_answer(
                session=session,
                workspace_id=ws.id,
                data=AnswerCreate(
                    interview_id=interview.id,
                    question_id=question.id,
                    slack_event_id=f"Ev{uuid.uuid4().hex}",
                    text=text,
                ),
            )


def stamped(stand_in: StandInSlack) -> None:
    """chat.postMessage answers as Slack does, and the ts it gave is kept on the call (``_ts``)."""

    def respond(call: RecordedCall) -> dict[str, Any]:
        ts = f"{time.time():.6f}{next(COUNTER)}"
        call.params["_ts"] = ts
        return {"ok": True, "channel": call.params.get("channel"), "ts": ts, "message": {"ts": ts}}

    stand_in.respond_with("chat.postMessage", respond)


def ts_of(call: RecordedCall) -> str:
    return str(call.params["_ts"])


def versions(env: SlackEnv) -> list[IcpVersion]:
    with session_scope(env.engine) as session:
        ws = get_or_create_workspace(session=session, slack_team_id=TEAM_ID)
        return sorted(list_icp_versions(session=session, workspace_id=ws.id), key=lambda v: v.version)


def draft(env: SlackEnv, *, user: str = ADMIN_ID, text: str = "draft") -> RecordedCall:
    """`/icp draft` in the channel; the draft message posted there."""
    first = env.driver.slash_reply(text, user_id=user, channel_id=CHANNEL)
    assert "Drafting the ICP" in first.text, first.text
    return env.stand_in.wait_for(
        "chat.postMessage",
        lambda c: c.params.get("channel") == CHANNEL and "(draft):" in c.text,
        timeout=60,
    )[-1]


def buttons(call: RecordedCall) -> dict[str, dict[str, Any]]:
    return {e["action_id"]: e for b in call.blocks if b["type"] == "actions" for e in b["elements"]}


def click(env: SlackEnv, message: RecordedCall, action: str, *, user: str) -> str:
    """Click a button of the draft message; returns the response_url path of the click."""
    url = env.stand_in.response_url()
    result = env.driver.block_actions(
        action,
        value=buttons(message)[action]["value"],
        user=user,
        channel=CHANNEL,
        message_ts=ts_of(message),
        response_url=url,
    )
    assert result.status == 200
    return url.split("/respond/", 1)[1]


def answered(env: SlackEnv, name: str) -> RecordedCall:
    return env.stand_in.wait_for("response_url", lambda c: c.path == f"/respond/{name}")[0]


def modal_opened(env: SlackEnv, callback: str) -> dict[str, Any]:
    call = env.stand_in.wait_for("views.open", lambda c: (c.view or {}).get("callback_id") == callback)[-1]
    assert call.view is not None
    return call.view


def test_owner_drafts_then_a_member_is_refused_and_the_owner_approves(
    slack_env: SlackEnv, crm_files: dict[str, Path]
) -> None:
    seed(slack_env, crm_files)
    message = draft(slack_env)
    shown = message.all_text()
    assert "Drafted without an LLM" in shown and "win rate vs" in shown and "overall" in shown
    assert "Characteristics (" in shown and "Tiers:" in shown
    assert list(buttons(message)) == [DRAFT_APPROVE, DRAFT_REQUEST_CHANGES, DRAFT_EDIT, DRAFT_FULL]
    (v1,) = versions(slack_env)
    assert v1.status == IcpStatus.draft and v1.author == ADMIN_ID
    assert buttons(message)[DRAFT_APPROVE]["value"] == str(v1.id)
    assert slack_env.stand_in.wait_for("views.publish", lambda c: c.params.get("user_id") == ADMIN_ID)

    refused = answered(slack_env, click(slack_env, message, DRAFT_APPROVE, user=MEMBER_ID))
    assert "only ICP owners can approve" in refused.text
    assert versions(slack_env)[0].status == IcpStatus.draft

    click(slack_env, message, DRAFT_APPROVE, user=ADMIN_ID)
    update = slack_env.stand_in.wait_for("chat.update", lambda c: "Approved" in c.all_text())[-1]
    assert update.params.get("ts") == ts_of(message) and list(buttons(update)) == [DRAFT_FULL]
    (v1,) = versions(slack_env)
    assert v1.status == IcpStatus.approved and v1.approver == ADMIN_ID
    homes = slack_env.stand_in.wait_for(
        "views.publish", lambda c: c.params.get("user_id") == ADMIN_ID, count=2
    )
    assert f"v{v1.version} · approved" in homes[-1].all_text()
    again = answered(slack_env, click(slack_env, message, DRAFT_APPROVE, user=ADMIN_ID))
    assert "already approved" in again.text


def test_members_cannot_draft(slack_env: SlackEnv) -> None:
    reply = slack_env.driver.slash_reply("draft", user_id=MEMBER_ID)
    assert "only ICP owners" in reply.text and versions(slack_env) == []


def test_draft_without_crm_data_and_bad_arguments_say_what_to_do(slack_env: SlackEnv) -> None:
    first = slack_env.driver.slash_reply("draft", user_id=ADMIN_ID)
    assert "Drafting" in first.text
    slack_env.stand_in.wait_for("response_url", lambda c: "no CRM data" in c.text)
    bad = slack_env.driver.slash_reply("draft enterprise please", user_id=ADMIN_ID)
    assert "segment=<name>" in bad.text and versions(slack_env) == []


def test_edit_modal_submit_saves_a_new_version(slack_env: SlackEnv, crm_files: dict[str, Path]) -> None:
    seed(slack_env, crm_files)
    message = draft(slack_env)
    click(slack_env, message, DRAFT_EDIT, user=ADMIN_ID)
    view = modal_opened(slack_env, EDIT_CALLBACK)
    inputs = [b["block_id"] for b in view["blocks"] if b["type"] == "input"]
    criteria = [b for b in inputs if b.startswith("crit_")]
    assert criteria, "the learned draft has criteria"
    values: dict[str, Any] = {
        b: {"points": {"type": "number_input", "value": "42" if b == "crit_0" else None}}
        for b in inputs
        if "_" in b
    }
    for block in values:
        if block != "crit_0":
            original = next(x for x in view["blocks"] if x.get("block_id") == block)
            values[block]["points"]["value"] = original["element"]["initial_value"]
    values["note"] = {"note": {"type": "plain_text_input", "value": "industry matters most"}}
    if len(criteria) > 1:
        values["remove"] = {"remove": {"type": "multi_static_select", "selected_options": [{"value": "c1"}]}}

    bad = dict(values, crit_0={"points": {"type": "number_input", "value": "500"}})
    refused = slack_env.driver.view_submission(
        EDIT_CALLBACK, values=bad, user=ADMIN_ID, private_metadata=view["private_metadata"]
    )
    assert refused.json()["response_action"] == "errors" and "crit_0" in refused.json()["errors"]
    member = slack_env.driver.view_submission(
        EDIT_CALLBACK, values=values, user=MEMBER_ID, private_metadata=view["private_metadata"]
    )
    assert "only ICP owners" in json.dumps(member.json())
    assert len(versions(slack_env)) == 1

    ok = slack_env.driver.view_submission(
        EDIT_CALLBACK, values=values, user=ADMIN_ID, private_metadata=view["private_metadata"]
    )
    assert ok.status == 200 and not ok.body.strip()
    posted = slack_env.stand_in.wait_for(
        "chat.postMessage", lambda c: c.text.startswith("ICP v2 (draft)"), timeout=30
    )[-1]
    assert posted.params.get("thread_ts") == ts_of(message)
    assert "industry matters most" in posted.all_text() and "Edited by" in posted.all_text()
    v1, v2 = versions(slack_env)
    assert v2.status == IcpStatus.draft and v2.author == ADMIN_ID and v1.status == IcpStatus.draft
    # Stored in the scorecard form; crit_<i> is the i-th bin of the flattened ICP.criteria.
    assert "characteristics" in v2.icp_json and "criteria" not in v2.icp_json
    old_bins, new_bins = ICP.model_validate(v1.icp_json).criteria, ICP.model_validate(v2.icp_json).criteria
    assert new_bins[0].points == 42 and old_bins[0].points != 42
    assert len(new_bins) == len(old_bins) - (1 if len(criteria) > 1 else 0)
    if len(criteria) > 1:  # c1 removed, every other bin kept with its points
        assert [b.describe() for b in new_bins[1:]] == [b.describe() for b in old_bins[2:]]
        assert [b.points for b in new_bins[1:]] == [b.points for b in old_bins[2:]]
    with session_scope(slack_env.engine) as session:
        assert len(list_personas(session=session, workspace_id=v2.workspace_id, icp_version_id=v2.id)) == len(
            list_personas(session=session, workspace_id=v1.workspace_id, icp_version_id=v1.id)
        )
    old = slack_env.stand_in.wait_for("chat.update", lambda c: "Edited into *v2*" in c.all_text())[-1]
    assert old.params.get("ts") == ts_of(message) and list(buttons(old)) == [DRAFT_FULL]


def test_request_changes_records_the_note_and_tells_the_author(
    slack_env: SlackEnv, crm_files: dict[str, Path]
) -> None:
    seed(slack_env, crm_files)
    message = draft(slack_env)
    click(slack_env, message, DRAFT_REQUEST_CHANGES, user=MEMBER_ID)
    view = modal_opened(slack_env, CHANGES_CALLBACK)
    empty = slack_env.driver.view_submission(
        CHANGES_CALLBACK,
        values={"changes": {"changes": {"value": "  "}}},
        user=MEMBER_ID,
        private_metadata=view["private_metadata"],
    )
    assert empty.json()["response_action"] == "errors"
    slack_env.driver.view_submission(
        CHANGES_CALLBACK,
        values={"changes": {"changes": {"type": "plain_text_input", "value": "Add <!channel> fintech back"}}},
        user=MEMBER_ID,
        private_metadata=view["private_metadata"],
    )
    note = slack_env.stand_in.wait_for(
        "chat.postMessage", lambda c: c.params.get("channel") == ADMIN_DM and "asked for changes" in c.text
    )[-1]
    assert f"<@{MEMBER_ID}>" in note.text and "&lt;!channel&gt; fintech back" in note.text
    update = slack_env.stand_in.wait_for("chat.update", lambda c: "asked for changes" in c.all_text())[-1]
    assert update.params.get("ts") == ts_of(message) and buttons(update)
    with session_scope(slack_env.engine) as session:
        (entry,) = list_audit(
            session=session, workspace_id=versions(slack_env)[0].workspace_id, action="icp.changes_requested"
        )
    assert entry.actor == MEMBER_ID and entry.details["note"] == "Add <!channel> fintech back"


@pytest.mark.security
def test_personas_command_shows_the_drafts_personas_to_owners_only(
    slack_env: SlackEnv, crm_files: dict[str, Path]
) -> None:
    seed(slack_env, crm_files)
    draft(slack_env)
    (v1,) = versions(slack_env)
    with session_scope(slack_env.engine) as session:
        personas = list_personas(session=session, workspace_id=v1.workspace_id, icp_version_id=v1.id)
    assert personas, "the answers give the offline drafter personas"
    reply = slack_env.driver.slash_reply("personas", user_id=ADMIN_ID)
    assert f"Personas of ICP v{v1.version} (draft)" in reply.all_text()
    assert all(p.name in reply.all_text() for p in personas)
    # A draft's personas quote interviews nobody approved for publication yet: owners only.
    refused = slack_env.driver.slash_reply("personas", user_id=MEMBER_ID).all_text()
    assert "only ICP owners can read a draft's personas" in refused
    assert not any(p.name in refused for p in personas)


def test_model_failure_drafts_offline_with_a_note(
    make_slack_env: Callable[..., SlackEnv], crm_files: dict[str, Path]
) -> None:
    model = QueueChatModel(responses=[TimeoutError("model timed out")] * 20)
    client = LlmClient(model, retry=RetryPolicy(max_retries=0), sleep=lambda _: None)
    env = make_slack_env(llm_factory=lambda: client)
    seed(env, crm_files)
    first = env.driver.slash_reply("draft", user_id=ADMIN_ID, channel_id=CHANNEL)
    assert "with the language model" in first.text
    message = env.stand_in.wait_for("chat.postMessage", lambda c: "(draft):" in c.text, timeout=60)[-1]
    shown = message.all_text()
    assert "Drafted without an LLM" in shown and "fell back to the offline drafter" in shown
    assert model.calls, "the model was asked first"


def test_a_channel_the_bot_is_not_in_gets_the_draft_in_a_dm(
    slack_env: SlackEnv, crm_files: dict[str, Path]
) -> None:
    seed(slack_env, crm_files)

    def not_in_channel(call: RecordedCall) -> dict[str, Any]:
        if call.params.get("channel") == "C0PRIVATE":
            return {"ok": False, "error": "not_in_channel"}
        return {"ok": True, "channel": call.params.get("channel"), "ts": f"{time.time():.6f}"}

    slack_env.stand_in.respond_with("chat.postMessage", not_in_channel)
    slack_env.driver.slash_reply("draft", user_id=ADMIN_ID, channel_id="C0PRIVATE")
    (dm,) = slack_env.stand_in.wait_for(
        "chat.postMessage", lambda c: c.params.get("channel") == ADMIN_DM and "(draft):" in c.text, timeout=60
    )
    assert "couldn't post the draft in that channel (not_in_channel)" in dm.text
    assert DRAFT_APPROVE in json.dumps(dm.blocks)


def test_the_app_home_draft_button_posts_the_draft_in_the_owners_dm(
    slack_env: SlackEnv, crm_files: dict[str, Path]
) -> None:
    seed(slack_env, crm_files)
    result = slack_env.driver.block_actions(
        "icp_home_draft", value="draft", user=ADMIN_ID, view={"type": "home"}
    )
    assert result.status == 200
    posted = slack_env.stand_in.wait_for(
        "chat.postMessage", lambda c: c.params.get("channel") == ADMIN_DM and "(draft):" in c.text, timeout=60
    )[-1]
    assert DRAFT_APPROVE in json.dumps(posted.blocks)
    assert [v.status for v in versions(slack_env)] == [IcpStatus.draft]


def demo_answers() -> list[tuple[str, GtmRole, str, str]]:
    """The demo's interviewees' answers, each to the question of their role's set it answers."""
    out = []
    for person in INTERVIEWEES:
        assert person.role is not None
        questions = load_question_set(person.role).questions
        for text, question in zip(DEMO_ANSWERS[person.user_id], questions, strict=False):
            out.append((person.user_id, person.role, question.id, text))
    return out


def test_the_draft_post_fits_one_screen_and_full_icp_opens_the_details(
    slack_env: SlackEnv, crm_files: dict[str, Path]
) -> None:
    seed(slack_env, crm_files, demo_answers())
    message = draft(slack_env)
    check_blocks(message.blocks)
    assert block_text_chars(message.blocks, message.text) <= 3000, "the post fits one screen"
    shown = message.all_text()
    assert "win rate vs" in shown and "Tiers:" in shown and "Characteristics (" in shown
    assert "*CFO* (economic buyer)" in shown and "*VP of Sales* (decision maker)" in shown
    assert "*RevOps Admin* (champion)" in shown and "*IT Security* (blocker)" in shown
    assert "conflict" in shown and "`ans:" not in shown, "evidence ids are in the details"
    assert list(buttons(message)) == [DRAFT_APPROVE, DRAFT_REQUEST_CHANGES, DRAFT_EDIT, DRAFT_FULL]

    refused = answered(slack_env, click(slack_env, message, DRAFT_FULL, user=MEMBER_ID))
    assert "only ICP owners can read an ICP draft in full" in refused.text
    assert not slack_env.stand_in.calls_to("views.open"), "no details for a member while it is a draft"

    click(slack_env, message, DRAFT_FULL, user=ADMIN_ID)
    view = modal_opened(slack_env, FULL_CALLBACK)
    check_blocks(view["blocks"], limit=100)
    assert len(view["title"]["text"]) <= 24 and "submit" not in view
    details = json.dumps(view, ensure_ascii=False)
    for part in ("points by value", "Backtest on", "Citations (", "*Personas (", "In their words"):
        assert part in details, part
    assert "IT security can block us if SSO is missing" in details and "`ans:" in details

    (v1,) = versions(slack_env)
    with session_scope(slack_env.engine) as session:
        rows = list_personas(session=session, workspace_id=v1.workspace_id, icp_version_id=v1.id)
    personas = [DraftedPersona.from_store(dict(p.persona_json)) for p in rows]
    assert {"economic_buyer", "decision_maker", "champion", "user", "blocker"} <= {p.role for p in personas}
    assert shared_sentences(personas) == set(), "no sentence is in two personas"


def test_an_approved_icp_opens_in_full_for_every_member(
    slack_env: SlackEnv, crm_files: dict[str, Path]
) -> None:
    seed(slack_env, crm_files, demo_answers())
    message = draft(slack_env)
    click(slack_env, message, DRAFT_APPROVE, user=ADMIN_ID)
    update = slack_env.stand_in.wait_for("chat.update", lambda c: "Approved" in c.all_text())[-1]
    check_blocks(update.blocks)
    assert block_text_chars(update.blocks, update.text) <= 3000
    click(slack_env, update_as_message(message, update), DRAFT_FULL, user=MEMBER_ID)
    view = modal_opened(slack_env, FULL_CALLBACK)
    check_blocks(view["blocks"], limit=100)
    assert "points by value" in json.dumps(view, ensure_ascii=False)


def update_as_message(message: RecordedCall, update: RecordedCall) -> RecordedCall:
    """The updated message's buttons at the original message's ts."""
    update.params["_ts"] = ts_of(message)
    return update
