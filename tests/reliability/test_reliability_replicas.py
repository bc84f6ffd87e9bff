"""Three replicas, proved: ``icp serve --http`` three times on one PostgreSQL database and one real
Chroma server (``chroma run``), all against one stand-in Slack.

* Signed requests (slash commands, interview answers in DMs, App Home events) go round-robin over
  the replicas; each is then redelivered the way Slack retries (``X-Slack-Retry-Num``, same
  event id or trigger id) to a *different* replica, one after the other or at the same moment.
  Every logical request must be answered exactly once at the stand-in: one ``response_url`` post
  per slash command, one next question per answer, one ``views.publish`` per Home opening.
* A replica is SIGKILLed while a Slack upload import it started is writing (seen in
  ``pg_stat_activity``), once with the import in its worker process (the default: the worker
  outlives the replica, finishes, and posts the summary itself) and once on the server's own
  threads (the kill ends the transaction): the accounts are then all there or all absent. Sharing
  the *same* Slack file again through another replica is ignored while the import's claim is
  renewed (a live worker) and imports it once the dead replica's lease has lapsed; the accounts
  end up all there, once, and the person gets exactly one summary.
* A replica is SIGKILLed while it holds a review reminder's claim (its ``conversations.open`` is
  held at the stand-in; the claim names the process): another replica sends that reminder when the
  claim expires, and every due reminder reaches Slack exactly once. Killed instead after Slack
  accepted the post but before the firing was recorded (the documented at-least-once window), the
  reminder is sent again by another replica: exactly twice, never more.
* The same question asked of each replica (chat in a DM, which searches the Chroma server) gets
  the same answer.

Replicas are forked from the pre-imported parent of the crash suite (``Zygote``). Each test leaves
three healthy replicas behind, so the tests also run alone (xdist may split the module).
"""

from __future__ import annotations

import itertools
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, text

from bot.services.interviews import conversation as interviews
from bot.services.reviews.reminders import set_reminder
from bot.store.db import make_engine, upgrade
from bot.store.models import GtmRole
from bot.store.models.ops import Cadence
from bot.store.types import utcnow
from icp_engine.sample import generate, write_csv
from tests.support.chroma_server import chroma_server
from tests.support.harness import ADMIN_ID, TEAM_ID, RecordedCall, SlackDriver, StandInSlack
from tests.support.postgres import (
    PG_ADMIN_URL,
    create_database,
    drop_databases,
    libpq_dsn,
    postgres_required,
    unreachable_reason,
)
from tests.support.reliability_summary import record
from tests.support.reliability_support import Child, Zygote

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

REPLICAS = 3
ADMIN_DM = f"D{ADMIN_ID[1:]}"
QUESTIONS_ANSWERED = 3  # per stakeholder in the round-robin test
CLAIM_SECONDS = 3  # how long a killed replica's reminder (or upload) claim blocks the others


