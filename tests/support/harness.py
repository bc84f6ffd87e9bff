"""End-to-end harness: a stand-in Slack Web API, the real app over HTTP, and a signed-request driver.

* :class:`StandInSlack` is a real HTTP server on 127.0.0.1 that answers Web API methods with
  plausible payloads, records every call (method, params, JSON body, headers), accepts
  ``response_url`` posts, serves uploaded files, and can be told to answer 429 (with
  Retry-After) or 500 a number of times.
* :class:`AppServer` serves the Bolt app (``bot.slack.server.build_asgi``) with uvicorn in a thread
  on a free port.
* :class:`SlackDriver` sends requests of the real Slack shapes, signed with the app's signing
  secret, to ``/slack/events``.
* :func:`assert_valid_blocks` / :func:`assert_valid_view` check Block Kit with slack_sdk.models.

The stand-in, the server and the driver live in :mod:`bot.demo.stand_in` (``icp demo`` uses them
too) and are re-exported here, so tests import everything from ``tests.support.harness``.

Nothing here reaches Slack's cloud; everything binds 127.0.0.1 and is torn down by the fixtures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from slack_bolt import App
from sqlalchemy.engine import Engine

from bot.demo.stand_in.blockkit import KNOWN_BLOCK_TYPES, assert_valid_blocks, assert_valid_view
from bot.demo.stand_in.driver import AppServer, HttpResult, SlackDriver, http_request, sign
from bot.demo.stand_in.slack_api import (
    ADMIN_ID,
    APP_ID,
    BLOCK_FIELDS,
    BOT_ID,
    BOT_TOKEN,
    BOT_USER_ID,
    MEMBER_ID,
    SIGNING_SECRET,
    TEAM_DOMAIN,
    TEAM_ID,
    VIEW_FIELDS,
    RecordedCall,
    Responder,
    StandInSlack,
    StoredFile,
    UploadedFile,
    free_port,
)
from bot.knowledge.store import KnowledgeStore, knowledge_store_from
from bot.settings import Settings

__all__ = [
    "ADMIN_ID",
    "APP_ID",
    "BLOCK_FIELDS",
    "BOT_ID",
    "BOT_TOKEN",
    "BOT_USER_ID",
    "KNOWN_BLOCK_TYPES",
    "MEMBER_ID",
    "SIGNING_SECRET",
    "TEAM_DOMAIN",
    "TEAM_ID",
    "VIEW_FIELDS",
    "AppServer",
    "HttpResult",
    "RecordedCall",
    "Responder",
    "SlackDriver",
    "SlackEnv",
    "StandInSlack",
    "StoredFile",
    "UploadedFile",
    "assert_valid_blocks",
    "assert_valid_view",
    "free_port",
    "http_request",
    "sign",
]

# --------------------------------------------------------------------------- one running world


@dataclass
class SlackEnv:
    """One running world: what the tests drive (``driver``) and what they inspect."""

    settings: Settings
    engine: Engine
    stand_in: StandInSlack
    app: App
    server: AppServer
    driver: SlackDriver
    knowledge_path: Path
    _knowledge: list[KnowledgeStore] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.server.url

    def knowledge(self) -> KnowledgeStore:
        """The same knowledge store instance the app uses (opened on first use)."""
        if not self._knowledge:
            self._knowledge.append(knowledge_store_from(self.settings))
        return self._knowledge[0]
