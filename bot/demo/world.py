"""The demo's running world: the real Bolt app over HTTP, a stand-in Slack, embedded stores.

Everything binds 127.0.0.1 and lives under one data folder (SQLite file + Chroma folder). The
only thing replaced is Slack's cloud, by :class:`StandInSlack` speaking its wire protocol; the
app is built exactly as ``icp serve`` builds it and every request is signed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import SecretStr

from bot.demo.script import CAST, CHANNELS, Person
from bot.demo.stand_in.blocks_render import message_text, mrkdwn_text
from bot.demo.stand_in.driver import AppServer, HttpResult, SlackDriver
from bot.demo.stand_in.slack_api import BOT_TOKEN, SIGNING_SECRET, TEAM_ID, RecordedCall, StandInSlack
from bot.demo.transcript import Transcript
from bot.knowledge.store import KnowledgeStore, knowledge_store_from
from bot.settings import Settings
from bot.store.db import Engine

MESSAGE_METHODS = ("chat.postMessage", "chat.postEphemeral", "chat.update", "response_url", "views.open")


class DemoError(RuntimeError):
    """A step of the demo did not get the answer it waits for; the message says which."""


def demo_settings(data_dir: Path, api_url: str) -> Settings:
    """The environment's settings (so a configured LLM is used) on embedded stores in ``data_dir``,
    in single-workspace bot-token mode against the stand-in Slack."""
    return Settings(
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'icp.db'}",
        chroma_path=data_dir / "chroma",
        chroma_host=None,
        default_workspace=TEAM_ID,
        slack_bot_token=SecretStr(BOT_TOKEN),
        slack_signing_secret=SecretStr(SIGNING_SECRET),
        slack_app_token=None,
        slack_client_id=None,
        slack_client_secret=None,
        slack_api_url=api_url,
        icp_owners=None,  # owners are workspace admins (users.info), as in a fresh install
        score_processes=0,
        scheduler_enabled=False,  # the demo fires the scheduler itself, with its own clock
    )


@dataclass
class World:
    """The app, the stand-in and the driver, plus how to talk to them and print what happens."""

    settings: Settings
    engine: Engine
    stand_in: StandInSlack
    server: AppServer
    driver: SlackDriver
    transcript: Transcript
    _knowledge: list[KnowledgeStore] = field(default_factory=list)

    @property
    def people(self) -> dict[str, str]:
        return {p.user_id: p.handle for p in CAST}

    def knowledge(self) -> KnowledgeStore:
        """The one knowledge store the app and the demo share (opened on first use)."""
        if not self._knowledge:
            self._knowledge.append(knowledge_store_from(self.settings))
        return self._knowledge[0]

    def where(self, call: RecordedCall) -> tuple[str, str]:
        """(where a message went, how) in words."""
        if call.method == "response_url":
            private = call.params.get("response_type") != "in_channel"
            return ("the command's reply", "only the sender sees it" if private else "in the channel")
        if call.method == "views.open":
            title = str((_view_of(call).get("title") or {}).get("text") or "")
            return (f"a modal “{title}”", "only the person who clicked sees it")
        channel = str(call.params.get("channel") or "")
        how = {"chat.update": "edits its message", "chat.postEphemeral": "only the sender sees it"}
        return self.place(channel), how.get(call.method, "")

    def place(self, channel: str) -> str:
        if channel in CHANNELS:
            return f"#{CHANNELS[channel]}"
        for person in CAST:
            if channel in (person.dm, person.user_id):
                return f"DM with @{person.handle}"
        return channel

    def render(self, call: RecordedCall) -> str:
        params = {"view": _view_of(call)} if call.method == "views.open" else call.params
        return message_text(params, people=self.people, channels=CHANNELS)

    def exchange(
        self,
        who: Person,
        said: str,
        send: Callable[[], HttpResult],
        *waits: Callable[[RecordedCall], bool],
        where: str,
        timeout: float = 30.0,
    ) -> RecordedCall:
        """Print what ``who`` does, do it, wait until the bot has sent a message matching each of
        ``waits``, and print every message it sent meanwhile. Returns the first one's match."""
        started = time.monotonic()
        self.transcript.said(who.handle, said, where=where)
        result = send()
        if result.status != 200:
            raise DemoError(f"{said!r}: the app answered HTTP {result.status}: {result.text[:200]}")
        found: list[RecordedCall] = []
        for wait in waits:
            try:
                found.append(
                    self.stand_in.wait_for_reply(
                        _since(started, wait), timeout=timeout, methods=MESSAGE_METHODS
                    )
                )
            except AssertionError as exc:
                raise DemoError(f"no answer to {said!r} within {timeout:.0f} s") from exc
        self.show_messages(since=started, until=max(c.at for c in found))
        return found[0]

    def show_messages(self, *, since: float, until: float | None = None) -> list[RecordedCall]:
        shown = [
            c
            for c in list(self.stand_in.calls)
            if c.method in MESSAGE_METHODS and c.at >= since and (until is None or c.at <= until)
        ]
        for call in shown:
            where, how = self.where(call)
            self.transcript.bot(self.render(call) or "(empty message)", where=where, how=how)
        return shown

    def slash(
        self,
        who: Person,
        text: str,
        *,
        channel: str,
        until: Callable[[RecordedCall], bool] | None = None,
        timeout: float = 30.0,
    ) -> RecordedCall:
        """``/icp text`` from ``who`` in ``channel``; waits for the command's reply and ``until``
        (returns ``until``'s message if given, else the reply)."""
        url = self.stand_in.response_url()

        def send() -> HttpResult:
            return self.driver.slash(text, user_id=who.user_id, channel_id=channel, response_url=url)

        waits = [w for w in (until, replied_at(url)) if w is not None]
        typed = f"/icp {mrkdwn_text(text, people=self.people, channels=CHANNELS)}"  # as Slack shows it
        return self.exchange(who, typed, send, *waits, where=self.spoken_in(channel), timeout=timeout)

    def click(
        self,
        who: Person,
        message: RecordedCall,
        action_id: str,
        until: Callable[[RecordedCall], bool] | None = None,
        *,
        channel: str | None = None,
    ) -> RecordedCall:
        """``who`` clicks the (first) ``action_id`` button of a message the bot sent; waits for
        ``until``, by default for the answer to the click's response_url."""
        button = buttons(message).get(action_id)
        if button is None:
            raise DemoError(f"the message has no {action_id} button: {self.render(message)[:200]}")
        channel = channel or str(message.params.get("channel") or "")
        ts = str((message.response or {}).get("ts") or f"{time.time():.6f}")
        url = self.stand_in.response_url()

        def send() -> HttpResult:
            return self.driver.block_actions(
                action_id,
                value=button.get("value"),
                user=who.user_id,
                channel=channel,
                message_ts=ts,
                response_url=url,
            )

        label = str((button.get("text") or {}).get("text") or action_id)
        return self.exchange(
            who, f"clicks [{label}]", send, until or replied_at(url), where=self.spoken_in(channel)
        )

    def spoken_in(self, channel: str) -> str:
        """Where a person acts: ``#general``, or ``their DM with the bot``."""
        return "their DM with the bot" if channel.startswith("D") else self.place(channel)


