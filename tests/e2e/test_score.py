"""`/icp score`, its card buttons and the App Home, end to end: signed HTTP requests in, the Web
API calls the app makes recorded by the stand-in Slack (every blocks/view validated at teardown)."""

from __future__ import annotations

import json
from typing import Any

from bot.slack.views.home import HOME_ACTIONS
from bot.slack.views.score_card import CHOOSE_ACCOUNT, WHY_BUTTON
from tests.support.harness import (
    ADMIN_ID,
    MEMBER_ID,
    RecordedCall,
    SlackEnv,
    assert_valid_blocks,
    assert_valid_view,
)
from tests.support.score_world import seed


def buttons(call: RecordedCall, action_id: str) -> list[dict[str, Any]]:
    out = []
    for block in call.blocks:
        elements = block.get("elements", []) if block["type"] == "actions" else [block.get("accessory") or {}]
        out += [e for e in elements if e.get("action_id") == action_id]
    return out


def click(env: SlackEnv, action_id: str, value: str, **kwargs: Any) -> RecordedCall:
    """Click a button in a message; returns what arrived at that click's response_url."""
    url = env.stand_in.response_url()
    result = env.driver.block_actions(action_id, value=value, response_url=url, **kwargs)
    assert result.status == 200, result.text
    path = url.split("127.0.0.1", 1)[1].split("/", 1)[1]
    return env.stand_in.wait_for("response_url", lambda c: c.path == "/" + path)[0]


def test_score_by_name_and_by_domain_answers_privately_with_a_card(slack_env: SlackEnv) -> None:
    seed(slack_env)
    for text in ("score Acme Inc", "score https://www.ACME.com/about"):
        reply = slack_env.driver.slash_reply(text)
        assert reply.params["response_type"] == "ephemeral"
        assert_valid_blocks(reply.blocks)
        shown = reply.all_text()
        # Acme matches all three characteristics: +25 +20 +15 = +60 points -> 100·sigmoid(60·ln2/20) = 88.9
        assert "Acme, Inc.: 88.9/100 · Tier A" in shown
        assert f"Mid-market SaaS v1, approved by <@{ADMIN_ID}> on " in shown
        # The five-second card: one line of why, no gaps (every value is in its best bin), the
        # tier's play and the persona to contact.
        assert "*Why:* ✓ industry: software (+25)" in shown
        assert "Below the best" not in shown and "Missed" not in shown
        assert "*Play (Tier A):* Account executive within 1 business day" in shown
        assert "*Contact:* Ops Olivia (VP Operations)" in shown
        assert len(buttons(reply, WHY_BUTTON)) == 1
    assert not slack_env.stand_in.calls_to("chat.postMessage")


def test_an_ambiguous_name_offers_a_chooser_and_a_click_scores_the_pick(slack_env: SlackEnv) -> None:
    seed(slack_env)
    chooser = slack_env.driver.slash_reply("score umbrella group")
    assert "Several accounts match *umbrella group*" in chooser.all_text()
    assert len(buttons(chooser, CHOOSE_ACCOUNT)) == 2
    (picked,) = [b["accessory"] for b in chooser.blocks if "umbrella.de" in b.get("text", {}).get("text", "")]
    card = click(slack_env, CHOOSE_ACCOUNT, picked["value"])
    assert card.params["replace_original"] is True
    assert_valid_blocks(card.blocks)
    shown = card.all_text()
    assert "Umbrella Group: " in shown and "umbrella.de" in shown


def test_inline_attributes_are_scored_and_why_expands_the_card_in_place(slack_env: SlackEnv) -> None:
    seed(slack_env)
    reply = slack_env.driver.slash_reply("score industry=SaaS employees=5k country=Germany")
    shown = reply.all_text()
    assert "Attributes given: " in shown
    assert "Read industry 'SaaS' as software" in shown
    (why,) = buttons(reply, WHY_BUTTON)
    expanded = click(slack_env, WHY_BUTTON, why["value"])
    assert expanded.params["replace_original"] is True
    assert_valid_blocks(expanded.blocks)
    shown = expanded.all_text()
    # only industry matches: +25 points -> 100·sigmoid(25·ln2/20) = 70.4, still tier A (>= 70)
    assert "Attributes given: 70.4/100 · Tier A" in shown
    assert "*Why 70.4:* +25 points in total (the best possible is +60)." in shown
    lines = [ln for ln in shown.splitlines() if ln[:1] in {"✓", "✗", "○", "?"}]
    assert lines == [  # one line per characteristic; values outside every bin score 0, like the average
        "✓ industry: software (+25) — industry in software, fintech",
        "○ employees: 5,000 (0) — like the average account",
        "○ country: DE (0) — like the average account",
    ]
    assert not buttons(expanded, WHY_BUTTON)


