"""Who holds a claim on a row (a reminder's send, a workspace's sync): one id per holder.

Why here: the claims live in the store, and both the scheduler and the CRM sync take them.
"""

from __future__ import annotations

import os
import socket
import uuid


def worker_id() -> str:
    """Host, process and a random part (two holders in one process differ)."""
    return f"{socket.gethostname()[:64]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
