"""Process logging: text or one JSON object per line, request context on every record, secrets masked.

``configure_logging(settings)`` is called by ``icp serve``. It installs one stderr handler on the
root logger with three filters: :class:`QuietLibraries` drops the DEBUG records of libraries that
write request bodies (Slack, OpenAI, HTTP clients: bodies hold what people wrote);
:class:`RequestContext` copies the current request's fields (workspace, request id, kind,
command) onto each record; :class:`SecretMask` rewrites every record so no token, API key or
configured secret reaches a log, whatever a library or a careless format string put there. The
request fields live in a ``ContextVar`` set by the HTTP handler; :class:`ContextExecutor` carries
them to the threads that run the work after an ack, so a log line written there names its request.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

__all__ = [
    "REQUEST_FIELDS",
    "ContextExecutor",
    "JsonFormatter",
    "RequestContext",
    "SecretMask",
    "configure_logging",
    "current_request",
    "request_scope",
]

T = TypeVar("T")

# Fields a record may carry about its request, in the order JSON lines show them.
REQUEST_FIELDS = ("workspace", "request_id", "kind", "command", "latency_ms")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
MASK = "***"
MIN_SECRET_LENGTH = 6  # shorter configured values would mask ordinary words
# Libraries that write whole request bodies (messages people wrote, prompts) at DEBUG: never below INFO.
BODY_LOGGERS = ("slack_sdk", "slack_bolt", "openai", "httpx", "httpcore", "urllib3", "langchain", "chromadb")

# Shapes of credentials, whoever configured them: Slack tokens, OpenAI-style keys, bearer tokens.
SECRET_PATTERNS = re.compile(
    r"\bxox[a-z]-[A-Za-z0-9-]+"
    r"|\bxapp-[A-Za-z0-9-]+"
    r"|\bsk-[A-Za-z0-9_-]{6,}"
    r"|\bpat-[a-z0-9]+-[A-Za-z0-9-]{6,}"  # a HubSpot private app token
    r"|\b00D[A-Za-z0-9]{12,15}![A-Za-z0-9._-]{20,}"  # a Salesforce session / access token
    r"|\b(?P<scheme>Bearer)\s+[A-Za-z0-9._~+/=-]+"
    r"|(?P<userinfo>://[^/\s:@]+:)[^@\s/]+@",  # the password in a database URL
    re.IGNORECASE,
)

_request: contextvars.ContextVar[Mapping[str, object] | None] = contextvars.ContextVar(
    "icp_request", default=None
)


@contextmanager
def request_scope(**fields: object) -> Iterator[None]:
    """Within the block, records carry ``fields`` (None values are left out)."""
    token = _request.set({k: v for k, v in fields.items() if v is not None})
    try:
        yield
    finally:
        _request.reset(token)


def current_request() -> Mapping[str, object]:
    return _request.get() or {}


class LogSettings(Protocol):
    """What logging reads from ``bot.settings.Settings`` (a sibling module: not imported here)."""

    @property
    def log_level(self) -> str: ...

    @property
    def log_format(self) -> str: ...

    def __iter__(self) -> Iterator[tuple[str, Any]]: ...


class ContextExecutor(ThreadPoolExecutor):
    """A thread pool whose tasks run in the submitter's context, so they log its request id."""

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        context = contextvars.copy_context()
        return super().submit(lambda: context.run(fn, *args, **kwargs))


class RequestContext(logging.Filter):
    """Copy the current request's fields onto the record (an explicit ``extra`` wins)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in current_request().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


class QuietLibraries(logging.Filter):
    """Drop DEBUG records of libraries that log request bodies (a logger's own level is not
    enough: Bolt sets its loggers' levels itself)."""

    def __init__(self, prefixes: Iterable[str]) -> None:
        super().__init__()
        self._prefixes = tuple(prefixes)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.INFO:
            return True
        return not any(record.name == p or record.name.startswith(p + ".") for p in self._prefixes)


class SecretMask(logging.Filter):
    """Replace credentials in the message, its arguments and any traceback with ``***``."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        values = sorted({s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True)
        self._literal = re.compile("|".join(re.escape(v) for v in values)) if values else None

    def mask(self, text: str) -> str:
        if self._literal is not None:
            text = self._literal.sub(MASK, text)
        return SECRET_PATTERNS.sub(_masked, text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not hide the record, nor leak its args
            message = f"{record.msg!s} (unformattable arguments)"
        record.msg, record.args = self.mask(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.mask(record.exc_text)
        if record.stack_info:
            record.stack_info = self.mask(record.stack_info)
        return True


def _masked(match: re.Match[str]) -> str:
    if match.group("scheme"):
        return f"{match.group('scheme')} {MASK}"
    if match.group("userinfo"):
        return f"{match.group('userinfo')}{MASK}@"
    return MASK


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, then the request's fields if known."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in REQUEST_FIELDS:
            value = getattr(record, key, None)
            if value is not None:
                entry[key] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False, default=str)


def configured_secrets(settings: LogSettings) -> list[str]:
    """The secret values in the settings, to be masked wherever they appear."""
    values = []
    for name, value in settings:
        secret = getattr(value, "get_secret_value", None)
        if callable(secret):
            values.append(str(secret()))
        elif name.endswith(("_token", "_secret", "_api_key")) and isinstance(value, str):
            values.append(value)
    return values


class CurrentStderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at emit time, never to a stream captured earlier.

    A handler bound to the stderr of the moment outlives it when that stream is replaced and
    closed (a test runner's capture, an embedding host), and every later record then fails.
    """

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        """Ignored: the stream is always the current ``sys.stderr``."""


def configure_logging(settings: LogSettings, *, stream: Any = None) -> logging.Handler:
    """Install the one root handler (replacing an earlier one from here); returns it."""
    handler = logging.StreamHandler(stream) if stream is not None else CurrentStderr()
    handler.set_name("icp")
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else logging.Formatter(TEXT_FORMAT))
    handler.addFilter(QuietLibraries(BODY_LOGGERS))
    handler.addFilter(RequestContext())
    handler.addFilter(SecretMask(configured_secrets(settings)))
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "icp"]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    return handler
