"""What the CRM import tests share: row counts of the store, CSV files, and the CLI under test."""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path

import typer
from click.testing import Result
from sqlalchemy import Engine, func, select, table
from typer.testing import CliRunner

from bot.store.db import session_scope
from bot.store.repo.workspaces import get_workspace

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
MAVEN = SHARED_DATA / "maven_crm"
STORE_TABLES = ("workspace", "account", "deal", "customer_health", "import_run", "audit_log")

ACCOUNTS_CSV = (
    "Account ID,Account Name,Industry,Employees,Annual Revenue,Billing Country,Tech Stack,Owner\n"
    'A1,"Acme, Inc.",Technolgy,250,$25M,USA,SFDC; HubSpot,Jane\n'
    'A2,Globex GmbH,Manufacturing,"1,200",120000000,Germany,,John\n'
    "A3,Initech,finance,11-50,,Philipines,Slack,\n"
)


def new_team() -> str:
    """A fresh workspace (Slack team id), so tests sharing a database never see each other's rows."""
    return f"T{uuid.uuid4().hex[:12]}"


def workspace_id(engine: Engine, team: str) -> int:
    """The store id of an existing workspace (Slack team id ``team``)."""
    with session_scope(engine) as session:
        found = get_workspace(session=session, slack_team_id=team)
        assert found is not None and found.id is not None
        return found.id


def table_counts(engine: Engine) -> dict[str, int]:
    """Rows in every table an import may touch, across all workspaces."""
    with engine.connect() as conn:
        return {
            name: int(conn.execute(select(func.count()).select_from(table(name))).scalar_one())
            for name in STORE_TABLES
        }


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def engine_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def cli_root() -> typer.Typer:
    """The real `icp` app, which mounts the import and db sub-apps."""
    from bot.cli.main import app

    return app


def run_cli(url: str, args: list[str], *, data_dir: Path | None = None, **env: str) -> Result:
    """Run `icp <args>` against the database at ``url``, set through the environment as users do.

    The knowledge store lives under ``data_dir`` (a throwaway folder unless given).
    """
    with tempfile.TemporaryDirectory(prefix="icp-data-") as scratch:
        folder = str(data_dir or scratch)
        return CliRunner().invoke(
            cli_root(), args, env={"DATABASE_URL": url, "DATA_DIR": folder, **env}, catch_exceptions=False
        )
