"""`icp demo`: the whole engine on a generated sample company, printed as a readable report.

The sample data goes through the same path a real export takes (CSV files -> readers ->
normalisation -> join), so the demo also shows the data-quality findings a real import meets.
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

from rich.console import Console
from rich.rule import Rule

from bot import cli_render as render
from icp_engine.backtest import backtest
from icp_engine.crm import load_crm
from icp_engine.learn import learn
from icp_engine.model import save_icp
from icp_engine.sample import generate, write_csv
from icp_engine.scoring import score
from icp_engine.stats import analyze

SHOWCASE = 5


def run_demo(console: Console, *, out_dir: Path | None, seed: int, n_accounts: int) -> None:
    record = Console(record=True, width=console.width, file=io.StringIO())
    both = _Tee(console, record)
    with tempfile.TemporaryDirectory(prefix="icp-demo-") as tmp:
        folder = out_dir or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        company = generate(seed=seed, n_accounts=n_accounts)
        paths = write_csv(company, folder)

        both.print(Rule("1. A sample company's CRM exports"))
        where = str(folder) if out_dir is not None else "a temporary folder (--out DIR keeps them)"
        both.print(
            render.plain(f"Generated {n_accounts:,} accounts (seed {seed}) as HubSpot-style CSVs in {where}.")
        )
        both.print(render.bullet_list("Planted patterns (the truth the engine should find)", company.truth))
        crm = load_crm(paths["accounts"], paths["deals"], paths["health"])
        closed = crm.closed.sort_values(["close_date", "deal_id"], kind="stable").reset_index(drop=True)
        both.print(
            f"Imported {len(crm.accounts):,} accounts and {len(crm.deals):,} deals "
            f"({len(closed):,} closed); {len(crm.errors)} rows rejected."
        )
        both.print(render.bullet_list("Data quality", crm.findings[:12]))

        both.print(Rule("2. What the data says"))
        analysis = analyze(closed, crm.accounts, attributes=crm.attributes)
        both.print(render.bullet_list("Findings", analysis.summary[:8]))
        if analysis.significant:
            both.print(render.analysis_table(analysis, limit=15))

        both.print(Rule("3. A data-backed draft ICP (learned from the older 80% of deals)"))
        cut = int(len(closed) * 0.8)
        learned = learn(closed.iloc[:cut], crm.accounts, attributes=crm.attributes, name="Sample company ICP")
        icp = learned.icp.model_copy(update={"version": 1})
        both.print(render.icp_table(icp))

        both.print(Rule("4. Backtest on the newest 20% of deals (never seen while learning)"))
        bt = backtest(icp, closed.iloc[cut:])
        both.print(render.backtest_table(bt, title="Held-out deals"))

        both.print(Rule("5. Scoring accounts"))
        attrs = crm.accounts.set_index("account_id")
        picks = attrs.sample(n=min(SHOWCASE, len(attrs)), random_state=seed)
        for account_id, row in picks.iterrows():
            values = {k: v for k, v in row.items() if k in crm.attributes}
            result = score(values, icp)
            both.print(render.labelled(str(row["name"]), "bold", f"({account_id})"))
            both.print(render.score_card(result))

        if out_dir is not None:
            save_icp(icp, out_dir / "icp.yaml")
            (out_dir / "transcript.txt").write_text(record.export_text(), encoding="utf-8")
            console.print(
                render.plain(f"Wrote the sample CSVs, icp.yaml and transcript.txt to {out_dir}"),
                highlight=False,
                soft_wrap=True,  # a path never wraps
            )


class _Tee:
    """Print to the terminal and to a recording console for the transcript."""

    def __init__(self, *consoles: Console) -> None:
        self.consoles = consoles

    def print(self, *objects: object) -> None:
        for c in self.consoles:
            c.print(*objects, highlight=False)