def test_share_posts_the_card_in_the_channel(slack_env: SlackEnv) -> None:
    seed(slack_env)
    result = slack_env.driver.slash("score acme.com --share", channel_id="C0SALES")
    assert result.status == 200
    (post,) = slack_env.stand_in.wait_for("chat.postMessage")
    assert post.params["channel"] == "C0SALES"
    assert f"<@{MEMBER_ID}> shared: Acme, Inc.: 88.9/100, tier A (Best match)" in post.text  # +60 points
    assert f"Shared by <@{MEMBER_ID}>" in post.all_text()
    assert_valid_blocks(post.blocks)
    assert not slack_env.stand_in.calls_to("response_url")


def test_share_where_the_bot_cannot_post_gives_the_card_privately_with_the_reason(
    slack_env: SlackEnv,
) -> None:
    seed(slack_env)
    slack_env.stand_in.respond_with("chat.postMessage", lambda call: {"ok": False, "error": "not_in_channel"})
    reply = slack_env.driver.slash_reply("score acme --share", channel_id="C0PRIVATE")
    assert reply.params["response_type"] == "ephemeral"
    assert reply.text.startswith("I couldn't post in this channel (not_in_channel)")
    assert "Acme, Inc.: 88.9/100 · Tier A" in reply.all_text()  # +60 points -> 88.9
    assert_valid_blocks(reply.blocks)


def test_share_chooser_posts_the_picked_card_in_the_channel(slack_env: SlackEnv) -> None:
    seed(slack_env)
    chooser = slack_env.driver.slash_reply("score umbrella group --share", channel_id="C0SALES")
    value = buttons(chooser, CHOOSE_ACCOUNT)[0]["value"]
    deleted = click(slack_env, CHOOSE_ACCOUNT, value, channel="C0SALES")
    assert deleted.params.get("delete_original") is True
    (post,) = slack_env.stand_in.wait_for("chat.postMessage")
    assert post.params["channel"] == "C0SALES" and "Umbrella Group" in post.text


def test_without_an_icp_the_answer_says_how_to_get_one(slack_env: SlackEnv) -> None:
    reply = slack_env.driver.slash_reply("score acme")
    assert "There is no ICP for this workspace yet" in reply.text and "/icp draft" in reply.text


def test_a_draft_icp_is_used_and_labelled_until_one_is_approved(slack_env: SlackEnv) -> None:
    seed(slack_env, approve=False)
    shown = slack_env.driver.slash_reply("score acme").all_text()
    assert "Mid-market SaaS v1 (draft)" in shown and "No approved ICP yet" in shown


def test_app_home_is_published_for_owners_with_buttons_and_read_only_for_others(slack_env: SlackEnv) -> None:
    seed(slack_env)
    for user in (ADMIN_ID, MEMBER_ID):
        assert slack_env.driver.app_home_opened(user=user).status == 200
    views = {c.params["user_id"]: c.view for c in slack_env.stand_in.wait_for("views.publish", count=2)}
    owner, reader = views[ADMIN_ID], views[MEMBER_ID]
    assert owner is not None and reader is not None
    for view in (owner, reader):
        assert_valid_view(view)
        text = json.dumps(view, ensure_ascii=False)
        assert "Mid-market SaaS" in text and "Ops Olivia" in text and "3 accounts" in text
    owner_actions = [e["action_id"] for b in owner["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert owner_actions == list(HOME_ACTIONS)
    assert not [b for b in reader["blocks"] if b["type"] == "actions"]
    assert "Read-only." in json.dumps(reader)


def test_the_messages_tab_publishes_nothing(slack_env: SlackEnv) -> None:
    assert slack_env.driver.app_home_opened(user=MEMBER_ID, tab="messages").status == 200
    assert slack_env.driver.app_home_opened(user=ADMIN_ID).status == 200
    slack_env.stand_in.wait_for("views.publish")
    assert [c.params["user_id"] for c in slack_env.stand_in.calls_to("views.publish")] == [ADMIN_ID]


def test_a_home_button_runs_its_command_and_answers_in_a_dm(slack_env: SlackEnv) -> None:
    seed(slack_env)
    home = {"id": "V0HOME", "type": "home", "blocks": []}
    action_id = next(a for a, (_, sub) in HOME_ACTIONS.items() if sub == "status")
    assert slack_env.driver.block_actions(action_id, value="status", user=ADMIN_ID, view=home).status == 200
    (dm,) = slack_env.stand_in.wait_for("chat.postMessage")
    assert dm.params["channel"] == f"D{ADMIN_ID[1:]}"
    assert dm.text and "I don't know" not in dm.text


def test_a_forged_owner_button_from_a_member_is_refused_politely_in_a_dm(slack_env: SlackEnv) -> None:
    seed(slack_env)
    home = {"id": "V0HOME", "type": "home", "blocks": []}
    action_id = next(a for a, (_, sub) in HOME_ACTIONS.items() if sub == "draft")
    assert slack_env.driver.block_actions(action_id, value="draft", user=MEMBER_ID, view=home).status == 200
    (dm,) = slack_env.stand_in.wait_for("chat.postMessage")
    assert dm.params["channel"] == f"D{MEMBER_ID[1:]}"
    assert dm.text.startswith("Sorry, only ICP owners can use `/icp draft`.")
