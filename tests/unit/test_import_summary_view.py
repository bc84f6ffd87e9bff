"""The answers to a CSV shared in a DM (pure views): summary, rejected rows, failure, the kind
question and the notes; their buttons' values; Block Kit validity and limits for any summary."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.services.imports.service import ImportSummary, PreviousImport
from bot.slack.views.import_summary import (
    ACTION_ID_PATTERN,
    IMPORT_AS,
    KINDS,
    MAX_LISTED_ERRORS,
    MAX_LISTED_FINDINGS,
    RETRY,
    RETRY_AS,
    SKIP_BAD_ROWS,
    ImportTarget,
    importing_note,
    kind_question,
    not_csv_text,
    note,
    problem_message,
    quality_lines,
    result_message,
)
from icp_engine.normalize import ValueMapping
from icp_engine.readers import RowError
from tests.support.blockkit_checks import all_text, check_blocks

TARGET = ImportTarget("F0ABC123", "accounts", False, "1700000000.000100")


def summary(status: str = "imported", **fields: Any) -> ImportSummary:
    base: dict[str, Any] = {"kind": "accounts", "file": "accounts.csv", "workspace": "T1", "status": status}
    base.update(fields)
    return ImportSummary(**base)


def errors(n: int, *, file: str = "accounts.csv") -> list[RowError]:
    return [RowError(file, i + 2, "Number of Employees", f"not a number: 'x{i}'") for i in range(n)]


def buttons(blocks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["action_id"]: e for b in blocks if b["type"] == "actions" for e in b["elements"]}


def test_imported_summary_shows_the_counts_findings_and_statistics() -> None:
    done = summary(
        rows=120,
        added=100,
        updated=15,
        unchanged=5,
        import_run_id=7,
        findings=["3 of 120 accounts have no country (column 'Country')"],
        mappings=[
            (ValueMapping("industry", "Retial", "retail", "fuzzy", 83.0), 2),
            (ValueMapping("country", "usa", "US", "exact"), 40),
            (ValueMapping("country", "u.s.", "US", "exact"), 3),
        ],
        message="accounts.csv: imported 120 accounts",
    )
    message = result_message(done, target=TARGET, statistics=12)
    blocks = check_blocks(message.blocks)
    text = all_text(blocks)
    assert "Imported *120 accounts* from *accounts.csv* (run #7)." in text
    fields = [f["text"] for b in blocks for f in b.get("fields", [])]
    assert fields == ["*Added*\n100", "*Updated*\n15", "*Unchanged*\n5", "*Rejected*\n0"]
    assert "no country" in text
    assert "industry: 'Retial' -&gt; 'retail' (fuzzy 83, 2 rows)" in text
    assert "country: 2 values written differently, read exactly (43 rows)" in text
    assert "Statistics regenerated: 12 summaries" in text
    assert message.text == "accounts.csv: imported 120 accounts"
    assert buttons(blocks) == {}


def test_imported_with_skipped_rows_lists_them_and_a_repeat_names_the_earlier_run() -> None:
    previous = PreviousImport(3, datetime(2024, 5, 1, 9, 30, tzinfo=UTC))
    done = summary(rows=10, rejected=2, added=8, errors=errors(2), previous=previous, import_run_id=4)
    text = all_text(check_blocks(result_message(done, target=TARGET, statistics=None).blocks))
    assert "2 rows with errors were skipped" in text and "*Skipped rows*" in text
    assert "accounts.csv line 3, column 'Number of Employees'" in text
    assert "imported before, on 2024-05-01 09:30 UTC (run #3)" in text
    assert "Statistics" not in text  # nothing said when the caller did not regenerate them


def test_statistics_failure_says_how_to_rebuild() -> None:
    done = summary(rows=1, added=1, import_run_id=1)
    text = all_text(check_blocks(result_message(done, target=TARGET, statistics="chroma is down").blocks))
    assert "not regenerated (chroma is down)" in text and "icp reindex --workspace T1" in text


def test_rejected_lists_the_first_rows_and_counts_the_rest() -> None:
    bad = summary("rejected", rows=200, rejected=60, errors=errors(60))
    message = result_message(bad, target=TARGET)
    blocks = check_blocks(message.blocks)
    text = all_text(blocks)
    assert "60 of 200 rows were rejected, so nothing was imported" in text
    listed = re.findall(r"accounts\.csv line \d+", text)
    assert len(listed) == MAX_LISTED_ERRORS
    assert "… and 40 more" in text
    skip = buttons(blocks)[SKIP_BAD_ROWS]
    assert skip["text"]["text"] == "Import the other 140 rows"
    assert ImportTarget.decode(skip["value"]) == ImportTarget(
        TARGET.file_id, "accounts", True, TARGET.thread_ts
    )
    assert message.text == "accounts.csv: 60 of 200 rows were rejected, so nothing was imported."


def test_all_rows_rejected_offers_no_skip_button() -> None:
    for rows in (1, 5):
        bad = summary("rejected", rows=rows, rejected=rows, errors=errors(rows))
        blocks = check_blocks(result_message(bad, target=TARGET).blocks)
        assert SKIP_BAD_ROWS not in buttons(blocks)
        assert "skip bad rows" not in all_text(blocks)


def test_unchanged_repeats_the_service_message() -> None:
    same = summary(
        "unchanged", rows=3, unchanged=3, message="accounts.csv: already imported: nothing changed"
    )
    blocks = check_blocks(result_message(same, target=TARGET).blocks)
    assert "already imported: nothing changed" in all_text(blocks)
    assert buttons(blocks) == {}


def test_failed_offers_retry_and_the_other_kinds() -> None:
    failed = summary("failed", kind="deals", file="deals.csv", message="deals.csv: import the accounts first")
    deals_target = ImportTarget("F0ABC123", "deals")
    blocks = check_blocks(result_message(failed, target=deals_target).blocks)
    assert "import the accounts first" in all_text(blocks)
    found = buttons(blocks)
    assert set(found) == {RETRY, RETRY_AS["accounts"], RETRY_AS["health"]}
    assert ImportTarget.decode(found[RETRY]["value"]).kind == "deals"
    assert ImportTarget.decode(found[RETRY_AS["health"]]["value"]).kind == "health"


def test_kind_question_has_one_button_per_kind() -> None:
    question = kind_question(file_name="export <final>.csv", target=ImportTarget("F0ABC123"))
    blocks = check_blocks(question.blocks)
    assert "export &lt;final&gt;.csv" in all_text(blocks)
    found = buttons(blocks)
    assert set(found) == set(IMPORT_AS.values())
    assert {ImportTarget.decode(b["value"]).kind for b in found.values()} == set(KINDS)


def test_every_button_id_is_matched_by_the_listener_pattern() -> None:
    ids = [*IMPORT_AS.values(), *RETRY_AS.values(), RETRY, SKIP_BAD_ROWS]
    assert all(ACTION_ID_PATTERN.match(i) for i in ids)
    assert len(set(ids)) == len(ids)
    assert not ACTION_ID_PATTERN.match("icp_import_as_everything")


def test_notes_are_single_valid_sections() -> None:
    for message in (
        note("Sorry, only ICP owners can import data."),
        importing_note(file_name="a*b.csv", kind="health", skip_bad_rows=True),
        problem_message("The download failed.", target=TARGET),
        problem_message("No such file."),
    ):
        check_blocks(message.blocks)
        assert message.text
    assert "skipping bad rows" in all_text(
        check_blocks(importing_note(file_name="h.csv", kind="health", skip_bad_rows=True).blocks)
    )
    assert RETRY in buttons(check_blocks(problem_message("x", target=TARGET).blocks))


def test_not_csv_text_explains_what_to_send() -> None:
    assert "Save the sheet as CSV" in not_csv_text(file_name="crm.xlsx", filetype="xlsx")
    png = not_csv_text(file_name="<b>.png", filetype="png")
    assert "&lt;b&gt;.png" in png and "(png)" in png and "CSV" in png


# -- any summary fits Slack -------------------------------------------------------------------

texts = st.text(min_size=0, max_size=400)
row_errors = st.builds(
    RowError,
    file=st.text(min_size=1, max_size=200),
    line=st.integers(min_value=1, max_value=10**7),
    column=st.none() | st.text(max_size=200),
    reason=texts,
)
mappings = st.tuples(
    st.builds(
        ValueMapping,
        field=st.sampled_from(["industry", "country", "employees", "custom"]),
        raw=st.text(max_size=300),
        value=st.text(max_size=300) | st.integers(),
        method=st.sampled_from(["exact", "synonym", "fuzzy", "parsed", "derived", "unknown"]),
        score=st.none() | st.floats(min_value=0, max_value=100),
    ),
    st.integers(min_value=1, max_value=10**6),
)


@settings(max_examples=150, deadline=None)
@given(
    status=st.sampled_from(["imported", "unchanged", "rejected", "failed"]),
    kind=st.sampled_from(KINDS),
    file=st.text(min_size=1, max_size=500),
    message=st.text(max_size=5000),
    errs=st.lists(row_errors, max_size=80),
    findings=st.lists(texts, max_size=60),
    maps=st.lists(mappings, max_size=60),
    rows=st.integers(min_value=0, max_value=10**7),
    statistics=st.none() | st.integers(min_value=0, max_value=10**4) | st.text(max_size=300),
)
def test_any_summary_is_valid_block_kit(
    status: str,
    kind: str,
    file: str,
    message: str,
    errs: list[RowError],
    findings: list[str],
    maps: list[tuple[ValueMapping, int]],
    rows: int,
    statistics: int | str | None,
) -> None:
    rejected = min(rows, len({e.line for e in errs}))
    result = summary(
        status,
        kind=kind,
        file=file,
        message=message,
        errors=errs,
        findings=findings,
        mappings=maps,
        rows=rows,
        rejected=rejected,
        added=rows - rejected,
        import_run_id=1,
    )
    out = result_message(result, target=ImportTarget("F0ABC123", kind, False, None), statistics=statistics)
    blocks = check_blocks(out.blocks)
    assert out.text and len(out.text) <= 3000
    notes = [e["text"] for b in blocks if b["type"] == "context" for e in b["elements"]]
    if status in ("imported", "rejected"):
        if len(errs) > MAX_LISTED_ERRORS:
            assert f"… and {len(errs) - MAX_LISTED_ERRORS:,} more" in notes
        quality = quality_lines(result)
        if len(quality) > MAX_LISTED_FINDINGS:
            assert f"… and {len(quality) - MAX_LISTED_FINDINGS:,} more" in notes


@given(
    file_id=st.from_regex(r"F[A-Z0-9]{1,40}", fullmatch=True),
    kind=st.none() | st.sampled_from(KINDS),
    skip=st.booleans(),
    thread=st.none() | st.from_regex(r"[0-9]{1,12}\.[0-9]{1,9}", fullmatch=True),
)
def test_button_values_round_trip(file_id: str, kind: str | None, skip: bool, thread: str | None) -> None:
    target = ImportTarget(file_id, kind, skip, thread)
    value = target.encode()
    assert len(value) <= 2000
    assert ImportTarget.decode(value) == target


@pytest.mark.parametrize(
    "value",
    [
        "",
        "imp1",
        "imp2|F1|accounts|0|",
        "imp1|../x|accounts|0|",
        "imp1|F1|contacts|0|",
        "imp1|F1|accounts|yes|",
        "imp1|F1|accounts|0|now",
        "imp1|F1|accounts|0|1.2|extra",
    ],
)
def test_forged_button_values_are_rejected(value: str) -> None:
    with pytest.raises(ValueError):
        ImportTarget.decode(value)
