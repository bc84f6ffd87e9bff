"""HubSpot client failures classified for :func:`bot.connectors.retry.call`.

Every API package of ``hubspot-api-client`` has its own ``ApiException`` class, all with
``status``/``headers``/``body``; they are recognised by those attributes rather than by a list
of twenty classes. HubSpot's error body is ``{"status": "error", "message", "category", ...}``;
a 403 with category ``MISSING_SCOPES`` names the scopes in ``errors[].context``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import urllib3.exceptions

from bot.connectors.retry import Attempt, Outcome
from bot.retry_after import retry_after_seconds

__all__ = ["api_error_body", "classifier", "is_api_exception"]


def is_api_exception(exc: BaseException) -> bool:
    """An HTTP answer the client raised (any of its packages' ``ApiException`` classes)."""
    return hasattr(exc, "status") and hasattr(exc, "body") and type(exc).__module__.startswith("hubspot.")


def api_error_body(exc: BaseException) -> dict[str, Any]:
    """The error's JSON body, or {} when there is none or it is not JSON."""
    raw = getattr(exc, "body", None)
    if not raw:
        return {}
    try:
        parsed = json.loads(raw)
    except (ValueError, TypeError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _header(exc: BaseException, name: str) -> str | None:
    headers = getattr(exc, "headers", None)
    if not isinstance(headers, Mapping):
        return None
    for key, value in headers.items():
        if str(key).lower() == name.lower():
            return str(value)
    return None


def _retry_after(exc: BaseException) -> float | None:
    return retry_after_seconds(_header(exc, "Retry-After"))


def _missing_scopes(body: Mapping[str, Any]) -> list[str]:
    scopes: list[str] = []
    for error in body.get("errors") or []:
        context = error.get("context") if isinstance(error, Mapping) else None
        if isinstance(context, Mapping):
            for key in ("requiredGranularScopes", "requiredScopes", "requiredScope"):
                values = context.get(key) or []
                scopes.extend(str(v) for v in (values if isinstance(values, list) else [values]))
    return scopes


def classifier(token: str) -> Callable[[BaseException], Attempt | None]:
    """A ``classify`` for :func:`call` that scrubs ``token`` from any text it passes on."""

    def scrub(text: str) -> str:
        return text.replace(token, "[token]") if token else text

    def classify(exc: BaseException) -> Attempt | None:
        if isinstance(exc, urllib3.exceptions.HTTPError):
            return Attempt(Outcome.transient, f"no answer from HubSpot ({type(exc).__name__})")
        if not is_api_exception(exc):
            return None
        status = int(getattr(exc, "status", 0) or 0)
        body = api_error_body(exc)
        message = scrub(str(body.get("message") or getattr(exc, "reason", "") or f"HTTP {status}"))
        category = str(body.get("category") or "")
        if status == 0 or status >= 500:
            return Attempt(Outcome.transient, f"HubSpot answered {status or 'nothing'}: {message}")
        if status == 401:
            return Attempt(Outcome.auth, f"the HubSpot token was refused ({message}); reconnect HubSpot")
        if status == 403 and category == "MISSING_SCOPES":
            scopes = ", ".join(_missing_scopes(body)) or "unknown"
            return Attempt(
                Outcome.auth, f"the HubSpot app lacks a scope (needs: {scopes}); reconnect with it"
            )
        if status == 429:
            return Attempt(
                Outcome.rate_limited, f"HubSpot rate limit: {message}", retry_after=_retry_after(exc)
            )
        return Attempt(
            Outcome.refused, f"HubSpot refused the request ({status} {category}): {message}".strip()
        )

    return classify
