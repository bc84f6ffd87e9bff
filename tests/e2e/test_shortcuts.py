"""The "Score a company" shortcuts end to end: the global one and its modal, the message one.

Signed interactivity payloads go to the app over HTTP; the stand-in Slack records views.open,
the DM the card lands in and what arrives at response_urls (blocks and views validated at
teardown). The world has three accounts and an approved ICP (tests/support/score_world.py).
"""

from __future__ import annotations

from typing import Any

from bot.slack.views.score_card import CHOOSE_ACCOUNT, WHY_BUTTON
from bot.slack.views.score_modal import (
    ATTRIBUTES_ACTION,
    ATTRIBUTES_BLOCK,
    COMPANY_ACTION,
    COMPANY_BLOCK,
    EMPTY_ERROR,
    NO_DOMAIN_TEXT,
    SCORE_MESSAGE_SHORTCUT,
    SCORE_MODAL,
    SCORE_SHORTCUT,
)
from tests.support.harness import MEMBER_ID, RecordedCall, SlackEnv
from tests.support.score_world import seed

MEMBER_DM = f"D{MEMBER_ID[1:]}"  # the stand-in's conversations.open answer
ACME_CARD = "Acme, Inc.: 88.9/100 · Tier A"


def submit(env: SlackEnv, *, company: str = "", attributes: str = "") -> Any:
    values = {
        COMPANY_BLOCK: {COMPANY_ACTION: {"type": "plain_text_input", "value": company or None}},
        ATTRIBUTES_BLOCK: {ATTRIBUTES_ACTION: {"type": "plain_text_input", "value": attributes or None}},
    }
    result = env.driver.view_submission(SCORE_MODAL, values=values)
    assert result.status == 200, result.text
    return result


def dm_posts(env: SlackEnv, count: int = 1) -> list[RecordedCall]:
    return env.stand_in.wait_for(
        "chat.postMessage", lambda c: c.params.get("channel") == MEMBER_DM, count=count
    )


def buttons(call: RecordedCall, action_id: str) -> list[dict[str, Any]]:
    found = []
    for block in call.blocks:
        elements = block.get("elements", []) if block["type"] == "actions" else [block.get("accessory") or {}]
        found += [e for e in elements if e.get("action_id") == action_id]
    return found


def test_the_global_shortcut_opens_the_modal_with_its_trigger(slack_env: SlackEnv) -> None:
    result = slack_env.driver.global_shortcut(SCORE_SHORTCUT)
    assert result.status == 200
    (opened,) = slack_env.stand_in.wait_for("views.open")
    assert opened.params["trigger_id"]
    view = opened.view
    assert view is not None and view["callback_id"] == SCORE_MODAL
    assert [b.get("block_id") for b in view["blocks"] if b["type"] == "input"] == [
        COMPANY_BLOCK,
        ATTRIBUTES_BLOCK,
    ]


def test_an_empty_form_is_refused_next_to_the_field(slack_env: SlackEnv) -> None:
    answer = submit(slack_env).json()
    assert answer == {"response_action": "errors", "errors": {COMPANY_BLOCK: EMPTY_ERROR}}
    assert not slack_env.stand_in.calls_to("chat.postMessage")


def test_a_domain_submitted_brings_the_card_to_the_dm_and_why_expands_it(slack_env: SlackEnv) -> None:
    seed(slack_env)
    assert submit(slack_env, company="https://www.ACME.com/about").body in (b"", b"{}")
    (card,) = dm_posts(slack_env)
    assert ACME_CARD in card.all_text()
    (why,) = buttons(card, WHY_BUTTON)
    url = slack_env.stand_in.response_url()
    slack_env.driver.block_actions(
        WHY_BUTTON,
        value=why["value"],
        channel=MEMBER_DM,
        message_ts=card.response["ts"],
        response_url=url,  # type: ignore[index]
    )
    (expanded,) = slack_env.stand_in.wait_for("response_url", lambda c: url.endswith(c.path))
    assert expanded.params.get("replace_original") is True and ACME_CARD in expanded.all_text()


def test_attributes_and_ambiguous_names_and_strangers_are_answered_in_the_dm(slack_env: SlackEnv) -> None:
    seed(slack_env)
    submit(slack_env, attributes="industry=software employees=500 country=US")
    (typed,) = dm_posts(slack_env)
    assert "88.9/100 · Tier A" in typed.all_text()
    submit(slack_env, company="umbrella group")
    chooser = dm_posts(slack_env, 2)[1]
    assert len(buttons(chooser, CHOOSE_ACCOUNT)) == 2
    submit(slack_env, company="<!here> & Friends")
    stranger = dm_posts(slack_env, 3)[2]
    assert "I found no account matching “&lt;!here&gt; &amp; Friends”" in stranger.all_text()
    assert "<!here>" not in stranger.all_text()


def test_the_message_shortcut_scores_the_domain_the_message_names(slack_env: SlackEnv) -> None:
    seed(slack_env)
    url = slack_env.stand_in.response_url()
    text = "Had a great call with <https://www.acme.com/pricing|Acme> today, <@U0SAM> joined"
    assert slack_env.driver.message_shortcut(SCORE_MESSAGE_SHORTCUT, text, response_url=url).status == 200
    (reply,) = slack_env.stand_in.wait_for("response_url", lambda c: url.endswith(c.path))
    assert reply.params["response_type"] == "ephemeral" and ACME_CARD in reply.all_text()
    assert not slack_env.stand_in.calls_to("chat.postMessage")  # nothing in the channel


def test_a_message_naming_no_domain_gets_a_polite_private_note(slack_env: SlackEnv) -> None:
    seed(slack_env)
    url = slack_env.stand_in.response_url()
    slack_env.driver.message_shortcut(SCORE_MESSAGE_SHORTCUT, "Lunch at 12? v1.2 is out", response_url=url)
    (reply,) = slack_env.stand_in.wait_for("response_url", lambda c: url.endswith(c.path))
    assert reply.params["response_type"] == "ephemeral" and reply.text == NO_DOMAIN_TEXT


def test_a_pick_in_the_dm_chooser_scores_that_account(slack_env: SlackEnv) -> None:
    seed(slack_env)
    submit(slack_env, company="umbrella group")
    (chooser,) = dm_posts(slack_env)
    picks = buttons(chooser, CHOOSE_ACCOUNT)
    url = slack_env.stand_in.response_url()
    slack_env.driver.block_actions(
        CHOOSE_ACCOUNT,
        value=picks[0]["value"],
        channel=MEMBER_DM,
        message_ts=chooser.response["ts"],
        response_url=url,  # type: ignore[index]
    )
    (card,) = slack_env.stand_in.wait_for("response_url", lambda c: url.endswith(c.path))
    assert card.params.get("replace_original") is True and "Umbrella Group" in card.all_text()
    assert "/100 · Tier" in card.all_text()
