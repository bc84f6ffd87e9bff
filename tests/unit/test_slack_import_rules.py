"""The plain rules of a Slack upload: what a file holds, "skip bad rows", safe names, which ids
make an upload, which download URLs count as Slack's, and how Slack's file object is read."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.services.imports.kinds import detect_kind, kind_in, kind_order, wants_skip_bad_rows
from bot.slack.messaging.files import FileProblem, is_slack_url, parse_file
from bot.slack.messaging.imports import make_upload, safe_file_name


@pytest.mark.parametrize(
    ("name", "comment", "kind"),
    [
        ("accounts.csv", "", "accounts"),
        ("Companies export 2024.csv", "", "accounts"),
        ("hubspot-deals.csv", "", "deals"),
        ("HubSpotDeals.csv", "", "deals"),
        ("opportunities.csv", "", "deals"),
        ("customer_health.csv", "", "health"),
        ("ACCOUNTS.CSV", "", "accounts"),
        ("export.csv", "here are our deals", "deals"),
        ("accounts.csv", "actually these are health scores", "health"),  # the comment decides
        ("export.csv", "", None),
        ("accounts_and_deals.csv", "", None),  # two kinds: ask
        ("export.csv", "accounts with their deals", None),
        ("dealership-list.csv", "", None),  # a word that merely contains "deal"
    ],
)
def test_detect_kind(name: str, comment: str, kind: str | None) -> None:
    assert detect_kind(name, comment) == kind


def test_kind_order_puts_accounts_first_and_unknown_last() -> None:
    names = ["health.csv", "misc.csv", "deals.csv", "accounts.csv"]
    assert sorted(names, key=kind_order) == ["accounts.csv", "deals.csv", "health.csv", "misc.csv"]


@pytest.mark.parametrize(
    ("comment", "wanted"),
    [
        ("skip bad rows", True),
        ("please --skip-bad-rows", True),
        ("Skip the bad rows please", True),
        ("skip_invalid_rows", True),
        ("", False),
        ("no skipping", False),
        ("bad rows are fine, do not skip", False),
    ],
)
def test_wants_skip_bad_rows(comment: str, wanted: bool) -> None:
    assert wants_skip_bad_rows(comment) is wanted


@given(st.text(max_size=300))
def test_safe_file_name_is_one_harmless_component(name: str) -> None:
    safe = safe_file_name(name)
    assert safe and len(safe) <= 120
    assert "/" not in safe and "\\" not in safe and "\x00" not in safe
    assert safe not in (".", "..") and not safe.startswith(".")


def test_safe_file_name_keeps_ordinary_names() -> None:
    assert safe_file_name("accounts.csv") == "accounts.csv"
    assert safe_file_name("../../etc/passwd") == "passwd"
    assert safe_file_name("C:\\exports\\deals.csv") == "deals.csv"
    assert safe_file_name("...") == "upload.csv"


def test_make_upload_takes_only_well_formed_dm_uploads() -> None:
    upload = make_upload(team_id="T1", user_id="U1", channel_id="D1", file_id="F1", thread_ts="1700.01")
    assert upload is not None and upload.thread_ts == "1700.01"
    assert make_upload(team_id="T1", user_id="U1", channel_id="C1", file_id="F1") is None  # a channel
    assert make_upload(team_id="T1", user_id="U1", channel_id="D1", file_id="X1") is None
    assert make_upload(team_id=None, user_id="U1", channel_id="D1", file_id="F1") is None
    assert make_upload(team_id="T1", user_id=["U1"], channel_id="D1", file_id="F1") is None
    assert make_upload(team_id="T1", user_id="U1", channel_id="D1", file_id="F1/../x") is None
    odd = make_upload(team_id="T1", user_id="U1", channel_id="D1", file_id="F1", text=3, thread_ts="now")
    assert odd is not None and odd.text == "" and odd.thread_ts is None


@pytest.mark.parametrize(
    ("url", "api", "allowed"),
    [
        ("https://files.slack.com/files-pri/T1-F1/download/a.csv", "https://slack.com/api/", True),
        ("https://slack.com/files/a.csv", "https://slack.com/api/", True),
        ("https://files.slack-gov.com/files-pri/x/a.csv", "https://slack-gov.com/api/", True),
        ("http://files.slack.com/a.csv", "https://slack.com/api/", False),  # downgraded scheme
        ("https://files.slack.com:8443/a.csv", "https://slack.com/api/", False),  # other port
        ("https://evilslack.com/a.csv", "https://slack.com/api/", False),
        ("https://slack.com.evil.example/a.csv", "https://slack.com/api/", False),
        ("https://files.slack.com@evil.example/a.csv", "https://slack.com/api/", False),
        ("http://127.0.0.1:8000/files/F1/a.csv", "http://127.0.0.1:8000/api/", True),
        ("http://127.0.0.1:8001/files/F1/a.csv", "http://127.0.0.1:8000/api/", False),
        ("http://localhost:8000/files/F1/a.csv", "http://127.0.0.1:8000/api/", False),
        ("file:///etc/passwd", "https://slack.com/api/", False),
        ("ftp://slack.com/a.csv", "https://slack.com/api/", False),
        ("https://[::1", "https://slack.com/api/", False),
        ("", "https://slack.com/api/", False),
    ],
)
def test_is_slack_url(url: str, api: str, allowed: bool) -> None:
    assert is_slack_url(url, api_base=api) is allowed


@given(st.text(max_size=80))
def test_is_slack_url_never_raises(url: str) -> None:
    assert isinstance(is_slack_url(url, api_base="https://slack.com/api/"), bool)


def test_parse_file_reads_slacks_file_object() -> None:
    file = parse_file(
        {
            "id": "F1",
            "name": "deals.csv",
            "filetype": "csv",
            "size": 1234,
            "url_private_download": "https://files.slack.com/x/deals.csv",
            "shares": {"private": {"D1": [{"ts": "1700.000100"}], "D2": "junk"}},
        }
    )
    assert (file.id, file.name, file.size, file.is_csv) == ("F1", "deals.csv", 1234, True)
    assert file.share_ts == {"D1": "1700.000100"}
    png = parse_file({"id": "F2", "name": "a.png", "filetype": "png", "size": True})
    assert not png.is_csv and png.size is None and png.url == ""
    assert parse_file({"id": "F3", "name": "export.TSV"}).is_csv
    with pytest.raises(FileProblem):
        parse_file(None)
    with pytest.raises(FileProblem):
        parse_file({"name": "no id"})


def test_kind_in_needs_exactly_one_kind() -> None:
    assert kind_in("deal") == "deals"
    assert kind_in("") is None
    assert kind_in("health of accounts") is None
