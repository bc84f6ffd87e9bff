"""Platform behaviour end to end: signatures, redelivery, the /icp router, health, rate limits."""

from __future__ import annotations

from harness import SlackEnv

from bot.slash import REGISTRY


def test_help_lists_every_registered_subcommand(slack_env: SlackEnv) -> None:
    reply = slack_env.driver.slash_reply("help")
    text = reply.all_text()
    for name in {spec.name for spec in REGISTRY.values()}:
        assert f"/icp {name}" in text
