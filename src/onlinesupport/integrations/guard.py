"""Guards the server's outgoing webhook requests against request forgery.

A webhook URL is typed by an admin, but the server sends to it from inside the network, so it
must not become a way to reach what only the server can reach. Refused by default: link-local
addresses (which hold the clouds' metadata services), the known metadata addresses, loopback
(other services on this machine), unspecified, multicast and reserved addresses, and this
server's own listeners on any of its addresses. Private networks (the business's own LAN
systems) are allowed, unless `allowed_networks` lists the only networks to send to.

Names are checked when they are resolved for the connection itself (`GuardedResolver`), so a
name that resolves to something else on the second lookup (DNS rebinding) is still refused.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from onlinesupport.lib.errors import UserError

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

METADATA = tuple(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254")
)
"""Cloud metadata services (AWS, ECS, Alibaba, AWS over IPv6); the link-local ones are
refused as link-local anyway."""


class TargetRefused(UserError):
    """The URL may not be sent to; the message says why, for the admin."""


class ResolvedToRefused(OSError):
    """A name resolved to an address that may not be sent to (raised inside the connector)."""


def check_url(url: str) -> tuple[str, int]:
    """The host and port of a webhook URL, or TargetRefused if it cannot be one."""
    if len(url) > 2000:
        raise TargetRefused("the URL is longer than 2,000 characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise TargetRefused("the URL is not valid") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetRefused("the URL must start with http:// or https:// and name a host")
    if parts.username or parts.password:
        raise TargetRefused("the URL must not contain a user name or password")
    if any(ch.isspace() for ch in url) or not url.isprintable():
        raise TargetRefused("the URL must not contain spaces or control characters")
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


def _own_addresses() -> set[Address]:
    found: set[Address] = set()
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None):
            found.add(_plain(ipaddress.ip_address(info[4][0])))
    except OSError:
        pass
    return found


def _plain(address: Address) -> Address:
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        address = ipaddress.ip_address(str(address).split("%")[0])
    return address


class TargetGuard:
    def __init__(
        self,
        *,
        allow_loopback: bool = False,
        allowed_networks: Iterable[str] = (),
        own_ports: Callable[[], Iterable[int]] = tuple,
    ) -> None:
        self._allow_loopback = allow_loopback
        self._allowed = [ipaddress.ip_network(n) for n in allowed_networks]
        self._own_ports = own_ports
        self._own_addresses = _own_addresses()

    def check_address(self, address: Address, port: int) -> None:
        """TargetRefused if the server may not connect to `address`:`port`."""
        address = _plain(address)
        if address in METADATA:
            raise TargetRefused(f"{address} is a cloud metadata address")
        if address.is_link_local:
            raise TargetRefused(f"{address} is a link-local address")
        own = address.is_loopback or address in self._own_addresses
        if own and port in set(self._own_ports()):
            raise TargetRefused(f"{address}:{port} is this server's own listener")
        if address.is_loopback:
            if not self._allow_loopback:
                raise TargetRefused(f"{address} is this machine (loopback)")
        elif address.is_unspecified or address.is_multicast or address.is_reserved:
            raise TargetRefused(f"{address} is not an address to send to")
        if self._allowed and not any(address in net for net in self._allowed):
            raise TargetRefused(f"{address} is outside the networks webhooks may reach")

    def check(self, url: str) -> None:
        """Check a URL before sending; an address in it is checked here, a name when it is
        resolved for the connection (see `GuardedResolver`)."""
        host, port = check_url(url)
        try:
            address = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            if host.lower() == "localhost" or host.lower().endswith(".localhost"):
                self.check_address(ipaddress.ip_address("127.0.0.1"), port)
            return
        self.check_address(address, port)


class GuardedResolver(AbstractResolver):
    """Resolves names for the webhook client and refuses any that leads somewhere refused."""

    def __init__(self, guard: TargetGuard) -> None:
        self._guard = guard
        self._resolver = DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._resolver.resolve(host, port, family)
        for result in results:
            try:
                self._guard.check_address(ipaddress.ip_address(result["host"]), port)
            except TargetRefused as exc:
                raise ResolvedToRefused(f"{host} resolves to a refused address: {exc}") from None
        return results

    async def close(self) -> None:
        await self._resolver.close()
