"""The Slack layer's shared rules: failures are logged under a reference and apologised for,
"post in the channel, else privately", the owner rules with injected look-ups, and which
workspace a payload comes from."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from slack_bolt.util.utils import get_arg_names_of_callable
from slack_sdk.errors import SlackApiError, SlackRequestError

from bot.services.permissions import OwnerRules
from bot.slack.app import on_error
from bot.slack.failures import report_failure, reported, run_safely
from bot.slack.listeners.commands.icp.dispatch import route
from bot.slack.listeners.commands.icp.registry import REGISTRY, Subcommand
from bot.slack.messaging.share import UNREACHABLE, post_or_reply_privately
from bot.slack.payload import clicked_message, first_action, team_id_of, user_id_of

REFERENCE = re.compile(r"\(ref ([0-9a-f]{8})\)")


class Replies:
    """Stands in for ``respond``: keeps what would have been sent."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def __call__(self, text: str = "", **kwargs: Any) -> None:
        self.sent.append({"text": text, **kwargs})


def boom() -> None:
    raise RuntimeError("secret detail")


# --- failures -------------------------------------------------------------------------------------


def test_run_safely_logs_a_reference_and_the_apology_quotes_it(caplog: pytest.LogCaptureFixture) -> None:
    told: list[str] = []
    with caplog.at_level(logging.ERROR):
        run_safely(boom, what="the thing", apologise=told.append)
    (reference,) = told
    record = next(r for r in caplog.records if "the thing failed" in r.getMessage())
    assert reference in record.getMessage() and record.exc_info is not None


def test_an_apology_that_cannot_be_delivered_is_only_logged(caplog: pytest.LogCaptureFixture) -> None:
    def unreachable(reference: str) -> None:
        raise OSError("Slack is down")

    with caplog.at_level(logging.ERROR):
        reference = report_failure("work", apologise=unreachable, error=RuntimeError("x"))
    assert f"could not deliver the apology for ref {reference}" in caplog.text


def test_the_error_handler_apologises_privately_where_there_is_a_response_url() -> None:
    replies = Replies()
    on_error(RuntimeError("secret detail"), {"type": "block_actions", "response_url": "https://x"}, replies)
    (sent,) = replies.sent
    assert sent["text"].startswith("Sorry, that didn't work on our side (ref ")
    assert REFERENCE.search(sent["text"]) and "secret" not in sent["text"]
    assert sent["response_type"] == "ephemeral" and sent["replace_original"] is False
    nobody = Replies()
    on_error(RuntimeError("x"), {"type": "event_callback", "event": {"type": "app_home_opened"}}, nobody)
    assert nobody.sent == []  # an event has no response_url: logged only


def test_a_reported_listener_keeps_its_arguments_for_bolt_and_never_raises() -> None:
    calls: list[str] = []

    def on_click(ack: Callable[[], None], body: dict[str, Any], respond: Callable[..., Any]) -> None:
        ack()
        boom()

    wrapped = reported(on_click)
    assert get_arg_names_of_callable(wrapped) == ["ack", "body", "respond"]
    replies = Replies()
    wrapped(ack=lambda: calls.append("ack"), body={"response_url": "https://x"}, respond=replies)
    assert calls == ["ack"]
    (sent,) = replies.sent
    assert REFERENCE.search(sent["text"]) and sent["response_type"] == "ephemeral"


