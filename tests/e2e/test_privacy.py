"""Who sees drafts and quotes, over signed HTTP against the stand-in Slack: members vs ICP owners.

Drafts (`/icp show|diff|export` of versions not approved) and verbatim interview quotes are for ICP
owners; the approved ICP is for everyone. Chat outside an owner's DM cites roles, never names or
quotes, unless the person turned names on. Forgetting a person redacts the bot's own messages that
quoted them (``chat.update``). Every leak attempt carries the ``security`` marker.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.services.redaction import REMOVED
from icp_engine.sample import generate, write_csv
from tests.e2e.test_versions_export import seed as seed_versions
from tests.e2e.test_versions_export import uploads
from tests.support.chat_world import seed as seed_chat
from tests.support.harness import ADMIN_ID, BOT_USER_ID, MEMBER_ID, TEAM_ID, RecordedCall, SlackEnv

CHANNEL = "C0GENERAL"
# The bin only the draft v2 has (country US, +10): `show` and exports print it by characteristic
# ("*country*: US +10", "| country | US +10 |"), `diff` as a condition ("+10 country in US").
DRAFT_ONLY = ("US +10", "country in US")


def shows_draft(text: str) -> bool:
    """Whether ``text`` reveals the draft-only bin in any of the forms the views print it in."""
    return any(form in text for form in DRAFT_ONLY)


QUOTE = "onboarding drags on"  # from U0CARA's answer in the chat world
QUESTION = "what do customer success people say about churn and onboarding?"


@pytest.fixture(scope="module")
def crm_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_csv(generate(seed=11, n_accounts=300), tmp_path_factory.mktemp("privacy-crm"))


@pytest.mark.security
def test_a_member_cannot_read_a_draft_with_show_but_an_owner_can(slack_env: SlackEnv) -> None:
    seed_versions(slack_env)
    refused = slack_env.driver.slash_reply("show v2", user_id=MEMBER_ID).all_text()
    assert "only ICP owners can read ICP drafts" in refused and not shows_draft(refused)
    newest = slack_env.driver.slash_reply("show", user_id=MEMBER_ID).all_text()
    assert "(v1, approved)" in newest and not shows_draft(newest)  # members get the approved ICP
    owner = slack_env.driver.slash_reply("show v2", user_id=ADMIN_ID).all_text()
    assert "(v2, draft)" in owner and "*country*: US +10" in owner


@pytest.mark.security
def test_a_member_cannot_diff_against_a_draft_but_an_owner_can(slack_env: SlackEnv) -> None:
    seed_versions(slack_env)
    for text in ("diff v1 v2", "diff v2"):
        refused = slack_env.driver.slash_reply(text, user_id=MEMBER_ID).all_text()
        assert "only ICP owners can compare ICP drafts" in refused and not shows_draft(refused)
    # without version numbers a member compares approved versions only: there is one
    assert "only one ICP version" in slack_env.driver.slash_reply("diff", user_id=MEMBER_ID).text
    assert "country in US" in slack_env.driver.slash_reply("diff v1 v2", user_id=ADMIN_ID).all_text()


@pytest.mark.security
def test_a_member_cannot_export_a_draft_into_a_channel_but_an_owner_can(slack_env: SlackEnv) -> None:
    seed_versions(slack_env)
    refused = slack_env.driver.slash_reply("export v2 md", user_id=MEMBER_ID)
    assert "only ICP owners can export ICP drafts" in refused.text and uploads(slack_env) == []
    approved = slack_env.driver.slash_reply("export md", user_id=MEMBER_ID)
    assert "Exported ICP v1 (approved)" in approved.text
    (upload,) = uploads(slack_env)
    assert "Mid-market SaaS" in upload.content.decode() and not shows_draft(upload.content.decode())
    assert "Exported ICP v2 (draft)" in slack_env.driver.slash_reply("export v2 md", user_id=ADMIN_ID).text
    assert "| country | US +10 |" in uploads(slack_env)[-1].content.decode()


def mention(env: SlackEnv, user: str) -> RecordedCall:
    ts = f"{time.time():.6f}"
    env.driver.event(
        {
            "type": "app_mention",
            "user": user,
            "text": f"<@{BOT_USER_ID}> {QUESTION}",
            "ts": ts,
            "channel": CHANNEL,
            "event_ts": ts,
            "team": TEAM_ID,
        }
    )
    (reply,) = env.stand_in.wait_for(
        "chat.postMessage", lambda c: c.params.get("channel") == CHANNEL and c.params.get("thread_ts") == ts
    )
    return reply


def dm(env: SlackEnv, user: str) -> RecordedCall:
    channel = f"D{user[1:]}"
    env.driver.message_im(QUESTION, user=user)
    (reply,) = env.stand_in.wait_for("chat.postMessage", lambda c: c.params.get("channel") == channel)
    return reply


@pytest.mark.security
def test_chat_in_a_channel_cites_roles_not_names_or_quotes_even_for_an_owner(
    slack_env: SlackEnv, crm_files: dict[str, Path]
) -> None:
    seed_chat(slack_env, crm_files)
    for user in (MEMBER_ID, ADMIN_ID):
        shown = mention(slack_env, user).all_text()
        assert "a customer success stakeholder" in shown, shown
        assert QUOTE not in shown and "U0CARA" not in shown
        slack_env.stand_in.clear()


@pytest.mark.security
def test_chat_quotes_with_names_only_in_an_owners_dm(slack_env: SlackEnv, crm_files: dict[str, Path]) -> None:
    seed_chat(slack_env, crm_files)
    member = dm(slack_env, MEMBER_ID).all_text()
    assert QUOTE not in member and "U0CARA" not in member and "a customer success stakeholder" in member
    owner = dm(slack_env, ADMIN_ID).all_text()
    assert QUOTE in owner and "<@U0CARA>" in owner


def test_a_person_who_allows_names_is_named_in_channels_but_not_quoted(
    slack_env: SlackEnv, crm_files: dict[str, Path]
) -> None:
    seed_chat(slack_env, crm_files)
    assert "never by name" in slack_env.driver.slash_reply("privacy names off", user_id="U0CARA").text
    reply = slack_env.driver.slash_reply("privacy names on", user_id="U0CARA")
    assert "may name you" in reply.text
    shown = mention(slack_env, MEMBER_ID).all_text()
    assert "<@U0CARA>" in shown and QUOTE not in shown
    assert "not been interviewed" in slack_env.driver.slash_reply("privacy names on", user_id=MEMBER_ID).text
    assert "Usage" in slack_env.driver.slash_reply("privacy on", user_id="U0CARA").text


def test_forget_redacts_the_bots_own_messages_that_quoted_the_person(
    slack_env: SlackEnv, crm_files: dict[str, Path]
) -> None:
    seed_chat(slack_env, crm_files)
    quoted = dm(slack_env, ADMIN_ID)
    assert QUOTE in quoted.all_text()
    posted_ts = str((quoted.response or {}).get("ts") or "")
    assert posted_ts
    reply = slack_env.driver.slash_reply("forget <@U0CARA> confirm", user_id=ADMIN_ID)
    assert "redacted 1 message(s)" in reply.text, reply.text
    (update,) = slack_env.stand_in.wait_for("chat.update", lambda c: c.params.get("ts") == posted_ts)
    assert update.params.get("channel") == f"D{ADMIN_ID[1:]}"
    assert REMOVED in update.all_text() and QUOTE not in update.all_text()
    # forgetting again finds nothing more to redact
    again = slack_env.driver.slash_reply("forget <@U0CARA> confirm", user_id=ADMIN_ID)
    assert "redacted" not in again.text