@dataclass
class Cluster:
    """Three replicas on one database, one Chroma server and one stand-in Slack."""

    zygote: Zygote
    stand_in: StandInSlack
    engine: Engine
    db_url: str
    chroma_port: int
    workdir: Path
    replicas: list[Child] = field(default_factory=list)
    kills: int = 0
    _turn: itertools.count[int] = field(default_factory=itertools.count)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, index: int, **extra_env: str) -> Child:
        data_dir = self.workdir / f"replica{index}"
        data_dir.mkdir(exist_ok=True)
        child = self.zygote.serve(
            data_dir / "unused.db",  # DATABASE_URL below points every replica at PostgreSQL
            data_dir,
            self.stand_in.api_url,
            need_vector_store=True,
            DATABASE_URL=self.db_url,
            CHROMA_HOST="127.0.0.1",
            CHROMA_PORT=str(self.chroma_port),
            SCHEDULER_ENABLED="true",
            SCHEDULER_POLL_SECONDS="0.3",
            SCHEDULER_CLAIM_SECONDS=str(CLAIM_SECONDS),
            IMPORT_CLAIM_SECONDS=str(CLAIM_SECONDS),
            **extra_env,
        )
        if index < len(self.replicas):
            self.replicas[index] = child
        else:
            self.replicas.append(child)
        return child

    def kill(self, index: int) -> None:
        self.replicas[index].kill()
        self.kills += 1

    def driver(self, index: int) -> SlackDriver:
        return SlackDriver(self.replicas[index % REPLICAS].url, self.stand_in)

    def next_replica(self) -> int:
        """Round-robin: the replica the next first delivery goes to."""
        with self._lock:
            return next(self._turn) % REPLICAS

    def healthy(self) -> None:
        """Restart any replica a failed test left dead, so the next test starts with three."""
        for index, child in enumerate(self.replicas):
            if not child.alive():
                self.start(index)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    reason = unreachable_reason(PG_ADMIN_URL)
    if reason is not None:
        if postgres_required():
            pytest.fail(f"{reason} (PostgreSQL is required here: ICP_REQUIRE_POSTGRES/CI is set)")
        pytest.skip(reason)
    workdir = tmp_path_factory.mktemp("replicas")
    db_url = create_database(PG_ADMIN_URL)
    engine = make_engine(db_url)
    stand_in = StandInSlack().start()
    zygote: Zygote | None = None
    try:
        upgrade(engine)  # once, before the replicas start, as a deployment's release step does
        with chroma_server(workdir / "chroma") as port:
            zygote = Zygote(workdir)
            cluster = Cluster(zygote, stand_in, engine, db_url, port, workdir)
            for index in range(REPLICAS):
                cluster.start(index)
            record("replicas", clusters=1, replicas=REPLICAS)
            try:
                yield cluster
            finally:
                record("replicas", kills=cluster.kills)
                for child in cluster.replicas:
                    child.kill()
                zygote.close()
    finally:
        stand_in.stop()
        engine.dispose()
        drop_databases(PG_ADMIN_URL, [db_url])


def wait_until(check: Callable[[], bool], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:.0f}s for {what}")
        time.sleep(0.05)


def deliver(cluster: Cluster, body: bytes, content_type: str, *, together: bool) -> None:
    """Slack's first delivery to the next replica, and its retry to the one after it: in turn,
    or (``together``) at the same moment, as when the first ack was late."""
    first = cluster.next_replica()
    targets = [(first, None), ((first + 1) % REPLICAS, 1)]

    def one(target: tuple[int, int | None]) -> int:
        index, retry = target
        return cluster.driver(index).post(body, content_type=content_type, retry_num=retry).status

    if together:
        with ThreadPoolExecutor(2) as pool:
            statuses = list(pool.map(one, targets))
    else:
        statuses = [one(t) for t in targets]
    assert statuses == [200, 200], f"deliveries answered {statuses}"


class _Capture(SlackDriver):
    """Builds a signed-request body exactly as the driver would, without sending it."""

    sent: tuple[bytes, str] | None = None

    def post(self, body: bytes | str, *, content_type: str, **_: Any) -> Any:
        self.sent = (body.encode() if isinstance(body, str) else body, content_type)
        return None


def built(cluster: Cluster, send: Callable[[SlackDriver], object]) -> tuple[bytes, str]:
    capture = _Capture(cluster.replicas[0].url, cluster.stand_in)
    send(capture)
    assert capture.sent is not None
    return capture.sent


def posts_in(stand_in: StandInSlack, channel: str, needle: str, *, since: int = 0) -> int:
    return sum(
        1
        for c in stand_in.calls[since:]
        if c.method == "chat.postMessage" and c.params.get("channel") == channel and needle in c.all_text()
    )


def post_count(stand_in: StandInSlack, channel: str, needle: str, *, since: int = 0) -> Callable[[], int]:
    return lambda: posts_in(stand_in, channel, needle, since=since)


def posted(stand_in: StandInSlack, channel: str, needle: str) -> Callable[[], bool]:
    return lambda: posts_in(stand_in, channel, needle) >= 1


def to_channel(channel: str) -> Callable[[RecordedCall], bool]:
    return lambda call: call.params.get("channel") == channel


def answers_by_event(engine: Engine) -> Counter[str]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT slack_event_id FROM answer"))
        return Counter(str(r[0]) for r in rows)


def started_interview(engine: Engine, user: str) -> str:
    """``user``'s sales interview, started (question 1 asked); their DM channel."""
    dm = f"D{user[1:]}"
    invitation = interviews.invite(
        engine=engine,
        team_id=TEAM_ID,
        user_id=user,
        invited_by=ADMIN_ID,
        role=GtmRole.sales,
        dm_channel_id=dm,
    )
    interviews.start(engine=engine, team_id=TEAM_ID, user_id=user, interview_id=invitation.interview_id)
    return dm


