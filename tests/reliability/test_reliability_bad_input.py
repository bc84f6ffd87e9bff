"""Bad input suite: malformed CSVs uploaded in a DM, 10,000 fuzzed requests, oversized and odd text.

* The malformed-CSV corpus of ``tests/support/malformed_csvs.py`` (every case that is
  a file one can upload), shared in a DM with the bot: the reply names the file and says what the
  CLI says is wrong, no trace, not a row written.
* Fuzzed requests (hypothesis, seeded): ``/icp`` command texts, DMs, and event and
  interactivity payloads of every shape, signed. Most go into the real ASGI app in-process
  (Starlette's test client: the same signature check, shape check and Bolt dispatch as over
  HTTP), a sample over HTTP. Never a 5xx; every command accepted gets a reply without a trace;
  the store's product tables keep their row counts.
* Oversized bodies and messages, and unicode edge cases (right-to-left marks, zero-width and
  combining characters, lone surrogates escaped in JSON, NUL) over HTTP.
"""

from __future__ import annotations

import asyncio
import html
import json
import time
import urllib.error
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text as sa_text

from bot.services.imports.service import import_accounts
from bot.services.interviews import conversation as interviews
from bot.slack.listeners.commands.icp.dispatch import load_all
from bot.slack.server import build_asgi
from bot.store.models import GtmRole
from tests.support import malformed_csvs as malformed
from tests.support.harness import ADMIN_ID, MEMBER_ID, SIGNING_SECRET, SlackDriver, SlackEnv, sign
from tests.support.reliability_summary import record
from tests.support.reliability_support import row_counts

ADMIN_DM = f"D{ADMIN_ID[1:]}"
IN_PROCESS = 9_500
OVER_HTTP = 500
BATCH = 4  # requests per drawn example
MAX_UPLOAD = 5 * 2**20  # bigger corpus files (the 200 MB line) are the CLI's concern
TRACE_WORDS = ("Traceback", 'File "/', "Exception:", "Error(")
# Subcommands a member may run that write on purpose (an interview, a reminder, forgetting):
# fuzzing their arguments could form a valid request, whose rows are not a fault.
WRITERS = frozenset({"interview", "remind", "forget", "draft", "import", "review"})
ODD_TEXT = [
    "\u202eelacs\u202c tnuocca",  # right-to-left override
    "sc\u200bore\u200d \u2060acme\ufeff",  # zero-width space, joiner, word joiner, BOM
    "e" + "\u0301" * 500,  # a letter with 500 combining accents
    "score A\x00cme",  # NUL
    "שלום عالم score",  # Hebrew and Arabic
    "\U0001f600" * 300,  # emoji (astral plane)
    "score " + "x" * 5000,  # far beyond a command's length
    "   ",
    "",
    "help\r\nhelp\r\n",
    "score ‮acme",
]


def product_counts(env: SlackEnv) -> dict[str, int]:
    return row_counts(env.engine)


def has_trace(text: str) -> bool:
    return any(word in text for word in TRACE_WORDS)


# -- malformed CSV uploads ---------------------------------------------------------------------


def uploadable_cases(folder: Path) -> Iterator[tuple[Any, Path]]:
    """The corpus cases that make one regular file of a size Slack would take, with no CLI option."""
    for case in malformed.CASES:
        if case.options or case.marks:
            continue
        target = folder / case.id
        target.mkdir(parents=True)
        try:
            path = case.make(target)
        except OSError:
            continue
        if path.is_file() and not path.is_symlink() and path.stat().st_size <= MAX_UPLOAD:
            yield case, path


