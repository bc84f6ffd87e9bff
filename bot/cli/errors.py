"""How every `icp` command reports failure: one line on stderr, an exit code, never a traceback.

Shared by every command module (engine, demo, import, db, forget, reindex, draft, versions, ...), so
each reports failures the same way without importing the root app in bot/cli/main.py.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer
from rich.console import Console

from bot.console import render
from icp_engine.model import ICPError
from icp_engine.readers import CsvFormatError

# soft_wrap: an error stays one line however narrow the terminal (or 80 columns when piped).
err = Console(stderr=True, soft_wrap=True)


def fail(message: str, code: int = 1) -> NoReturn:
    """One line on stderr, shown as written: messages quote file names and cell values."""
    one_line = "; ".join(part.strip() for part in message.splitlines() if part.strip())
    err.print(render.labelled("error:", "bold red", one_line), highlight=False)
    raise typer.Exit(code)


def _database_error(exc: BaseException) -> str:
    cause = getattr(exc, "orig", None) or exc
    first = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
    return f"database error: {first}"


# Errors whose messages are written for users, by (module, class). Looked up only in modules that
# are already loaded (an unloaded module cannot have raised), so `icp --help` never loads Chroma
# and `icp score` never loads SQLAlchemy. (The store's StoreConfigError is a ValueError.)
_DATABASE_ERROR = ("sqlalchemy.exc", "SQLAlchemyError")
_USER_FACING = (
    ("bot.store.repo.errors", "StoreError"),
    ("bot.knowledge.store", "KnowledgeStoreError"),
    ("bot.knowledge.embeddings", "EmbeddingModelNotFound"),
    ("bot.services.knowledge.sync", "KnowledgeSyncError"),
    ("bot.llm.client", "LlmUnavailable"),
    ("bot.demo.world", "DemoError"),
)


def _raised_from(exc: BaseException, module: str, name: str) -> bool:
    """Whether `exc` is a `module.name`, without importing a module that is not loaded."""
    loaded = sys.modules.get(module)
    kind = getattr(loaded, name, None) if loaded is not None else None
    return isinstance(kind, type) and isinstance(exc, kind)


def _user_facing(exc: BaseException) -> bool:
    return any(_raised_from(exc, module, name) for module, name in _USER_FACING)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn every expected failure into one readable line; never a traceback."""
    try:
        yield
    except typer.Exit:
        raise
    except (CsvFormatError, ICPError) as exc:
        fail(str(exc))
    except FileNotFoundError as exc:
        fail(f"{exc.filename}: file not found")
    except IsADirectoryError as exc:
        fail(f"{exc.filename}: is a folder, not a file")
    except PermissionError as exc:
        fail(f"{exc.filename}: permission denied")
    except (ValueError, OSError) as exc:  # StoreConfigError included
        fail(str(exc))
    except Exception as exc:
        if _raised_from(exc, *_DATABASE_ERROR):
            fail(_database_error(exc))
        if _user_facing(exc):
            fail(str(exc))
        if os.environ.get("ICP_DEBUG"):
            raise
        fail(f"unexpected {type(exc).__name__}: {exc} (set ICP_DEBUG=1 to see the details)")