# -- (a) spread and retried on another replica --------------------------------------------------


def test_requests_spread_and_retried_on_another_replica_are_answered_once(cluster: Cluster) -> None:
    cluster.healthy()
    stand_in, engine = cluster.stand_in, cluster.engine
    counts: dict[str, Callable[[], int]] = {}  # logical request -> how often it was answered
    slashes = [(f"U0SL{i}", "help") for i in range(6)] + [
        (ADMIN_ID, f"interview <@U0NEW{i}> role=sales") for i in range(3)
    ]

    def slash(number: int, user: str, words: str) -> None:
        url = stand_in.response_url(f"replicas-slash-{number}")
        path = url.split(stand_in.base, 1)[1]
        counts[f"/icp {words} #{number}"] = lambda: len(
            [c for c in stand_in.calls_to("response_url") if c.path == path]
        )
        request = built(cluster, lambda d: d.slash(words, user_id=user, response_url=url))
        deliver(cluster, *request, together=number % 2 == 1)

    def home(user: str, number: int) -> None:
        counts[f"app_home_opened {user}"] = lambda: len(
            [c for c in stand_in.calls_to("views.publish") if c.params.get("user_id") == user]
        )
        deliver(cluster, *built(cluster, lambda d: d.app_home_opened(user=user)), together=number % 2 == 0)

    def conversation(user: str) -> None:
        dm = started_interview(engine, user)
        for index in range(QUESTIONS_ANSWERED):
            event_id = f"EvREPL{user}{index}"
            needle = f"Question {index + 2} of"
            counts[f"answer {event_id}"] = post_count(stand_in, dm, needle)
            request = built(
                cluster,
                partial(
                    SlackDriver.message_im,
                    text=f"{user} answer {index}: logistics firms with a RevOps lead close fastest",
                    user=user,
                    ts=f"1700000{index}.{int(user[-1]):06d}",
                    event_id=event_id,
                ),
            )
            deliver(cluster, *request, together=index == 1)
            wait_until(posted(stand_in, dm, needle), timeout=20, what=needle)

    stakeholders = [f"U0ST{i}" for i in range(6)]
    with ThreadPoolExecutor(6) as pool:
        work = [pool.submit(conversation, user) for user in stakeholders]
        work += [pool.submit(slash, n, user, words) for n, (user, words) in enumerate(slashes)]
        work += [pool.submit(home, f"U0HOME{i}", i) for i in range(6)]
        for done in work:
            done.result()

    wait_until(lambda: all(count() >= 1 for count in counts.values()), timeout=30, what="every answer")
    time.sleep(1.5)  # a duplicate would come from the second replica's own work, after the first's
    answered = {name: count() for name, count in counts.items()}
    twice = sorted(name for name, n in answered.items() if n > 1)
    lost = sorted(name for name, n in answered.items() if n == 0)
    stored = answers_by_event(engine)
    mine = {e: n for e, n in stored.items() if e.startswith("EvREPL")}
    record("replicas", requests=len(answered), **{"answered twice": len(twice), "lost": len(lost)})
    assert not twice, f"answered more than once: {twice}"
    assert not lost, f"never answered: {lost}"
    assert len(mine) == len(stakeholders) * QUESTIONS_ANSWERED and set(mine.values()) == {1}, mine


# -- (b) a replica killed mid-import, and while holding a reminder's claim ----------------------


def writing_accounts(db_url: str) -> list[int]:
    """Pids of PostgreSQL backends inside a transaction that is inserting accounts."""
    with psycopg.connect(libpq_dsn(db_url), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL AND query ILIKE '%%account%%'"
        ).fetchall()
    return [int(r[0]) for r in rows]


def no_writer_for(db_url: str, seconds: float) -> Callable[[], bool]:
    """A check that is true once no transaction has written for ``seconds``."""
    quiet_since = [time.monotonic()]

    def check() -> bool:
        with psycopg.connect(libpq_dsn(db_url), autocommit=True) as conn:
            busy = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL"
            ).fetchone()
        if busy and busy[0]:
            quiet_since[0] = time.monotonic()
        return time.monotonic() - quiet_since[0] >= seconds

    return check


