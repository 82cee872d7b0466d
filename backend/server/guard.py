"""The request guard: everything checked before a request's body is read, and the body's bounds.

In order, without reading a byte of the body: the Host header must name the loopback interface
(a DNS-rebinding page cannot reach the API), a browser's Origin too; public paths take GET only;
every other path needs the bearer token; a declared Content-Length must be within the limit; and
the app's ``admit`` hook may refuse (a full queue: 429). The body is then streamed to the app through
a counting ``receive``: past the limit -> 413, no data for ``body_timeout_s`` -> 408, JSON nested
deeper than ``MAX_JSON_DEPTH`` -> 400 (more than ``MAX_JSON_ITEMS`` items -> 413), each raised as
``BodyError`` before anything is parsed.
"""

from __future__ import annotations

import asyncio
import hmac
import json
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

import numpy as np
from starlette.exceptions import HTTPException

from backend.server.worker import release_memory

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Admit = Callable[[Scope], tuple[int, str] | None]

LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
MAX_JSON_DEPTH = 32  # nesting of [ and { in a JSON body or options field
MAX_JSON_ITEMS = 1_000_000  # arrays, objects and elements in one JSON body (a mesh body has a dozen)
BODY_TIMEOUT_S = 15.0  # longest wait for the next piece of a request body
RELEASE_AFTER_BYTES = 8 << 20  # after a request body this large, freed memory is given back to the OS
_OPEN = np.zeros(256, dtype=np.int8)
_OPEN[[ord("["), ord("{")]] = 1
_OPEN[[ord("]"), ord("}")]] = -1
_ITEM = np.zeros(256, dtype=bool)
_ITEM[[ord("["), ord("{"), ord(",")]] = True


