"""Platform behaviour end to end: signatures, redelivery, the /icp router, permissions, health,
rate limits, and robustness against malformed payloads. Real HTTP both ways, real SQLite."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from urllib.parse import urlencode, urlsplit

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.slack.listeners.commands.icp.registry import REGISTRY
from bot.slack.server import build_asgi
from bot.slack.views.blocks_text import escape
from bot.store.db import make_engine
from bot.store.ledger import ledger_engine
from tests.support.harness import (
    ADMIN_ID,
    MEMBER_ID,
    SIGNING_SECRET,
    AppServer,
    SlackEnv,
    http_request,
    sign,
)

PRODUCT_TABLES = ("workspace", "stakeholder", "interview", "answer", "audit_log", "icp_version", "import_run")


def product_rows(env: SlackEnv) -> dict[str, int]:
    with env.engine.connect() as conn:
        return {t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one() for t in PRODUCT_TABLES}


def receipts(env: SlackEnv) -> int:
    with ledger_engine(env.engine).connect() as conn:  # an SQLite store keeps it in its own file
        return conn.execute(sa.text("SELECT count(*) FROM slack_delivery_receipt")).scalar_one()


def probe(env: SlackEnv) -> None:
    """A valid request answered end to end: anything sent before it has been fully handled too
    (requests are acknowledged in order and the reply comes after the handler ran)."""
    env.driver.slash_reply("help")


# ------------------------------------------------------------------ signature and timestamp


def test_bad_signature_is_401_and_does_nothing(slack_env: SlackEnv) -> None:
    driver = slack_env.driver
    before = product_rows(slack_env)
    fields = driver.slash_fields("show")
    wrong_secret = driver.post_form(fields, secret="not-the-secret")
    forged = driver.post_form(fields, signature="v0=" + "0" * 64)
    event = driver.message_im("hello", signature="v0=deadbeef")
    assert [wrong_secret.status, forged.status, event.status] == [401, 401, 401]
    time.sleep(0.3)  # give a wrongly accepted request the chance to show itself
    assert slack_env.stand_in.calls == []
    assert product_rows(slack_env) == before
    assert receipts(slack_env) == 0
    # The same request signed properly is answered: the 401s above were the signature's doing.
    assert driver.post_form(fields).status == 200
    slack_env.stand_in.wait_for("response_url", lambda c: c.path == urlsplit(fields["response_url"]).path)


def test_stale_timestamp_is_401(slack_env: SlackEnv) -> None:
    driver = slack_env.driver
    six_minutes_ago = int(time.time()) - 6 * 60
    result = driver.slash("help", timestamp=six_minutes_ago)  # correctly signed, but old
    assert result.status == 401
    future = driver.slash("help", timestamp=int(time.time()) + 6 * 60)
    assert future.status == 401
    time.sleep(0.3)
    assert slack_env.stand_in.calls == []
    assert receipts(slack_env) == 0


def test_unsigned_garbage_is_401_not_400(slack_env: SlackEnv) -> None:
    result = slack_env.driver.post(
        b"payload=%7Bnot-json", content_type="application/x-www-form-urlencoded", signature="v0=00"
    )
    assert result.status == 401
    signed = slack_env.driver.post(b"payload=%7Bnot-json", content_type="application/x-www-form-urlencoded")
    assert signed.status == 400


# ------------------------------------------------------------------ redelivery


def test_redelivered_slash_command_runs_once(slack_env: SlackEnv) -> None:
    driver = slack_env.driver
    fields = driver.slash_fields("help")
    path = urlsplit(fields["response_url"]).path
    assert driver.post_form(fields).status == 200
    slack_env.stand_in.wait_for("response_url", lambda c: c.path == path)
    for attempt in (1, 2, 3):
        assert driver.post_form(fields, retry_num=attempt).status == 200
    probe(slack_env)
    assert len(slack_env.stand_in.calls_to("response_url")) == 2  # the first /icp help and the probe
    assert len([c for c in slack_env.stand_in.calls_to("response_url") if c.path == path]) == 1


def test_redelivered_event_is_claimed_once(slack_env: SlackEnv) -> None:
    driver = slack_env.driver
    envelope = driver.event_envelope({"type": "tokens_revoked", "tokens": {"oauth": [], "bot": []}})
    assert driver.post_json(envelope).status == 200
    assert driver.post_json(envelope, retry_num=1, retry_reason="http_timeout").status == 200
    assert driver.post_json(envelope, retry_num=2).status == 200
    other = driver.event_envelope({"type": "tokens_revoked", "tokens": {"oauth": [], "bot": []}})
    assert driver.post_json(other).status == 200
    assert receipts(slack_env) == 2


# ------------------------------------------------------------------ the /icp router


def test_help_lists_every_registered_subcommand_with_examples(slack_env: SlackEnv) -> None:
    reply = slack_env.driver.slash_reply("help")
    text = reply.all_text()
    specs = {spec.name: spec for spec in REGISTRY.values()}
    assert {"help", "show", "personas", "forget", "import", "draft", "review", "remind", "export"} <= set(
        specs
    )
    for name, spec in specs.items():
        # Usage placeholders like <name> are escaped, or Slack would read them as links.
        assert f"/icp {escape(spec.usage)}" in text, name
        for example in spec.examples:
            assert f"/icp {escape(example)}" in text, example
    assert reply.params.get("response_type", "ephemeral") == "ephemeral"


def test_empty_command_is_help(slack_env: SlackEnv) -> None:
    assert "/icp help" in slack_env.driver.slash_reply("").all_text()


def test_help_for_one_command(slack_env: SlackEnv) -> None:
    text = slack_env.driver.slash_reply("help forget").all_text()
    assert "/icp forget" in text and "/icp show" not in text


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("frobnicate now", "`/icp frobnicate`"),
        ("shwo", "Did you mean `/icp show`"),
        ("PERSONA", "Did you mean `/icp personas`"),
        ("<!channel> hi", "&lt;!channel&gt;"),
        ('"unbalanced quote', "/icp help"),
    ],
)
def test_unknown_subcommand_gets_a_short_helpful_answer(
    slack_env: SlackEnv, typed: str, expected: str
) -> None:
    reply = slack_env.driver.slash_reply(typed)
    assert "/icp help" in reply.text
    assert expected in reply.text
    assert len(reply.text) < 300
    assert "Traceback" not in reply.text


def test_show_and_personas_say_none_yet(slack_env: SlackEnv) -> None:
    show = slack_env.driver.slash_reply("show").text
    assert "no ICP yet" in show and "/icp import" in show and "/icp draft" in show
    assert "not a version number" in slack_env.driver.slash_reply("show latest-ish").text
    assert "No personas yet" in slack_env.driver.slash_reply("personas").text


# ------------------------------------------------------------------ permissions


def test_owner_only_refusal_names_the_configured_owners(make_slack_env: Callable[..., SlackEnv]) -> None:
    env = make_slack_env(icp_owners="U0OWNER1, U0OWNER2")
    before = product_rows(env)
    reply = env.driver.slash_reply(f"forget <@{ADMIN_ID}> confirm", user_id=MEMBER_ID)
    assert "only ICP owners" in reply.text
    assert "<@U0OWNER1>" in reply.text and "<@U0OWNER2>" in reply.text
    assert product_rows(env) == before
    allowed = env.driver.slash_reply(f"forget <@{ADMIN_ID}>", user_id="U0OWNER2")
    assert "permanently erases" in allowed.text  # owners get to the confirmation step
    # With ICP_OWNERS set, being a workspace admin is not enough, and Slack is not even asked.
    assert "only ICP owners" in env.driver.slash_reply("import", user_id=ADMIN_ID).text
    assert env.stand_in.calls_to("users.info") == []


def test_without_configured_owners_admins_own_the_icp(slack_env: SlackEnv) -> None:
    refusal = slack_env.driver.slash_reply("import", user_id=MEMBER_ID).text
    assert "only ICP owners" in refusal and "workspace admins" in refusal
    allowed = slack_env.driver.slash_reply("import", user_id=ADMIN_ID).text
    assert "DM" in allowed or "direct message" in allowed
    asked = {c.params.get("user") for c in slack_env.stand_in.calls_to("users.info")}
    assert asked == {MEMBER_ID, ADMIN_ID}


def test_everyone_can_read(slack_env: SlackEnv) -> None:
    for name in ("help", "show", "personas", "export"):
        assert "only ICP owners" not in slack_env.driver.slash_reply(name, user_id=MEMBER_ID).text


def test_forget_needs_a_real_mention_and_confirmation(slack_env: SlackEnv) -> None:
    driver = slack_env.driver
    assert "Usage" in driver.slash_reply("forget", user_id=ADMIN_ID).text
    assert "couldn't find anyone called `@ana`" in driver.slash_reply("forget @ana", user_id=ADMIN_ID).text
    ask = driver.slash_reply("forget <@U0SOMEONE|someone>", user_id=ADMIN_ID).text
    assert "confirm" in ask and "<@U0SOMEONE>" in ask
    assert product_rows(slack_env)["audit_log"] == 0


# ------------------------------------------------------------------ failures

APOLOGY = re.compile(
    r"Sorry, that didn't work on our side \(ref [0-9a-f]{8}\)\. Please try again in a minute\."
)


def test_a_click_that_fails_gets_a_short_apology_with_a_reference(slack_env: SlackEnv) -> None:
    """The app's error handler: a listener failing inline answers the click privately, no trace."""
    driver, stand_in = slack_env.driver, slack_env.stand_in
    dana, dana_dm = "U0DANA", "D0DANA"
    driver.slash_reply(f"interview <@{dana}|dana>", user_id=ADMIN_ID)
    (invitation,) = stand_in.wait_for("chat.postMessage", lambda c: c.params.get("channel") == dana_dm)
    (start,) = [e for b in invitation.blocks if b["type"] == "actions" for e in b["elements"]]
    stand_in.respond_with("chat.postMessage", lambda call: {"ok": False, "error": "fatal_error"})
    url = stand_in.response_url()
    result = driver.block_actions(
        start["action_id"], value=start["value"], user=dana, channel=dana_dm, response_url=url
    )
    assert result.status == 200
    (reply,) = stand_in.wait_for("response_url", lambda c: c.path == urlsplit(url).path)
    assert APOLOGY.fullmatch(reply.text), reply.text
    assert reply.params.get("response_type") == "ephemeral" and "Traceback" not in reply.text


