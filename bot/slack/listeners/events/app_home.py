"""``app_home_opened``: publish the person's App Home (owners get the buttons, others read).

The home is built on its own small pool after the ack, never on Bolt's listener threads: reading
the workspace's counts takes a while on a big store (a few hundred ms on PostgreSQL right after a
million deals are imported), and a person who opens the tab again and again would otherwise
hold those threads, and every other request's ack, behind their renders (nor does a render wait
behind commands, or commands behind renders). A person whose render is still waiting gets no
second one (it will show the latest data anyway), and a full pool skips the render: the tab
keeps the home it last showed until it is opened again.
"""

from __future__ import annotations

import logging
import threading
from functools import partial
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.slack.context import AppContext
from bot.slack.failures import submit_safely
from bot.slack.messaging.home import publish_home
from bot.slack.payload import team_id_of

log = logging.getLogger(__name__)


class _Waiting:
    """The people whose home render is queued or running (one at a time each)."""

    def __init__(self) -> None:
        self._people: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def claim(self, person: tuple[str, str]) -> bool:
        with self._lock:
            if person in self._people:
                return False
            self._people.add(person)
            return True

    def release(self, person: tuple[str, str]) -> None:
        with self._lock:
            self._people.discard(person)


def register(app: App, ctx: AppContext) -> None:
    waiting = _Waiting()

    def render(person: tuple[str, str], client: WebClient) -> None:
        waiting.release(person)  # from here an opening sees newer data than this render: it may queue
        publish_home(ctx=ctx, client=client, team_id=person[0], user_id=person[1])

    def skipped(person: tuple[str, str]) -> None:
        waiting.release(person)
        log.info("App Home not rendered: its pool is full (the tab keeps its last view)")

    @app.event("app_home_opened")
    def on_home_opened(body: dict[str, Any], event: dict[str, Any], client: WebClient) -> None:
        if event.get("tab", "home") != "home" or not event.get("user"):
            return  # the Messages tab: nothing to publish
        person = (team_id_of(body), str(event["user"]))
        if not waiting.claim(person):
            return  # a render for this person is waiting already
        # A failure is logged by the safe runner (an event has nobody to apologise to).
        submit_safely(
            ctx.home, partial(render, person, client), what="App Home", busy=partial(skipped, person)
        )
