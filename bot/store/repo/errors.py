"""Errors the repositories raise, with messages a person can act on.

Callers (services, CLI) catch ``StoreError`` and show its message; each message names the
workspace-scoped thing that is missing or the rule that was broken.
"""

from __future__ import annotations


class StoreError(Exception):
    """Base class of every error the store raises on purpose."""


class NotFoundError(StoreError, LookupError):
    """The row does not exist in this workspace (rows of other workspaces do not exist here)."""


class ConflictError(StoreError):
    """The write would break a uniqueness rule (e.g. a second active interview)."""


class InvalidTransitionError(StoreError, ValueError):
    """A state change that the lifecycle does not allow (e.g. editing an approved ICP)."""
