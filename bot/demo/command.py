"""`icp demo`: the whole product on a generated sample company, printed as a readable transcript.

Part 1 is the engine alone (the same path a real export takes: CSV files -> readers ->
normalisation -> join -> statistics -> learned ICP -> backtest -> scores). Part 2 is the Slack
product: the real Bolt app served over HTTP on 127.0.0.1 with embedded SQLite + Chroma, driven by
signed requests against a local stand-in for Slack's Web API (bot/demo/stand_in): CSV uploads, three
DM interviews, a draft approved with its button, score cards, a review reminder fired by the
scheduler. Nothing reaches the internet; the drafter is offline unless settings configure an LLM.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from rich.console import Console

from bot.console import render
from bot.demo.conversation import Outcome, pick_queries, run_conversation
from bot.demo.transcript import Transcript
from bot.demo.world import open_world
from bot.store.db import Engine
from icp_engine.backtest import backtest
from icp_engine.crm import load_crm
from icp_engine.learn import learn
from icp_engine.model import ICP, save_icp
from icp_engine.sample import SampleCompany, generate, write_csv
from icp_engine.scoring import score
from icp_engine.stats import analyze

SHOWCASE = 5


def run_demo(
    console: Console, *, out_dir: Path | None, seed: int, n_accounts: int, slack: bool = True
) -> None:
    started = time.monotonic()
    t = Transcript(console)
    with tempfile.TemporaryDirectory(prefix="icp-demo-") as tmp:
        folder = out_dir or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        company = generate(seed=seed, n_accounts=n_accounts)
        paths = write_csv(company, folder)
        icp = _engine_part(t, company, paths, folder if out_dir is not None else None, seed, n_accounts)
        outcome: Outcome | None = None
        exported: list[Path] = []
        if slack:
            data_dir = folder / "data" if out_dir is not None else Path(tmp) / "data"
            outcome, exported = _slack_part(t, data_dir, paths, company, seed, out_dir)
        _summary(t, outcome, exported, time.monotonic() - started)
        if out_dir is not None:
            save_icp(icp, out_dir / "icp.yaml")
            _write_atomically(out_dir / "transcript.md", t.text().encode("utf-8"))
            console.print(
                render.plain(
                    f"Wrote the sample CSVs, icp.yaml, transcript.md, draft.json and the exported ICP "
                    f"to {out_dir}"
                ),
                highlight=False,
                soft_wrap=True,  # a path never wraps
            )


def _engine_part(
    t: Transcript, company: SampleCompany, paths: dict[str, Path], out_dir: Path | None, seed: int, n: int
) -> ICP:
    t.section("1. A sample company's CRM exports")
    where = str(out_dir) if out_dir is not None else "a temporary folder (--out DIR keeps them)"
    t.engine(render.plain(f"Generated {n:,} accounts (seed {seed}) as HubSpot-style CSVs in {where}."))
    t.engine(render.bullet_list("Planted patterns (the truth the engine should find)", company.truth))
    crm = load_crm(paths["accounts"], paths["deals"], paths["health"])
    closed = crm.closed.sort_values(["close_date", "deal_id"], kind="stable").reset_index(drop=True)
    t.engine(
        render.plain(
            f"Imported {len(crm.accounts):,} accounts and {len(crm.deals):,} deals "
            f"({len(closed):,} closed); {len(crm.errors)} rows rejected."
        ),
        render.bullet_list("Data quality", crm.findings[:12]),
    )

    t.section("2. What the data says")
    analysis = analyze(closed, crm.accounts, attributes=crm.attributes)
    t.engine(render.bullet_list("Findings", analysis.summary[:8]))
    if analysis.significant:
        t.engine(render.analysis_table(analysis, limit=15))

    t.section("3. A data-backed draft ICP (learned from the older 80% of deals)")
    cut = int(len(closed) * 0.8)
    learned = learn(closed.iloc[:cut], crm.accounts, attributes=crm.attributes, name="Sample company ICP")
    icp = learned.icp.model_copy(update={"version": 1})
    t.engine(render.icp_table(icp))
    if learned.selection:  # forward selection on held-out deals: why these characteristics
        t.engine(render.bullet_list("How the characteristics were chosen", learned.selection))

    t.section("4. Backtest on the newest 20% of deals (never seen while learning)")
    t.engine(render.backtest_table(backtest(icp, closed.iloc[cut:]), title="Held-out deals"))

    t.section("5. Scoring accounts")
    attrs = crm.accounts.set_index("account_id")
    picks = attrs.sample(n=min(SHOWCASE, len(attrs)), random_state=seed)
    for account_id, row in picks.iterrows():
        values = {k: v for k, v in row.items() if k in crm.attributes}
        t.engine(
            render.labelled(str(row["name"]), "bold", f"({account_id})"),
            render.score_card(score(values, icp)),
        )
    return icp


def _slack_part(
    t: Transcript,
    data_dir: Path,
    paths: dict[str, Path],
    company: SampleCompany,
    seed: int,
    out_dir: Path | None,
) -> tuple[Outcome, list[Path]]:
    from bot.llm.factory import resolve_target

    t.section("6. The Slack bot, end to end")
    with open_world(data_dir, t) as world:
        target = resolve_target(world.settings)
        drafter = (
            "the offline drafter (no LLM configured)"
            if target.provider == "offline"
            else f"the configured LLM ({target.describe()})"
        )
        t.note(
            f"The real Bolt app serves {world.server.url}/slack/events; a local stand-in for Slack's "
            f"Web API runs at {world.stand_in.base}. Every message below is a signed HTTP request of "
            f"Slack's shape; every bot reply is what the app sent to the stand-in, rendered from its "
            f"Block Kit. Store: SQLite + Chroma in {data_dir}. Drafting uses {drafter}."
        )
        outcome = run_conversation(world, paths, pick_queries(company.accounts, seed))
        exported = _export(t, world.engine, out_dir, outcome)
    return outcome, exported


def _export(t: Transcript, engine: Engine, out_dir: Path | None, outcome: Outcome) -> list[Path]:
    """The approved ICP as the one-page document `icp export` writes (Markdown and PDF), people
    named as Slack shows them, and its draft as `icp draft --json` prints it (draft.json)."""
    from bot.demo.script import CAST
    from bot.demo.stand_in.slack_api import TEAM_ID
    from bot.services.icp.export import Format, file_name, load_document, render
    from bot.services.icp.export.document import with_names

    t.section("F. Export the approved ICP")
    doc = with_names(load_document(engine, team_id=TEAM_ID), {p.user_id: p.real_name for p in CAST})
    written: list[Path] = []
    if out_dir is not None:
        _write_atomically(out_dir / "draft.json", _draft_json(engine, TEAM_ID, doc.version, doc.segment))
        written.append(out_dir / "draft.json")
    sizes: list[str] = []
    formats: tuple[Format, ...] = ("md", "pdf")
    for fmt in formats:
        data = render(doc, fmt)
        sizes.append(f"{file_name(doc, fmt)} ({len(data) // 1024 or 1} KB)")
        if out_dir is not None:
            path = out_dir / file_name(doc, fmt)
            _write_atomically(path, data)
            written.append(path)
    if out_dir is not None and outcome.chart_png:
        _write_atomically(out_dir / "icp-review.png", outcome.chart_png)
        written.append(out_dir / "icp-review.png")
    t.note(
        f"Rendered {' and '.join(sizes)} with the `icp export` renderers"
        + ("." if out_dir is not None else "; --out DIR writes them.")
    )
    return written


def _draft_json(engine: Engine, team_id: str, version: int, segment: str) -> bytes:
    """The stored draft of ``version`` as the document `icp draft --json` prints."""
    from bot.services.icp.drafting.service import load_draft
    from bot.services.icp.versions import pick_version, segment_versions
    from bot.store.db import read_scope
    from bot.store.repo.workspaces import get_workspace

    with read_scope(engine) as session:
        ws = get_workspace(session=session, slack_team_id=team_id)
        assert ws is not None and ws.id is not None
        row_id = pick_version(segment_versions(session, ws.id, segment), version, segment).id
    assert row_id is not None
    outcome = load_draft(engine=engine, workspace=team_id, version_id=row_id)
    return (outcome.model_dump_json(indent=2) + "\n").encode("utf-8")


def _summary(t: Transcript, outcome: Outcome | None, exported: list[Path], seconds: float) -> None:
    t.section("Summary")
    lines = ["Engine: sample CRM analysed, ICP learned, backtested and scored."]
    if outcome is not None:
        lines += [f"Uploaded in a DM, imported by the app: {line}" for line in outcome.imported.values()]
        lines += [f"Interview {line}." for line in outcome.interviews]
        lines += [
            f"Draft approved with its button: active version v{outcome.approved_version}.",
            f"Scored {len(outcome.scores)} companies: " + "; ".join(outcome.scores) + ".",
            f"Review reminder fired {outcome.reviews_sent} time(s) (a repeat pass sent {outcome.reviews_sent_again}).",
        ]
        if exported:
            lines.append("Files: " + ", ".join(p.name for p in exported) + ".")
    lines.append(f"Wall time: {seconds:.1f} s.")
    t.engine(render.bullet_list("What the demo did", lines))


def _write_atomically(path: Path, data: bytes) -> None:
    from bot.console.files import write_atomically

    write_atomically(path, lambda tmp: tmp.write_bytes(data))
