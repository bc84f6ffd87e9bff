"""The real local model for integration tests: SmolLM2-135M served by xllamacpp in its own process.

:class:`bot.llm.local_server.LocalModelProcess` runs the server on a free 127.0.0.1 port (one
thread, 4096-token context) and stops it by PID. Under pytest-xdist each worker starts its own
server: about 300 MB resident each (the model is memory-mapped; measured), which the machines
afford, and it keeps workers independent (no shared lock, no server outliving the worker that
started it). Closing stdin ends the server, so it also dies with its parent if a run is killed.
"""

from __future__ import annotations

from bot.llm.local_server import LocalModelProcess

LocalModelServer = LocalModelProcess

__all__ = ["LocalModelServer"]
