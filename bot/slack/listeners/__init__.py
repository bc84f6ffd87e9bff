"""Thin Slack handlers, one package per kind; each module exposes `register(app, ctx)`.

Every listener is named here, in the order Bolt tries them (for messages the first match wins),
so a listener whose module fails to import or lacks ``register`` stops start-up loudly instead
of silently dropping a feature.
"""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt import App

from bot.slack.context import AppContext
from bot.slack.listeners.actions import draft as draft_actions
from bot.slack.listeners.actions import home as home_actions
from bot.slack.listeners.actions import import_kind as import_kind_actions
from bot.slack.listeners.actions import interview as interview_actions
from bot.slack.listeners.actions import review as review_actions
from bot.slack.listeners.actions import score as score_actions
from bot.slack.listeners.commands.icp import listener as icp_command
from bot.slack.listeners.events import app_home, app_mention, assistant, file_shared, lifecycle
from bot.slack.listeners.messages import checkin, file_upload, open_question, other
from bot.slack.listeners.messages import interview as interview_messages
from bot.slack.listeners.shortcuts import score as score_shortcuts
from bot.slack.listeners.views import crm_connect as crm_connect_views
from bot.slack.listeners.views import draft as draft_views

Register = Callable[[App, AppContext], None]

# commands, events, actions, shortcuts, views, messages; alphabetical within a kind, except that a
# check-in reply must come after the interview (which wins) and before chat. The assistant is a
# middleware: it sees every request before any listener, whatever its place here.
REGISTRATIONS: tuple[Register, ...] = (
    icp_command.register,
    app_home.register,
    app_mention.register,
    assistant.register,
    file_shared.register,
    lifecycle.register,
    draft_actions.register,
    home_actions.register,
    import_kind_actions.register,
    interview_actions.register,
    review_actions.register,
    score_actions.register,
    score_shortcuts.register,
    crm_connect_views.register,
    draft_views.register,
    file_upload.register,
    interview_messages.register,
    checkin.register,
    open_question.register,
    other.register,
)


def register_all(app: App, ctx: AppContext) -> None:
    """Attach every listener to ``app``."""
    for register in REGISTRATIONS:
        register(app, ctx)
