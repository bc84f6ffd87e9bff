"""Which ICP versions every member may read: those approved (now or before they were superseded).

Drafts and versions in review carry verbatim interview quotes and unreviewed claims, so they are
for ICP owners; the Slack layer asks the owner rules only when a draft is involved.
"""

from __future__ import annotations

from datetime import datetime

from bot.store.models import IcpStatus

QUOTE_FOR_OWNERS = "an interview answer (the quote is shown to ICP owners only)"


def is_published(status: str, approved_at: datetime | None) -> bool:
    """Approved, or approved once and since superseded."""
    if status == IcpStatus.approved.value:
        return True
    return status == IcpStatus.superseded.value and approved_at is not None


def without_quotes(evidence: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    """Evidence lines with interview answers' quotes (and their authors) replaced, for members."""
    return tuple((ref, QUOTE_FOR_OWNERS if ref.startswith("ans:") else text) for ref, text in evidence)