@pytest.mark.slow
def test_malformed_csv_uploads_get_a_clear_reply_and_change_nothing(
    make_slack_env: Callable[..., SlackEnv], tmp_path: Path
) -> None:
    env = make_slack_env()
    base = tmp_path / "accounts.csv"
    base.write_text(malformed.BASE_ACCOUNTS)
    assert import_accounts(engine=env.engine, workspace=env.driver.team_id, path=base).ok
    bare = SlackDriver(env.url, env.stand_in, team_id="T0NOACCOUNTS")  # for cases without accounts
    before = product_counts(env)
    checked = 0
    for number, (case, path) in enumerate(uploadable_cases(tmp_path / "corpus")):
        driver = env.driver if case.needs_accounts else bare
        stored = env.stand_in.add_file(path.name, path.read_bytes(), user=ADMIN_ID, channel=ADMIN_DM)
        files = [{"id": stored.id, "name": stored.name, "filetype": "csv", "mode": "hosted"}]
        ts = f"1700000100.{number:06d}"
        result = driver.message_im(
            case.kind, user=ADMIN_ID, ts=ts, extra={"subtype": "file_share", "files": files}
        )
        assert result.status == 200, f"{case.id}: HTTP {result.status}"
        reply = env.stand_in.wait_for(
            "chat.postMessage",
            lambda c, ts=ts: (
                c.params.get("channel") == ADMIN_DM
                and c.params.get("thread_ts") == ts
                and "Importing" not in c.text
            ),  # the result, not the "Importing…" placeholder
            timeout=30,
        )[-1]
        shown = reply.all_text()
        assert not has_trace(shown), f"{case.id}: {shown}"
        if case.names_file:
            assert path.name in shown, f"{case.id}: the reply does not name {path.name}: {shown}"
        readable = html.unescape(shown)  # Slack's mrkdwn escapes < > &
        missing = [e for e in case.expect if e not in readable]
        assert not missing, f"{case.id}: the reply lacks {missing}: {shown}"
        assert product_counts(env) == before, f"{case.id} changed the store"
        checked += 1
    record("bad input", **{"malformed CSVs uploaded": checked})
    assert checked >= 20


# -- fuzzed requests ---------------------------------------------------------------------------

SUBCOMMANDS = sorted(set(load_all()) - WRITERS)
EVENT_TYPES = [
    "message",
    "app_home_opened",
    "file_shared",
    "app_mention",
    "app_uninstalled",
    "tokens_revoked",
    "x",
]
INTERACTIVE_TYPES = ["block_actions", "view_submission", "view_closed", "shortcut", "message_action", "x"]
KEYS = [
    "type", "user", "channel", "text", "ts", "team", "team_id", "event", "actions", "view", "state", "values",
    "value", "action_id", "block_id", "callback_id", "private_metadata", "trigger_id", "response_url",
    "container", "message", "files", "file_id", "subtype", "channel_type", "tab", "selected_option", "id",
]  # fmt: skip

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=40),
    st.sampled_from([*ODD_TEXT, "U0MEMBER", "D0MEMBER", "C0GENERAL", "T0E2E", "1700000000.000100"]),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=8)), inner, max_size=6),
    ),
    max_leaves=10,
)
free_text = st.one_of(st.text(max_size=200), st.sampled_from(ODD_TEXT))


@st.composite
def event_bodies(draw: st.DrawFn) -> dict[str, Any]:
    event = draw(st.dictionaries(st.sampled_from(KEYS), json_values, max_size=6))
    if draw(st.booleans()):
        event["type"] = draw(st.sampled_from(EVENT_TYPES))
    body: dict[str, Any] = {
        "type": "event_callback",
        "team_id": "T0E2E",
        "api_app_id": "A0APP",
        "event": event,
    }
    body["event_id"] = f"EvF{uuid.uuid4().hex[:16]}"
    if draw(st.integers(0, 4)) == 0:  # now and then, the envelope itself is broken
        body.update(draw(st.dictionaries(st.sampled_from(KEYS), json_values, max_size=3)))
    return body


@st.composite
def interactive_bodies(draw: st.DrawFn) -> dict[str, Any]:
    payload = draw(st.dictionaries(st.sampled_from(KEYS), json_values, max_size=8))
    if draw(st.booleans()):
        payload["type"] = draw(st.sampled_from(INTERACTIVE_TYPES))
    if draw(st.booleans()):
        payload["actions"] = draw(
            st.lists(st.dictionaries(st.sampled_from(KEYS), json_values, max_size=4), max_size=2)
        )
    payload["trigger_id"] = f"{uuid.uuid4().int % 10**10}.{uuid.uuid4().hex[:12]}"
    payload.setdefault("team", {"id": "T0E2E"})
    return payload


