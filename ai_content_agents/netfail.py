"""Which network failures are not worth another attempt: refused, no DNS answer, no route.

WHY: a refused connection, a failed DNS lookup or an unreachable network does not heal in the few
seconds a retry waits; retrying only makes a user without network wait (Reddit's keyless fallback
took ~28 s before the run fell back to the sample). Timeouts, dropped connections, 429 and 5xx may
heal, so they keep retrying. Pure and dependency-free: every HTTP client here (requests, httpx2 via
apify-client, the TikTok Shop client) wraps the socket error differently, and all of them keep it
somewhere in the exception chain.
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Iterator

_REASONS = {
    errno.ECONNREFUSED: "connection refused",
    errno.ENETUNREACH: "network unreachable",
    errno.ENETDOWN: "network unreachable",
    errno.EHOSTUNREACH: "host unreachable",
    errno.EHOSTDOWN: "host unreachable",
    errno.EADDRNOTAVAIL: "network unreachable",
}
_MAX_LINKS = 32


def unreachable_reason(exc: BaseException) -> str | None:
    """"connection refused", "DNS lookup failed", "network unreachable" or "host unreachable" when `exc`
    (or anything that caused it) says the host cannot be reached at all; None for anything else."""
    for link in _chain(exc):
        if isinstance(link, socket.gaierror):
            return "DNS lookup failed"
        if isinstance(link, OSError) and link.errno in _REASONS:
            return _REASONS[link.errno]
    return None


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """`exc`, its causes and contexts, urllib3's `.reason` and exceptions passed as arguments."""
    todo: list[BaseException] = [exc]
    seen: set[int] = set()
    while todo and len(seen) < _MAX_LINKS:
        e = todo.pop(0)
        if id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        linked = [e.__cause__, e.__context__, getattr(e, "reason", None), *e.args]
        todo.extend(x for x in linked if isinstance(x, BaseException))
