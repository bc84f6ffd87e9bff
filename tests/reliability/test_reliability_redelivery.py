"""Redelivery suite: every kind of request Slack sends, delivered 1 to 4 times, has one effect.

For each request kind a fresh world (SQLite, Chroma folder, the app over HTTP) gets the same
request body delivered k times (k = 1..4): the first plain, the repeats with Slack's
``X-Slack-Retry-Num`` / ``X-Slack-Retry-Reason`` headers and the same event id or trigger id;
k = 2, 3 one after the other, k = 4 all at once. Once the app is quiet, what changed (calls to
the stand-in Slack by method, rows per SQL table, Chroma documents per kind) must be exactly what
one delivery changed. The draft review modal (view_submission) needs a drafted ICP, which costs
seconds to make, so its deliveries are compared within one world, one fresh trigger per k.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from bot.services.icp.drafting import draft_icp
from bot.services.imports.service import import_accounts, import_deals
from bot.services.interviews import conversation as interviews
from bot.slack.views.draft import CHANGES_ACTION, CHANGES_BLOCK, CHANGES_CALLBACK, ModalTarget
from bot.slack.views.interview import START_INTERVIEW
from bot.store.models import GtmRole
from icp_engine.sample import generate, write_csv
from tests.support.harness import ADMIN_ID, HttpResult, SlackDriver, SlackEnv
from tests.support.reliability_summary import record
from tests.support.reliability_support import row_counts

DANA = "U0DANA"
DANA_DM = "D0DANA"
ADMIN_DM = f"D{ADMIN_ID[1:]}"
REPEATS = (1, 2, 3, 4)
# Web API reads change nothing in Slack; Bolt even repeats auth.test when first requests race.
READS = frozenset(
    {
        "auth.test",
        "bots.info",
        "conversations.info",
        "files.info",
        "files.download",
        "users.info",
        "users.list",
        "team.info",
    }
)


class _Capture(SlackDriver):
    """Builds a request exactly as the driver would send it, and keeps it instead of sending."""

    sent: tuple[bytes, str] | None = None

    def post(self, body: bytes | str, *, content_type: str, **_: Any) -> HttpResult:
        self.sent = (body.encode() if isinstance(body, str) else body, content_type)
        return HttpResult(200, {}, b"")


def built(env: SlackEnv, send: Callable[[SlackDriver], object]) -> tuple[bytes, str]:
    capture = _Capture(env.url, env.stand_in)
    send(capture)
    assert capture.sent is not None
    return capture.sent


def deliver(env: SlackEnv, request: tuple[bytes, str], times: int) -> None:
    """Slack's deliveries of one request: the first, then retries (at once when ``times`` is 4)."""
    body, content_type = request

    def one(retry: int) -> None:
        kwargs: dict[str, Any] = {"retry_num": retry, "retry_reason": "http_timeout"} if retry else {}
        result = env.driver.post(body, content_type=content_type, **kwargs)
        assert result.status == 200, f"delivery {retry}: HTTP {result.status} {result.text[:200]}"

    if times < 4:
        for retry in range(times):
            one(retry)
        return
    errors: list[BaseException] = []

    def guarded(retry: int) -> None:
        try:
            one(retry)
        except BaseException as exc:  # surfaced below, in the test thread
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(r,)) for r in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors


def effects(env: SlackEnv, chroma_kinds: tuple[str, ...]) -> dict[str, Any]:
    """Everything a request can change: Slack writes by method, SQL rows by table, Chroma docs."""
    chroma = {k: env.knowledge().count(workspace=env.driver.team_id, kind=k) for k in chroma_kinds}
    calls = Counter(c.method for c in env.stand_in.calls if c.method not in READS)
    return {"slack": dict(calls), "sql": row_counts(env.engine), "chroma": chroma}


