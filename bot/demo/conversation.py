"""The demo's Slack conversation, step by step, over signed HTTP to the real app.

Import (CSV uploads in the owner's DM) → three DM interviews → ``/icp draft`` → Approve →
``/icp score`` → ``/icp remind`` → one scheduler pass past the reminder's time. Each step waits
for the bot's real answer and fails with a :class:`DemoError` naming the step if none comes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path

import pandas as pd

from bot.demo.script import ANSWERS, GENERAL, INTERVIEWEES, OWNER, REVOPS, SAM, Person
from bot.demo.stand_in.slack_api import BOT_TOKEN, TEAM_ID, RecordedCall
from bot.demo.world import DemoError, World, buttons, posted
from bot.services.icp.versions import approved_version
from bot.services.interviews.questions import load_question_set
from bot.services.reviews.reminders import get_reminder_state
from bot.slack.context import AppContext
from bot.slack.views.draft import DRAFT_APPROVE, DRAFT_FULL
from bot.slack.views.interview import START_INTERVIEW
from bot.slack.views.score_card import CHOOSE_ACCOUNT

DRAFT_TIMEOUT = 180.0  # a configured LLM may take its whole deadline before the offline fallback


@dataclass
class Outcome:
    """What the conversation produced, for the summary and for writing ``--out``."""

    imported: dict[str, str] = field(default_factory=dict)  # file -> the bot's summary header
    interviews: list[str] = field(default_factory=list)  # "sam (sales): 4 of 8 answered"
    approved_version: int | None = None
    scores: list[str] = field(default_factory=list)
    reviews_sent: int = 0
    reviews_sent_again: int = 0
    chart_png: bytes | None = None
    answers_indexed: int = 0
    blocks_checked: int = 0


def import_files(world: World, paths: dict[str, Path], out: Outcome) -> None:
    """The owner drops each CSV into a DM with the bot, like a person would."""
    for kind in ("accounts", "deals", "health"):
        upload(world, paths[kind], out)


def upload(world: World, path: Path, out: Outcome) -> None:
    """The owner drops one CSV into a DM with the bot; the import's summary goes in ``out``."""
    stored = world.stand_in.add_file(path.name, path.read_bytes(), user=OWNER.user_id, channel=OWNER.dm)

    def result_of(call: RecordedCall, name: str = path.name) -> bool:
        head = call.blocks[0] if call.blocks else {}
        return (
            call.method == "chat.postMessage"
            and call.params.get("channel") == OWNER.dm
            and head.get("type") == "header"
            and name in str((head.get("text") or {}).get("text"))
        )

    found = world.exchange(
        OWNER,
        f"uploads {path.name} ({path.stat().st_size // 1024:,} KB)",
        partial(world.driver.file_shared, stored),
        result_of,
        where=world.spoken_in(OWNER.dm),
        timeout=120,
    )
    lines = world.render(found).splitlines()
    out.imported[path.name] = _plain(lines[1] if len(lines) > 1 else lines[0])


def interview(world: World, person: Person, out: Outcome) -> None:
    """``/icp interview me``, the Start button, scripted answers in the DM, then ``done``."""
    assert person.role is not None
    total = len(load_question_set(person.role))
    invitation = world.slash(
        person,
        f"interview me role={person.role.value}",
        channel=person.dm,
        until=posted(person.dm, "Start"),
    )
    world.click(person, invitation, START_INTERVIEW, posted(person.dm, f"Question 1 of {total}"))
    answers = ANSWERS[person.user_id]
    for number, answer in enumerate(answers, start=1):
        nxt = f"Question {number + 1} of {total}"
        world.exchange(
            person,
            answer,
            partial(world.driver.message_im, answer, user=person.user_id, channel=person.dm),
            posted(person.dm, nxt),
            where=world.spoken_in(person.dm),
        )
    done = world.exchange(
        person,
        "done",
        lambda: world.driver.message_im("done", user=person.user_id, channel=person.dm),
        posted(person.dm, "thank you"),
        where=world.spoken_in(person.dm),
    )
    expected = f"You answered {len(answers)} of {total} questions"
    if expected not in done.all_text():
        raise DemoError(f"@{person.handle}'s interview ended without '{expected}'")
    out.interviews.append(
        f"@{person.handle} ({person.role.value}): {len(answers)} of {total} answered, completed"
    )


