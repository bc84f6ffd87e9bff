"""Logging pieces (secret masking, JSON lines, request context), request signing and request kinds."""

from __future__ import annotations

import io
import json
import logging
import sys
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st
from langchain_core.messages import AIMessage, HumanMessage
from pydantic import BaseModel

from bot.demo.stand_in.driver import sign
from bot.llm.client import LlmClient, RetryPolicy
from bot.llm.fake import QueueChatModel
from bot.logs import (
    ContextExecutor,
    JsonFormatter,
    RequestContext,
    SecretMask,
    configure_logging,
    current_request,
    request_scope,
)
from bot.metrics import Metrics
from bot.settings import Settings
from bot.slack.observe import request_fields
from bot.slack.server import is_signed

SECRET_CHARS = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", min_size=8, max_size=40
)
TOKENS = st.one_of(
    st.builds(lambda k, s: f"xox{k}-{s}", st.sampled_from("bpae"), SECRET_CHARS),
    st.builds(lambda s: f"xapp-{s}", SECRET_CHARS),
    st.builds(lambda s: f"sk-{s}", SECRET_CHARS),
    st.builds(lambda s: f"sk-proj-{s}", SECRET_CHARS),
    st.builds(lambda r, s: f"pat-{r}-{s}", st.sampled_from(["na1", "eu1", "na2"]), SECRET_CHARS),  # HubSpot
    st.builds(  # a Salesforce session id: org id, '!', the session part
        lambda org, s: f"00D{org}!{s}",
        st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=12, max_size=15),
        st.text(
            alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._",
            min_size=20,
            max_size=90,
        ),
    ),
)
# Surrounding prose: anything but characters that could extend a token.
PROSE = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="-_"), max_size=30
).map(lambda t: f" {t} ")


