"""Every other message event: acknowledged and ignored.

Registered after the interview listener (modules load in name order), so it only sees what no
other message listener took. Without it Bolt answers such events with 404, and Slack retries
them as if delivery had failed.
"""

from __future__ import annotations

from slack_bolt import App

from bot.slack.context import AppContext


def register(app: App, ctx: AppContext) -> None:
    @app.event("message")
    def ignore_other_messages() -> None:
        """Nothing to do: not part of an interview."""
