"""What went wrong with a model call, for any provider: a reason users can read, and whether to retry.

Failures are classified by shape, not by one SDK's classes, so OpenAI, Anthropic, Ollama and any
other LangChain chat model are treated alike and no optional provider package is imported here:

* an HTTP status, read from ``exc.status_code`` or ``exc.response.status_code`` (the OpenAI and
  Anthropic SDKs, httpx's ``HTTPStatusError``, Ollama's ``ResponseError``): 429 is retried after
  the server's ``Retry-After`` (or ``retry-after-ms``), 408/409 and every 5xx (Anthropic's 529
  "overloaded" too) are retried, and any other 4xx (401/403 credentials, 400/404/422 a bad
  request or model name) fails at once with the server's first line of explanation;
* a timeout (a class named ``*Timeout*`` anywhere in the exception's type hierarchy, as in
  ``openai.APITimeoutError``, ``anthropic.APITimeoutError`` and ``httpx.TimeoutException``) or a
  connection failure (``*ConnectionError``, ``httpx.TransportError``, ``ConnectionError``) is retried;
* an answer cut off at the output limit or unparseable output is retried; a content filter is not.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from langchain_core.exceptions import OutputParserException
from pydantic import ValidationError

from bot.retry_after import retry_after_seconds


@dataclass(frozen=True)
class Failure:
    """Why one attempt failed, in words for users; ``wait`` is the server's Retry-After."""

    reason: str
    retry: bool
    wait: float | None = None


def _type_names(exc: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(exc).__mro__}


def status_of(exc: BaseException) -> int | None:
    """The HTTP error status an exception carries (``status_code`` or ``response.status_code``);
    a 200 is no error status (an unparseable answer's exception may carry its 200 response)."""
    for holder in (exc, getattr(exc, "response", None)):
        status = getattr(holder, "status_code", None)
        if isinstance(status, int) and 400 <= status <= 599:
            return status
    return None


def _headers(exc: BaseException) -> Mapping[str, str]:
    headers = getattr(getattr(exc, "response", None), "headers", None)
    return headers if isinstance(headers, Mapping) else {}


def retry_after(exc: BaseException) -> float | None:
    """Seconds the server asked us to wait (``retry-after-ms`` or ``retry-after``), if it said."""
    lowered = {str(k).lower(): v for k, v in _headers(exc).items()}
    if "retry-after-ms" in lowered:
        millis = retry_after_seconds(lowered["retry-after-ms"])
        return None if millis is None else millis / 1000
    return retry_after_seconds(lowered.get("retry-after"))


def _detail(exc: BaseException) -> str:
    """The server's explanation, first line only: the SDK's parsed message, else the text."""
    body: Any = getattr(exc, "body", None)
    message: Any = None
    if isinstance(body, Mapping):  # the error document, or its inner "error" object
        error = body.get("error")
        message = error.get("message") if isinstance(error, Mapping) else error or body.get("message")
    if not message:
        message = getattr(exc, "message", None) or getattr(exc, "error", None) or str(exc)
    return (str(message).strip().splitlines() or [""])[0][:200]


def classify_status(status: int, exc: BaseException) -> Failure:
    """A failure with an HTTP status: retried only when waiting can help."""
    if status == 429:
        return Failure("rate limited by the model service (HTTP 429)", True, retry_after(exc))
    if status >= 500 or status in (408, 409):
        return Failure(f"the model service failed (HTTP {status})", True, retry_after(exc))
    detail = _detail(exc)
    if status in (401, 403):
        return Failure(f"the model service refused the credentials (HTTP {status}) {detail}".strip(), False)
    return Failure(f"the model service refused the request (HTTP {status}) {detail}".strip(), False)


def classify(exc: BaseException) -> Failure:
    """What went wrong, in words for users, and whether trying again can help."""
    status = status_of(exc)
    if status is not None:
        return classify_status(status, exc)
    names = _type_names(exc)
    if isinstance(exc, TimeoutError) or any("Timeout" in name for name in names):
        return Failure("the request timed out", retry=True)
    if isinstance(exc, ConnectionError) or names & {"APIConnectionError", "TransportError"}:
        return Failure("cannot reach the model service", retry=True)
    if "LengthFinishReasonError" in names:
        return Failure("the answer was cut off at the output token limit", retry=True)
    if "ContentFilterFinishReasonError" in names:
        return Failure("the model service's content filter refused the request", retry=False)
    if isinstance(exc, OutputParserException | ValidationError | json.JSONDecodeError):
        return Failure(f"the model returned invalid output ({type(exc).__name__})", retry=True)
    return Failure(f"unexpected failure from the model service ({type(exc).__name__})", retry=True)
