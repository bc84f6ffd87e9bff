"""Choosing the text encoding of CSV bytes that are not UTF-8 (older Excel exports in Windows code pages).

Western files (cp1252, Latin-1) were the only legacy case once; Cyrillic (cp1251) and Japanese
(Shift-JIS) exports decoded that way came out as mojibake without a word. ``charset-normalizer``
now proposes readings, and the rule is:

- the Western reading (cp1252, else Latin-1 when cp1252 leaves bytes undefined) stays the default
  while it looks like Western text, because short files give the detector too little to go on
  (it calls "Müller" Czech, Hebrew or Korean by turns);
- a reading in another script replaces it only when the file has :data:`_MIN_EVIDENCE` non-ASCII
  bytes, that reading is clearly less garbled (charset-normalizer's mess ratio lower by
  :data:`_CLEAR_GAIN`) and no reading in another script is as plausible (as little mess and as
  much like a known language); among readings in that script, the one whose words are letters wins;
- when no reading is sensible, or the plausible ones disagree on the script (Cyrillic or Hebrew?),
  the file is refused: guessing would corrupt account names.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from typing import NamedTuple

from icp_engine.readers.results import CsvFormatError

SAMPLE_BYTES = 64 * 2**10  # the detector reads the file's head and its non-UTF-8 lines, this much at most
# Measured on the words that hold non-ASCII bytes: random accented Latin words are never much
# messier in cp1252 than in another script, Russian company names are worse by about 1.5.
_CLEAR_GAIN = 0.6
_MIN_EVIDENCE = 12  # non-ASCII bytes below which a few random accents can look like anything
_LOOK_CHARS = 8192  # enough text to tell a reading's script and letters
_SAME_LEVEL = 0.1  # readings this close in mess ratio are equally plausible
_WESTERN_PUNCTUATION = frozenset("’‘“”„–—€…•«»°£¥§©®™\u00a0·¡¿")
_HIGH_BYTES = bytes(range(0x80, 0x100))
_WORD_BREAKS = re.compile(rb'[\s,;|"]+')
_CSV_ASCII = 'name,x;y|z\t"0123456789\r\n'
_SCRIPT_GROUPS = {
    "HIRAGANA": "CJK",
    "KATAKANA": "CJK",
    "HALFWIDTH": "CJK",
    "HANGUL": "CJK",
    "BOPOMOFO": "CJK",
}
_SCRIPT_LABELS = {"CJK": "Chinese/Japanese/Korean"}
_CODEC_LABELS = {
    "cp932": "Shift-JIS (cp932)",
    "shift_jis": "Shift-JIS",
    "cp1251": "cp1251 (Windows Cyrillic)",
}


class _Reading(NamedTuple):
    """One of charset-normalizer's readings of the sample, in a script other than Latin."""

    mess: float  # charset-normalizer's mess ratio ("chaos"): 0 reads cleanly
    coherence: float  # how much the text looks like a language it knows
    letters: float  # share of the non-ASCII characters that are letters
    codec: str
    script: str


@dataclass(frozen=True)
class LegacyEncoding:
    """The codec to decode the file with and the finding that tells the user which one was used."""

    codec: str
    note: str


def _ascii_compatible(codec: str) -> bool:
    """Delimiters and quotes are found byte-wise, so only codecs that keep ASCII as ASCII qualify."""
    try:
        return _CSV_ASCII.encode(codec) == _CSV_ASCII.encode("ascii")
    except (LookupError, UnicodeError):
        return False


def _script(text: str) -> str | None:
    """The script most non-ASCII letters of ``text`` belong to (LATIN, CYRILLIC, CJK, ...)."""
    scripts: Counter[str] = Counter()
    for char in text:
        if char.isascii() or not char.isalpha():
            continue
        word = unicodedata.name(char, "").split(" ", 1)[0]
        if word and word != "MODIFIER":
            scripts[_SCRIPT_GROUPS.get(word, word)] += 1
    return scripts.most_common(1)[0][0] if scripts else None


