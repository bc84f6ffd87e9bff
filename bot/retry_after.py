"""Reading an HTTP ``Retry-After`` value: seconds, or an HTTP date (RFC 9110 §10.2.3)."""

from __future__ import annotations

import email.utils
import time


def retry_after_seconds(value: object, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header value, or None when it says nothing usable."""
    if value is None:
        return None
    text = str(value).strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
        return max(0.0, when.timestamp() - (time.time() if now is None else now))
    except (TypeError, ValueError, OverflowError, IndexError):
        return None