def _view_of(call: RecordedCall) -> dict[str, Any]:
    """The view a ``views.open`` call carried (Slack takes it as an object or as JSON text)."""
    view = call.params.get("view")
    if isinstance(view, str):
        try:
            view = json.loads(view)
        except ValueError:
            return {}
    return view if isinstance(view, dict) else {}


def _since(started: float, wait: Callable[[RecordedCall], bool]) -> Callable[[RecordedCall], bool]:
    """``wait``, for the calls made at or after ``started`` only (not a reply to an earlier step)."""
    return lambda c: c.at >= started and wait(c)


def replied_at(url: str) -> Callable[[RecordedCall], bool]:
    """The app's post to this response_url."""
    path = urlsplit(url).path
    return lambda c: c.method == "response_url" and c.path == path


def buttons(call: RecordedCall) -> dict[str, dict[str, Any]]:
    """The message's buttons by action id (the first of each): in actions blocks and accessories."""
    found: dict[str, dict[str, Any]] = {}
    for block in call.blocks:
        elements = block.get("elements", []) if block.get("type") == "actions" else [block.get("accessory")]
        for element in elements:
            if isinstance(element, dict) and element.get("type") == "button":
                found.setdefault(str(element.get("action_id")), element)
    return found


def posted(channel: str, needle: str) -> Callable[[RecordedCall], bool]:
    """A chat.postMessage to ``channel`` whose text includes ``needle``."""
    return lambda c: (
        c.method == "chat.postMessage" and c.params.get("channel") == channel and needle in c.all_text()
    )


@contextmanager
def open_world(data_dir: Path, transcript: Transcript) -> Iterator[World]:
    """Migrate the store, start the stand-in Slack and the app over HTTP; stop both afterwards."""
    from bot.slack.app import build_app
    from bot.slack.server import build_asgi
    from bot.store.db import connect

    data_dir.mkdir(parents=True, exist_ok=True)
    stand_in = StandInSlack().start()
    for person in CAST:
        stand_in.add_user(
            person.user_id,
            name=person.handle,
            real_name=person.real_name,
            profile={"real_name": person.real_name, "display_name": person.handle, "title": person.title},
        )
    settings = demo_settings(data_dir, stand_in.api_url)
    engine = connect(settings.resolved_database_url)
    holder: list[World] = []
    app = build_app(settings, engine=engine, knowledge_factory=lambda: holder[0].knowledge())
    server = AppServer(build_asgi(app, engine=engine, signing_secret=SIGNING_SECRET)).start()
    world = World(settings, engine, stand_in, server, SlackDriver(server.url, stand_in), transcript)
    holder.append(world)
    try:
        yield world
    finally:
        server.stop()
        stand_in.stop()
        engine.dispose()
