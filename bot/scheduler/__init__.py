"""Review reminders (and interview nudges) fired on time, once, by however many replicas run.

Design choice: an atomic claim on the reminder row, no scheduler library. Each tick lists the
due reminders (``enabled AND next_run_at <= now AND (claimed_until IS NULL OR claimed_until <
now)``) and claims each with one conditional ``UPDATE ... WHERE id = ? AND <the same condition>``;
only the replica whose UPDATE changed a row (``rowcount == 1``) sends it. The database serialises
the competing UPDATEs (SQLite's write lock; PostgreSQL's row lock, after which READ COMMITTED
re-checks the WHERE), so this works the same on both, needs no extra table, lock service or
long-held transaction, and survives restarts because the schedule lives in the row. After
sending, the holder sets ``next_run_at`` to the first slot after now (catch-up after downtime
fires once) and clears the claim. If the send fails, nobody retries before ``RETRY_DELAY``;
if the holder dies mid-send, the claim expires after ``SCHEDULER_CLAIM_SECONDS`` and another
replica sends it (at-least-once only in that crash window: a holder killed after Slack accepted the
post but before it recorded the firing costs one extra post, which the replicas suite proves).

Time is injected (``now``/a clock callable), so tests never sleep. ``icp serve`` runs the loop
in a thread (``SCHEDULER_POLL_SECONDS``); ``icp reminders run-due`` does one pass for cron.
Interview reminders (``bot.slack.messaging.interview_reminders``) run in the same tick; they claim
through the audit log under a row lock, with the same exactly-once result.
"""

from __future__ import annotations

from typing import Any

__all__ = ["SchedulerLoop", "TickReport", "run_due", "worker_id"]


def __getattr__(name: str) -> Any:
    # Lazy: services import ``bot.services.reviews.cadence`` and the runner imports those services.
    if name == "SchedulerLoop":
        from bot.scheduler.loop import SchedulerLoop

        return SchedulerLoop
    if name in ("TickReport", "run_due"):
        from bot.scheduler import runner

        return getattr(runner, name)
    if name == "worker_id":  # the claims are the store's; the CRM sync takes them too
        from bot.store.claims import worker_id

        return worker_id
    raise AttributeError(f"module 'bot.scheduler' has no attribute {name!r}")
