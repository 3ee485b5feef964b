"""What one address may hold of a listener, and what each listener may hold of the process.

A flood of idle or slow connections from one address once took both listeners down: each
holds an open file, and at the process's limit neither listener could accept anything, the
desk included. So every connection passes a guard before aiohttp sees it:

- a listener holds at most its budget of connections; the desk's budget is its own, so the
  public side can never use up the files the desk needs (`budgets`);
- one address holds at most `limits.*_connections_per_address` of a listener (a trusted
  reverse proxy speaks for many, so it is not counted); addresses outside
  `desk.allowed_networks` share OUTSIDE_CONNECTIONS of the desk's, enough to be told
  "not reachable from your network", never enough to crowd the agents out;
- a connection must send its request headers within `limits.header_timeout` (slowloris);
  aiohttp's keep-alive timeout, set to the same, closes it when idle between requests.

A refused connection is closed at once and counted (see tally.py), never logged one by one.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import ssl
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from aiohttp import web

from onlinesupport.lib.tally import Tally

RESERVED_FILES = 64
"""Open files kept for the store, the logs, mail connections and files being served."""
ACCEPT_BURST = 128
"""Connections a listener accepts in one go before any is refused (asyncio's backlog)."""
NO_OPEN_FILE_LIMIT = 65536
"""What a system without a per-process limit of open files (Windows) is planned for."""
OUTSIDE_CONNECTIONS = 32
"""Connections to the desk all addresses outside its allowed networks may hold together."""

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def budgets(open_files: int | None, desk_wanted: int) -> tuple[int, int]:
    """Connections the public and the desk listener may each hold at once.

    The desk keeps `desk_wanted`, or a quarter of what the limit leaves, whichever is less;
    the public listener has the rest. Room is left for the store and for the connections
    both listeners accept at once before they can refuse any.
    """
    files = open_files or NO_OPEN_FILE_LIMIT
    usable = max(64, files - RESERVED_FILES - 2 * ACCEPT_BURST)
    desk = min(desk_wanted, usable // 4)
    return usable - desk, desk


def per_address(configured: int, budget: int) -> int | None:
    """The per-address cap in force: never more than half the listener's budget, so one
    address cannot fill it even where the file limit is low; 0 (no cap) stays none."""
    return min(configured, max(1, budget // 2)) if configured else None


def _address(peer: Any) -> Address | None:
    try:
        address = ipaddress.ip_address(str(peer[0]).split("%")[0])
    except (TypeError, ValueError, IndexError):
        return None
    return getattr(address, "ipv4_mapped", None) or address


class AddressCounts:
    """Live counts per address with a cap: `take` says whether one more fits."""

    def __init__(self, cap: int | None) -> None:
        self.cap = cap
        self._counts: Counter[str] = Counter()

    def take(self, key: str) -> bool:
        if self.cap is not None and self._counts[key] >= self.cap:
            return False
        self._counts[key] += 1
        return True

    def give_back(self, key: str) -> None:
        self._counts[key] -= 1
        if self._counts[key] <= 0:
            del self._counts[key]


class ListenerGuard:
    """Admits or refuses the connections of one listener."""

    def __init__(
        self,
        name: str,
        *,
        budget: int,
        per_address: int | None,
        header_timeout: float,
        tally: Tally,
        exempt: Iterable[str] = (),
        allowed: Iterable[str] | None = None,
    ) -> None:
        self.name = name
        self.budget = budget
        self.open = 0
        self.outside = 0
        self.addresses = AddressCounts(per_address)
        self.header_timeout = header_timeout
        self._tally = tally
        self._exempt = [ipaddress.ip_network(n) for n in exempt]
        self._allowed = None if allowed is None else [ipaddress.ip_network(n) for n in allowed]

    def admit(self, peer: Any) -> str | None:
        """The key the connection is counted under, or None when it is refused."""
        address = _address(peer)
        outside = self._allowed is not None and (
            address is None or not any(address in net for net in self._allowed)
        )
        if outside and self.outside >= OUTSIDE_CONNECTIONS:
            self._tally.add(
                f"refused a connection to the {self.name} listener from outside "
                f"its allowed networks: {OUTSIDE_CONNECTIONS} are open already",
                str(address),
            )
            return None
        if self.open >= self.budget:
            self._tally.add(
                f"refused a connection: the {self.name} listener holds its most "
                f"connections ({self.budget})",
                str(address),
            )
            return None
        key = "" if address is None or any(address in net for net in self._exempt) else str(address)
        if key and not self.addresses.take(key):
            self._tally.add(
                f"refused a connection to the {self.name} listener: more than "
                f"{self.addresses.cap} at once from one address",
                key,
            )
            return None
        self.open += 1
        if outside:
            self.outside += 1
            return "!" + key  # marked, to be given back to the outsiders' share
        return key

    def release(self, key: str) -> None:
        self.open -= 1
        if key.startswith("!"):
            self.outside -= 1
            key = key[1:]
        if key:
            self.addresses.give_back(key)

    def too_slow(self, key: str) -> None:
        self._tally.add(
            f"closed a connection to the {self.name} listener that sent no "
            f"request within {self.header_timeout:g} s",
            key.lstrip("!"),
        )

    def protocol(self, make: Callable[[], asyncio.Protocol]) -> asyncio.Protocol:
        return _Guarded(self, make)


class _Guarded(asyncio.Protocol):
    """Stands before aiohttp's protocol: counts the connection, or closes it at once."""

    def __init__(self, guard: ListenerGuard, make: Callable[[], asyncio.Protocol]) -> None:
        self._guard = guard
        self._make = make
        self._inner: asyncio.Protocol | None = None
        self._key = ""
        self._deadline: asyncio.TimerHandle | None = None
        self._tail = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)  # a stream server's connections
        key = self._guard.admit(transport.get_extra_info("peername"))
        if key is None:
            transport.abort()
            return
        self._key = key
        self._deadline = asyncio.get_running_loop().call_later(
            self._guard.header_timeout, self._too_slow, transport
        )
        self._inner = self._make()
        self._inner.connection_made(transport)

    def _too_slow(self, transport: asyncio.Transport) -> None:
        self._deadline = None
        self._guard.too_slow(self._key)
        transport.abort()

    def data_received(self, data: bytes) -> None:
        if self._deadline is not None:
            # The first request's headers end with an empty line; after that aiohttp's own
            # keep-alive timeout watches the connection.
            seen = self._tail + data
            if b"\r\n\r\n" in seen:
                self._deadline.cancel()
                self._deadline = None
            else:
                self._tail = seen[-3:]
        assert self._inner is not None
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received() if self._inner is not None else None

    def pause_writing(self) -> None:
        if self._inner is not None:
            self._inner.pause_writing()

    def resume_writing(self) -> None:
        if self._inner is not None:
            self._inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._inner is None:
            return
        if self._deadline is not None:
            self._deadline.cancel()
        self._guard.release(self._key)
        self._inner.connection_lost(exc)


async def listen(
    runner: web.AppRunner, guard: ListenerGuard, host: str, port: int, tls: ssl.SSLContext | None
) -> asyncio.Server:
    """Serve `runner`'s application on (host, port) behind `guard`."""
    server = runner.server
    assert server is not None, "set the runner up first"
    return await asyncio.get_running_loop().create_server(
        lambda: guard.protocol(server),
        host,
        port,
        ssl=tls,
        backlog=ACCEPT_BURST,
        ssl_handshake_timeout=guard.header_timeout if tls else None,
    )


ACCEPT_ERRORS = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}


def count_accept_errors(loop: asyncio.AbstractEventLoop, tally: Tally) -> Callable[[], None]:
    """Count asyncio's "socket.accept() out of system resource" instead of logging a traceback
    for each (hundreds of thousands a minute once the file limit is reached); returns the
    function that puts the previous handler back."""
    previous = loop.get_exception_handler()

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if (
            isinstance(exc, OSError)
            and exc.errno in ACCEPT_ERRORS
            and "accept" in str(context.get("message", ""))
        ):
            tally.add(f"could not accept a connection: {exc.strerror}")
        elif previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    loop.set_exception_handler(handler)
    return lambda: loop.set_exception_handler(previous)