def draft_and_approve(world: World, out: Outcome) -> None:
    message = world.slash(OWNER, "draft", channel=GENERAL, until=_draft_posted, timeout=DRAFT_TIMEOUT)
    world.click(OWNER, message, DRAFT_FULL, lambda c: c.method == "views.open")  # the details
    world.click(
        OWNER, message, DRAFT_APPROVE, lambda c: c.method == "chat.update" and "Approved" in c.all_text()
    )
    active = approved_version(world.engine, team_id=TEAM_ID)
    if active is None:
        raise DemoError("after Approve, the store has no approved ICP version")
    out.approved_version = active.version
    world.transcript.note(
        f"In the store: {active.name} v{active.version} is {active.status.value} "
        f"(approver @{world.people.get(active.approver or '', active.approver)}), the version /icp score now uses."
    )


def _draft_posted(call: RecordedCall) -> bool:
    return (
        call.method == "chat.postMessage"
        and call.params.get("channel") == GENERAL
        and "(draft):" in call.text
    )


def score(world: World, queries: list[str], out: Outcome) -> None:
    for query in queries:
        card = world.slash(SAM, f"score {query}", channel=GENERAL)
        if CHOOSE_ACCOUNT in buttons(card):  # several accounts match: pick the first, as a person would
            card = world.click(SAM, card, CHOOSE_ACCOUNT, channel=GENERAL)
        out.scores.append(_plain(world.render(card).splitlines()[0]))


def _plain(line: str) -> str:
    """One rendered line without mrkdwn emphasis or a leading emoji, for the summary."""
    return line.replace("*", "").replace("_", " ").lstrip("✅ ").strip()


QUARTER_SHARE = 0.3  # of the deals, replayed as the next quarter's


def newer_deals(deals_csv: Path, *, start: date, end: date, seed: int = 7) -> pd.DataFrame:
    """The next quarter's deals: a sample of the export's latest deals as new records (new ids),
    created on ``start`` and closed between ``start`` and ``end``, outcomes as they were."""
    deals = pd.read_csv(deals_csv, dtype=str, keep_default_na=False)
    recent = deals.sort_values("Close Date").tail(max(1, int(len(deals) * QUARTER_SHARE)))
    fresh = recent.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    span = max(1, (end - start).days)
    fresh["Record ID"] = [f"9{i:09d}" for i in range(len(fresh))]
    fresh["Deal Name"] = fresh["Deal Name"].str.replace("New business", "Next quarter", regex=False)
    fresh["Create Date"] = start.isoformat()
    fresh["Close Date"] = [(start + timedelta(days=1 + i % span)).isoformat() for i in range(len(fresh))]
    return fresh


def quarter_passes(world: World, paths: dict[str, Path], out: Outcome, due: date) -> None:
    """Before the reminder fires, a quarter's newer deals are imported, so the kit has content."""
    today = datetime.now(UTC).date()
    newer = paths["deals"].with_name("deals-next-quarter.csv")
    newer_deals(paths["deals"], start=today, end=due).to_csv(newer, index=False, lineterminator="\n")
    world.transcript.note(
        f"A quarter passes: the owner exports the deals closed since the approval "
        f"({today:%Y-%m-%d} to {due:%Y-%m-%d}) and drops them into the DM too."
    )
    upload(world, newer, out)


