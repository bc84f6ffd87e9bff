"""A CSV shared in a DM with the bot, end to end: the upload events (``file_shared`` and the
``message`` with subtype ``file_share``) arrive as signed HTTP requests, the app asks the stand-in
Slack about the file and downloads it from there, imports it with the CLI's rules into the real
SQLite store, regenerates the statistic documents in the real Chroma store and answers in the DM.
Every blocks payload the app sends is validated by the fixture at teardown.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient

from bot.slack.messaging.files import FileProblem, SlackFile, download, is_slack_url
from bot.slack.views.import_summary import IMPORT_AS, RETRY_AS, SKIP_BAD_ROWS
from bot.store.db import session_scope
from bot.store.repo.crm import count_crm_rows
from bot.store.repo.imports import list_import_runs
from bot.store.repo.workspaces import get_workspace
from icp_engine.sample import generate, write_csv
from tests.support.harness import (
    ADMIN_ID,
    BOT_TOKEN,
    MEMBER_ID,
    TEAM_ID,
    RecordedCall,
    SlackEnv,
    StandInSlack,
    StoredFile,
)

ADMIN_DM = f"D{ADMIN_ID[1:]}"
MEMBER_DM = f"D{MEMBER_ID[1:]}"
BAD_ACCOUNTS = (
    b"Record ID,Company name,Industry,Number of Employees,Country/Region\n"
    b"1,Acme,software,abc,US\n"
    b"2,Beta,fintech,50,US\n"
    b"3,Gamma,software,-5,US\n"
    b"4,Delta,retail,120,DE\n"
)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """A small fictitious CRM export (accounts, deals, health), the same bytes every run."""
    paths = write_csv(generate(seed=11, n_accounts=60), tmp_path_factory.mktemp("sample"))
    return {kind: path.read_bytes() for kind, path in paths.items()}


def crm_counts(env: SlackEnv) -> dict[str, int]:
    with session_scope(env.engine) as session:
        ws = get_workspace(session=session, slack_team_id=TEAM_ID)
        if ws is None or ws.id is None:
            return {"accounts": 0, "deals": 0, "health": 0, "runs": 0}
        counts = count_crm_rows(session=session, workspace_id=ws.id)
        counts["runs"] = len(list_import_runs(session=session, workspace_id=ws.id))
        return counts


def nothing_written(env: SlackEnv) -> bool:
    return crm_counts(env) == {"accounts": 0, "deals": 0, "health": 0, "runs": 0}


def csv_rows(content: bytes) -> int:
    return len([line for line in content.decode().splitlines()[1:] if line.strip()])


def posts(env: SlackEnv, channel: str = ADMIN_DM) -> list[RecordedCall]:
    return [c for c in env.stand_in.calls_to("chat.postMessage") if c.params.get("channel") == channel]


def wait_post(
    env: SlackEnv, needle: str, *, channel: str = ADMIN_DM, count: int = 1, timeout: float = 30
) -> RecordedCall:
    found = env.stand_in.wait_for(
        "chat.postMessage",
        lambda c: c.params.get("channel") == channel and needle in c.all_text(),
        count=count,
        timeout=timeout,
    )
    return found[-1]


def settle(env: SlackEnv) -> None:
    """Everything sent before has been handled: a slash command is answered after earlier events
    were acknowledged, and each handler posts before it returns; then a short grace period."""
    env.driver.slash_reply("help")
    time.sleep(0.3)


def buttons(call: RecordedCall) -> dict[str, dict[str, Any]]:
    return {e["action_id"]: e for b in call.blocks if b["type"] == "actions" for e in b["elements"]}


def share(env: SlackEnv, name: str, content: bytes, **kwargs: Any) -> StoredFile:
    """An owner uploads ``name`` in the DM: the stand-in stores it and ``file_shared`` is sent."""
    stored = env.stand_in.add_file(name, content, **kwargs)
    assert env.driver.file_shared(stored).status == 200
    return stored


def share_message(env: SlackEnv, stored: StoredFile, comment: str, *, ts: str, **kwargs: Any) -> None:
    """The ``message`` event of an upload with a comment (subtype file_share, the file inline)."""
    files = [{"id": stored.id, "name": stored.name, "filetype": stored.filetype, "mode": "hosted"}]
    result = env.driver.message_im(
        comment,
        user=stored.user,
        ts=ts,
        extra={"subtype": "file_share", "files": files, "upload": True},
        **kwargs,
    )
    assert result.status == 200


def statistic_docs(env: SlackEnv) -> int:
    return env.knowledge().count(workspace=TEAM_ID, kind="statistic")


# -- the happy path ---------------------------------------------------------------------------


def test_owner_uploads_accounts_then_deals(slack_env: SlackEnv, sample: dict[str, bytes]) -> None:
    accounts = share(slack_env, "accounts.csv", sample["accounts"])
    summary = wait_post(slack_env, "Imported accounts.csv")
    assert crm_counts(slack_env)["accounts"] == csv_rows(sample["accounts"])
    fields = [f["text"] for b in summary.blocks if b["type"] == "section" for f in b.get("fields", [])]
    assert f"*Added*\n{csv_rows(sample['accounts'])}" in fields
    assert "*Rejected*\n0" in fields
    assert "Data quality" in summary.all_text()
    assert "Statistics regenerated" in summary.all_text()

    deals = share(slack_env, "deals.csv", sample["deals"])
    wait_post(slack_env, "Imported deals.csv")
    counts = crm_counts(slack_env)
    assert counts["deals"] == csv_rows(sample["deals"]) and counts["runs"] == 2
    assert statistic_docs(slack_env) > 0

    # The file was fetched from the stand-in with the bot token, and nowhere else.
    downloads = slack_env.stand_in.calls_to("files.download")
    assert [c.path.split("/")[2] for c in downloads] == [accounts.id, deals.id]
    assert {c.headers.get("authorization") for c in downloads} == {f"Bearer {BOT_TOKEN}"}
    progress = [c for c in posts(slack_env) if "Importing" in c.all_text()]
    assert len(progress) == 2


def test_a_repeat_of_the_same_file_changes_nothing(slack_env: SlackEnv, sample: dict[str, bytes]) -> None:
    share(slack_env, "accounts.csv", sample["accounts"])
    wait_post(slack_env, "Imported accounts.csv")
    share(slack_env, "accounts.csv", sample["accounts"])  # the same bytes uploaded again
    reply = wait_post(slack_env, "Already imported")
    assert "nothing changed" in reply.all_text()
    assert crm_counts(slack_env)["runs"] == 1


def test_message_comment_names_the_kind_and_skips_bad_rows(slack_env: SlackEnv) -> None:
    """``export.csv`` says nothing; the comment says accounts and asks to skip the bad rows;
    the answer goes in the thread of the upload message."""
    stored = slack_env.stand_in.add_file("export.csv", BAD_ACCOUNTS)
    share_message(slack_env, stored, "our accounts, please skip bad rows", ts="1700000000.000100")
    reply = wait_post(slack_env, "Imported export.csv")
    assert reply.params.get("thread_ts") == "1700000000.000100"
    assert "Skipped rows" in reply.all_text() and "line 2" in reply.all_text()
    assert crm_counts(slack_env)["accounts"] == 2


def test_file_shared_and_message_for_one_upload_import_once(
    slack_env: SlackEnv, sample: dict[str, bytes]
) -> None:
    stored = slack_env.stand_in.add_file("accounts.csv", sample["accounts"])
    share_message(slack_env, stored, "", ts="1700000001.000100")
    assert slack_env.driver.file_shared(stored).status == 200
    wait_post(slack_env, "Imported accounts.csv")
    settle(slack_env)
    assert len(slack_env.stand_in.calls_to("files.download")) == 1
    assert len([c for c in posts(slack_env) if "Imported accounts.csv" in c.all_text()]) == 1
    assert crm_counts(slack_env)["runs"] == 1


def test_redelivered_file_shared_is_imported_once(slack_env: SlackEnv, sample: dict[str, bytes]) -> None:
    stored = slack_env.stand_in.add_file("accounts.csv", sample["accounts"])
    assert slack_env.driver.file_shared(stored, event_id="EvFILE1").status == 200
    assert slack_env.driver.file_shared(stored, event_id="EvFILE1", retry_num=1).status == 200
    # A second event id for the same file (Slack sends one per subscription) is also dropped.
    assert slack_env.driver.file_shared(stored, event_id="EvFILE2").status == 200
    wait_post(slack_env, "Imported accounts.csv")
    settle(slack_env)
    assert len(slack_env.stand_in.calls_to("files.info")) == 1
    assert len(slack_env.stand_in.calls_to("files.download")) == 1
    assert crm_counts(slack_env)["runs"] == 1


def test_unknown_kind_is_asked_with_buttons(slack_env: SlackEnv, sample: dict[str, bytes]) -> None:
    share(slack_env, "hubspot-export.csv", sample["accounts"])
    question = wait_post(slack_env, "What is in")
    assert set(buttons(question)) == set(IMPORT_AS.values())
    assert nothing_written(slack_env) and not slack_env.stand_in.calls_to("files.download")

    choice = buttons(question)[IMPORT_AS["accounts"]]
    url = slack_env.stand_in.response_url()
    clicked = slack_env.driver.block_actions(
        choice["action_id"], value=choice["value"], user=ADMIN_ID, channel=ADMIN_DM, response_url=url
    )
    assert clicked.status == 200
    replaced = slack_env.stand_in.wait_for("response_url", lambda c: c.path.endswith(url.rsplit("/", 1)[1]))[
        0
    ]
    assert replaced.params.get("replace_original") is True and "Importing as accounts" in replaced.text
    wait_post(slack_env, "Imported hubspot-export.csv")
    assert crm_counts(slack_env)["accounts"] == csv_rows(sample["accounts"])


# -- refusals and problems --------------------------------------------------------------------


def test_malformed_csv_lists_the_errors_and_writes_nothing(slack_env: SlackEnv) -> None:
    share(slack_env, "accounts.csv", BAD_ACCOUNTS)
    reply = wait_post(slack_env, "Nothing imported from accounts.csv")
    text = reply.all_text()
    assert "2 of 4 rows were rejected" in text
    assert "accounts.csv line 2, column 'Number of Employees': not a number: 'abc'" in text
    assert "line 4, column 'Number of Employees': negative value" in text
    assert nothing_written(slack_env)

    # The button imports the other rows, as --skip-bad-rows does on the command line.
    skip = buttons(reply)[SKIP_BAD_ROWS]
    assert skip["text"]["text"] == "Import the other 2 rows"
    slack_env.driver.block_actions(SKIP_BAD_ROWS, value=skip["value"], user=ADMIN_ID, channel=ADMIN_DM)
    wait_post(slack_env, "Imported accounts.csv")
    assert crm_counts(slack_env)["accounts"] == 2


def test_many_bad_rows_are_cut_with_a_count(slack_env: SlackEnv) -> None:
    rows = "".join(f"{i},Company {i},software,many,US\n" for i in range(1, 121))
    share(
        slack_env,
        "accounts.csv",
        f"Record ID,Company name,Industry,Number of Employees,Country\n{rows}".encode(),
    )
    reply = wait_post(slack_env, "Nothing imported from accounts.csv")
    assert "All 120 rows were rejected" in reply.all_text()
    assert "… and 100 more" in reply.all_text()
    assert SKIP_BAD_ROWS not in buttons(reply)
    assert nothing_written(slack_env)


def test_deals_before_accounts_fail_with_a_retry(slack_env: SlackEnv, sample: dict[str, bytes]) -> None:
    share(slack_env, "deals.csv", sample["deals"])
    reply = wait_post(slack_env, "Could not import deals.csv")
    assert "import the accounts first" in reply.all_text()
    assert {"icp_import_retry", RETRY_AS["accounts"], RETRY_AS["health"]} == set(buttons(reply))
    assert nothing_written(slack_env)

    share(slack_env, "accounts.csv", sample["accounts"])
    wait_post(slack_env, "Imported accounts.csv")
    retry = buttons(reply)["icp_import_retry"]
    slack_env.driver.block_actions(retry["action_id"], value=retry["value"], user=ADMIN_ID, channel=ADMIN_DM)
    wait_post(slack_env, "Imported deals.csv")
    assert crm_counts(slack_env)["deals"] == csv_rows(sample["deals"])


def test_member_gets_the_refusal_and_nothing_is_written(
    slack_env: SlackEnv, sample: dict[str, bytes]
) -> None:
    share(slack_env, "accounts.csv", sample["accounts"], user=MEMBER_ID)
    reply = wait_post(slack_env, "only ICP owners", channel=MEMBER_DM)
    assert "import data" in reply.text
    assert not slack_env.stand_in.calls_to("files.download")
    assert nothing_written(slack_env)


def test_member_cannot_use_a_forged_button(slack_env: SlackEnv, sample: dict[str, bytes]) -> None:
    stored = slack_env.stand_in.add_file("accounts.csv", sample["accounts"], user=ADMIN_ID)
    value = f"imp1|{stored.id}|accounts|0|"
    slack_env.driver.block_actions(IMPORT_AS["accounts"], value=value, user=MEMBER_ID, channel=MEMBER_DM)
    wait_post(slack_env, "only ICP owners", channel=MEMBER_DM)
    slack_env.driver.block_actions(
        IMPORT_AS["accounts"], value="imp1|../etc|x|0|", user=ADMIN_ID, channel=ADMIN_DM
    )
    slack_env.stand_in.wait_for("response_url", lambda c: "out of date" in c.text)
    assert not slack_env.stand_in.calls_to("files.download")
    assert nothing_written(slack_env)


def test_png_gets_an_explanation(slack_env: SlackEnv) -> None:
    share(slack_env, "chart.png", b"\x89PNG\r\n\x1a\n" + bytes(64), filetype="png")
    reply = wait_post(slack_env, "I can only import CSV files")
    assert "chart.png" in reply.text
    assert not slack_env.stand_in.calls_to("files.download")
    assert nothing_written(slack_env)


def _describe_file(
    stand_in: StandInSlack, stored: StoredFile, **changes: Any
) -> Callable[[RecordedCall], dict[str, Any]]:
    """A files.info answer for ``stored`` with some fields changed (size, download URL)."""

    def respond(_call: RecordedCall) -> dict[str, Any]:
        url = stand_in.file_url(stored)
        file = {
            "id": stored.id,
            "name": stored.name,
            "filetype": "csv",
            "size": len(stored.content),
            "url_private": url,
            "url_private_download": url,
        }
        file.update(changes)
        return {"ok": True, "file": file}

    return respond


def test_oversized_file_is_refused_before_download(slack_env: SlackEnv, sample: dict[str, bytes]) -> None:
    stored = slack_env.stand_in.add_file("accounts.csv", sample["accounts"])
    slack_env.stand_in.respond_with(
        "files.info", _describe_file(slack_env.stand_in, stored, size=300 * 1024 * 1024)
    )
    assert slack_env.driver.file_shared(stored).status == 200
    reply = wait_post(slack_env, "is larger than the 200 MB")
    assert "accounts.csv" in reply.text
    assert not slack_env.stand_in.calls_to("files.download")
    assert nothing_written(slack_env)


def test_download_url_on_another_host_is_refused(slack_env: SlackEnv, sample: dict[str, bytes]) -> None:
    elsewhere = StandInSlack().start()  # a different server (another port): must get nothing
    try:
        stored = slack_env.stand_in.add_file("accounts.csv", sample["accounts"])
        elsewhere.files[stored.id] = stored
        foreign = elsewhere.file_url(stored)
        slack_env.stand_in.respond_with(
            "files.info",
            _describe_file(slack_env.stand_in, stored, url_private=foreign, url_private_download=foreign),
        )
        assert slack_env.driver.file_shared(stored).status == 200
        reply = wait_post(slack_env, "I only download from Slack itself")
        assert BOT_TOKEN not in reply.all_text()
        assert elsewhere.calls == [] and not slack_env.stand_in.calls_to("files.download")
        assert nothing_written(slack_env)
    finally:
        elsewhere.stop()


def test_files_in_channels_are_ignored(slack_env: SlackEnv, sample: dict[str, bytes]) -> None:
    stored = slack_env.stand_in.add_file("accounts.csv", sample["accounts"], channel="C0GENERAL")
    assert slack_env.driver.file_shared(stored).status == 200
    settle(slack_env)
    assert not slack_env.stand_in.calls_to("files.info")
    assert nothing_written(slack_env)


# -- the download itself ----------------------------------------------------------------------


def test_download_streams_under_a_cap(stand_in: StandInSlack, tmp_path: Path) -> None:
    stored = stand_in.add_file("big.csv", b"a,b\n" + b"1,2\n" * 1000)
    client = WebClient(token=BOT_TOKEN, base_url=stand_in.api_url)
    url = stand_in.file_url(stored)
    unsized = SlackFile(stored.id, stored.name, "csv", None, url, {})  # Slack did not say the size
    with pytest.raises(FileProblem, match="larger than"):
        download(client, unsized, tmp_path / "big.csv", max_bytes=1000)
    assert not (tmp_path / "big.csv").exists()
    assert download(client, unsized, tmp_path / "ok.csv") == len(stored.content)
    assert (tmp_path / "ok.csv").read_bytes() == stored.content


def test_download_of_a_missing_file_is_a_clear_problem(stand_in: StandInSlack, tmp_path: Path) -> None:
    client = WebClient(token=BOT_TOKEN, base_url=stand_in.api_url)
    gone = SlackFile("FGONE", "gone.csv", "csv", 10, f"{stand_in.base}/files/FGONE/gone.csv", {})
    with pytest.raises(FileProblem, match="HTTP 404"):
        download(client, gone, tmp_path / "gone.csv")
    assert not (tmp_path / "gone.csv").exists()


def test_stand_in_urls_count_as_slack_only_on_the_same_port(stand_in: StandInSlack) -> None:
    other = StandInSlack().start()
    try:
        assert is_slack_url(f"{stand_in.base}/files/F1/a.csv", api_base=stand_in.api_url)
        assert not is_slack_url(f"{other.base}/files/F1/a.csv", api_base=stand_in.api_url)
    finally:
        other.stop()
