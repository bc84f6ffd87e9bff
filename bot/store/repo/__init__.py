"""Keyword-only repository functions, one module per aggregate; every one is workspace-scoped.

Each function takes the caller's ``session`` (one unit of work, see ``bot.store.db.session_scope``)
and, for tenant data, a ``workspace_id`` that every query filters on.
"""

from bot.store.repo._bulk import UpsertCounts, content_hash
from bot.store.repo.errors import ConflictError, InvalidTransitionError, NotFoundError, StoreError
from bot.store.repo.privacy import ForgetCounts

__all__ = [
    "ConflictError",
    "ForgetCounts",
    "InvalidTransitionError",
    "NotFoundError",
    "StoreError",
    "UpsertCounts",
    "content_hash",
]
