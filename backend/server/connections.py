"""Connection limits of the local server: a cap on open connections, a deadline for a request's
headers, and log lines rate-limited so that a flood of failures cannot fill the disk.

``guarded_protocol(...)`` is uvicorn's h11 protocol with two additions: a connection beyond
``max_connections`` is closed as soon as it is accepted (before it can hold a slot), and a connection
that has not sent a complete request head within ``header_timeout_s`` (after it opened, or after the
previous response) is closed. Body read timeouts are the request guard's (``guard.BODY_TIMEOUT_S``);
idle keep-alive connections close after uvicorn's ``timeout_keep_alive``.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import time
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

MAX_CONNECTIONS = 64  # the add-on uses one or two
HEADER_TIMEOUT_S = 10.0
KEEP_ALIVE_S = 5.0
LOG_BURST, LOG_WINDOW_S = 10, 10.0  # at most this many lines of one kind per window, then a summary
log = logging.getLogger("mesh2cad.server")


def guarded_protocol(
    max_connections: int = MAX_CONNECTIONS, header_timeout_s: float = HEADER_TIMEOUT_S
) -> type[H11Protocol]:
    """An ``H11Protocol`` subclass with the connection cap and the header deadline (uvicorn ``http=``)."""

    class GuardedH11Protocol(H11Protocol):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._refused = False
            self._header_timer: asyncio.TimerHandle | None = None
            self._waiting_for: object = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            if len(self.connections) >= max_connections:
                self._refused, self.transport = True, transport
                log.warning("refused a connection: %d are open (the limit)", len(self.connections))
                transport.abort()
                return
            super().connection_made(transport)
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            if not self._refused:
                super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self._header_timer is not None and self.cycle is not self._waiting_for:
                self._disarm()  # a complete request head arrived

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._arm()

        def _arm(self) -> None:
            self._disarm()
            self._waiting_for = self.cycle
            self._header_timer = self.loop.call_later(header_timeout_s, self._headers_late)

        def _disarm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _headers_late(self) -> None:
            self._header_timer = None
            if not self.transport.is_closing():
                log.warning("closed a connection: no complete request head within %g s", header_timeout_s)
                self.transport.close()

    return GuardedH11Protocol


class RateLimit(logging.Filter):
    """Lets through at most ``burst`` records per (logger, message template) per ``window_s``; the
    first record after a window that dropped some says how many were dropped."""

    def __init__(self, burst: int = LOG_BURST, window_s: float = LOG_WINDOW_S) -> None:
        super().__init__()
        self.burst, self.window_s = burst, window_s
        self._seen: dict[tuple[str, str], list[float]] = {}  # key -> [window start, count, dropped]

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, str(record.msg)[:200])
        now = time.monotonic()
        start, count, dropped = self._seen.get(key, (now, 0, 0))
        if now - start > self.window_s:
            if dropped:
                record.msg = f"{record.msg} [{int(dropped)} similar lines dropped in {self.window_s:g} s]"
            start, count, dropped = now, 0, 0
        count += 1
        if count > self.burst:
            self._seen[key] = [start, count, dropped + 1]
            return False
        self._seen[key] = [start, count, dropped]
        if len(self._seen) > 1000:  # many distinct messages: forget the oldest windows
            for k in sorted(self._seen, key=lambda k: self._seen[k][0])[:500]:
                del self._seen[k]
        return True


def rate_limit_logging(burst: int = LOG_BURST, window_s: float = LOG_WINDOW_S) -> RateLimit:
    """Install one ``RateLimit`` on every handler of the root logger; returns it."""
    limit = RateLimit(burst, window_s)
    for handler in logging.getLogger().handlers:
        handler.addFilter(limit)
    return limit


def raise_open_file_limit(wanted: int = 4096) -> int:
    """Raise the soft limit on open files towards ``wanted`` (never above the hard limit); returns it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = min(wanted, hard) if hard != resource.RLIM_INFINITY else wanted
    if target > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            return target
        except (ValueError, OSError):
            pass
    return soft