def upload_claim_live(engine: Engine, file_id: str) -> bool:
    """Whether a replica (or its worker) holds an unexpired lease on importing ``file_id``."""
    with engine.connect() as conn:
        return bool(
            conn.execute(
                text(
                    "SELECT count(*) FROM slack_upload_claim WHERE upload_key LIKE :key "
                    "AND lease_until IS NOT NULL AND lease_until > now()"
                ),
                {"key": f"%:{file_id}"},
            ).scalar_one()
        )


def account_state(engine: Engine) -> tuple[int, list[str]]:
    with engine.connect() as conn:
        accounts = int(conn.execute(text("SELECT count(*) FROM account")).scalar_one())
        runs = [
            str(r[0]) for r in conn.execute(text("SELECT status FROM import_run WHERE kind = 'accounts'"))
        ]
    return accounts, runs


@pytest.mark.parametrize("where", ["worker process", "server threads"])
def test_replica_killed_mid_upload_import_leaves_all_or_nothing_and_redo_works(
    cluster: Cluster, tmp_path: Path, where: str
) -> None:
    """In a worker process (the default) the import outlives its replica and completes; on the
    server's own threads (IMPORT_PROCESSES=false) the kill ends its transaction: nothing is in."""
    cluster.healthy()
    stand_in, engine = cluster.stand_in, cluster.engine
    files = write_csv(generate(seed=16, n_accounts=6000), tmp_path / "crm")
    content = files["accounts"].read_bytes()
    total = len([line for line in content.decode().splitlines()[1:] if line.strip()])
    stored = stand_in.add_file("accounts.csv", content, user=ADMIN_ID, channel=ADMIN_DM)
    with engine.begin() as conn:  # each case starts from no accounts
        for table in ("account", "import_run"):
            conn.execute(text(f"DELETE FROM {table}"))

    victim = cluster.next_replica()
    if where == "server threads":
        cluster.replicas[victim].kill()
        cluster.start(victim, IMPORT_PROCESSES="false")
    told_from = len(stand_in.calls)
    assert cluster.driver(victim).file_shared(stored, event_id=f"EvREPLIMPORT{where}1").status == 200
    deadline = time.monotonic() + 60
    while not writing_accounts(cluster.db_url):
        assert time.monotonic() < deadline, (
            f"the import never started writing: {cluster.replicas[victim].tail()}"
        )
        time.sleep(0.005)
    cluster.kill(victim)
    other = (victim + 1) % REPLICAS
    if where == "worker process":  # the same file shared again while the orphaned worker imports
        assert cluster.driver(other).file_shared(stored, event_id=f"EvREPLIMPORT{where}2").status == 200
    wait_until(no_writer_for(cluster.db_url, 1.0), timeout=60, what="the killed import's transaction to end")
    accounts, runs = account_state(engine)
    assert accounts in (0, total), f"{accounts} of {total} accounts after the kill"
    assert runs in ([], ["succeeded"]), f"import runs after the kill: {runs}"
    assert (accounts == total) == (runs == ["succeeded"])
    killed_mid_write = accounts == 0
    summaries = post_count(stand_in, ADMIN_DM, "6,000", since=told_from)
    if where == "worker process":
        wait_until(lambda: summaries() >= 1, timeout=30, what="the orphaned worker's summary in the DM")

    cluster.start(victim)
    # The person shares the same Slack file again; another replica takes it if it is not done.
    wait_until(lambda: not upload_claim_live(engine, stored.id), timeout=30, what="the dead replica's lease")
    assert cluster.driver(other).file_shared(stored, event_id=f"EvREPLIMPORT{where}3").status == 200
    wait_until(
        lambda: account_state(engine)[1][-1:] == ["succeeded"] and account_state(engine)[0] == total,
        timeout=90,
        what=f"{total} accounts imported",
    )
    wait_until(lambda: summaries() >= 1, timeout=30, what="the import's summary in the DM")
    wait_until(no_writer_for(cluster.db_url, 0.5), timeout=30, what="the re-import to finish")
    time.sleep(1.5)  # a second summary would come from another replica's own work, after the first
    accounts, runs = account_state(engine)
    told = summaries()
    record(
        "replicas",
        requests=3 if where == "worker process" else 2,
        **{
            "imports killed mid-write": int(killed_mid_write),
            "import summaries not exactly once": int(told != 1),
        },
    )
    assert accounts == total and set(runs) == {"succeeded"}, (accounts, runs)
    assert told == 1, f"{told} import summaries in the DM"


