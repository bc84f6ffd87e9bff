"""Slash-command replies never echo a typed broadcast, mention or link raw (over signed HTTP)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.harness import ADMIN_ID, MEMBER_ID, SlackEnv

FORBIDDEN = ("<!channel", "<!here", "<!everyone", "<@U0EVIL", "<#C0EVIL", "<https://evil")


def mrkdwn_of(node: Any) -> list[str]:
    """The strings Slack parses for mentions: mrkdwn text objects (plain_text is shown literally)."""
    if isinstance(node, dict):
        if node.get("type") == "mrkdwn":
            return [str(node.get("text") or "")]
        if node.get("type") == "plain_text":
            return []
        return [s for v in node.values() for s in mrkdwn_of(v)]
    if isinstance(node, list):
        return [s for v in node for s in mrkdwn_of(v)]
    return []


@pytest.mark.security
@pytest.mark.parametrize(
    ("command", "user"),
    [
        ("remind <!channel> <!here>", ADMIN_ID),
        ("remind cron <!everyone> 9 * * * <#C0EVIL>", ADMIN_ID),
        ("score name=<!channel> industry=<https://evil.example|click>", MEMBER_ID),
        ("score <!here> Inc", MEMBER_ID),
        ("forget <!channel> confirm", ADMIN_ID),
        ("interview <!here> <@U0EVIL|x>x", ADMIN_ID),
        ("<!channel>", MEMBER_ID),
        ("show <!here>", MEMBER_ID),
        ("diff <!here> <!channel>", ADMIN_ID),
        ("export <https://evil.example|v1>", ADMIN_ID),
    ],
)
def test_typed_specials_come_back_escaped(slack_env: SlackEnv, command: str, user: str) -> None:
    reply = slack_env.driver.slash_reply(command, user_id=user)
    shown = [reply.text, *mrkdwn_of(reply.blocks)]
    assert any(shown), command
    for text in shown:
        for bad in FORBIDDEN:
            assert bad not in text, (command, text)