@st.composite
def realistic_event(draw: st.DrawFn, text: str) -> dict[str, Any]:
    """An event Slack could send (the right keys and types), carrying fuzzed text and ids."""
    kind = draw(st.sampled_from(["message", "app_mention", "app_home_opened", "file_shared"]))
    event: dict[str, Any] = {"type": kind, "user": draw(st.sampled_from(["U0MEMBER", "U0ADMIN", "U0X"])),
                             "channel": draw(st.sampled_from(["C0GENERAL", "D0MEMBER", "D0X"])),
                             "text": text, "ts": "1700000000.000100"}  # fmt: skip
    if kind == "message":
        event["channel_type"] = draw(st.sampled_from(["channel", "group", "mpim"]))  # a DM is asked below
        event["subtype"] = draw(st.sampled_from(["message_changed", "file_share", "channel_join", "x"]))
    if kind == "file_shared":
        event.update(file_id=text[:20], file={"id": text[:20]}, user_id="U0X")
    if kind == "app_home_opened":
        event["tab"] = draw(st.sampled_from(["home", "messages", text]))
    return event


@st.composite
def realistic_interactive(draw: st.DrawFn, text: str) -> dict[str, Any]:
    """A button click or modal submission with our own action/callback ids and fuzzed values."""
    action_ids = ["icp_interview_start", "icp_score_why", "icp_draft_approve", "icp_draft_edit", text]
    payload: dict[str, Any] = {
        "type": draw(st.sampled_from(["block_actions", "view_submission", "view_closed"])),
        "user": {"id": "U0MEMBER", "team_id": "T0E2E"},
        "team": {"id": "T0E2E"},
        "api_app_id": "A0APP",
    }
    if payload["type"] == "block_actions":
        payload["actions"] = [{"action_id": draw(st.sampled_from(action_ids)), "block_id": "b", "value": text,
                               "type": "button"}]  # fmt: skip
        payload["container"] = {"type": "message", "channel_id": "C0GENERAL", "message_ts": "1.2"}
    else:
        callbacks = ["icp_draft_edit_modal", "icp_draft_changes_modal", text]
        payload["view"] = {"id": "V1", "type": "modal", "callback_id": draw(st.sampled_from(callbacks)),
                           "private_metadata": text, "state": {"values": draw(json_values)}}  # fmt: skip
    return payload


@st.composite
def request_batches(draw: st.DrawFn) -> list[tuple[str, bytes, str]]:
    """Four signed requests from one drawn text and one drawn JSON value: a command, an event, an
    interaction (each either realistic with the text inside, or of arbitrary shape), and a DM or
    an arbitrary body. One example, four requests: drawing is the costly part."""
    text = draw(free_text)
    command = f"{draw(st.one_of(st.sampled_from(SUBCOMMANDS), st.text(max_size=12)))} {text}"
    event = draw(st.one_of(realistic_event(text), event_bodies()))
    envelope = {"type": "event_callback", "team_id": "T0E2E", "api_app_id": "A0APP", "event": event}
    if "type" not in event or draw(st.booleans()):
        envelope = draw(event_bodies())
    envelope["event_id"] = f"EvF{uuid.uuid4().hex[:16]}"
    interaction = draw(st.one_of(realistic_interactive(text), interactive_bodies()))
    interaction["trigger_id"] = f"{uuid.uuid4().int % 10**10}.{uuid.uuid4().hex[:12]}"
    batch = [
        ("slash", b"", command.strip()),
        ("event", json.dumps(envelope).encode(), "application/json"),  # ensure_ascii: \udXXX escapes
        (
            "interactive",
            urlencode({"payload": json.dumps(interaction)}).encode(),
            "application/x-www-form-urlencoded",
        ),
    ]
    if draw(st.integers(0, 3)) == 0:  # a question to the assistant costs a knowledge search: fewer
        batch.append(("dm", b"", text))
    else:
        raw = draw(st.one_of(st.binary(max_size=300), json_values.map(lambda v: json.dumps(v).encode())))
        content_type = draw(
            st.sampled_from(["application/json", "application/x-www-form-urlencoded", "text/plain"])
        )
        batch.append(("raw", raw, content_type))
    return batch


