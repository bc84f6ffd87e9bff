"""When something fails: one log line with a short reference, and a short apology, never a trace.

Bolt hands a listener's unhandled error to the app's error handler (``on_error`` in
bot/slack/app.py). Two kinds of work need a way round it, and get the same report:

* a listener that acks and then works inline (``@reported``): Bolt marks the response it already
  acknowledged as failed in place, so depending on timing Slack gets a 500 for a request whose
  200 was on its way (found by the e2e suite: a failing click answered 500 now and then);
* work on our own pool after the ack (``submit_safely``): out of Bolt's sight altogether, a
  Future keeps its exception and nobody asks for it.

Each report logs the traceback under a reference that the apology quotes, so a person's report
finds the log line.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from bot.slack.payload import first_action
from bot.slack.respond import note_privately
from bot.slack.work_pools import PoolFull

if TYPE_CHECKING:
    from concurrent.futures import Executor

log = logging.getLogger(__name__)

APOLOGY = "Sorry, that didn't work on our side (ref {reference}). Please try again in a minute."

Apologise = Callable[[str], object]
"""Tells the person something failed; given the reference of the log line."""

Listener = TypeVar("Listener", bound=Callable[..., Any])


def new_reference() -> str:
    return uuid.uuid4().hex[:8]


def with_reference(text: str, reference: str) -> str:
    """An apology of its own wording, with the reference appended."""
    return f"{text} (ref {reference})"


def report_failure(
    what: str, *, apologise: Apologise | None = None, error: BaseException | None = None
) -> str:
    """Log the error being handled (or ``error``) under a new reference, then apologise; the reference."""
    reference = new_reference()
    log.error("%s failed (ref %s)", what, reference, exc_info=error or True)
    if apologise is not None:
        try:
            apologise(reference)
        except Exception:  # Slack unreachable too: the log line above is all we can do
            log.exception("could not deliver the apology for ref %s", reference)
    return reference


def privately(respond: Callable[..., Any] | None, body: Mapping[str, Any]) -> Apologise | None:
    """An apology only the person sees, through ``respond``; None without a response_url."""
    if respond is None or not body.get("response_url"):
        return None
    return lambda reference: note_privately(respond, body, APOLOGY.format(reference=reference))


def request_name(body: Any) -> str:
    """What the request was, for the log line: ``/icp``, ``block_actions icp_score_why``..."""
    if not isinstance(body, Mapping):
        return "request"
    if isinstance(body.get("command"), str):
        return str(body["command"])
    event, view = body.get("event"), body.get("view")
    detail = (
        event.get("type")
        if isinstance(event, Mapping)
        else first_action(body)[0] or (view.get("callback_id") if isinstance(view, Mapping) else None)
    )
    return f"{body.get('type') or 'request'} {detail or ''}".strip()


def reported(listener: Listener) -> Listener:
    """A Bolt listener that acks first and then works inline: a failure is reported as the app's
    error handler would (logged, apologised for through the response_url), but never reaches
    Bolt, which could turn the acknowledged 200 into a 500. Bolt still sees the listener's own
    arguments (it reads them through ``functools.wraps``)."""

    @functools.wraps(listener)
    def run(**kwargs: Any) -> Any:
        try:
            return listener(**kwargs)
        except Exception:  # after the ack; see the module docstring
            body = kwargs.get("body") or {}
            report_failure(request_name(body), apologise=privately(kwargs.get("respond"), body))
            return None

    return run  # type: ignore[return-value]


def run_safely(work: Callable[[], object], *, what: str, apologise: Apologise | None = None) -> None:
    """Run ``work``; a failure is reported (logged, apologised for) instead of raised."""
    try:
        work()
    except Exception:  # the top of a pool thread: nothing above would even log it
        report_failure(what, apologise=apologise)


def submit_safely(
    pool: Executor,
    work: Callable[[], object],
    *,
    what: str,
    apologise: Apologise | None = None,
    busy: Callable[[], object] | None = None,
) -> None:
    """Run ``work`` on ``pool`` (after the ack) through ``run_safely``. When a bounded pool is
    full, ``busy`` tells the person to try again later; without it the refusal is reported."""
    try:
        pool.submit(run_safely, work, what=what, apologise=apologise)
    except PoolFull as full:
        if busy is None:
            report_failure(what, apologise=apologise, error=full)
            return
        log.warning("%s refused: %s", what, full)
        try:
            busy()
        except Exception:  # Slack unreachable: the warning above is all we can do
            log.exception("could not tell the person that %s was refused", what)