# ------------------------------------------------------------------ health and rate limits


def test_health_endpoint_reports_the_database(slack_env: SlackEnv, tmp_path) -> None:
    ok = http_request(f"{slack_env.url}/healthz")
    assert ok.status == 200
    # This harness gives build_asgi no vector store probe (tests/e2e/test_observability.py does).
    assert ok.json() == {"status": "ok", "db": "ok", "vector_store": "not checked"}
    # A server whose database cannot be opened says so with a 503 instead of pretending.
    (tmp_path / "a-directory.db").mkdir()
    broken = make_engine(f"sqlite:///{tmp_path / 'a-directory.db'}")
    server = AppServer(build_asgi(slack_env.app, engine=broken, signing_secret=SIGNING_SECRET)).start()
    try:
        bad = http_request(f"{server.url}/healthz")
    finally:
        server.stop()
        broken.dispose()
    assert bad.status == 503
    assert bad.json()["status"] == "unavailable"
    assert bad.json()["db"] != "ok"


def test_rate_limited_and_failing_calls_are_retried(slack_env: SlackEnv) -> None:
    slack_env.stand_in.fail("users.info", status=429, times=2, retry_after=0)
    reply = slack_env.driver.slash_reply("import", user_id=ADMIN_ID, timeout=15)
    assert "only ICP owners" not in reply.text  # the admin check got through in the end
    statuses = [c.status for c in slack_env.stand_in.calls_to("users.info")]
    assert statuses == [429, 429, 200]
    slack_env.stand_in.clear()
    slack_env.stand_in.fail("users.info", status=500, times=1)
    reply = slack_env.driver.slash_reply("import", user_id=ADMIN_ID, timeout=15)
    assert "only ICP owners" not in reply.text
    assert [c.status for c in slack_env.stand_in.calls_to("users.info")] == [500, 200]


