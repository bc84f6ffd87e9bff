"""Prometheus metrics of one app, in its own registry (never the process-global one).

``Metrics()`` is built once per app by ``icp serve`` (or a test) and carried in the Slack
``AppContext``; lower layers that count something (the LLM client, the reminder runner) are
handed the same object, so two apps in one process (the tests build many) never mix their
numbers. ``GET /metrics`` renders ``exposition()``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

__all__ = ["CONTENT_TYPE_LATEST", "KINDS", "Metrics", "RequestKind"]

RequestKind = Literal["event", "command", "action", "view", "shortcut", "options", "other"]
KINDS: tuple[RequestKind, ...] = ("event", "command", "action", "view", "shortcut", "options", "other")
# Slack allows 3 s for an ack: buckets are dense below that.
ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0)


@dataclass(eq=False)
class Metrics:
    """Every metric the bot exports, registered in ``registry`` (one per app)."""

    registry: CollectorRegistry = field(default_factory=lambda: CollectorRegistry(auto_describe=True))

    def __post_init__(self) -> None:
        r = self.registry
        self.requests = Counter(
            "icp_slack_requests", "Slack requests received, by kind.", ["kind"], registry=r
        )
        self.acks = Counter(
            "icp_slack_acks", "Slack requests answered (acknowledged), by kind and HTTP status.",
            ["kind", "status"], registry=r,
        )  # fmt: skip
        self.ack_seconds = Histogram(
            "icp_slack_ack_seconds", "Time from receiving a Slack request to its ack, by kind.",
            ["kind"], buckets=ACK_BUCKETS, registry=r,
        )  # fmt: skip
        self.scores = Counter("icp_scores_served", "Account scores shown to people.", registry=r)
        self.drafts = Counter(
            "icp_drafts", "ICP drafts made, by source (llm or offline).", ["source"], registry=r
        )
        self.llm_calls = Counter(
            "icp_llm_calls", "Language model calls, by kind and outcome.", ["kind", "outcome"], registry=r
        )
        self.llm_tokens = Counter(
            "icp_llm_tokens", "Language model tokens, by type (prompt, completion).", ["type"], registry=r
        )
        self.llm_errors = Counter(
            "icp_llm_errors", "Failed language model attempts (each retry counts).", registry=r
        )
        self.llm_retries = Counter("icp_llm_retries", "Language model attempts after the first.", registry=r)
        self.reminders = Counter(
            "icp_reminders_sent", "Reminders sent, by kind (review, interview).", ["kind"], registry=r
        )
        self.import_rows = Counter(
            "icp_import_rows",
            "CSV rows read by imports, by dataset and how the import ended (imported, unchanged, rejected, failed).",
            ["dataset", "outcome"],
            registry=r,
        )
        self.queue_depth = Gauge(
            "icp_queue_depth", "Work waiting for a worker, by queue.", ["queue"], registry=r
        )
        for kind in KINDS:  # present from the start, so a dashboard sees zeros, not gaps
            self.requests.labels(kind)
            self.ack_seconds.labels(kind)

    def track_queue(self, name: str, depth: Callable[[], float]) -> None:
        """Report ``depth()`` as the queue's length whenever metrics are scraped."""
        self.queue_depth.labels(name).set_function(depth)

    def exposition(self) -> bytes:
        """The registry in Prometheus text format (serve with ``CONTENT_TYPE_LATEST``)."""
        return generate_latest(self.registry)
