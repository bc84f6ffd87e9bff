"""Parsing `/icp interview` arguments and the reminder delay setting."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from bot.settings import Settings
from bot.slack.listeners.commands.icp.interview import (
    MAX_INVITEES,
    UsageError,
    parse_interview_args,
    parse_role,
)
from bot.slack.messaging.interview_reminders import reminder_delay
from bot.store.models import GtmRole


def test_mentions_in_both_escaped_forms_and_a_role() -> None:
    args = parse_interview_args("<@U012AB|dana> <@W0XYZ9>  <@U012AB|dana again> role=Customer-Success")
    assert args.users == ["U012AB", "W0XYZ9"]
    assert args.role == GtmRole.customer_success and not args.me


@pytest.mark.parametrize(
    ("text", "role"),
    [
        ("sales", GtmRole.sales),
        ("CS", GtmRole.customer_success),
        ("customer success", GtmRole.customer_success),
        ("pm", GtmRole.product),
        ("founder", GtmRole.leadership),
        ("other", GtmRole.other),
    ],
)
def test_role_names_and_aliases(text: str, role: GtmRole) -> None:
    assert parse_role(text) == role


def test_me_and_role_colon() -> None:
    args = parse_interview_args("me role:product")
    assert args.me and args.users == [] and args.role == GtmRole.product


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Whom should I interview?"),
        ("role=sales", "Whom should I interview?"),
        ("@dana", "@-autocomplete"),
        ("<@U1AB> role=", "`role=` needs a value"),
        ("<@U1AB> role=wizard", "I don't know the role `wizard`. Roles: sales, marketing"),
        ("<@U1AB> role=sales role=sales", "Give `role=` once"),
        ("<@U1AB> tomorrow", "I didn't understand `tomorrow`"),
        ("<@U1AB> <script>", "I didn't understand `&lt;script&gt;`"),
    ],
)
def test_bad_arguments_say_what_to_do(text: str, message: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_interview_args(text)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_too_many_invitees() -> None:
    text = " ".join(f"<@U{i:06d}>" for i in range(MAX_INVITEES + 1))
    with pytest.raises(UsageError, match=f"invite at most {MAX_INVITEES}"):
        parse_interview_args(text)
    assert len(parse_interview_args(text.rsplit(" ", 1)[0]).users) == MAX_INVITEES


USER_IDS = st.from_regex(r"[UW][A-Z0-9]{4,10}", fullmatch=True)


@given(st.lists(USER_IDS, min_size=1, max_size=8), st.sampled_from([None, *GtmRole]), st.booleans())
def test_every_mentioned_user_is_found_once_in_order(
    users: list[str], role: GtmRole | None, me: bool
) -> None:
    words = [f"<@{u}|name {i}>" if i % 2 else f"<@{u}>" for i, u in enumerate(users)]
    if role is not None:
        words.insert(len(words) // 2, f"role={role.value}")
    if me:
        words.append("me")
    args = parse_interview_args(" ".join(words))
    assert args.users == list(dict.fromkeys(users))
    assert args.role == role and args.me == me


@given(st.text(max_size=200))
def test_any_text_parses_or_fails_with_a_usage_error(text: str) -> None:
    try:
        args = parse_interview_args(text)
    except UsageError as exc:
        assert str(exc)
    else:
        assert args.users or args.me


def test_reminder_delay_comes_from_settings() -> None:
    assert reminder_delay(Settings(_env_file=None)) == timedelta(hours=48)
    assert reminder_delay(Settings(_env_file=None, interview_reminder_hours=1.5)) == timedelta(minutes=90)
    with pytest.raises(ValidationError, match="interview_reminder_hours"):
        Settings(_env_file=None, interview_reminder_hours=0)
