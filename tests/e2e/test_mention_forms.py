"""Every way people name someone in `/icp interview` and `/icp forget`, over signed HTTP.

The manifests turn mention escaping on, so a picked person arrives as ``<@U…|name>``; people also
paste raw ids and type ``@name`` or ``@Full Name`` by hand, which the app resolves through
``users.list`` (paginated: the person sits on the second page here)."""

from __future__ import annotations

import pytest

from tests.support.harness import ADMIN_ID, SlackEnv

DANA = "U0DANA"
FORMS = [f"<@{DANA}|dana>", f"<@{DANA}>", DANA, "@dana", "@Dana", "@dana.s", "@Dana Scully", "@dana scully"]


def _people(env: SlackEnv) -> None:
    """Dana, two people called Sam Lee, and 250 others listed before Dana (Slack pages at 200)."""
    for i in range(250):
        env.stand_in.add_user(f"U0A{i:04d}", name=f"person{i}", real_name=f"Person {i}")
    env.stand_in.add_user(
        DANA,
        name="dana",
        real_name="Dana Scully",
        profile={"display_name": "dana.s", "real_name": "Dana Scully"},
    )
    for uid in ("U0SAM1", "U0SAM2"):
        env.stand_in.add_user(uid, name=uid.lower(), real_name="Sam Lee", profile={"real_name": "Sam Lee"})


@pytest.mark.parametrize("form", FORMS)
def test_interview_accepts_every_form(slack_env: SlackEnv, form: str) -> None:
    _people(slack_env)
    reply = slack_env.driver.slash_reply(f"interview {form} role=sales", user_id=ADMIN_ID)
    assert f"Invited <@{DANA}>" in reply.all_text(), reply.all_text()
    if form.startswith("@"):
        listed = slack_env.stand_in.calls_to("users.list")
        assert len(listed) >= 2 and listed[-1].params.get("cursor")  # read past the first page


@pytest.mark.parametrize("form", FORMS)
def test_forget_accepts_every_form(slack_env: SlackEnv, form: str) -> None:
    _people(slack_env)
    asked = slack_env.driver.slash_reply(f"forget {form}", user_id=ADMIN_ID)
    assert f"everything <@{DANA}> said" in asked.text, asked.text
    done = slack_env.driver.slash_reply(f"forget {form} confirm", user_id=ADMIN_ID, timeout=30)
    assert f"<@{DANA}>" in done.text and "To go ahead" not in done.text, done.text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("interview @Sam Lee", "`@Sam Lee` matches 2 people"),
        ("interview @nobody-here", "couldn't find anyone called `@nobody-here`"),
        ("forget @Sam Lee confirm", "`@Sam Lee` matches 2 people"),
        ("forget @nobody-here confirm", "couldn't find anyone called `@nobody-here`"),
    ],
)
def test_unknown_or_ambiguous_handles_are_named_and_nothing_happens(
    slack_env: SlackEnv, text: str, expected: str
) -> None:
    _people(slack_env)
    reply = slack_env.driver.slash_reply(text, user_id=ADMIN_ID)
    assert expected in reply.all_text(), reply.all_text()
    assert not slack_env.stand_in.calls_to("conversations.open")
    assert not slack_env.stand_in.calls_to("chat.postMessage")


@pytest.mark.parametrize("form", [f"<@{DANA}|dana>", DANA, "@dana", "@dana.s"])
def test_remind_sends_the_review_kit_to_a_person_named_in_any_form(slack_env: SlackEnv, form: str) -> None:
    _people(slack_env)
    reply = slack_env.driver.slash_reply(f"remind monthly {form}", user_id=ADMIN_ID)
    assert f"<@{DANA}> (a DM)" in reply.all_text(), reply.all_text()


def test_remind_to_an_unknown_typed_name_is_refused_and_names_it(slack_env: SlackEnv) -> None:
    _people(slack_env)
    reply = slack_env.driver.slash_reply("remind monthly @nobody-here", user_id=ADMIN_ID)
    assert "couldn't find anyone called `@nobody-here`" in reply.all_text(), reply.all_text()
    status = slack_env.driver.slash_reply("remind status", user_id=ADMIN_ID).text
    assert "No review reminder is set yet" in status, status  # nothing was set
