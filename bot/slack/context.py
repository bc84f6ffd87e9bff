"""What listeners and services share: settings, the SQL engine, the knowledge store, a clock.

Built once by `build_app` and handed to every listener module's `register(app, ctx)`: no
globals, so tests build as many independent apps as they like.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bot.metrics import Metrics
from bot.settings import Settings
from bot.slack.respond import ReplyPool
from bot.slack.token_bucket import Rate
from bot.slack.work_pools import BoundedExecutor, Pool, UserLimiter
from bot.store.db import Engine

if TYPE_CHECKING:
    from bot.knowledge.store import KnowledgeStore
    from bot.llm.client import LlmClient


def utc_now() -> datetime:
    return datetime.now(UTC)


HOME_THREADS, HOME_QUEUE = 1, 32  # App Home renders at once, and waiting (one per person)


@dataclass
class AppContext:
    settings: Settings
    engine: Engine
    knowledge_factory: Callable[[], KnowledgeStore] | None = None
    # The language model client (None: offline). Unset means built from settings on first use.
    llm_factory: Callable[[], LlmClient | None] | None = None
    clock: Callable[[], datetime] = utc_now
    # Slow work after an ack (commands, clicks, scoring, posting) runs on ``work``, chat answers
    # on ``chat``, not on Bolt's small listener pool: an ack must never queue behind another
    # request's work (Slack allows 3 s), and a slow model never holds up a command. Few threads
    # (COMMAND_THREADS, CHAT_THREADS): the work is mostly Python holding the GIL, and every extra
    # runnable thread makes an ack wait longer (benchmarks/slack_load.py: ack p99 fell with
    # 8 → 4 → 2). Both are bounded and limit each person (bot/slack/work_pools.py); their tasks
    # run in the submitting request's context (logs name the request).
    commands: Pool = field(init=False)
    chat: Pool = field(init=False)
    # App Home renders (on opening the tab) have a pool of their own: one that waits on a slow
    # store never holds up a command's reply, and a burst of openings is dropped, not queued.
    home: BoundedExecutor = field(init=False)
    # Replies to response_urls reuse kept-alive connections (bot/slack/respond.py).
    replies: ReplyPool = field(default_factory=ReplyPool)
    # This app's Prometheus registry (bot/metrics.py), shown by GET /metrics.
    metrics: Metrics = field(default_factory=Metrics)
    _knowledge: KnowledgeStore | None = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _llm: tuple[LlmClient | None] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        s = self.settings
        self.commands = Pool(
            BoundedExecutor(threads=s.command_threads, queue=s.command_queue, name="commands"),
            UserLimiter(Rate(burst=s.command_user_burst, per_minute=s.command_user_per_minute)),
        )
        self.chat = Pool(
            BoundedExecutor(threads=s.chat_threads, queue=s.chat_queue, name="chat"),
            UserLimiter(Rate(burst=s.chat_user_burst, per_minute=s.chat_user_per_minute)),
        )
        self.home = BoundedExecutor(threads=HOME_THREADS, queue=HOME_QUEUE, name="home")
        for pool in (self.commands, self.chat):
            self.metrics.track_queue(pool.name, pool.executor.waiting)

    @property
    def work(self) -> BoundedExecutor:
        """The commands pool's executor: where commands and clicks run after their ack."""
        return self.commands.executor

    @property
    def knowledge(self) -> KnowledgeStore | None:
        """The vector store, opened on first use (loading the embedding model costs ~0.5 s)."""
        if self._knowledge is None and self.knowledge_factory is not None:
            with self._lock:
                if self._knowledge is None:
                    self._knowledge = self.knowledge_factory()
        return self._knowledge

    @property
    def llm(self) -> LlmClient | None:
        """The chat model client from settings (``build_llm``), built on first use; None when offline."""
        if self._llm is None:
            with self._lock:
                if self._llm is None:
                    self._llm = (self._build_llm(),)
        return self._llm[0]

    def _build_llm(self) -> LlmClient | None:
        if self.llm_factory is not None:
            return self.llm_factory()
        from bot.llm.factory import build_llm

        return build_llm(self.settings, metrics=self.metrics)
