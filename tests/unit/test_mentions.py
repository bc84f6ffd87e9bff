"""Naming people in commands: escaped mentions, raw ids, plain @handles resolved via users.list."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st
from slack_sdk import WebClient

from bot.demo.stand_in.slack_api import StandInSlack
from bot.slack.mentions import Directory, PersonError, take_person, user_id_of

PEOPLE = {"sam": ["U0SAM"], "sam smith": ["U0SAM"], "lee": ["U0LEE1", "U0LEE2"], "ana maría": ["U0ANA"]}


def lookup(handle: str) -> list[str]:
    return PEOPLE.get(handle.removeprefix("@").casefold(), [])


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["<@U0SAM|sam>", "confirm"], ("U0SAM", 1)),
        (["<@W0SAM>"], ("W0SAM", 1)),
        (["U0SAM"], ("U0SAM", 1)),
        (["@sam", "confirm"], ("U0SAM", 1)),
        (["@Sam", "Smith", "confirm"], ("U0SAM", 2)),
        (["@Ana", "María", "role=sales"], ("U0ANA", 2)),
        (["confirm"], None),
    ],
)
def test_every_form_names_one_person(words: list[str], expected: tuple[str, int] | None) -> None:
    assert take_person(words, 0, lookup, stop=lambda w: w == "confirm" or w.startswith("role=")) == expected


def test_ambiguous_and_unknown_handles_are_named() -> None:
    with pytest.raises(PersonError, match="`@lee` matches 2 people"):
        take_person(["@lee"], 0, lookup)
    with pytest.raises(PersonError, match="couldn't find anyone called `@nobody`"):
        take_person(["@nobody", "else"], 0, lookup)
    with pytest.raises(PersonError, match="@-autocomplete"):
        take_person(["@sam"], 0, None)  # no directory to ask


@pytest.mark.security
def test_a_handle_is_quoted_back_escaped() -> None:
    with pytest.raises(PersonError) as refused:
        take_person(["@<!channel>"], 0, lookup)
    assert "<!channel>" not in str(refused.value) and "&lt;!channel&gt;" in str(refused.value)


@given(st.from_regex(r"[UW][A-Z0-9]{4,10}", fullmatch=True), st.text(alphabet="abc .", max_size=8))
def test_escaped_mentions_and_raw_ids_give_the_id(user_id: str, label: str) -> None:
    assert (
        user_id_of(f"<@{user_id}>") == user_id_of(f"<@{user_id}|{label}>") == user_id_of(user_id) == user_id
    )


@pytest.fixture
def slack() -> Iterator[StandInSlack]:
    stand_in = StandInSlack().start()
    try:
        yield stand_in
    finally:
        stand_in.stop()


def test_directory_reads_every_page_and_caches_per_team(slack: StandInSlack) -> None:
    for i in range(450):
        slack.add_user(f"U0P{i:04d}", name=f"p{i}", real_name=f"Person {i}")
    slack.add_user("U0ZED", name="zed", real_name="Zed Last", profile={"display_name": "Zeddy"})
    slack.add_user("U0GONE", name="zed", real_name="Zed Gone", deleted=True)
    client = WebClient(token="xoxb-test", base_url=slack.api_url)
    directory = Directory()
    assert directory.find(client, "T1", "@zeddy") == ["U0ZED"]  # the active one, from page 3
    assert directory.find(client, "T1", "@ZED") == ["U0ZED"]  # deactivated namesake left out
    assert directory.find(client, "T1", "@Zed Gone") == ["U0GONE"]  # unless the only match
    listed = slack.calls_to("users.list")
    assert len(listed) == 3 and [c.params.get("cursor") for c in listed][1:] == ["page-200", "page-400"]