def record(msg: str, *args: object, exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    return logging.LogRecord("bot.test", logging.INFO, __file__, 1, msg, args or None, exc_info)


def rendered(mask: SecretMask, rec: logging.LogRecord) -> str:
    assert mask.filter(rec) is True  # masking never drops a record
    return logging.Formatter("%(message)s").format(rec)


@given(token=TOKENS, before=PROSE, after=PROSE, as_arg=st.booleans())
def test_token_shapes_are_masked_in_messages_and_arguments(
    token: str, before: str, after: str, as_arg: bool
) -> None:
    rec = record("%s", before + token + after) if as_arg else record(before + token + after)
    out = rendered(SecretMask(), rec)
    assert token not in out
    assert "***" in out


@given(
    secret=st.text(min_size=6, max_size=40).filter(lambda s: s.strip() == s and "*" not in s),
    before=PROSE,
    after=PROSE,
)
def test_configured_secret_values_are_masked_whatever_they_look_like(
    secret: str, before: str, after: str
) -> None:
    out = rendered(SecretMask([secret]), record("value=%s", before + secret + after))
    assert secret not in out


@given(token=SECRET_CHARS)
def test_bearer_tokens_keep_the_scheme_and_lose_the_token(token: str) -> None:
    out = rendered(SecretMask(), record(f"Authorization: Bearer {token}"))
    assert out == "Authorization: Bearer ***"


def test_database_passwords_and_tracebacks_are_masked() -> None:
    mask = SecretMask(["s3cret-signing"])
    out = rendered(mask, record("db postgresql://icp:hunter2pass@db:5432/icp"))
    assert "hunter2pass" not in out and "postgresql://icp:***@db:5432/icp" in out
    try:
        raise RuntimeError("token xoxb-1234-abcdef leaked with s3cret-signing")
    except RuntimeError as exc:
        rec = record("failed", exc=exc)
    assert mask.filter(rec)
    text = logging.Formatter("%(message)s").format(rec)
    assert "xoxb-1234-abcdef" not in text and "s3cret-signing" not in text
    assert "RuntimeError" in text  # the traceback itself is kept


def test_short_configured_values_are_not_masked() -> None:
    """A secret of a few characters would mask ordinary words all over the logs."""
    assert rendered(SecretMask(["abc"]), record("abc def")) == "abc def"


def test_a_broken_format_string_is_logged_without_its_arguments() -> None:
    out = rendered(SecretMask(), record("%d items", "xoxb-not-a-number-123"))
    assert "xoxb-not-a-number-123" not in out and "%d items" in out


def test_json_lines_carry_the_request_context() -> None:
    formatter = JsonFormatter()
    with request_scope(workspace="T1", request_id="abc123", kind="command", command="/icp", unknown=None):
        rec = record("answered %s with %s", "command", 200)
        rec.latency_ms = 12.5
        RequestContext().filter(rec)
    line = formatter.format(rec)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "answered command with 200"
    assert entry["level"] == "INFO" and entry["logger"] == "bot.test"
    assert entry["workspace"] == "T1" and entry["request_id"] == "abc123"
    assert entry["kind"] == "command" and entry["command"] == "/icp" and entry["latency_ms"] == 12.5
    assert entry["time"].endswith("+00:00")


def test_json_lines_outside_a_request_have_no_request_fields_and_keep_tracebacks_on_one_line() -> None:
    try:
        raise ValueError("multi\nline")
    except ValueError as exc:
        line = JsonFormatter().format(record("ünïcödé", exc=exc))
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "ünïcödé"
    assert "request_id" not in entry and "workspace" not in entry
    assert "ValueError: multi\nline" in entry["exception"]


def test_the_context_executor_carries_the_request_into_its_threads() -> None:
    pool = ContextExecutor(max_workers=1)
    try:
        with request_scope(request_id="r-1"):
            future = pool.submit(lambda: current_request().get("request_id"))
        assert future.result(timeout=5) == "r-1"
        assert pool.submit(current_request).result(timeout=5) == {}
    finally:
        pool.shutdown()


def test_configure_logging_from_settings_writes_masked_json() -> None:
    values: dict[str, object] = {
        "log_format": "json",
        "log_level": "warning",
        "slack_signing_secret": "my-signing-secret",
    }
    settings = Settings(_env_file=None, **values)  # type: ignore[call-arg,arg-type]
    stream = io.StringIO()
    handler = configure_logging(settings, stream=stream)
    try:
        logging.getLogger("bot.test").info("not written at WARNING")
        logging.getLogger("bot.test").warning("secret is %s", "my-signing-secret")
        logging.getLogger("slack_sdk.web").warning("kept: a library warning")
    finally:
        logging.getLogger().removeHandler(handler)
        logging.getLogger().setLevel(logging.WARNING)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["message"] for line in lines] == ["secret is ***", "kept: a library warning"]


def test_configure_logging_drops_library_debug_records_that_may_hold_bodies() -> None:
    settings = Settings(_env_file=None, log_level="DEBUG")  # type: ignore[call-arg]
    stream = io.StringIO()
    handler = configure_logging(settings, stream=stream)
    try:
        logging.getLogger("slack_sdk.web.base_client").debug(
            "Sending a request - body: {'text': 'an answer'}"
        )
        logging.getLogger("bot.test").debug("our own debug line")
    finally:
        logging.getLogger().removeHandler(handler)
        logging.getLogger().setLevel(logging.WARNING)
    assert "an answer" not in stream.getvalue()
    assert "our own debug line" in stream.getvalue()


