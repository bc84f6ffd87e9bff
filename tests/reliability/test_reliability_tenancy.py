"""Tenancy suite: three workspaces share one app, one database and one Chroma store.

Traffic is interleaved in a seeded random order: each workspace uploads its own accounts CSV in a
DM, its stakeholder (the same Slack user id in every workspace, on purpose) answers interview
questions, people score accounts (their own and the other workspaces'), open App Home and ask the
assistant in a DM. Every workspace's data carries markers (company names, answer phrases, the
ICP name) and nothing shown to, stored for or retrieved for one workspace may carry another's:
SQL rows per workspace id, Chroma search results, App Home views, score replies, chat answers.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import text

from bot.demo.stand_in.seeding import approved_icp
from bot.services.interviews import conversation as interviews
from bot.store.db import session_scope
from bot.store.models import GtmRole
from tests.support.harness import ADMIN_ID, RecordedCall, SlackDriver, SlackEnv
from tests.support.reliability_summary import record

DANA = "U0DANA"  # the same person id in every workspace
DANA_DM = "D0DANA"
ADMIN_DM = f"D{ADMIN_ID[1:]}"
ROUNDS = 3


@dataclass(frozen=True)
class Tenant:
    team: str
    company: str  # an account only this workspace has
    phrase: str  # what its stakeholder says, only here
    icp: str  # its ICP's name

    @property
    def markers(self) -> tuple[str, ...]:
        return (self.company, self.phrase, self.icp)

    @property
    def home_user(self) -> str:
        return f"U0HOME{self.team[-1]}"

    @property
    def chat_user(self) -> str:
        return f"U0CHAT{self.team[-1]}"


TENANTS = (
    Tenant("T0TENA", "Aardvark Systems", "aardvark pricing worries", "Alpha Plan"),
    Tenant("T0TENB", "Bluefin Traders", "bluefin onboarding delays", "Bravo Plan"),
    Tenant("T0TENC", "Cormorant Labs", "cormorant security reviews", "Charlie Plan"),
)


def accounts_csv(tenant: Tenant) -> bytes:
    rows = [f"{tenant.team}-1,{tenant.company},software,500,US", f"{tenant.team}-2,Common Name,retail,40,DE"]
    return ("Account ID,Account Name,Industry,Employees,Country\n" + "\n".join(rows) + "\n").encode()


def approve_icp(env: SlackEnv, tenant: Tenant) -> None:
    document = {
        "name": tenant.icp,
        "criteria": [
            {"attribute": "industry", "op": "in", "values": ["software"], "points": 25},
            {"attribute": "employees", "op": "between", "values": [200, 2000], "points": 20},
        ],
    }
    with session_scope(env.engine) as session:
        approved_icp(session, team_id=tenant.team, icp_json=document, author=ADMIN_ID, name="v1")


def others(tenant: Tenant) -> list[str]:
    return [m for t in TENANTS if t is not tenant for m in t.markers]


def leaks(shown: str, tenant: Tenant) -> list[str]:
    return [m for m in others(tenant) if m.lower() in shown.lower()]


class World:
    """The one app, and a driver per workspace; counts what was checked."""

    def __init__(self, env: SlackEnv) -> None:
        self.env = env
        self.drivers = {t.team: SlackDriver(env.url, env.stand_in, team_id=t.team) for t in TENANTS}
        self.checks = 0
        self.leaks: list[str] = []

    def check(self, tenant: Tenant, shown: str, where: str, *, asked: str = "") -> None:
        """Record a leak if ``shown`` names another workspace's marker (beyond echoing ``asked``)."""
        self.checks += 1
        if asked:
            shown = re.sub(re.escape(asked), "", shown, flags=re.IGNORECASE)
        found = leaks(shown, tenant)
        if found:
            self.leaks.append(f"{where} for {tenant.team} shows {found}: {shown[:300]!r}")

    def wait(self, method: str, predicate: Callable[[RecordedCall], bool], count: int) -> RecordedCall:
        return self.env.stand_in.wait_for(method, predicate, count=count, timeout=30)[-1]

    # traffic ---------------------------------------------------------------------------------
    def upload(self, tenant: Tenant, uploads: int) -> None:
        stored = self.env.stand_in.add_file(
            f"accounts-{tenant.team}.csv", accounts_csv(tenant), user=ADMIN_ID, channel=ADMIN_DM
        )
        assert self.drivers[tenant.team].file_shared(stored).status == 200
        reply = self.wait("chat.postMessage", lambda c: "Imported accounts-" in c.all_text(), uploads)
        assert f"accounts-{tenant.team}.csv" in reply.all_text(), reply.all_text()
        self.check(tenant, reply.all_text(), "import summary")

    def answer(self, tenant: Tenant, number: int) -> None:
        said = f"{tenant.phrase}, round {number}"
        assert self.drivers[tenant.team].message_im(said, user=DANA).status == 200

    def score(self, tenant: Tenant, company: str) -> str:
        reply = self.drivers[tenant.team].slash_reply(f"score {company}", timeout=30)
        self.check(tenant, reply.all_text(), f"/icp score {company}", asked=company)
        return reply.all_text()

    def home(self, tenant: Tenant) -> None:
        before = len(
            [
                c
                for c in self.env.stand_in.calls_to("views.publish")
                if c.params.get("user_id") == tenant.home_user
            ]
        )
        assert self.drivers[tenant.team].app_home_opened(user=tenant.home_user).status == 200
        view = self.wait("views.publish", lambda c: c.params.get("user_id") == tenant.home_user, before + 1)
        self.check(tenant, view.all_text(), "App Home")

    def chat(self, tenant: Tenant, question: str, *, asked: str = "") -> None:
        channel = f"D{tenant.chat_user[1:]}"
        before = len([c for c in self.env.stand_in.calls if c.params.get("channel") == channel])
        assert self.drivers[tenant.team].message_im(question, user=tenant.chat_user).status == 200

        def answered() -> bool:
            calls = [c for c in self.env.stand_in.calls if c.params.get("channel") == channel]
            return len(calls) > before and not any(
                "…" in c.text and c.method == "chat.postMessage" for c in calls[-1:]
            )

        deadline = time.monotonic() + 30
        while not answered() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # a "looking…" placeholder is replaced by the answer (chat.update)
        shown = "\n".join(c.all_text() for c in self.env.stand_in.calls if c.params.get("channel") == channel)
        assert shown, f"no chat answer in {channel}"
        self.check(tenant, shown, f"chat {question!r}", asked=asked)


