""" "Did you mean" hints for unknown accounts: time per miss at N accounts, through the real reader.

    .venv/bin/python benchmarks/account_hints.py [--accounts 20000] [--misses 100]

A deals file naming accounts that are not in the accounts file gets one rejected row per miss,
each with a hint when a stored name is close. The reader's index (rapidfuzz ``extractOne`` with
``fuzz.ratio``) is timed against the same look-ups done the old way, ``difflib.get_close_matches``
over the same normalised names (the baseline of this run), and both must suggest the same names.
"""

from __future__ import annotations

import argparse
import difflib
import random
import string
import sys
import time
from pathlib import Path

if __name__ == "__main__" and not __package__:  # run as a file, not with -m: the repository root on the path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._table import CONSOLE, fmt_ratio, fmt_seconds, mark, print_table, ratio
from icp_engine.readers.account_join import _AccountIndex, normalize_company_name
from icp_engine.readers.results import AccountRow

SUFFIXES = ("Inc", "GmbH", "Ltd", "Systems", "Group")


def _accounts(count: int, rng: random.Random) -> list[AccountRow]:
    words = ["".join(rng.choices(string.ascii_lowercase, k=rng.randint(4, 10))) for _ in range(6000)]
    names: set[str] = set()
    while len(names) < count:
        names.add(f"{rng.choice(words).title()} {rng.choice(words).title()} {rng.choice(SUFFIXES)}")
    return [AccountRow(line, None, name, None, {}) for line, name in enumerate(sorted(names), start=2)]


def _misses(accounts: list[AccountRow], count: int, rng: random.Random) -> list[str]:
    """Half misspelt stored names (one letter changed), half names close to nothing."""
    misspelt = []
    for account in rng.sample(accounts, count // 2):
        name = account.name or ""
        at = rng.randrange(len(name))
        misspelt.append(name[:at] + ("x" if name[at] != "x" else "q") + name[at + 1 :])
    unrelated = [f"Unrelated {i} Zzqv Holdings" for i in range(count - len(misspelt))]
    return misspelt + unrelated


def _difflib_hint(name: str, by_name: dict[str, list[AccountRow]]) -> str | None:
    close = difflib.get_close_matches(normalize_company_name(name), list(by_name), n=1, cutoff=0.85)
    return by_name[close[0]][0].name if close else None


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--misses", type=int, default=100)
    args = parser.parse_args()
    rng = random.Random(12)
    accounts = _accounts(args.accounts, rng)
    misses = _misses(accounts, args.misses, rng)
    index = _AccountIndex(accounts)
    by_name = index.by_name  # built once, outside the timings, as the reader does

    start = time.perf_counter()
    reasons = [index.find(None, name)[2] or "" for name in misses]
    ours = (time.perf_counter() - start) / len(misses)
    start = time.perf_counter()
    baseline_hints = [_difflib_hint(name, by_name) for name in misses]
    baseline = (time.perf_counter() - start) / len(misses)

    our_hints = [r.split("did you mean '", 1)[1][:-3] if "did you mean" in r else None for r in reasons]
    agree = sum(a == b for a, b in zip(our_hints, baseline_hints, strict=True))
    print_table(
        f'"Did you mean" for {len(misses)} unknown accounts among {len(accounts):,}',
        ["case", "per miss", "× difflib", "hints"],
        [
            [
                "baseline: difflib.get_close_matches",
                fmt_seconds(baseline),
                "1.00×",
                str(sum(map(bool, baseline_hints))),
            ],
            [
                "reader: rapidfuzz extractOne",
                fmt_seconds(ours),
                fmt_ratio(ratio(ours, baseline)),
                str(sum(map(bool, our_hints))),
            ],
        ],
    )
    CONSOLE.print(
        f"same suggestion as difflib for {agree}/{len(misses)} misses: {mark(agree == len(misses))}"
    )


if __name__ == "__main__":
    main()