def test_the_default_handler_writes_to_the_current_stderr_even_after_a_swap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A handler bound to a stderr that was later closed would print '--- Logging error ---'."""
    first = io.StringIO()
    monkeypatch.setattr(sys, "stderr", first)
    configure_logging(Settings(_env_file=None))  # type: ignore[call-arg]
    first.close()
    second = io.StringIO()
    monkeypatch.setattr(sys, "stderr", second)
    logging.getLogger("bot.test").warning("after the swap")
    assert "Logging error" not in second.getvalue()
    assert second.getvalue().endswith("after the swap\n")


def test_log_settings_are_validated() -> None:
    assert Settings(_env_file=None, log_level="info").log_level == "INFO"  # type: ignore[call-arg,arg-type]
    with pytest.raises(ValueError, match="log_format"):
        Settings(_env_file=None, log_format="xml")  # type: ignore[call-arg,arg-type]


# -- request signing (slack_sdk's SignatureVerifier) ---------------------------------------------


@pytest.mark.parametrize(
    ("age", "secret", "expected"),
    [
        (0, "right", True),
        (290, "right", True),
        (-290, "right", True),
        (310, "right", False),
        (0, "wrong", False),
    ],
)
def test_signatures_need_the_secret_and_a_fresh_timestamp(age: int, secret: str, expected: bool) -> None:
    body = b"token=x&command=%2Ficp&text=help"
    stamp = int(time.time()) - age
    headers = {
        "x-slack-request-timestamp": str(stamp),
        "x-slack-signature": sign(body, secret=secret, timestamp=stamp),
    }
    assert is_signed("right", body, headers) is expected


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"x-slack-request-timestamp": "soon"},
        {"x-slack-request-timestamp": "１２３"},
        {"x-slack-signature": "v0=00"},
    ],
)
def test_missing_or_malformed_signature_headers_are_unsigned(headers: dict[str, str]) -> None:
    assert is_signed("right", b"{}", headers) is False


def test_a_body_that_is_not_utf8_is_never_signed() -> None:
    stamp = int(time.time())
    body = b"\x80\xff garbage"
    headers = {
        "x-slack-request-timestamp": str(stamp),
        "x-slack-signature": sign(body, secret="right", timestamp=stamp),
    }
    assert is_signed("right", body, headers) is False


# -- what a request is, for logs and metrics --------------------------------------------------


@pytest.mark.parametrize(
    ("body", "kind", "command"),
    [
        ({"command": "/icp", "text": "score Secret Corp", "team_id": "T1"}, "command", "/icp"),
        (
            {"type": "event_callback", "team_id": "T1", "event": {"type": "message", "text": "an answer"}},
            "event",
            "message",
        ),
        (
            {"type": "block_actions", "team": {"id": "T1"}, "actions": [{"action_id": "start"}]},
            "action",
            "start",
        ),
        ({"type": "view_submission", "team": {"id": "T1"}, "view": {"callback_id": "edit"}}, "view", "edit"),
        ({"type": "shortcut", "team": {"id": "T1"}, "callback_id": "quick"}, "shortcut", "quick"),
        ({"type": "block_suggestion", "team": {"id": "T1"}, "action_id": "pick"}, "options", "pick"),
        ({"type": "something_new", "team_id": "T1"}, "other", None),
    ],
)
def test_request_fields_name_the_request_never_its_text(
    body: dict[str, object], kind: str, command: str | None
) -> None:
    fields = request_fields(body, request_id="r")
    assert fields == {"workspace": "T1", "request_id": "r", "kind": kind, "command": command}
    assert "Secret Corp" not in repr(fields) and "an answer" not in repr(fields)


def test_each_app_has_its_own_registry() -> None:
    one, two = Metrics(), Metrics()
    one.scores.inc()
    assert b"icp_scores_served_total 1.0" in one.exposition()
    assert b"icp_scores_served_total 0.0" in two.exposition()


def test_the_llm_client_counts_calls_tokens_errors_and_retries() -> None:
    class Persona(BaseModel):
        name: str

    metrics = Metrics()
    fake = QueueChatModel(
        responses=[
            "not json",
            Persona(name="Dana"),
            AIMessage(
                content="hi", usage_metadata={"input_tokens": 9, "output_tokens": 7, "total_tokens": 16}
            ),
        ]
    )
    client = LlmClient(fake, retry=RetryPolicy(backoff_seconds=0.001), sleep=lambda _s: None, metrics=metrics)
    messages = [HumanMessage("Describe a CFO.")]
    assert client.structured(Persona, messages, max_output_tokens=100).name == "Dana"
    assert client.text(messages, max_output_tokens=100) == "hi"

    def value(name: str, **labels: str) -> float:
        found = metrics.registry.get_sample_value(name, labels)
        return found if found is not None else 0.0

    assert value("icp_llm_calls_total", kind="structured", outcome="ok") == 1
    assert value("icp_llm_calls_total", kind="text", outcome="ok") == 1
    assert value("icp_llm_errors_total") == 1 and value("icp_llm_retries_total") == 1
    assert value("icp_llm_tokens_total", type="prompt") == client.usage.prompt_tokens > 0
    assert value("icp_llm_tokens_total", type="completion") == 7
