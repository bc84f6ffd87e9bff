"""The import worker measures its peak memory per step and starts the kernel's count again in between.

Why: the import's memory is held to a few times the file, the statistics after it read the whole
workspace; the server's log (and the import benchmark) must tell the two apart.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bot.slack.messaging.import_worker import _peak_memory_since_start


def _kb(field: str) -> int:
    line = next(x for x in Path("/proc/self/status").read_text().splitlines() if x.startswith(field))
    return int(line.split()[1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_the_peak_of_a_step_is_measured_and_the_next_step_starts_from_now() -> None:
    spike = bytearray(150_000_000)  # a step that held 150 MB more than the process holds after it
    spike[::4096] = b"x" * len(spike[::4096])  # touched, so that the pages are really there
    del spike
    before = _kb("VmHWM:")
    assert _peak_memory_since_start() == before * 1024
    assert _kb("VmHWM:") < before - 100_000  # the count starts again from what the process holds now
    again = _peak_memory_since_start()
    assert again is not None and again < (before - 100_000) * 1024  # the spike was in the last step