def quiet(
    env: SlackEnv, chroma_kinds: tuple[str, ...], *, still: float = 0.5, timeout: float = 20
) -> dict[str, Any]:
    """The effects once nothing has changed for ``still`` seconds (work runs after the ack)."""
    deadline = time.monotonic() + timeout
    last = effects(env, chroma_kinds)
    since = time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.05)
        now = effects(env, chroma_kinds)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= still:
            return now
    return last


def settled(
    env: SlackEnv, kinds: tuple[str, ...], before: dict[str, Any], once: dict[str, Any], timeout: float = 20
) -> None:
    """Wait until the effects reach (or pass) what one delivery did; the caller then compares."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = delta(before, effects(env, kinds))
        if all(now[part].get(k, 0) >= v for part in once for k, v in once[part].items()):
            return
        time.sleep(0.05)


def delta(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for part in ("slack", "sql", "chroma"):
        keys = set(before[part]) | set(after[part])
        changed = {k: after[part].get(k, 0) - before[part].get(k, 0) for k in keys}
        out[part] = {k: v for k, v in sorted(changed.items()) if v}
    return out


@dataclass(frozen=True)
class Case:
    name: str
    setup: Callable[[SlackEnv], object]
    request: Callable[[SlackEnv], tuple[bytes, str]]
    chroma_kinds: tuple[str, ...] = ()
    indexed: dict[str, int] | None = None  # what one delivery adds to Chroma, when it adds something
    #: When the work runs in another process (imports), "nothing changed for a second" is not
    #: "done": wait for this first, so one delivery's effect is measured complete.
    finished: Callable[[SlackEnv], bool] | None = None


def _import_answered(env: SlackEnv) -> bool:
    """The upload's DM got "Importing…" and then the import's own answer."""
    return (
        len([c for c in env.stand_in.calls_to("chat.postMessage") if c.params.get("channel") == ADMIN_DM])
        >= 2
    )


def _dana_invited(env: SlackEnv) -> int:
    invitation = interviews.invite(
        engine=env.engine,
        team_id=env.driver.team_id,
        user_id=DANA,
        invited_by=ADMIN_ID,
        role=GtmRole.sales,
        dm_channel_id=DANA_DM,
    )
    return invitation.interview_id


def _dana_started(env: SlackEnv) -> None:
    interview_id = _dana_invited(env)
    interviews.start(engine=env.engine, team_id=env.driver.team_id, user_id=DANA, interview_id=interview_id)


def _nothing(env: SlackEnv) -> None:
    return None


def _start_click(env: SlackEnv) -> tuple[bytes, str]:
    interview_id = interviews.active_interview_of(engine=env.engine, team_id=env.driver.team_id, user_id=DANA)
    return built(
        env,
        lambda d: d.block_actions(
            START_INTERVIEW,
            value=str(interview_id),
            user=DANA,
            channel=DANA_DM,
            message_ts="1700000000.000100",
        ),
    )


def _csv_file(env: SlackEnv) -> Any:
    content = b"Account ID,Account Name,Industry,Employees\nA1,Acme Inc,Software,120\nA2,Globex,Retail,40\n"
    return env.stand_in.add_file(
        "accounts.csv", content, user=ADMIN_ID, channel=ADMIN_DM, file_id="F0REDELIVER"
    )


def _csv_message(env: SlackEnv) -> tuple[bytes, str]:
    stored = _csv_file(env)
    files = [{"id": stored.id, "name": stored.name, "filetype": "csv", "mode": "hosted"}]
    return built(
        env,
        lambda d: d.message_im(
            "accounts", user=ADMIN_ID, ts="1700000001.000100", extra={"subtype": "file_share", "files": files}
        ),
    )


CASES = [
    Case("slash /icp help", _nothing, lambda env: built(env, lambda d: d.slash("help"))),
    Case(
        "slash /icp interview",
        _nothing,
        lambda env: built(env, lambda d: d.slash(f"interview <@{DANA}> role=sales", user_id=ADMIN_ID)),
    ),
    Case(
        "message.im answer",
        _dana_started,
        lambda env: built(env, lambda d: d.message_im("Logistics firms close fastest.", user=DANA)),
        ("answer",),
        {"answer": 1},
    ),
    Case("app_home_opened", _nothing, lambda env: built(env, lambda d: d.app_home_opened(user=ADMIN_ID))),
    Case("block_actions Start", _dana_invited, _start_click),
    Case(
        "file_shared CSV",
        _nothing,
        lambda env: built(env, lambda d: d.file_shared(_csv_file(env))),
        ("statistic",),
        finished=_import_answered,
    ),
    Case("message file_share CSV", _nothing, _csv_message, ("statistic",), finished=_import_answered),
]


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_each_request_kind_has_one_effect_however_often_delivered(
    case: Case, make_slack_env: Callable[..., SlackEnv]
) -> None:
    effects_by_times: dict[int, dict[str, dict[str, int]]] = {}
    for times in REPEATS:
        env = make_slack_env()
        case.setup(env)
        if case.chroma_kinds:  # the embedding model loaded and warm, so indexing is quick
            env.knowledge().search(workspace=env.driver.team_id, query="warm up", k=1)
        env.stand_in.clear()
        before = quiet(env, case.chroma_kinds, still=0.1)
        deliver(env, case.request(env), times)
        if case.finished is not None:
            deadline = time.monotonic() + 120
            while not case.finished(env):
                assert time.monotonic() < deadline, f"{case.name}: the work never finished"
                time.sleep(0.1)
        if times > 1:  # a slow world may still be working when it looks quiet: wait for one's effect
            settled(env, case.chroma_kinds, before, effects_by_times[1])
        effects_by_times[times] = delta(before, quiet(env, case.chroma_kinds, still=1.0))
        env.server.stop()
    once = effects_by_times[1]
    duplicates = sum(effects_by_times[t] != once for t in REPEATS[1:])
    record("redelivery", **{"request kinds": 1, "deliveries": sum(REPEATS), "duplicates found": duplicates})
    assert once["slack"] or once["sql"], f"{case.name}: one delivery did nothing: {once}"
    if case.indexed is not None:
        assert once["chroma"] == case.indexed, once
    for times in REPEATS[1:]:
        assert effects_by_times[times] == once, (
            f"{case.name} delivered {times} times: {effects_by_times[times]} vs once: {once}"
        )


@pytest.mark.slow
def test_draft_review_modal_submitted_again_has_one_effect(
    make_slack_env: Callable[..., SlackEnv], tmp_path: Any
) -> None:
    env = make_slack_env()
    team = env.driver.team_id
    paths = write_csv(generate(seed=11, n_accounts=60), tmp_path / "crm")
    assert import_accounts(engine=env.engine, workspace=team, path=paths["accounts"]).ok
    assert import_deals(engine=env.engine, workspace=team, path=paths["deals"]).ok
    outcome = draft_icp(
        engine=env.engine, knowledge=env.knowledge(), llm=None, workspace=team, author=ADMIN_ID
    )
    target = ModalTarget(version_id=outcome.version_id).encode()
    changes: dict[int, dict[str, dict[str, int]]] = {}
    for times in REPEATS:
        before = quiet(env, (), still=0.2)
        request = built(
            env,
            lambda d, n=times: d.view_submission(
                CHANGES_CALLBACK,
                user=ADMIN_ID,
                private_metadata=target,
                values={CHANGES_BLOCK: {CHANGES_ACTION: {"type": "plain_text_input", "value": f"note {n}"}}},
            ),
        )
        deliver(env, request, times)
        if times > 1:
            settled(env, (), before, changes[1])
        changes[times] = delta(before, quiet(env, (), still=1.0))
    duplicates = sum(changes[t] != changes[1] for t in REPEATS[1:])
    record("redelivery", **{"request kinds": 1, "deliveries": sum(REPEATS), "duplicates found": duplicates})
    assert changes[1]["sql"].get("audit_log") == 1, changes[1]
    for times in REPEATS[1:]:
        assert changes[times] == changes[1], (
            f"submitted {times} times: {changes[times]} vs once: {changes[1]}"
        )