@pytest.mark.slow
def test_workspaces_never_see_each_other(make_slack_env: Callable[..., SlackEnv]) -> None:
    env = make_slack_env()
    world = World(env)
    rng = random.Random(7)

    order = list(TENANTS)
    rng.shuffle(order)
    for uploads, tenant in enumerate(order, start=1):
        world.upload(tenant, uploads)
        approve_icp(env, tenant)
        invitation = interviews.invite(
            engine=env.engine,
            team_id=tenant.team,
            user_id=DANA,
            invited_by=ADMIN_ID,
            role=GtmRole.sales,
            dm_channel_id=DANA_DM,
        )
        interviews.start(
            engine=env.engine, team_id=tenant.team, user_id=DANA, interview_id=invitation.interview_id
        )

    steps: list[tuple[str, Tenant, int]] = [
        (kind, tenant, number)
        for number in range(ROUNDS)
        for tenant in TENANTS
        for kind in ("answer", "score", "home")
    ]
    rng.shuffle(steps)
    answers = {t.team: 0 for t in TENANTS}
    for kind, tenant, _number in steps:
        if kind == "answer":
            world.answer(tenant, answers[tenant.team])
            answers[tenant.team] += 1
        elif kind == "score":
            own = world.score(tenant, tenant.company)
            assert f"{tenant.company}: " in own and "/100" in own, own
            stranger = rng.choice([t for t in TENANTS if t is not tenant])
            unknown = world.score(tenant, stranger.company)
            assert "no account matching" in unknown and "/100" not in unknown, unknown
        else:
            world.home(tenant)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and count_answers(env) != answers:
        time.sleep(0.05)
    assert count_answers(env) == answers

    for tenant in TENANTS:  # chat, once the answers are indexed
        wait_indexed(env, tenant, answers[tenant.team])
        world.chat(tenant, "What do the interviews say about pricing, onboarding and security?")
        stranger = next(t for t in TENANTS if t is not tenant)
        world.chat(tenant, f"Why is {stranger.company} tier A?", asked=stranger.company)

    sql_checks = check_sql(env)
    vector_checks = check_vectors(env, world)
    record(
        "tenancy",
        workspaces=len(TENANTS),
        requests=len(TENANTS) * 3 + sum(2 if kind == "score" else 1 for kind, _, _ in steps),
        **{"views/replies checked": world.checks, "SQL checks": sql_checks, "vector searches": vector_checks},
        leaks=len(world.leaks),
    )
    assert not world.leaks, "\n".join(world.leaks)


def count_answers(env: SlackEnv) -> dict[str, int]:
    with env.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT w.slack_team_id, count(a.id) FROM workspace w "
                "LEFT JOIN answer a ON a.workspace_id = w.id GROUP BY w.slack_team_id"
            )
        )
        found = {str(team): int(n) for team, n in rows}
    return {t.team: found.get(t.team, 0) for t in TENANTS}


def wait_indexed(env: SlackEnv, tenant: Tenant, expected: int) -> None:
    deadline = time.monotonic() + 30
    while env.knowledge().count(workspace=tenant.team, kind="answer") < expected:
        assert time.monotonic() < deadline, f"{tenant.team}: answers not indexed"
        time.sleep(0.1)


def check_sql(env: SlackEnv) -> int:
    """Every row that names a workspace's marker belongs to that workspace; returns checks made."""
    checks = 0
    with env.engine.connect() as conn:
        for tenant in TENANTS:
            team = text("SELECT id FROM workspace WHERE slack_team_id = :t")
            workspace_id = conn.execute(team, {"t": tenant.team}).scalar_one()
            names = {
                str(r[0])
                for r in conn.execute(
                    text("SELECT name FROM account WHERE workspace_id = :w"), {"w": workspace_id}
                )
            }
            assert names == {tenant.company, "Common Name"}, names
            said = [
                str(r[0])
                for r in conn.execute(
                    text("SELECT text FROM answer WHERE workspace_id = :w"), {"w": workspace_id}
                )
            ]
            assert said and all(tenant.phrase in s for s in said), said
            icps = [
                str(r[0])
                for r in conn.execute(
                    text("SELECT icp_json FROM icp_version WHERE workspace_id = :w"), {"w": workspace_id}
                )
            ]
            assert icps and all(tenant.icp in s and not leaks(s, tenant) for s in icps), icps
            checks += 3
    return checks


def check_vectors(env: SlackEnv, world: World) -> int:
    """Searches in each workspace for every workspace's phrases return only its own documents."""
    searches = 0
    store = env.knowledge()
    for tenant in TENANTS:
        for other in TENANTS:
            hits = store.search(workspace=tenant.team, query=other.phrase, k=20)
            searches += 1
            assert all(h.metadata.get("workspace") in (None, tenant.team) for h in hits), [
                h.metadata for h in hits
            ]
            world.check(tenant, "\n".join(h.text for h in hits), f"knowledge search {other.phrase!r}")
    return searches
