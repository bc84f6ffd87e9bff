"""CSV files in legacy code pages: detected when the text says so, cp1252 by default, refused when unclear."""

from __future__ import annotations

from pathlib import Path

import pytest

from icp_engine.readers import CsvFormatError, read_accounts, read_deals, read_table
from icp_engine.readers.encodings import SAMPLE_BYTES

RUSSIAN = ["ООО Ромашка", "Газпром нефть", "Лукойл", "Северсталь", "Аэрофлот"]
JAPANESE = ["株式会社トヨタ", "ソニー", "任天堂", "日立製作所"]


def accounts_file(tmp_path: Path, names: list[str], encoding: str, industry: str = "Retail") -> Path:
    text = "name,industry,country\r\n" + "".join(f"{n},{industry},XX\r\n" for n in names)
    path = tmp_path / "accounts.csv"
    path.write_bytes(text.encode(encoding))
    return path


def test_cp1251_file_is_detected_and_reported(tmp_path: Path) -> None:
    result = read_accounts(accounts_file(tmp_path, RUSSIAN, "cp1251", industry="Розница"))
    assert result.encoding == "cp1251"
    assert [r.name for r in result.rows] == RUSSIAN
    assert {r.attributes["industry"] for r in result.rows} == {"Розница"}
    assert result.findings[0] == (
        "accounts.csv is not UTF-8: read as cp1251 (Windows Cyrillic) (detected Cyrillic text)"
    )


def test_shift_jis_file_is_detected_and_reported(tmp_path: Path) -> None:
    result = read_accounts(accounts_file(tmp_path, JAPANESE, "shift_jis"))
    assert result.encoding in {"cp932", "shift_jis"}
    assert [r.name for r in result.rows] == JAPANESE
    assert "read as Shift-JIS" in result.findings[0]


def test_short_cp1252_file_with_a_few_accents_reads_as_cp1252(tmp_path: Path) -> None:
    names = ["Müller GmbH", "Café Zoë", "Acme"]
    result = read_accounts(accounts_file(tmp_path, names, "cp1252"))
    assert result.encoding == "cp1252"
    assert [r.name for r in result.rows] == names
    assert result.findings[0].startswith("accounts.csv is not UTF-8: read as cp1252 (Western European")


def test_a_couple_of_cyrillic_words_are_too_little_to_leave_cp1252(tmp_path: Path) -> None:
    """Eleven bytes could be any script: the Western default stays, and the finding says so."""
    result = read_accounts(accounts_file(tmp_path, ["Acme", "ООО Ромашка"], "cp1251"))
    assert result.encoding == "cp1252"
    assert "if accented names look wrong, save the file as UTF-8" in result.findings[0]


@pytest.mark.parametrize(("encoding", "expected"), [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig")])
def test_utf8_files_with_or_without_bom_need_no_detection(
    tmp_path: Path, encoding: str, expected: str
) -> None:
    names = [*RUSSIAN, *JAPANESE, "Müller GmbH"]
    result = read_accounts(accounts_file(tmp_path, names, encoding))
    assert result.encoding == expected
    assert [r.name for r in result.rows] == names
    assert not any("UTF-8" in finding for finding in result.findings)


def test_utf16_file_reads_back(tmp_path: Path) -> None:
    names = [*RUSSIAN, *JAPANESE]
    result = read_accounts(accounts_file(tmp_path, names, "utf-16"))
    assert result.encoding == "utf-16"
    assert [r.name for r in result.rows] == names


def test_byte_soup_is_refused_with_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "soup.csv"
    path.write_bytes(b"name,industry\r\n" + bytes(range(0x80, 0x100)) * 3 + b",x\r\n")
    with pytest.raises(CsvFormatError) as err:
        read_table(path)
    assert str(err.value) == (
        "soup.csv is not UTF-8 and no text encoding reads it sensibly (line 2 is not valid UTF-8 "
        "(byte 0x80 at byte 15)); save it again as UTF-8 (in Excel: Save As > 'CSV UTF-8') and "
        "import it again"
    )


def test_readings_in_different_scripts_are_refused(tmp_path: Path) -> None:
    """A few short Cyrillic words read as Hebrew or Greek just as well: guessing would corrupt them."""
    path = tmp_path / "accounts.csv"
    path.write_bytes("name,industry\nООО Ромашка,Retail\nАкме,Банки\n".encode("cp1251"))
    with pytest.raises(CsvFormatError) as err:
        read_table(path)
    message = str(err.value)
    assert message.startswith(
        "accounts.csv is not UTF-8 and its encoding cannot be told for sure: it reads as "
    )
    assert message.endswith("save it again as UTF-8 (in Excel: Save As > 'CSV UTF-8') and import it again")


def test_large_file_is_detected_from_a_bounded_sample_and_checked_to_the_end(tmp_path: Path) -> None:
    head = "".join(f"Acme {i},Retail,XX\r\n" for i in range(SAMPLE_BYTES // 16))  # ASCII beyond the sample
    body = "".join(f"{RUSSIAN[i % 5]} {i},Розница,RU\r\n" for i in range(SAMPLE_BYTES // 20))
    path = tmp_path / "accounts.csv"
    data = ("name,industry,country\r\n" + head + body).encode("cp1251")
    path.write_bytes(data)
    result = read_accounts(path)
    assert result.encoding == "cp1251"
    assert result.rows[-1].name == f"{RUSSIAN[(SAMPLE_BYTES // 20 - 1) % 5]} {SAMPLE_BYTES // 20 - 1}"
    lines = data.count(b"\n")
    path.write_bytes(data + b"Bad \x98 name,Retail,RU\r\n")  # 0x98 is the one byte cp1251 leaves undefined
    with pytest.raises(CsvFormatError) as err:
        read_accounts(path)
    assert str(err.value) == (
        f"accounts.csv line {lines + 1} cannot be read as cp1251 like the lines before it (byte 0x98); "
        "save the whole file again as UTF-8"
    )


def test_deal_findings_start_with_the_encoding(tmp_path: Path) -> None:
    path = tmp_path / "deals.csv"
    rows = "".join(f"D{i},{name},Closed Won,100\r\n" for i, name in enumerate(RUSSIAN))
    path.write_bytes(("deal_id,account_name,stage,amount\r\n" + rows).encode("cp1251"))
    result = read_deals(path)
    assert [d.account_name for d in result.rows] == RUSSIAN
    assert result.findings[0].startswith("deals.csv is not UTF-8: read as cp1251")