def _looks_western(text: str) -> bool:
    """At least 90% of the non-ASCII characters are Latin letters or usual Western signs.

    C1 controls (what Latin-1 makes of cp1252's undefined bytes) count for neither side.
    """
    counted = good = 0
    for char in text:
        if char.isascii() or "\x80" <= char <= "\x9f":
            continue
        counted += 1
        latin = char.isalpha() and unicodedata.name(char, "").startswith("LATIN")
        good += latin or char in _WESTERN_PUNCTUATION
    return counted > 0 and good >= 0.9 * counted


def _letter_share(text: str) -> float:
    chars = [char for char in text if not char.isascii()]
    return sum(char.isalpha() for char in chars) / len(chars) if chars else 0.0


def _script_label(script: str) -> str:
    return _SCRIPT_LABELS.get(script, script.capitalize())


def choose_legacy_encoding(name: str, sample: bytes, where: str) -> LegacyEncoding:
    """The codec for a file whose ``sample`` (its non-UTF-8 lines, bounded) is not UTF-8.

    ``where`` locates the first bad byte for the refusal message. Raises CsvFormatError naming the
    file when no reading is sensible or the plausible ones disagree.
    """
    # Imported here: UTF-8 files, nearly all of them, never load the detector.
    from charset_normalizer import from_bytes
    from charset_normalizer.md import mess_ratio

    # Only the words with non-ASCII bytes count: ASCII ids and amounts would dilute the mess ratios.
    sample = b" ".join(word for word in _WORD_BREAKS.split(sample) if not word.isascii())
    western_codec, western_mess = "cp1252", None
    try:
        western_text = sample.decode("cp1252")
    except UnicodeDecodeError:
        western_codec, western_text = "latin-1", sample.decode("latin-1")
    if _looks_western(western_text):
        western_mess = mess_ratio(western_text, maximum_threshold=1.0)
    readings: list[_Reading] = []
    for match in from_bytes(sample):
        text = str(match)[:_LOOK_CHARS]
        script = _script(text)
        if script is not None and script != "LATIN" and _ascii_compatible(match.encoding):
            readings.append(
                _Reading(match.chaos, match.coherence, _letter_share(text), match.encoding, script)
            )
    save_as_utf8 = "save it again as UTF-8 (in Excel: Save As > 'CSV UTF-8') and import it again"
    evidence = len(sample) - len(sample.translate(None, _HIGH_BYTES))
    least_mess = min((r.mess for r in readings), default=1.0)
    if readings and (
        western_mess is None or (evidence >= _MIN_EVIDENCE and least_mess + _CLEAR_GAIN <= western_mess)
    ):
        # As plausible as the best: about as little mess and about as much like a known language.
        level = [r for r in readings if r.mess <= least_mess + _SAME_LEVEL]
        top_coherence = max(r.coherence for r in level)
        contenders = [r for r in level if r.coherence >= top_coherence - _SAME_LEVEL]
        scripts = list(dict.fromkeys(r.script for r in contenders))
        if len(scripts) > 1:
            raise CsvFormatError(
                f"{name} is not UTF-8 and its encoding cannot be told for sure: it reads as "
                f"{_script_label(scripts[0])} or as {_script_label(scripts[1])} text; {save_as_utf8}"
            )
        best = max(contenders, key=lambda r: (r.letters, r.coherence, -r.mess))  # words are letters
        label = _CODEC_LABELS.get(best.codec, best.codec)
        return LegacyEncoding(
            best.codec, f"{name} is not UTF-8: read as {label} (detected {_script_label(best.script)} text)"
        )
    if western_mess is not None:
        return LegacyEncoding(
            western_codec,
            f"{name} is not UTF-8: read as {western_codec} (Western European, older Excel exports); "
            "if accented names look wrong, save the file as UTF-8",
        )
    raise CsvFormatError(
        f"{name} is not UTF-8 and no text encoding reads it sensibly ({where}); {save_as_utf8}"
    )
