"""App Home renders run on a pool of their own: a slow one holds up no ack and no command.

Why: building the home reads the workspace's counts, which can take a while on a big store; on
Bolt's five listener threads, a burst of openings held every other request's ack behind them (a
60 MB deals import on PostgreSQL, then ten openings a second: acks of several seconds). Here
Slack's ``views.publish`` is held instead (the stand-in answers it only when told): the renders
wait, and meanwhile commands are acked and answered, and a person opening the tab again and again
costs one waiting render, not one per opening.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from bot.demo.stand_in.slack_api import RecordedCall
from tests.support.harness import ADMIN_ID, MEMBER_ID, SlackEnv


class Held:
    """``views.publish`` answered only once released (the stand-in records a call once answered)."""

    def __init__(self, slack_env: SlackEnv) -> None:
        self.release, self.first = threading.Event(), threading.Event()
        self.calls: list[RecordedCall] = []
        default = slack_env.stand_in._default

        def hold(call: RecordedCall) -> dict[str, Any]:
            self.calls.append(call)
            self.first.set()
            self.release.wait(30)
            return default(call)

        slack_env.stand_in.respond_with("views.publish", hold)

    def wait_for_first(self) -> None:
        assert self.first.wait(10), "no render reached views.publish"


def test_commands_are_acked_and_answered_while_home_renders_wait(slack_env: SlackEnv) -> None:
    held = Held(slack_env)
    try:
        for user in (ADMIN_ID, MEMBER_ID, "U0THIRD", "U0FOURTH", "U0FIFTH", "U0SIXTH"):
            assert slack_env.driver.app_home_opened(user=user).status == 200
        held.wait_for_first()  # the first render is being published, and held
        reply = slack_env.driver.slash_reply("help", user_id=ADMIN_ID)
        assert "/icp" in reply.all_text()
        assert len(held.calls) == 1  # answered while the first render still waits
    finally:
        held.release.set()
    published = slack_env.stand_in.wait_for("views.publish", count=6)
    assert {call.params["user_id"] for call in published} >= {ADMIN_ID, MEMBER_ID}


def test_openings_while_a_render_waits_cost_one_more_render(slack_env: SlackEnv) -> None:
    held = Held(slack_env)
    try:
        assert slack_env.driver.app_home_opened(user=ADMIN_ID).status == 200
        held.wait_for_first()  # the admin's render is held
        for _ in range(5):  # the member's render waits behind it; their next openings add nothing
            assert slack_env.driver.app_home_opened(user=MEMBER_ID).status == 200
    finally:
        held.release.set()
    slack_env.stand_in.wait_for("views.publish", count=2)
    time.sleep(0.5)  # a third render, if one had been queued, would have been published by now
    users = [call.params["user_id"] for call in slack_env.stand_in.calls_to("views.publish")]
    assert sorted(users) == sorted([ADMIN_ID, MEMBER_ID])
