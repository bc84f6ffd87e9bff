"""Files people share with the bot: what Slack says about one (``files.info``) and a safe download.

The download sends the bot token, so it only ever goes to Slack itself: the file's URL (and any
redirect) must be on the Web API's host or one of its subdomains (``files.slack.com`` for
``slack.com``; the stand-in server in tests), with the same scheme and port. Anything else is
refused before a byte is sent. Files are streamed to disk under a size cap, so a huge upload
can neither fill the memory nor the disk.

Problems raise :class:`FileProblem` with one sentence meant for the person who shared the file.
"""

from __future__ import annotations

import logging
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from http.client import HTTPMessage
from pathlib import Path, PurePosixPath
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import urlsplit

from slack_sdk.errors import SlackApiError, SlackRequestError

from bot.slack.views.blocks_text import escape

if TYPE_CHECKING:
    from slack_sdk import WebClient

log = logging.getLogger(__name__)

MAX_DOWNLOAD_BYTES = 200 * 1024 * 1024
DOWNLOAD_TIMEOUT_S = 60.0
CHUNK_BYTES = 1024 * 1024
CSV_TYPES = frozenset({"csv", "tsv"})
CSV_SUFFIXES = frozenset({".csv", ".tsv"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


class FileProblem(Exception):
    """The shared file cannot be used; the message says why, for the person who shared it."""


@dataclass(frozen=True, slots=True)
class SlackFile:
    """The parts of Slack's file object an import needs."""

    id: str
    name: str
    filetype: str
    size: int | None
    url: str
    share_ts: dict[str, str]  # channel id -> ts of the message that shared the file there

    @property
    def is_csv(self) -> bool:
        return self.filetype.lower() in CSV_TYPES or PurePosixPath(self.name.lower()).suffix in CSV_SUFFIXES


def file_info(client: WebClient, file_id: str) -> SlackFile:
    """Ask Slack about ``file_id``; ``FileProblem`` when it cannot be seen or makes no sense."""
    try:
        response = client.files_info(file=file_id)
    except SlackApiError as exc:
        error = str(exc.response.get("error") or "unknown_error")
        log.warning("files.info %s failed: %s", file_id, error)
        if error in ("file_not_found", "file_deleted"):
            raise FileProblem("I can't find that file any more; it may have been deleted.") from None
        if error in ("missing_scope", "not_allowed_token_type", "no_permission"):
            raise FileProblem(
                "I'm not allowed to read shared files here (the app needs the `files:read` scope); "
                "ask whoever installed the app to add it."
            ) from None
        raise FileProblem(f"Slack would not tell me about that file ({error}).") from None
    except (SlackRequestError, OSError) as exc:
        log.warning("files.info %s unreachable: %s", file_id, exc)
        raise FileProblem("I couldn't reach Slack to fetch the file; please try again in a minute.") from None
    return parse_file(response.get("file"))


def parse_file(raw: object) -> SlackFile:
    """A ``SlackFile`` from Slack's file object; ``FileProblem`` when it has no usable id or URL."""
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
        raise FileProblem("Slack sent a file description I don't understand.")
    name = str(raw.get("name") or raw.get("title") or raw["id"])
    url = raw.get("url_private_download") or raw.get("url_private")
    size = raw.get("size")
    return SlackFile(
        id=raw["id"],
        name=name,
        filetype=str(raw.get("filetype") or ""),
        size=size if isinstance(size, int) and not isinstance(size, bool) and size >= 0 else None,
        url=url if isinstance(url, str) else "",
        share_ts=_share_timestamps(raw.get("shares")),
    )


def _share_timestamps(shares: object) -> dict[str, str]:
    """{channel: ts} of the first share in each channel, from ``shares.private/public``."""
    found: dict[str, str] = {}
    if not isinstance(shares, dict):
        return found
    for scope in ("private", "public"):
        channels = shares.get(scope)
        if not isinstance(channels, dict):
            continue
        for channel, entries in channels.items():
            if isinstance(entries, list) and entries and isinstance(entries[0], dict):
                ts = entries[0].get("ts")
                if isinstance(ts, str) and isinstance(channel, str):
                    found.setdefault(channel, ts)
    return found


def _origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of ``url``; empty parts when it does not parse."""
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        port = parts.port or _DEFAULT_PORTS.get(scheme)
        host = (parts.hostname or "").lower().rstrip(".")
    except ValueError:
        return "", "", None
    return scheme, host, port


def is_slack_url(url: str, *, api_base: str) -> bool:
    """True if ``url`` is on the Web API's host (or a subdomain of it), same scheme and port."""
    scheme, host, port = _origin(url)
    api_scheme, api_host, api_port = _origin(api_base)
    if not host or not api_host or scheme not in _DEFAULT_PORTS or port is None:
        return False
    same_host = host == api_host or host.endswith("." + api_host)
    return same_host and scheme == api_scheme and port == api_port


def _check_url(url: str, api_base: str) -> None:
    if not is_slack_url(url, api_base=api_base):
        shown = _origin(url)[1][:100] or "an unknown place"
        raise FileProblem(
            f"The file's download address is on {escape(shown)}, not on Slack "
            f"({escape(_origin(api_base)[1] or api_base)}); I only download from Slack itself."
        )


class _SlackOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follow a redirect only to Slack itself (the token travels with it)."""

    def __init__(self, api_base: str) -> None:
        super().__init__()
        self.api_base = api_base

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        _check_url(newurl, self.api_base)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _opener(client: WebClient) -> urllib.request.OpenerDirector:
    handlers: list[Any] = [_SlackOnlyRedirects(client.base_url)]
    context = client.ssl if isinstance(client.ssl, ssl.SSLContext) else None
    handlers.append(urllib.request.HTTPSHandler(context=context))
    if client.proxy:
        handlers.append(urllib.request.ProxyHandler({"http": client.proxy, "https": client.proxy}))
    return urllib.request.build_opener(*handlers)


def check_downloadable(client: WebClient, file: SlackFile, *, max_bytes: int = MAX_DOWNLOAD_BYTES) -> None:
    """``FileProblem`` unless the file has a Slack URL, a size within the cap, and we have a token."""
    if not file.url:
        raise FileProblem("Slack gave me no download address for that file.")
    _check_url(file.url, client.base_url)
    if file.size is not None and file.size > max_bytes:
        raise FileProblem(too_big_text(file.name, max_bytes))
    if not client.token:
        raise FileProblem("I have no Slack token to download the file with.")


def download(
    client: WebClient,
    file: SlackFile,
    dest: Path,
    *,
    max_bytes: int = MAX_DOWNLOAD_BYTES,
    timeout: float = DOWNLOAD_TIMEOUT_S,
) -> int:
    """Stream ``file`` to ``dest`` with the client's token; returns the size in bytes.

    Raises ``FileProblem`` (and leaves no partial file) when the URL is not Slack's, the file is
    larger than ``max_bytes``, Slack answers with an error or a web page, or the connection fails.
    """
    check_downloadable(client, file, max_bytes=max_bytes)
    request = urllib.request.Request(file.url, headers={"Authorization": f"Bearer {client.token}"})
    try:
        with _opener(client).open(request, timeout=timeout) as response:
            _check_response(response, file.name, max_bytes)
            return _stream(response, dest, file.name, max_bytes)
    except FileProblem:
        dest.unlink(missing_ok=True)
        raise
    except urllib.error.HTTPError as exc:
        dest.unlink(missing_ok=True)
        log.warning("download of %s failed: HTTP %s", file.id, exc.code)
        raise FileProblem(f"Slack would not give me the file (HTTP {exc.code}); please try again.") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        dest.unlink(missing_ok=True)
        log.warning("download of %s failed: %s", file.id, exc)
        raise FileProblem("The download from Slack failed; please try again in a minute.") from None


def too_big_text(name: str, max_bytes: int) -> str:
    return (
        f"*{escape(name)}* is larger than the {_megabytes(max_bytes)} I import from Slack. Split the "
        "export into smaller files, or import it on the server with "
        "`icp import accounts|deals|health FILE --workspace TEAM_ID`."
    )


def _megabytes(size: int) -> str:
    return f"{size / 1_048_576:,.0f} MB" if size >= 1_048_576 else f"{size:,} bytes"


def _check_response(response: Any, name: str, max_bytes: int) -> None:
    content_type = str(response.headers.get("Content-Type") or "").lower()
    if content_type.startswith("text/html"):
        # Slack answers a download without a valid token (or scope) with its sign-in page.
        raise FileProblem(
            "Slack sent me a web page instead of the file; the app may lack the `files:read` scope."
        )
    length = response.headers.get("Content-Length")
    if length is not None and length.isdigit() and int(length) > max_bytes:
        raise FileProblem(too_big_text(name, max_bytes))


def _stream(response: Any, dest: Path, name: str, max_bytes: int) -> int:
    written = 0
    with dest.open("wb") as out:
        while chunk := response.read(CHUNK_BYTES):
            written += len(chunk)
            if written > max_bytes:
                raise FileProblem(too_big_text(name, max_bytes))
            out.write(chunk)
    return written