class Fuzzer:
    """Sends fuzzed requests and keeps the tally; ``post`` is in-process or over HTTP."""

    def __init__(self, env: SlackEnv, post: Callable[[bytes, dict[str, str]], int]) -> None:
        self.env = env
        self.post = post
        self.driver = SlackDriver(env.url, env.stand_in)
        self.sent = 0
        self.server_errors: list[str] = []
        self.replies_due: set[str] = set()
        self.statuses: Counter[str] = Counter()

    def send(self, kind: str, body: bytes, extra: str) -> int:
        if kind == "slash":
            url = self.env.stand_in.response_url()
            fields = self.driver.slash_fields(extra, user_id=MEMBER_ID, response_url=url)
            body, content_type = urlencode(fields).encode(), "application/x-www-form-urlencoded"
        elif kind == "dm":
            envelope = self.driver.event_envelope(
                {
                    "type": "message",
                    "channel_type": "im",
                    "channel": "D0FUZZ",
                    "user": "U0FUZZ",
                    "text": extra,
                    "ts": f"{time.time():.6f}",
                }
            )
            body, content_type = json.dumps(envelope).encode(), "application/json"
        else:
            content_type = extra
        timestamp = int(time.time())
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": str(timestamp),
            "X-Slack-Signature": sign(body, secret=SIGNING_SECRET, timestamp=timestamp),
        }
        status = self.post(body, headers)
        self.sent += 1
        self.statuses[kind if status < 400 else f"{kind} refused"] += 1
        if status >= 500:
            self.server_errors.append(f"{kind} -> {status}: {body[:300]!r}")
        elif kind == "slash" and status == 200:
            self.replies_due.add(url.split("127.0.0.1", 1)[1].split("/", 1)[1])
        return status

    def check_replies(self, timeout: float = 120) -> int:
        """Every accepted command got a reply at its response_url, none with a trace."""
        deadline = time.monotonic() + timeout
        while True:
            replies = {c.path.lstrip("/"): c for c in self.env.stand_in.calls_to("response_url")}
            missing = self.replies_due - set(replies)
            if not missing or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert not missing, f"{len(missing)} commands got no reply"
        traced = [replies[p].all_text()[:300] for p in self.replies_due if has_trace(replies[p].all_text())]
        assert not traced, traced[:5]
        return len(self.replies_due)


class AsgiCaller:
    """POSTs to ``/slack/events`` of the ASGI app in this process, on one event loop: the same
    signature check, shape check and Bolt dispatch as over HTTP, without the sockets."""

    def __init__(self, asgi: Any) -> None:
        self.asgi = asgi
        self.loop = asyncio.new_event_loop()

    def __call__(self, body: bytes, headers: dict[str, str]) -> int:
        return self.loop.run_until_complete(self._post(body, headers))

    async def _post(self, body: bytes, headers: dict[str, str]) -> int:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/slack/events",
            "raw_path": b"/slack/events",
            "root_path": "",
            "query_string": b"",
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]
            + [(b"content-length", str(len(body)).encode())],
            "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 80),
        }
        sent = False
        status = 0

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])

        await self.asgi(scope, receive, send)
        return status

    def close(self) -> None:
        self.loop.close()


FUZZ = settings(
    deadline=None,
    derandomize=True,  # the same requests every run
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)