def test_replica_killed_holding_a_reminder_claim_each_reminder_sent_once(cluster: Cluster) -> None:
    cluster.healthy()
    stand_in, engine = cluster.stand_in, cluster.engine
    owners = [f"U0REV{i}" for i in range(5)]
    held_user = owners[0]
    release = threading.Event()
    held: list[RecordedCall] = []
    default = stand_in._default

    def hold_first_open(call: RecordedCall) -> dict[str, Any]:
        if call.params.get("users") == held_user and not held:
            held.append(call)
            release.wait(30)  # the replica that asked is killed meanwhile
        return default(call)

    stand_in.respond_with("conversations.open", hold_first_open)
    now = utcnow()
    ids = weekly_dm_reminders(engine, owners, segment="replicas", now=now)  # DMs: conversations.open first
    try:
        with engine.begin() as conn:  # all due now: every replica's loop races for them
            conn.execute(
                text("UPDATE review_reminder SET next_run_at = :due WHERE id = ANY(:ids)"),
                {"due": now - timedelta(minutes=1), "ids": ids},
            )
        wait_until(lambda: bool(held), timeout=20, what=f"a replica to open the DM with {held_user}")
        with engine.connect() as conn:
            holder = str(
                conn.execute(
                    text("SELECT claimed_by FROM review_reminder WHERE id = :id"), {"id": ids[0]}
                ).scalar_one()
            )
        pid = int(holder.split(":")[1])
        victim = next(i for i, child in enumerate(cluster.replicas) if child.pid == pid)
        cluster.kill(victim)
    finally:
        release.set()
        stand_in.responders.pop("conversations.open", None)
    cluster.start(victim)

    def sent(owner: str) -> int:
        return posts_in(stand_in, f"D{owner[1:]}", "review")

    wait_until(
        lambda: all(sent(o) >= 1 for o in owners), timeout=CLAIM_SECONDS + 30, what="every reminder sent"
    )
    time.sleep(CLAIM_SECONDS + 1.0)  # past another claim's expiry: a second send would show now
    per_owner = {o: sent(o) for o in owners}
    not_once = [o for o, n in per_owner.items() if n != 1]
    record("replicas", reminders=sum(per_owner.values()), **{"reminders not exactly once": len(not_once)})
    assert not not_once, f"review reminders sent per owner: {per_owner}"
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT last_run_at, next_run_at, claimed_by FROM review_reminder WHERE id = ANY(:ids)"),
            {"ids": ids},
        ).all()
    assert all(r[0] is not None and r[1] > now and r[2] is None for r in rows), rows


def reminder_holder_pid(engine: Engine, reminder_id: int) -> int:
    """The process holding ``reminder_id``'s claim (``host:pid:random``)."""
    with engine.connect() as conn:
        holder = str(
            conn.execute(
                text("SELECT claimed_by FROM review_reminder WHERE id = :id"), {"id": reminder_id}
            ).scalar_one()
        )
    return int(holder.split(":")[1])