def test_slack_down_fails_closed_with_a_polite_refusal(slack_env: SlackEnv) -> None:
    slack_env.stand_in.fail("users.info", status=500, times=10)
    reply = slack_env.driver.slash_reply("forget <@U0X1> confirm", user_id=ADMIN_ID, timeout=20)
    assert "only ICP owners" in reply.text
    assert product_rows(slack_env)["audit_log"] == 0


# ------------------------------------------------------------------ other bots


def test_other_bots_messages_are_ignored(slack_env: SlackEnv) -> None:
    driver = slack_env.driver
    for extra in ({"bot_id": "B0OTHER"}, {"subtype": "bot_message", "bot_id": "B0OTHER"}):
        assert driver.message_im("interview me", extra=extra).status == 200
    probe(slack_env)
    # auth.test is Bolt learning its own bot id (to drop its own events); nothing else happened.
    assert [c.method for c in slack_env.stand_in.calls if c.method != "auth.test"] == ["response_url"]


# ------------------------------------------------------------------ malformed payloads

SLACK_KEYS = (
    "token",
    "team_id",
    "user_id",
    "channel_id",
    "text",
    "response_url",
    "trigger_id",
    "payload",
    "type",
    "api_app_id",
)
scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=12)
json_values = (
    scalars | st.lists(scalars, max_size=3) | st.dictionaries(st.text(max_size=6), scalars, max_size=3)
)
event_like = st.fixed_dictionaries(
    {"type": st.sampled_from(["event_callback", "block_actions", "view_submission", "shortcut", "nonsense"])},
    optional={
        "event": st.dictionaries(
            st.sampled_from(["type", "user", "text", "channel", "tab", "file_id", "ts"]),
            json_values,
            max_size=4,
        )
        | json_values,
        "team_id": json_values,
        "event_id": json_values,
        "actions": json_values,
        "view": json_values,
        "user": json_values,
        "team": json_values,
    },
)
form_bodies = st.dictionaries(
    st.sampled_from(SLACK_KEYS) | st.text(max_size=6), st.text(max_size=30), max_size=6
).map(lambda d: ("application/x-www-form-urlencoded", urlencode(d).encode()))
payload_forms = (event_like | json_values).map(
    lambda p: ("application/x-www-form-urlencoded", urlencode({"payload": json.dumps(p)}).encode())
)
json_bodies = (event_like | json_values).map(lambda p: ("application/json", json.dumps(p).encode()))
raw_bodies = st.tuples(
    st.sampled_from(["application/json", "application/x-www-form-urlencoded", "text/plain"]),
    st.binary(max_size=200),
)
malformed = form_bodies | payload_forms | json_bodies | raw_bodies


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=malformed, signed=st.booleans())
def test_malformed_payloads_never_5xx_and_change_nothing(
    module_slack_env: SlackEnv, body: tuple[str, bytes], signed: bool
) -> None:
    content_type, raw = body
    driver = module_slack_env.driver
    ts = int(time.time())
    signature = sign(raw, secret=SIGNING_SECRET, timestamp=ts) if signed else "v0=" + "1" * 64
    result = driver.post(raw, content_type=content_type, timestamp=ts, signature=signature)
    assert result.status < 500, result.text
    if not signed:
        assert result.status == 401
    assert "Traceback" not in result.text


def test_after_malformed_payloads_nothing_was_recorded(module_slack_env: SlackEnv) -> None:
    """Runs after the hypothesis test on the same server: no Web API call, no product row.

    (auth.test may appear: Bolt asks once who its bot user is, to recognise its own events.)"""
    assert [c.method for c in module_slack_env.stand_in.calls if c.method != "auth.test"] == []
    assert set(product_rows(module_slack_env).values()) == {0}
    probe(module_slack_env)  # and the server still answers