def fuzz(fuzzer: Fuzzer, requests: int) -> None:
    @settings(FUZZ, max_examples=requests // BATCH)
    @given(batch=request_batches())
    def one(batch: list[tuple[str, bytes, str]]) -> None:
        for request in batch:
            status = fuzzer.send(*request)
            assert status < 500, fuzzer.server_errors[-1]

    one()


@pytest.mark.slow
def test_fuzzed_requests_get_no_5xx_clear_replies_and_write_nothing(module_slack_env: SlackEnv) -> None:
    env = module_slack_env
    before = product_counts(env)
    in_process = Fuzzer(
        env, AsgiCaller(build_asgi(env.app, engine=env.engine, signing_secret=SIGNING_SECRET))
    )
    try:
        fuzz(in_process, IN_PROCESS)
    finally:
        in_process.post.close()  # type: ignore[attr-defined]

    def over_http_post(body: bytes, headers: dict[str, str]) -> int:
        content_type = headers.pop("Content-Type")
        return env.driver.post(body, content_type=content_type, headers=headers).status

    over_http = Fuzzer(env, over_http_post)
    fuzz(over_http, OVER_HTTP)
    replies = in_process.check_replies() + over_http.check_replies()
    time.sleep(0.5)
    assert product_counts(env) == before
    record(
        "bad input",
        **{
            "requests fuzzed": in_process.sent + over_http.sent,
            "over HTTP": over_http.sent,
            "5xx": len(in_process.server_errors) + len(over_http.server_errors),
            "command replies checked": replies,
            "4xx (malformed, unsigned-looking, unhandled)": sum(
                n for k, n in (in_process.statuses + over_http.statuses).items() if k.endswith("refused")
            ),
        },
    )
    assert in_process.sent >= IN_PROCESS and over_http.sent >= OVER_HTTP


# -- oversized and odd text over HTTP ------------------------------------------------------------


@pytest.mark.parametrize("text", ODD_TEXT, ids=range(len(ODD_TEXT)))
def test_odd_command_text_gets_a_clear_reply(module_slack_env: SlackEnv, text: str) -> None:
    before = product_counts(module_slack_env)
    reply = module_slack_env.driver.slash_reply(text, timeout=30)
    shown = reply.all_text()
    assert shown.strip() and not has_trace(shown)
    assert product_counts(module_slack_env) == before
    record("bad input", **{"odd texts": 1})


def test_oversized_bodies_and_messages(module_slack_env: SlackEnv) -> None:
    env, driver = module_slack_env, module_slack_env.driver
    before = product_counts(env)
    # Refused before the body is read: 413, or the connection closed under the sender's feet.
    try:
        assert driver.post(b"x" * 1_100_000, content_type="application/json").status == 413
    except urllib.error.URLError as exc:
        assert isinstance(exc.reason, BrokenPipeError | ConnectionResetError), exc
    long_dm = driver.message_im("word " * 8_000, user="U0LONG")  # 40 kB, far beyond Slack's 4,000 chars
    assert long_dm.status == 200
    long_command = driver.slash_reply("score " + "acme " * 3_000, timeout=30)
    assert long_command.all_text().strip() and not has_trace(long_command.all_text())
    surrogate = json.dumps(driver.event_envelope({"type": "message", "channel_type": "im", "user": "U0S",
                                                  "channel": "D0S", "text": "\ud800 lone \udfff", "ts": "1.2"}))  # fmt: skip
    assert "\\ud800" in surrogate
    assert driver.post(surrogate, content_type="application/json").status < 500
    answer = env.stand_in.wait_for(
        "chat.postMessage", lambda c: c.params.get("channel") == "D0S", timeout=30
    )[-1]
    assert "couldn't answer" not in answer.all_text(), "a lone surrogate broke the chat answer"
    nul_json = driver.post('{"type": "event_callback", "event": {"type": "message", "text": "a\\u0000b"}}',
                           content_type="application/json")  # fmt: skip
    assert nul_json.status < 500
    time.sleep(0.5)
    assert product_counts(env) == before
    record("bad input", **{"oversized requests": 3, "escaped-unicode payloads": 2})


def test_a_lone_surrogate_in_an_answer_is_stored_readable(make_slack_env: Callable[..., SlackEnv]) -> None:
    """JSON may escape half a surrogate pair; such text cannot be written as UTF-8, so the answer
    used to fail in SQL and the person got "Sorry, I couldn't record that"."""
    env = make_slack_env()
    invitation = interviews.invite(
        engine=env.engine,
        team_id=env.driver.team_id,
        user_id="U0DANA",
        invited_by=ADMIN_ID,
        role=GtmRole.sales,
    )
    interviews.start(
        engine=env.engine, team_id=env.driver.team_id, user_id="U0DANA", interview_id=invitation.interview_id
    )
    event = {"type": "message", "channel_type": "im", "user": "U0DANA", "channel": "D0DANA", "ts": "1.5",
             "text": "Logistics \ud800 firms"}  # fmt: skip
    body = json.dumps(env.driver.event_envelope(event))
    assert "\\ud800" in body
    assert env.driver.post(body, content_type="application/json").status == 200
    with env.engine.connect() as conn:
        stored = [str(r[0]) for r in conn.execute(sa_text("SELECT text FROM answer"))]
    assert stored == ["Logistics \ufffd firms"]
    question = env.stand_in.wait_for("chat.postMessage", lambda c: c.params.get("channel") == "D0DANA")[-1]
    assert "Question 2" in question.all_text()