def test_a_failing_subcommand_is_answered_with_its_name_and_a_reference(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def handler(*_: Any) -> None:
        boom()

    monkeypatch.setitem(REGISTRY, "boom", Subcommand("boom", "fails", "boom", handler))
    ctx = SimpleNamespace(settings=SimpleNamespace(owner_ids=frozenset(), owners_by_team={}), engine=None)
    replies = Replies()
    route({"team_id": "T1", "user_id": "U1", "text": "boom"}, ctx=ctx, client=None, respond=replies)  # type: ignore[arg-type]
    (sent,) = replies.sent
    assert sent["text"].startswith("Sorry, `/icp boom` failed on our side (ref ")
    assert "secret" not in sent["text"]


# --- post in the channel, else privately -----------------------------------------------------------


def refused(error: str) -> Callable[[], str]:
    def post() -> str:
        raise SlackApiError("refused", {"ok": False, "error": error})  # type: ignore[no-untyped-call]

    return post


def test_a_refused_post_goes_privately_with_slacks_reason() -> None:
    assert (
        post_or_reply_privately(lambda: "posted", lambda e: f"private {e}", channel="C1", what="x")
        == "posted"
    )
    got = post_or_reply_privately(refused("not_in_channel"), lambda e: f"private {e}", channel="C1", what="x")
    assert got == "private not_in_channel"


def test_only_the_named_errors_fall_back() -> None:
    only = frozenset({"not_in_channel"})
    with pytest.raises(SlackApiError):
        post_or_reply_privately(refused("invalid_blocks"), lambda e: e, channel="C1", what="x", only_for=only)


def test_an_unreachable_slack_falls_back_only_when_asked() -> None:
    def down() -> str:
        raise SlackRequestError("connection refused")

    with pytest.raises(SlackRequestError):
        post_or_reply_privately(down, lambda e: e, channel="C1", what="x")
    assert (
        post_or_reply_privately(down, lambda e: e, channel="C1", what="x", when_unreachable=True)
        == UNREACHABLE
    )


# --- owner rules with injected look-ups ------------------------------------------------------------


class People:
    def __init__(self, installer: str | None, admins: set[str]) -> None:
        self._installer = installer
        self.admins = admins
        self.asked: list[str] = []

    def installer(self, team_id: str) -> str | None:
        return self._installer

    def added_owners(self, team_id: str) -> frozenset[str]:
        return frozenset({"U0ADDED"}) if team_id == "T1" else frozenset()

    def is_admin(self, user_id: str) -> bool:
        self.asked.append(user_id)
        return user_id in self.admins


def test_configured_owners_win_and_nobody_is_looked_up() -> None:
    people = People("U0INSTALL", {"U0ADMIN"})
    rules = OwnerRules(configured=frozenset({"U0B", "U0A"}), people=people)
    assert rules.is_owner(team_id="T1", user_id="U0A")
    assert not rules.is_owner(team_id="T1", user_id="U0ADMIN")
    assert people.asked == []
    assert rules.hint(team_id="T1") == "ICP owners here: <@U0A>, <@U0B>."


def test_without_configuration_the_installer_and_admins_own_the_icp() -> None:
    people = People("U0INSTALL", {"U0ADMIN"})
    rules = OwnerRules(configured=frozenset(), people=people)
    assert rules.is_owner(team_id="T1", user_id="U0INSTALL") and people.asked == []
    assert rules.is_owner(team_id="T1", user_id="U0ADMIN")
    assert not rules.is_owner(team_id="T1", user_id="U0MEMBER")
    assert not rules.is_owner(team_id="T1", user_id="")
    refusal = rules.refusal(team_id="T1", action="import data")
    assert refusal.startswith("Sorry, only ICP owners can import data.") and "<@U0INSTALL>" in refusal
    assert OwnerRules(configured=frozenset(), people=People(None, set())).hint(team_id="T2") == (
        "ICP owners here are the workspace admins and owners."
    )


def test_added_owners_own_the_icp_in_their_workspace_only() -> None:
    rules = OwnerRules(configured=frozenset(), people=People(None, set()))
    assert rules.is_owner(team_id="T1", user_id="U0ADDED")
    assert not rules.is_owner(team_id="T2", user_id="U0ADDED")
    assert "<@U0ADDED>" in rules.hint(team_id="T1")


def test_owners_configured_per_workspace_apply_there_only() -> None:
    people = People("U0INSTALL", {"U0ADMIN"})
    rules = OwnerRules(configured=frozenset(), people=people, by_team={"T1": frozenset({"U0A"})})
    assert rules.is_owner(team_id="T1", user_id="U0A")
    assert not rules.is_owner(team_id="T1", user_id="U0INSTALL")
    assert not rules.is_owner(team_id="T9", user_id="U0A")  # elsewhere the defaults apply
    assert rules.is_owner(team_id="T9", user_id="U0INSTALL")


# --- who and where ---------------------------------------------------------------------------------

CLICK = {
    "type": "block_actions",
    "team": {"id": "T1"},
    "user": {"id": "U1", "team_id": "T2"},
    "container": {"channel_id": "C1", "message_ts": "1.2"},
    "channel": {"id": "C9"},
    "message": {"ts": "9.9"},
    "actions": [{"action_id": "a", "value": "7"}],
}


@pytest.mark.parametrize(
    ("body", "team"),
    [
        (CLICK, "T1"),
        ({**CLICK, "team": None}, "T2"),  # org-wide installs send no team on a click
        (
            {"type": "view_submission", "team": None, "user": {"team_id": "T2"}, "view": {"team_id": "T3"}},
            "T3",
        ),
        ({"command": "/icp", "team_id": "T4"}, "T4"),
        ({"type": "event_callback", "team_id": "T5", "event": {"team": "T6"}}, "T5"),
        ({"type": "event_callback", "event": {"view": {"team_id": "T7"}, "team": "T8"}}, "T7"),
        ({"type": "event_callback", "event": {"team": "T8"}}, "T8"),
        ({"type": "block_actions", "team": "not an object"}, ""),
    ],
)
def test_team_id_of(body: dict[str, Any], team: str) -> None:
    assert team_id_of(body) == team


def test_click_readers() -> None:
    assert user_id_of(CLICK) == "U1"
    assert first_action(CLICK) == ("a", "7")
    assert clicked_message(CLICK) == ("C1", "1.2")
    assert clicked_message({"channel": {"id": "C9"}, "message": {"ts": "9.9"}}) == ("C9", "9.9")
    assert first_action({"actions": []}) == ("", "") and user_id_of({}) == ""