def test_replica_killed_after_slack_accepted_a_reminder_sends_it_at_least_once(cluster: Cluster) -> None:
    """The window left open, by design: a replica dies after Slack accepted the review kit's post
    but before it recorded the firing. Documented behaviour: at-least-once. Nothing says the post
    happened, so when the claim expires (``SCHEDULER_CLAIM_SECONDS``) another replica sends the kit
    again and records it: that reminder reaches Slack exactly twice (one extra post per crash in
    that window, never a third), and every other reminder once."""
    cluster.healthy()
    stand_in, engine = cluster.stand_in, cluster.engine
    owners = [f"U0ALO{i}" for i in range(3)]
    held_dm = f"D{owners[0][1:]}"
    release = threading.Event()
    held: list[RecordedCall] = []
    default = stand_in._default

    def accept_then_hold(call: RecordedCall) -> dict[str, Any]:
        if call.params.get("channel") == held_dm and not held:
            held.append(call)  # Slack has the message; its answer waits until the sender is dead
            release.wait(30)
        return default(call)

    stand_in.respond_with("chat.postMessage", accept_then_hold)
    now = utcnow()
    ids = weekly_dm_reminders(engine, owners, segment="accepted", now=now)
    try:
        with engine.begin() as conn:
            conn.execute(
                text("UPDATE review_reminder SET next_run_at = :due WHERE id = ANY(:ids)"),
                {"due": now - timedelta(minutes=1), "ids": ids},
            )
        wait_until(lambda: bool(held), timeout=20, what=f"a replica to post the review kit to {held_dm}")
        pid = reminder_holder_pid(engine, ids[0])
        victim = next(i for i, child in enumerate(cluster.replicas) if child.pid == pid)
        cluster.kill(victim)
    finally:
        release.set()
        stand_in.responders.pop("chat.postMessage", None)
    cluster.start(victim)

    def sent(owner: str) -> int:
        return posts_in(stand_in, f"D{owner[1:]}", "review")

    wait_until(lambda: sent(owners[0]) >= 2, timeout=CLAIM_SECONDS + 30, what="the re-sent review kit")
    wait_until(lambda: all(sent(o) >= 1 for o in owners[1:]), timeout=30, what="every other reminder")
    time.sleep(CLAIM_SECONDS + 1.0)  # past another claim's expiry: a third send would show now
    per_owner = {o: sent(o) for o in owners}
    record(
        "replicas",
        reminders=sum(per_owner.values()),
        **{
            "reminders not exactly once": sum(1 for o in owners[1:] if per_owner[o] != 1),
            "reminders re-sent after a kill": per_owner[owners[0]] - 1,
        },
    )
    assert per_owner == {owners[0]: 2, owners[1]: 1, owners[2]: 1}, per_owner
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT last_run_at, next_run_at, claimed_by FROM review_reminder WHERE id = ANY(:ids)"),
            {"ids": ids},
        ).all()
    assert all(r[0] is not None and r[1] > now and r[2] is None for r in rows), rows


# -- (c) the same search from every replica -----------------------------------------------------


def test_knowledge_search_is_identical_from_every_replica(cluster: Cluster) -> None:
    cluster.healthy()
    stand_in, engine = cluster.stand_in, cluster.engine
    said = [
        ("U0KN0", "Logistics companies with a RevOps lead sign in under a month."),
        ("U0KN1", "Retailers stall in legal review; procurement takes a quarter."),
        ("U0KN2", "Fintech buyers ask for SOC 2 before the first call."),
    ]
    for index, (user, words) in enumerate(said):  # each answer written by a different replica
        dm = started_interview(engine, user)
        assert cluster.driver(index).message_im(words, user=user, event_id=f"EvKNOW{index}").status == 200
        wait_until(posted(stand_in, dm, "Question 2 of"), timeout=20, what="question 2")
    time.sleep(1.0)  # answers are embedded after the next question is posted

    question = "Which customers close fastest and what slows deals down?"
    replies: list[str] = []
    for index in range(REPLICAS):
        asker = f"U0ASK{index}"  # same audience (members, not owners), separate rate limits
        dm = f"D{asker[1:]}"
        assert cluster.driver(index).message_im(question, user=asker, event_id=f"EvASK{index}").status == 200
        reply = stand_in.wait_for("chat.postMessage", to_channel(dm), timeout=30)[0]
        replies.append(reply.all_text())
    record("replicas", requests=len(said) + REPLICAS)
    cited = [re.findall(r"`(ans:\d+)`", reply) for reply in replies]
    assert cited[0], f"the answer drew on no interview answer: {replies[0]}"
    assert cited[1] == cited[0] and cited[2] == cited[0], cited
    assert replies[1] == replies[0] and replies[2] == replies[0], replies


def weekly_dm_reminders(engine: Engine, owners: list[str], *, segment: str, now: datetime) -> list[int]:
    """One weekly review reminder per owner, sent to the owner's DM (one segment each); their ids."""
    ids = []
    for number, owner in enumerate(owners):
        state = set_reminder(
            engine,
            team_id=TEAM_ID,
            actor=ADMIN_ID,
            cadence=Cadence.weekly,
            cron=None,
            channel_id=owner,
            timezone="UTC",
            now=now,
            segment=f"{segment}-{number}",
        )
        ids.append(state.id)
    return ids