class BodyError(HTTPException):
    """A request body refused while it streams in (413, 408, 400); the connection is closed after it."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(status, detail, headers={"Connection": "close"})


class JsonDepth:
    """The deepest ``[``/``{`` nesting and the number of items (``[``, ``{``, ``,`` outside strings) of a
    JSON text fed in pieces.

    Vectorised per piece (numpy); the middle of a long string (a base64 array) costs one ``memchr``.
    Only the valid prefix of a text matters to a parser, and on it these counts and the parser agree.
    """

    def __init__(self) -> None:
        self.depth = self.deepest = self.items = 0
        self.in_string = False
        self.backslashes = 0  # run of backslashes at the end of the previous piece

    def slow(self, piece: bytes) -> bool:
        """True when ``piece`` needs the escape-aware path (worth running off the event loop)."""
        return len(piece) > 4096 and b"\\" in piece and b'"' in piece

    def feed(self, piece: bytes) -> int:
        """Add ``piece``; returns the deepest nesting so far."""
        if not piece:
            return self.deepest
        if self.in_string and b'"' not in piece:  # the middle of a string: only a trailing run matters
            stripped = piece.rstrip(b"\\")
            self.backslashes = len(piece) - len(stripped) + (0 if stripped else self.backslashes)
            return self.deepest
        b = np.frombuffer(piece, dtype=np.uint8)
        plain = self.backslashes == 0 and b"\\" not in piece
        quote = b == 34 if plain else self._real_quotes(b)
        inside = (np.cumsum(quote, dtype=np.int64) - quote + self.in_string) % 2 == 1
        outside = ~(inside | quote)
        self.in_string = bool((int(np.count_nonzero(quote)) + self.in_string) % 2)
        levels = np.cumsum(np.where(outside, _OPEN[b], 0), dtype=np.int64) + self.depth
        self.items += int(np.count_nonzero(outside & _ITEM[b]))
        self.deepest = max(self.deepest, int(levels.max()))
        self.depth = int(levels[-1])
        return self.deepest

    def _real_quotes(self, b: np.ndarray) -> np.ndarray:
        """Quotes not escaped (an even run of backslashes before them); keeps the trailing run."""
        idx = np.arange(len(b))
        last_other = np.maximum.accumulate(np.where(b == 92, -1, idx))  # last non-backslash at or before i
        before = np.empty(len(b), dtype=np.int64)  # backslashes right before position i
        before[0] = self.backslashes
        before[1:] = idx[:-1] - last_other[:-1] + np.where(last_other[:-1] < 0, self.backslashes, 0)
        tail = len(b) - 1 - int(last_other[-1])
        self.backslashes = tail + (self.backslashes if last_other[-1] < 0 else 0)
        return (b == 34) & (before % 2 == 0)


def json_too_deep(text: str | bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when ``text`` nests ``[``/``{`` deeper than ``limit``."""
    return JsonDepth().feed(text.encode() if isinstance(text, str) else text) > limit


def host_name(value: bytes | str) -> str:
    """The host of a Host header or an origin's netloc, lower case, without port or IPv6 brackets."""
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    try:
        return (urlsplit(f"//{text.strip()}").hostname or "").lower()
    except ValueError:
        return "?"


class Guard:
    """ASGI middleware; see the module docstring for the order of the checks."""

    def __init__(
        self,
        app: Callable,
        token: str,
        max_body_bytes: int,
        *,
        public_paths: Iterable[str] = (),
        allowed_hosts: Iterable[str] = LOOPBACK_NAMES,
        admit: Admit | None = None,
        body_timeout_s: float = BODY_TIMEOUT_S,
    ) -> None:
        self.app, self.token, self.max_body_bytes = app, token.encode(), max_body_bytes
        self.public_paths, self.allowed_hosts = frozenset(public_paths), frozenset(allowed_hosts)
        self.admit, self.body_timeout_s = admit, body_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        refused = self._refusal(scope, headers)
        if refused is not None:
            return await send_error(send, *refused)
        try:
            await self.app(scope, self._bounded(receive, headers), send)
        finally:
            declared = headers.get(b"content-length", b"0")
            if declared.isdigit() and int(declared) > RELEASE_AFTER_BYTES:
                await asyncio.to_thread(release_memory)  # the parsed body's pages go back to the OS

    def _refusal(self, scope: Scope, headers: dict[bytes, bytes]) -> tuple[int, str, dict[str, str]] | None:
        host = host_name(headers.get(b"host", b""))
        if host not in self.allowed_hosts:
            names = ", ".join(sorted(self.allowed_hosts))
            return 403, f"Host header {host[:60]!r} is not a loopback name ({names}); refused", {}
        origin = headers.get(b"origin")
        if (
            origin is not None
            and host_name(urlsplit(origin.decode("latin-1")).netloc) not in self.allowed_hosts
        ):
            return 403, f"cross-origin request from {origin[:80].decode('latin-1')!r} refused", {}
        if scope["path"] in self.public_paths:
            if scope["method"] not in ("GET", "HEAD"):
                return 405, f"{scope['path']} takes GET only", {"Allow": "GET"}
        elif not self._authorised(headers.get(b"authorization", b"")):
            detail = "missing or wrong bearer token (Authorization: Bearer <token from the token file>)"
            return 401, detail, {"WWW-Authenticate": "Bearer"}
        declared = headers.get(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                return 400, f"bad Content-Length header {declared[:40]!r}", {}
            if int(declared) > self.max_body_bytes:
                return 413, f"{self._limit_text()} (Content-Length says {int(declared):,})", {}
        if self.admit is not None:
            verdict = self.admit(scope)
            if verdict is not None:
                return verdict[0], verdict[1], {"Retry-After": "5"} if verdict[0] == 429 else {}
        return None

    def _limit_text(self) -> str:
        return f"request body too large: the limit is {self.max_body_bytes:,} bytes"

    def _bounded(self, receive: Receive, headers: dict[bytes, bytes]) -> Receive:
        kind = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        depth = JsonDepth() if not kind or kind.endswith(b"json") else None
        state = {"total": 0, "done": False}

        async def bounded_receive() -> Message:
            if state["done"]:
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), self.body_timeout_s)
            except TimeoutError:
                raise BodyError(408, f"request body stalled: no data for {self.body_timeout_s:g} s") from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                state["done"] = True
            chunk = message.get("body", b"")
            state["total"] += len(chunk)
            if state["total"] > self.max_body_bytes:
                raise BodyError(413, self._limit_text())
            if depth is not None:
                deepest = (
                    await asyncio.to_thread(depth.feed, chunk) if depth.slow(chunk) else depth.feed(chunk)
                )
                if deepest > MAX_JSON_DEPTH:
                    raise BodyError(
                        400, f"JSON nested deeper than {MAX_JSON_DEPTH} levels; refused before parsing"
                    )
                if depth.items > MAX_JSON_ITEMS:
                    raise BodyError(
                        413, f"JSON with more than {MAX_JSON_ITEMS:,} items; refused before parsing"
                    )
            return message

        return bounded_receive

    def _authorised(self, header: bytes) -> bool:
        scheme, _, value = header.partition(b" ")
        return scheme.lower() == b"bearer" and hmac.compare_digest(value.strip(), self.token)


async def send_error(send: Send, status: int, detail: str, extra: dict[str, str] | None = None) -> None:
    """A JSON ``{"detail": ...}`` response that closes the connection (any request body is left unread)."""
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers += [(k.lower().encode(), v.encode()) for k, v in (extra or {}).items()]
    headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