def remind_and_fire(world: World, out: Outcome, paths: dict[str, Path] | None = None) -> None:
    from bot.scheduler import run_due, worker_id
    from bot.slack.client import make_client

    world.slash(OWNER, "remind quarterly <#C0REVOPS|revops>", channel=GENERAL)
    reminder = get_reminder_state(world.engine, team_id=TEAM_ID)
    if reminder is None or reminder.channel_id != REVOPS:
        raise DemoError("/icp remind saved no reminder for #revops")
    due = reminder.next_run_at
    if paths is not None:
        quarter_passes(world, paths, out, due.date())
    now = due + timedelta(minutes=1)
    world.transcript.note(
        f"The reminder is due {due:%Y-%m-%d %H:%M} UTC. One scheduler pass runs now with its clock "
        f"set to {now:%Y-%m-%d %H:%M} UTC (what `icp serve`'s loop does when that time comes)."
    )
    ctx = AppContext(settings=world.settings, engine=world.engine, knowledge_factory=world.knowledge)
    client = make_client(world.settings, BOT_TOKEN)
    started = time.monotonic()
    report = run_due(ctx, clients=lambda _team: client, worker=worker_id(), now=now)
    out.reviews_sent = report.reviews_sent
    if not world.show_messages(since=started):
        raise DemoError("the scheduler pass sent no review kit")
    uploads = [u for u in world.stand_in.uploads.values() if u.completed and u.filename.endswith(".png")]
    if uploads:
        out.chart_png = uploads[-1].content
        world.transcript.note(
            f"The bot also uploaded {uploads[-1].filename} ({len(out.chart_png) // 1024} KB) to the thread."
        )
    again = run_due(ctx, clients=lambda _team: client, worker=worker_id(), now=now)
    out.reviews_sent_again = again.reviews_sent
    world.transcript.note(
        f"Scheduler: {report.reviews_sent} review kit sent; a second pass at the same time sent "
        f"{again.reviews_sent} (the first pass moved the reminder to its next date)."
    )


def wait_for_answers_indexed(world: World, expected: int, timeout: float = 30.0) -> int:
    """Answers are embedded after the reply; wait so the store is complete before shutdown."""
    deadline = time.monotonic() + timeout
    while True:
        count = world.knowledge().count(workspace=TEAM_ID, kind="answer")
        if count >= expected or time.monotonic() > deadline:
            return count
        time.sleep(0.1)


def pick_queries(accounts: pd.DataFrame, seed: int) -> list[str]:
    """A strong fit (by domain), a weak one (by domain), one by company name, one inline."""
    frame = accounts.copy()
    frame["_emp"] = pd.to_numeric(frame["Number of Employees"], errors="coerce")
    industry = frame["Industry"].astype(str).str.lower()
    country = frame["Country/Region"].astype(str)
    tech = frame["Technologies"].astype(str).str.lower()
    names = frame["Company name"].astype(str)
    unique = ~names.str.lower().duplicated(keep=False)
    strong = frame[
        industry.isin(["software", "fintech"])
        & frame["_emp"].between(200, 1999)
        & country.isin(["United States", "Canada"])
        & tech.str.contains("salesforce")
    ]
    weak = frame[industry.isin(["retail", "education"]) & (frame["_emp"] < 20)]
    other = frame[unique & ~frame.index.isin([*strong.index, *weak.index])]
    picks: list[str] = []
    for pool in (strong, weak):
        if len(pool):
            picks.append(str(pool.sample(n=1, random_state=seed)["Company Domain Name"].iloc[0]))
    if len(other):
        lowered = names.str.lower()
        for name in other.sample(n=min(20, len(other)), random_state=seed)["Company name"]:
            if int(lowered.str.contains(str(name).lower(), regex=False).sum()) == 1:
                picks.append(str(name))
                break
    picks.append("industry=fintech employees=800 country=Canada tech=Salesforce")
    return picks


def run_conversation(world: World, paths: dict[str, Path], queries: list[str]) -> Outcome:
    out = Outcome()
    t = world.transcript
    t.section("A. Import the CRM exports (uploaded in a DM, imported by the app)")
    t.note("Alex, the ICP owner, drops the three CSV files into a DM with the bot, one after the other.")
    import_files(world, paths, out)
    t.section("B. Three stakeholder interviews in DMs")
    for person in INTERVIEWEES:
        t.note(f"@{person.handle}, {person.title}, asks to be interviewed.")
        interview(world, person, out)
    out.answers_indexed = wait_for_answers_indexed(world, sum(len(a) for a in ANSWERS.values()))
    t.note(
        f"Knowledge store: {out.answers_indexed} interview answers embedded (offline MiniLM) for the drafter and chat."
    )
    t.section("C. Draft the ICP and approve it")
    draft_and_approve(world, out)
    t.section("D. Score companies")
    score(world, queries, out)
    t.section("E. A quarterly review reminder, fired")
    remind_and_fire(world, out, paths)
    out.blocks_checked = world.stand_in.assert_blocks_valid()
    t.note(
        f"Every Block Kit payload the bot sent ({out.blocks_checked}) parses and validates with slack_sdk."
    )
    return out


__all__ = ["Outcome", "buttons", "pick_queries", "run_conversation"]
