"""Slack load: ack and end-to-end `/icp score` latency at 100 requests/s, next to a bare Bolt app.

    .venv/bin/python benchmarks/slack_load.py [--rate 100 --seconds 30 --accounts 100000]
                                              [--db sqlite|postgresql] [--score-processes 1]

Why: Slack gives an app 3 s to acknowledge a slash command and people wait for the answer, so the
issue sets three targets at 100 requests/s with 100,000 accounts in the store: ack p99 within
1.5× that of a bare Bolt app that only acks (measured in the same run, on the same server stack),
`/icp score` answered end to end (request sent → score card received) with p99 under 300 ms, and
zero errors.

How: the end-to-end harness of tests/support is reused as is: a stand-in Slack Web API on 127.0.0.1
that records every call (the replies to each request's ``response_url`` included), the app built
by ``build_app`` and served over real HTTP by bot/slack/server.py's ASGI app under uvicorn (``start_env``,
as in the e2e tests), and signed slash commands of Slack's real shape. Each app runs in a child
process of its own, as under ``icp serve --http``; the stand-in runs in another child process
(receiving the bot's replies must not slow the generator's sends and ack timing for the bot
alone) and the load generator in this one, so neither counts against the app. The store is a fresh database in a temp
dir (SQLite, or a new PostgreSQL database with ``--db postgresql``) holding a generated company's
accounts (the sample generator's names and domains, values normalised by the engine, written with
the repo's bulk upsert) and an approved 12-criterion ICP; the knowledge store path is in the temp
dir too. An open-loop generator sends ``/icp score <name | domain | misspelt name>`` at a fixed
rate, each with its own response_url path; ack latency is the HTTP response time of the slash
request and end-to-end latency the time until the stand-in received the reply at that path, both
counted from the moment the request was due (a slow server cannot slow the generator down and
hide its own delay). Both apps are up for the whole run and take turns: each gets the mix in six
slices, alternately, each slice's replies gathered before the other app's slice starts, so other
jobs on the machine starting or stopping during the run weigh on both alike. An error is a non-200 ack, no reply within the timeout, or a reply that is
neither a score card nor an account chooser. Warm-up requests go first (the account index builds
on the first lookup, in each score worker). The app's CPU time per request (its
server process and its score worker processes together) is printed beside the latencies.

The bot runs as README recommends for this load: ``SCORE_PROCESSES=1`` (``--score-processes``),
so scoring runs in a worker process and never holds the GIL the server's acks need;
``--score-processes 0`` measures everything on the server's own threads.

It is a report: it always exits 0 when the run completes, PASS or FAIL.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

if (
    __name__ == "__main__" and not __package__
):  # run as a file, not with -m: put the repository root on the path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import pandas as pd
from slack_bolt import Ack, App
from slack_sdk import WebClient

from benchmarks._table import NA, fmt_ratio, mark, print_table, ratio, say
from bot.demo.stand_in.seeding import approved_icp
from bot.slack.server import build_asgi
from bot.slack.views.score_card import CHOOSE_ACCOUNT, WHY_BUTTON
from bot.store.db import make_engine, session_scope, upgrade
from bot.store.models import AccountCreate
from bot.store.repo.crm import bulk_upsert_accounts
from icp_engine.model import ICP
from icp_engine.normalize import normalize_frame
from icp_engine.sample import generate
from tests.support.harness import (
    ADMIN_ID,
    BOT_TOKEN,
    SIGNING_SECRET,
    TEAM_ID,
    AppServer,
    RecordedCall,
    SlackDriver,
    StandInSlack,
)
from tests.support.slack_world import start_env, stop_env  # the app served as the e2e tests serve it

SEED = 7
ACK_RATIO_BAR = 1.5
E2E_P99_BAR_MS = 300.0
REPLY_TIMEOUT_S = 10.0
MIX = (("name", 0.6), ("domain", 0.3), ("fuzzy", 0.1))
MEASURING_NICE = -5  # the generator's and the stand-in's priority, above the apps' (see measuring_first)
ROUNDS = 6  # the apps take turns: each gets the mix in this many slices, alternately
SCORE_PROCESSES = 1  # the bot's score workers (SCORE_PROCESSES), as README recommends under load

# Twelve criteria on the attributes the sample company's export carries, two disqualifiers.
ICP_DOC: dict[str, Any] = {
    "name": "Benchmark ICP",
    "criteria": [
        {"attribute": "industry", "op": "in", "values": ["software", "fintech"], "points": 25},
        {"attribute": "employees", "op": "between", "values": [200, 2000], "points": 15},
        {"attribute": "employee_band", "op": "in", "values": ["201-500", "501-1000"], "points": 8},
        {"attribute": "country", "op": "in", "values": ["US", "CA"], "points": 10},
        {"attribute": "region", "op": "eq", "values": ["North America"], "points": 4},
        {"attribute": "tech_stack", "op": "contains_any", "values": ["salesforce"], "points": 10},
        {"attribute": "tech_stack", "op": "contains_any", "values": ["snowflake", "marketo"], "points": 4},
        {"attribute": "revenue_band", "op": "in", "values": ["50M-100M", "100M-500M"], "points": 6},
        {"attribute": "annual_revenue", "op": "gte", "values": [10_000_000], "points": 4},
        {"attribute": "Lead Source", "op": "eq", "values": ["Referral"], "points": 8},
        {"attribute": "industry", "op": "in", "values": ["healthcare", "professional services"], "points": 4},
        {"attribute": "country", "op": "in", "values": ["GB", "DE", "NL"], "points": 2},
    ],
    "disqualifiers": [
        {"attribute": "employee_band", "op": "eq", "values": ["1-10"], "reason": "too small to buy"},
        {"attribute": "industry", "op": "eq", "values": ["education"], "reason": "no budget cycle fit"},
    ],
}


# --------------------------------------------------------------------------- the store


@dataclass(frozen=True)
class Company:
    name: str
    domain: str


def account_rows(frame: pd.DataFrame) -> Iterator[AccountCreate]:
    """The sample export's accounts as the store keeps them: canonical values in typed columns
    (the engine's own normaliser reads the export's spellings), the lead source as a custom field."""
    raw = pd.DataFrame(
        {
            "industry": frame["Industry"],
            "employees": frame["Number of Employees"],
            "annual_revenue": frame["Annual Revenue"],
            "country": frame["Country/Region"],
            "tech_stack": frame["Technologies"],
        },
        dtype=object,
    )
    norm, _ = normalize_frame(raw)
    columns = zip(
        frame["Record ID"],
        frame["Company name"],
        frame["Company Domain Name"],
        frame["Lead Source"],
        *(norm[c] for c in ("industry", "employees", "annual_revenue", "country", "region", "tech_stack")),
        strict=True,
    )
    for crm_id, name, domain, lead, industry, employees, revenue, country, region, stack in columns:
        yield AccountCreate(
            crm_id=str(crm_id),
            name=str(name),
            domain=str(domain),
            industry=industry,
            employees=None if pd.isna(employees) else round(employees),
            annual_revenue=None if pd.isna(revenue) else float(revenue),
            country=country,
            region=region,
            tech_stack=list(stack or ()),
            custom_attributes={} if pd.isna(lead) else {"Lead Source": str(lead)},
        )


def populate(url: str, *, accounts: int) -> list[Company]:
    """Migrate ``url`` and load ``accounts`` generated accounts and an approved ICP into it."""
    frame = generate(seed=SEED, n_accounts=accounts, messy=False).accounts
    ICP.model_validate(ICP_DOC)  # a typo here should fail the setup, not every request
    engine = make_engine(url)
    try:
        upgrade(engine)
        with session_scope(engine) as session:
            version = approved_icp(
                session, team_id=TEAM_ID, icp_json=ICP_DOC, author=ADMIN_ID, name="benchmark"
            )
            bulk_upsert_accounts(session=session, workspace_id=version.workspace_id, rows=account_rows(frame))
    finally:
        engine.dispose()
    return [
        Company(str(n), str(d))
        for n, d in zip(frame["Company name"], frame["Company Domain Name"], strict=True)
    ]


@contextmanager
def database(kind: str, work: Path) -> Iterator[str]:
    """A fresh, empty database of ``kind`` for the run; dropped afterwards (PostgreSQL)."""
    if kind == "sqlite":
        yield f"sqlite:///{work / 'store.db'}"
        return
    from benchmarks.import_bulk import drop_postgres_database, postgres_database

    url, name = postgres_database()
    if url is None:
        raise SystemExit(name)  # the reason PostgreSQL cannot be used
    try:
        yield url.replace("postgresql://", "postgresql+psycopg://", 1)
    finally:
        drop_postgres_database(name)


# --------------------------------------------------------------------------- the request mix


def misspell(name: str, rng: random.Random) -> str:
    """The name without its legal suffix and with one inner letter dropped: 'Cedarstak'."""
    base = name.rsplit(" ", 1)[0] if " " in name else name
    inner = [i for i, ch in enumerate(base) if ch.isalpha() and 0 < i < len(base) - 1]
    if not inner:
        return base
    cut = rng.choice(inner)
    return base[:cut] + base[cut + 1 :]


def query_for(company: Company, kind: str, rng: random.Random) -> str:
    """How a person would type the company: as stored, lowercased, as a URL or an address..."""
    if kind == "domain":
        return rng.choice((company.domain, f"https://www.{company.domain}/about", f"sales@{company.domain}"))
    if kind == "fuzzy":
        return misspell(company.name, rng)
    return rng.choice((company.name, company.name.lower(), company.name.rsplit(" ", 1)[0]))


def request_mix(companies: Sequence[Company], count: int, *, seed: int = SEED) -> list[tuple[str, str]]:
    """``count`` (kind, slash text) pairs drawn with the MIX proportions (deterministic)."""
    rng = random.Random(seed)
    kinds = rng.choices([k for k, _ in MIX], weights=[w for _, w in MIX], k=count)
    return [(kind, f"score {query_for(rng.choice(companies), kind, rng)}") for kind in kinds]


# --------------------------------------------------------------------------- load


@dataclass
class Shot:
    """One slash command: when it was due, when its ack and its reply arrived."""

    kind: str
    text: str
    response_url: str
    due: float = 0.0
    acked: float | None = None
    status: int = 0
    failure: str = ""
    replied: float | None = None
    reply: str = ""  # "card", "chooser" or a short description of anything else

    @property
    def path(self) -> str:
        return urlsplit(self.response_url).path

    @property
    def ack_ms(self) -> float | None:
        return None if self.acked is None else (self.acked - self.due) * 1000

    @property
    def e2e_ms(self) -> float | None:
        return None if self.replied is None else (self.replied - self.due) * 1000


def _send(driver: SlackDriver, shot: Shot) -> None:
    try:
        result = driver.slash(shot.text, response_url=shot.response_url)
        shot.status = result.status
    except Exception as exc:  # a refused or timed-out connection is an error to count, not a crash
        shot.failure = f"{type(exc).__name__}: {exc}"
    finally:
        shot.acked = time.monotonic()


def fire(driver: SlackDriver, shots: Sequence[Shot], *, rate: float) -> float:
    """Send ``shots`` open loop at ``rate`` per second; the worst lateness of a send, in ms."""
    late = 0.0
    with ThreadPoolExecutor(max_workers=256, thread_name_prefix="load") as pool:
        start = time.monotonic() + 0.1
        for i, shot in enumerate(shots):
            shot.due = start + i / rate
            wait = shot.due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            late = max(late, time.monotonic() - shot.due)
            pool.submit(_send, driver, shot)
    return late * 1000


def _action_ids(node: Any) -> Iterator[str]:
    if isinstance(node, Mapping):
        if isinstance(node.get("action_id"), str):
            yield node["action_id"]
        for value in node.values():
            yield from _action_ids(value)
    elif isinstance(node, list):
        for item in node:
            yield from _action_ids(item)


def classify(call: RecordedCall) -> str:
    found = set(_action_ids(call.blocks))
    if WHY_BUTTON in found:
        return "card"
    if CHOOSE_ACCOUNT in found:
        return "chooser"
    return f"other: {call.text[:80]!r}"


def collect_replies(stand_in: RemoteStandIn, shots: Sequence[Shot], *, timeout: float) -> None:
    """Match each shot to the first reply posted to its response_url (waiting up to ``timeout``)."""
    pending = {shot.path: shot for shot in shots}
    deadline = time.monotonic() + timeout
    seen = 0
    while pending and time.monotonic() < deadline:
        replies = stand_in.replies(since=seen)
        for path, at, reply in replies:
            shot = pending.pop(path, None)
            if shot is not None:
                shot.replied, shot.reply = at, reply
        seen += len(replies)
        time.sleep(0.05)


# --------------------------------------------------------------------------- the stand-in, in its own process
#
# Receiving 100 replies a second costs the stand-in CPU; in the load generator's process that
# would delay the sends and the ack timing of the bot (which replies) and not of the bare app
# (which does not). So the stand-in runs in a process of its own, for both apps alike, and the
# generator asks it for the replies it recorded: path, arrival time (CLOCK_MONOTONIC, the same
# clock in every process) and what kind of reply it was.


def measuring_first(*pids: int) -> None:
    """Give this process (the generator, which timestamps the acks) and the stand-in (which
    timestamps the replies) priority over the apps, where allowed: on a busy machine a measuring
    process kept waiting for a CPU adds its own wait to whichever app it is measuring, and most to
    the app that uses more CPU. The apps keep the default priority; where renicing is not allowed
    (not root), nothing changes and the figures are noisier."""
    for pid in (os.getpid(), *pids):
        try:
            os.setpriority(os.PRIO_PROCESS, pid, MEASURING_NICE)
        except (AttributeError, OSError):
            return


def serve_stand_in() -> None:
    """In the child: run the stand-in, print its base URL, answer "replies N" and "clear" lines."""
    stand_in = StandInSlack().start()
    print(json.dumps({"base": stand_in.base}), flush=True)
    try:
        for line in sys.stdin:
            command, _, arg = line.strip().partition(" ")
            if command == "replies":
                calls = stand_in.calls_to("response_url")[int(arg or 0) :]
                print(json.dumps([[c.path, c.at, classify(c)] for c in calls]), flush=True)
            elif command == "clear":
                stand_in.clear()
                print("{}", flush=True)
    finally:
        stand_in.stop()


class RemoteStandIn:
    """The stand-in Slack served by a child process (see ``serve_stand_in``)."""

    def __init__(self) -> None:
        command = [sys.executable, __file__, "--serve-stand-in"]
        self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.pid = self._process.pid
        self.base = str(json.loads(self._ask(None))["base"])
        self.api_url = f"{self.base}/api/"

    def _ask(self, line: str | None) -> str:
        assert self._process.stdin is not None and self._process.stdout is not None
        if line is not None:
            self._process.stdin.write(line + "\n")
            self._process.stdin.flush()
        answer = self._process.stdout.readline()
        if not answer:
            raise SystemExit(f"the stand-in Slack stopped (exit code {self._process.wait()})")
        return answer

    def response_url(self) -> str:
        return f"{self.base}/respond/{uuid.uuid4().hex}"

    def replies(self, *, since: int = 0) -> list[tuple[str, float, str]]:
        """(path, arrival time, kind) of the replies to response_urls, from the ``since``-th on."""
        return [(str(p), float(at), str(kind)) for p, at, kind in json.loads(self._ask(f"replies {since}"))]

    def clear(self) -> None:
        self._ask("clear")

    def stop(self) -> None:
        assert self._process.stdin is not None
        self._process.stdin.close()
        self._process.wait(timeout=30)


# --------------------------------------------------------------------------- cases


@dataclass
class CaseResult:
    case: str
    shots: list[Shot]
    expects_reply: bool
    send_late_ms: float
    cpu_ms: float  # the app process's CPU time per request during the run
    notes: list[str] = field(default_factory=list)

    def errors(self) -> list[str]:
        out = []
        for shot in self.shots:
            if shot.failure or shot.status != 200:
                out.append(f"{shot.text!r}: ack {shot.failure or f'HTTP {shot.status}'}")
            elif self.expects_reply and shot.replied is None:
                out.append(f"{shot.text!r}: no reply within {REPLY_TIMEOUT_S:.0f} s")
            elif self.expects_reply and shot.reply not in ("card", "chooser"):
                out.append(f"{shot.text!r}: {shot.reply}")
        return out

    def percentile(self, values: Sequence[float | None], q: float) -> float | None:
        known = [v for v in values if v is not None]
        return float(np.percentile(known, q)) if known else None

    def ack(self, q: float) -> float | None:
        return self.percentile([s.ack_ms for s in self.shots if s.status == 200], q)

    def e2e(self, q: float) -> float | None:
        return self.percentile([s.e2e_ms for s in self.shots], q) if self.expects_reply else None


def make_shots(mix: Sequence[tuple[str, str]], stand_in: RemoteStandIn) -> list[Shot]:
    return [Shot(kind, text, stand_in.response_url()) for kind, text in mix]


def warm_up(app: ServedApp, stand_in: RemoteStandIn, mix: Sequence[tuple[str, str]]) -> None:
    """One request per score worker, sent together, so that each worker is up and indexed."""
    driver = SlackDriver(app.url, cast(StandInSlack, stand_in))  # every request names its response_url
    warm = [Shot("name", text, stand_in.response_url()) for _, text in mix[: app.workers]]
    with ThreadPoolExecutor(max_workers=len(warm)) as pool:
        list(pool.map(partial(_send, driver), warm))
    if app.replies:
        collect_replies(stand_in, warm, timeout=120)
    stand_in.clear()


def run_cases(
    cases: Sequence[tuple[str, ServedApp]],
    stand_in: RemoteStandIn,
    mix: Sequence[tuple[str, str]],
    *,
    rate: float,
    rounds: int = ROUNDS,
) -> list[CaseResult]:
    """Warm the apps up, then send the mix to each at ``rate`` in turns: ``rounds`` slices, app
    after app, each slice's replies gathered before the next app's slice starts. A change in the
    machine's load during the run (other jobs starting or ending) then falls on every app alike."""
    for _, app in cases:
        warm_up(app, stand_in, mix)
    shots = {case: make_shots(mix, stand_in) for case, _ in cases}
    late = dict.fromkeys(shots, 0.0)
    cpu = dict.fromkeys(shots, 0.0)
    size = max(1, -(-len(mix) // rounds))
    for start in range(0, len(mix), size):
        for case, app in cases:
            part = shots[case][start : start + size]
            driver = SlackDriver(app.url, cast(StandInSlack, stand_in))
            cpu_before = app.cpu_seconds()
            late[case] = max(late[case], fire(driver, part, rate=rate))
            if app.replies:
                collect_replies(stand_in, part, timeout=REPLY_TIMEOUT_S)
            cpu[case] += app.cpu_seconds() - cpu_before
            stand_in.clear()
    results = []
    for case, app in cases:
        result = CaseResult(case, shots[case], app.replies, late[case], cpu[case] * 1000 / len(mix))
        if app.replies:
            replies = Counter(shot.reply.split(":")[0] or "none" for shot in shots[case])
            result.notes.append("replies: " + ", ".join(f"{k} {v:,}" for k, v in sorted(replies.items())))
        results.append(result)
    return results


# --------------------------------------------------------------------------- the apps, each in its own process
#
# Slack is not inside the bot's process, so neither is its stand-in nor the load generator: each
# app runs in a child process (its own interpreter and GIL, as under `icp serve --http`), served
# by the harness exactly as in the e2e tests, and reports its CPU time when asked on stdin.


@dataclass(frozen=True)
class SlackAddress:
    """The stand-in's address, for an app in another process (``start_env`` reads only this)."""

    api_url: str


def bare_app(api_url: str) -> App:
    """A Bolt app whose one /icp listener only acks: what Bolt itself costs on this stack."""
    app = App(
        signing_secret=SIGNING_SECRET,
        client=WebClient(token=BOT_TOKEN, base_url=api_url),
        token_verification_enabled=False,
        process_before_response=False,
        name="bare",
    )

    @app.command("/icp")
    def only_ack(ack: Ack) -> None:
        ack()

    return app


def cpu_seconds() -> float:
    """CPU time of this process and of its child processes (the bot's score workers), live or ended."""
    total = time.process_time()
    ended = resource.getrusage(resource.RUSAGE_CHILDREN)
    total += ended.ru_utime + ended.ru_stime
    me, tick = str(os.getpid()), os.sysconf("SC_CLK_TCK")
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        fields = stat.rsplit(")", 1)[1].split()  # after "pid (name)": state, ppid, ...
        if fields[1] == me:
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def serve(kind: str, *, store_url: str, api_url: str, root: Path, score_processes: int) -> None:
    """In the child: serve ``kind`` ("bare" or "bot"), print its URL, answer "cpu" lines with the
    CPU seconds of the process and its workers, and stop when stdin closes."""
    stop: Callable[[], None]
    if kind == "bare":
        engine = make_engine(store_url)  # only the health probe uses it; same server stack as the bot
        server = AppServer(
            build_asgi(bare_app(api_url), engine=engine, signing_secret=SIGNING_SECRET)
        ).start()
        url = server.url

        def stop() -> None:
            server.stop()
            engine.dispose()

    else:
        if store_url.startswith("sqlite:///"):
            template, overrides = Path(store_url.removeprefix("sqlite:///")), {}
        else:  # start_env copies a SQLite template into place; with PostgreSQL nothing reads it
            template, overrides = root / "unused.db", {"database_url": store_url}
            template.touch()
        overrides["score_processes"] = score_processes
        # Every shot comes from one simulated person: lift the per-person limit (COMMAND_USER_*),
        # or the benchmark would measure busy replies instead of the work.
        overrides["command_user_burst"] = 10_000
        overrides["command_user_per_minute"] = 100_000
        env = start_env(root / "bot", template, cast(StandInSlack, SlackAddress(api_url)), **overrides)
        url = env.url

        def stop() -> None:
            stop_env(env)

    print(json.dumps({"url": url}), flush=True)
    try:
        for line in sys.stdin:
            if line.strip() == "cpu":
                print(json.dumps({"cpu": cpu_seconds()}), flush=True)
    finally:
        stop()


@dataclass
class ServedApp:
    """An app served by a child process: its URL, and its CPU time on request."""

    url: str
    replies: bool  # whether it answers at the response_url (the bare app never does)
    process: subprocess.Popen[str]
    workers: int = 1  # threads or processes that score in parallel (warm-up requests to send)

    def cpu_seconds(self) -> float:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write("cpu\n")
        self.process.stdin.flush()
        return float(json.loads(self.process.stdout.readline())["cpu"])


@contextmanager
def served(
    kind: str, *, store_url: str, api_url: str, root: Path, score_processes: int = 0
) -> Iterator[ServedApp]:
    command = [sys.executable, __file__, "--serve", kind, "--store-url", store_url]
    command += ["--api-url", api_url, "--root", str(root), "--score-processes", str(score_processes)]
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert process.stdin is not None and process.stdout is not None
    try:
        first = process.stdout.readline()
        if not first:
            raise SystemExit(f"the {kind} app did not start (exit code {process.wait()}); see above")
        yield ServedApp(json.loads(first)["url"], kind == "bot", process, max(1, score_processes))
    finally:
        process.stdin.close()
        if process.wait(timeout=60) != 0:
            say(f"the {kind} app exited with code {process.returncode}")


# --------------------------------------------------------------------------- report


def ms(value: float | None) -> str:
    return NA if value is None else f"{value:,.1f}"


def report(bare: CaseResult, bot: CaseResult, *, args: argparse.Namespace, setup_s: float) -> None:
    rows = []
    for result in (bare, bot):
        ack_ratio = ratio(result.ack(99) or 0.0, bare.ack(99) or 0.0)
        rows.append(
            [
                result.case,
                f"{len(result.shots):,}",
                f"{len(result.errors()):,}",
                ms(result.ack(50)),
                ms(result.ack(99)),
                ms(result.e2e(50)),
                ms(result.e2e(99)),
                fmt_ratio(ack_ratio),
                f"{result.cpu_ms:,.1f}",
            ]
        )
    print_table(
        f"/icp score under load: {args.rate:g} requests/s for {args.seconds:g} s, "
        f"{args.accounts:,} accounts ({args.db})",
        [
            "case",
            "requests",
            "errors",
            "ack p50 ms",
            "ack p99 ms",
            "e2e p50 ms",
            "e2e p99 ms",
            "ack p99 / bare",
            "app CPU ms/req",
        ],
        rows,
        caption=(
            "Latencies count from when each request was due; e2e = request → reply received by the "
            "stand-in. Each app runs in its own process; CPU is that process's and its score workers', "
            "over the run."
        ),
    )
    ack_ratio = ratio(bot.ack(99) or 0.0, bare.ack(99) or 0.0)
    e2e_p99 = bot.e2e(99)
    errors = len(bare.errors()) + len(bot.errors())
    print_table(
        "Targets",
        ["target", "measured", "bar", "result"],
        [
            [
                "ack p99 vs the bare app",
                fmt_ratio(ack_ratio),
                f"≤ {ACK_RATIO_BAR:g}×",
                mark(ack_ratio <= ACK_RATIO_BAR),
            ],
            [
                "e2e p99 of /icp score",
                f"{ms(e2e_p99)} ms",
                f"< {E2E_P99_BAR_MS:g} ms",
                mark(e2e_p99 is not None and e2e_p99 < E2E_P99_BAR_MS),
            ],
            ["errors (both apps)", f"{errors:,}", "0", mark(errors == 0)],
        ],
    )
    say(f"Mix: {', '.join(f'{k} {w:.0%}' for k, w in MIX)}; {bot.notes[0] if bot.notes else ''}.")
    say(
        f"Worst send lateness of the generator: bare {bare.send_late_ms:.1f} ms, bot {bot.send_late_ms:.1f} ms. "
        f"Setup (generate, import, ICP) took {setup_s:.1f} s. Machine: {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f} at the end (other work on it slows both apps)."
    )
    for result in (bare, bot):
        for line in result.errors()[:5]:
            say(f"error ({result.case}): {line}")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=100.0, help="requests per second (default 100)")
    parser.add_argument("--seconds", type=float, default=30.0, help="how long to send (default 30)")
    parser.add_argument(
        "--accounts", type=int, default=100_000, help="accounts in the store (default 100,000)"
    )
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--score-processes",
        type=int,
        default=SCORE_PROCESSES,
        help=f"the bot's SCORE_PROCESSES (default {SCORE_PROCESSES}; 0 scores on the server's threads)",
    )
    parser.add_argument("--serve", choices=("bare", "bot"), help=argparse.SUPPRESS)  # the child's role
    parser.add_argument("--serve-stand-in", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--store-url", help=argparse.SUPPRESS)
    parser.add_argument("--api-url", help=argparse.SUPPRESS)
    parser.add_argument("--root", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rate <= 0 or args.seconds <= 0 or args.accounts < 1:
        parser.error("--rate and --seconds must be positive and --accounts at least 1")
    if not 0 <= args.score_processes <= 16:
        parser.error("--score-processes must be between 0 and 16")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.serve_stand_in:
        serve_stand_in()
        return 0
    if args.serve:
        serve(
            args.serve,
            store_url=args.store_url,
            api_url=args.api_url,
            root=Path(args.root),
            score_processes=args.score_processes,
        )
        return 0
    count = max(1, round(args.rate * args.seconds))
    with tempfile.TemporaryDirectory(prefix="icp-slack-load-") as tmp:
        work = Path(tmp)
        with database(args.db, work) as url:
            say(f"Setting up {args.accounts:,} accounts in a fresh {args.db} store…")
            started = time.perf_counter()
            companies = populate(url, accounts=args.accounts)
            setup_s = time.perf_counter() - started
            mix = request_mix(companies, count)
            stand_in = RemoteStandIn()
            try:
                say(f"Bare Bolt app and ICP bot: {count:,} requests each, in {ROUNDS} turns…")
                with (
                    served("bare", store_url=url, api_url=stand_in.api_url, root=work) as bare_app,
                    served(
                        "bot",
                        store_url=url,
                        api_url=stand_in.api_url,
                        root=work,
                        score_processes=args.score_processes,
                    ) as bot_app,
                ):
                    cases = [
                        ("bare Bolt app (ack only)", bare_app),
                        (f"icp bot, /icp score ({args.db})", bot_app),
                    ]
                    measuring_first(stand_in.pid)
                    bare, bot = run_cases(cases, stand_in, mix, rate=args.rate)
            finally:
                stand_in.stop()
    report(bare, bot, args=args, setup_s=setup_s)
    return 0


if __name__ == "__main__":
    sys.exit(main())
