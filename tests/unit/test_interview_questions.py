"""Interview question sets: every shipped file loads, and broken files fail with one clear line."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from bot.prompt_files import packaged_root
from bot.services.interviews.conversation import parse_command
from bot.services.interviews.questions import (
    MAX_QUESTIONS,
    MIN_QUESTIONS,
    QuestionSet,
    QuestionSetError,
    load_all_question_sets,
    load_question_set,
    load_question_set_file,
    parse_question_set,
)
from bot.store.models import GtmRole

# The themes practitioners cover when they build an ICP from interviews; every role's set must
# touch the core ones so that answers can be compared across roles.
CORE_TOPICS = {"best_customers", "pains", "buying_committee", "bad_fit", "competitors"}


def test_every_role_has_a_valid_shipped_set() -> None:
    sets = load_all_question_sets()
    assert set(sets) == set(GtmRole)
    for role, qset in sets.items():
        assert qset.role == role
        assert MIN_QUESTIONS <= len(qset) <= MAX_QUESTIONS
        topics = {q.topic for q in qset.questions}
        assert topics >= CORE_TOPICS, f"{role.value} misses {CORE_TOPICS - topics}"
        assert len({q.id for q in qset.questions}) == len(qset)
        # a few minutes per stakeholder: short questions
        assert all(len(q.text) <= 200 for q in qset.questions), role.value


def test_role_specific_sets_differ() -> None:
    sets = load_all_question_sets()
    assert "sales_process" in {q.topic for q in sets[GtmRole.sales].questions}
    assert "churn" in {q.topic for q in sets[GtmRole.customer_success].questions}
    assert "strategy" in {q.topic for q in sets[GtmRole.leadership].questions}
    texts = {role: tuple(q.text for q in s.questions) for role, s in sets.items()}
    assert len(set(texts.values())) == len(texts)


def test_no_shipped_question_is_mistaken_for_a_command() -> None:
    for qset in load_all_question_sets().values():
        for q in qset.questions:
            assert parse_command(q.text) is None


@pytest.fixture
def good() -> dict[str, Any]:
    return yaml.safe_load((packaged_root() / "interview" / "sales.yaml").read_text(encoding="utf-8"))


def write(folder: Path, name: str, data: Any) -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(data, sort_keys=False) if not isinstance(data, str) else data)
    return path


def test_a_copy_of_a_shipped_file_loads(tmp_path: Path, good: dict[str, Any]) -> None:
    path = write(tmp_path, "sales.yaml", good)
    assert load_question_set_file(path) == load_question_set(GtmRole.sales)


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d["questions"][2].update(text="  "), r"question 3 \(id 'triggers'\): text: .*at least 1"),
        (lambda d: d["questions"][1].pop("text"), r"question 2 \(id 'pains'\): text: Field required"),
        (
            lambda d: d["questions"][0].update(id="Best Deals"),
            r"question 1 \(id 'Best Deals'\): id: .*pattern",
        ),
        (lambda d: d["questions"][4].update(topic="gossip"), r"question 5 \(id 'fast_vs_slow'\): topic:"),
        (
            lambda d: d["questions"][3].update(colour="red"),
            r"question 4 \(id 'deciders'\): colour: unknown field",
        ),
        (lambda d: d["questions"][5].update(id="pains"), r"question 6: id 'pains' is used twice"),
        (
            lambda d: d["questions"][6].update(hint="x" * 301),
            r"question 7 \(id 'lost_to'\): hint: .*at most 300",
        ),
        (lambda d: d.update(questions=d["questions"][:3]), r"questions: .*at least 6"),
        (lambda d: d.update(questions=d["questions"] * 2), r"questions: .*at most 9"),
        (lambda d: d.update(role="sellers"), r"role: Input should be"),
        (lambda d: d.pop("intro"), r"intro: Field required"),
        (lambda d: d["questions"].__setitem__(0, "just text"), r"question 1: .*valid dictionary"),
    ],
)
def test_bad_file_names_file_and_question(
    tmp_path: Path, good: dict[str, Any], mutate: Any, expected: str
) -> None:
    data = copy.deepcopy(good)
    mutate(data)
    path = write(tmp_path, "sales.yaml", data)
    with pytest.raises(QuestionSetError, match=expected) as info:
        load_question_set_file(path)
    message = str(info.value)
    assert message.startswith(str(path) + ": ")
    assert "\n" not in message


def test_role_must_match_file_name(tmp_path: Path, good: dict[str, Any]) -> None:
    path = write(tmp_path, "marketing.yaml", good)
    with pytest.raises(
        QuestionSetError, match=r"marketing\.yaml: role is 'sales' but the file is named for 'marketing'"
    ):
        load_question_set_file(path)


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "sales.yaml", "role: sales\nquestions:\n  - id: a\n    text: [unclosed\n")
    with pytest.raises(QuestionSetError, match=r"sales\.yaml: line \d+ YAML syntax error"):
        load_question_set_file(path)


@pytest.mark.parametrize("content", ["", "- a list\n", "just a string\n"])
def test_not_a_mapping(tmp_path: Path, content: str) -> None:
    path = write(tmp_path, "sales.yaml", content)
    with pytest.raises(QuestionSetError, match=r"sales\.yaml: expected a mapping"):
        load_question_set_file(path)


def test_missing_file_and_unknown_role(tmp_path: Path) -> None:
    with pytest.raises(QuestionSetError, match=r"product\.yaml: file not found"):
        load_question_set(GtmRole.product, tmp_path)
    with pytest.raises(QuestionSetError, match="unknown role 'ninja': expected one of sales, marketing"):
        load_question_set("ninja", tmp_path)


def test_edited_file_is_read_again(tmp_path: Path, good: dict[str, Any]) -> None:
    path = write(tmp_path, "sales.yaml", good)
    first = load_question_set("sales", tmp_path)
    changed = copy.deepcopy(good)
    changed["questions"][0]["text"] = "Which deal would you clone first?"
    path.write_text(yaml.safe_dump(changed, sort_keys=False))
    import os

    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    second = load_question_set("sales", tmp_path)
    assert first.questions[0].text != second.questions[0].text == "Which deal would you clone first?"


@given(st.text(max_size=40))
def test_arbitrary_documents_either_load_or_fail_cleanly(text: str) -> None:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError:
        return
    try:
        parsed = parse_question_set(raw, source="fuzz.yaml")
    except QuestionSetError as exc:
        assert str(exc).startswith("fuzz.yaml: ")
    else:  # pragma: no cover - 40 characters can never hold six questions
        assert isinstance(parsed, QuestionSet)


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("skip", "skip"),
        ("Skip!", "skip"),
        ("  DONE. ", "done"),
        ("`back`", "back"),
        ("pause", "pause"),
        ("?", "help"),
        ("resume", "resume"),
        ("done deals take three months", None),
        ("skip the small ones", None),
        ("Fintech companies with 200+ staff", None),
    ],
)
def test_only_a_lone_command_word_is_a_command(text: str, command: str | None) -> None:
    assert parse_command(text) == command
