"""Webhooks must not let an admin-typed URL reach what only the server can reach: link-local and
metadata addresses, this machine, the server's own listeners; no redirect is followed."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from contextlib import AsyncExitStack
from pathlib import Path

import pytest
from aiohttp import web

from conftest import free_port, make_config, start_server
from onlinesupport.core.conversations import InvalidCommand
from onlinesupport.integrations.guard import GuardedResolver, TargetGuard, TargetRefused
from onlinesupport.integrations.webhooks import EndpointFields
from webhook_receiver import Receiver

REFUSED = [
    "http://169.254.169.254/latest/meta-data/",
    "http://[fe80::1]/hook",
    "http://[fd00:ec2::254]/",
    "http://100.100.100.200/",
    "http://127.0.0.1:9000/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://localhost/",
    "http://app.localhost/",
    "http://0.0.0.0/",
    "http://224.0.0.1/",
    "ftp://example.com/",
    "http://user:pw@example.com/",
    "http:///nohost",
    "http://exa mple.com/",
    "http://example.com:99999/",
]


@pytest.mark.parametrize("url", REFUSED)
def test_the_guard_refuses_by_default(url: str) -> None:
    with pytest.raises(TargetRefused):
        TargetGuard().check(url)


def test_the_lan_is_allowed_unless_networks_are_listed() -> None:
    TargetGuard().check("http://192.168.1.20/hooks")
    TargetGuard().check("https://10.0.0.5:8443/hooks")
    listed = TargetGuard(allowed_networks=["203.0.113.0/24"])
    listed.check("https://203.0.113.9/hook")
    with pytest.raises(TargetRefused, match="outside the networks"):
        listed.check("http://192.168.1.20/hooks")


def test_loopback_when_allowed_still_refuses_the_servers_own_listeners() -> None:
    guard = TargetGuard(allow_loopback=True, own_ports=lambda: {8080, 8081})
    guard.check("http://127.0.0.1:9000/hook")
    for url in ("http://127.0.0.1:8081/api/v1/me", "http://localhost:8080/", "http://[::1]:8081/"):
        with pytest.raises(TargetRefused, match="own listener"):
            guard.check(url)


async def test_a_name_is_checked_where_it_is_resolved_for_the_connection() -> None:
    """A name (not an address) is refused when it resolves to a refused address."""
    resolver = GuardedResolver(TargetGuard())
    try:
        with pytest.raises(OSError, match="refused address"):
            await resolver.resolve("localhost", 80)
        own = socket.gethostname()
        addresses = {
            ipaddress.ip_address(r["host"])
            for r in await GuardedResolver(TargetGuard(allow_loopback=True)).resolve(own, 1)
        }
        assert addresses
    finally:
        await resolver.close()


async def test_endpoints_at_refused_addresses_cannot_be_added(tmp_path: Path) -> None:
    async with AsyncExitStack() as stack:
        server = await start_server(
            stack, make_config(tmp_path / "data", webhooks_allow_loopback=True)
        )
        desk_port = int(server.desk_url.rsplit(":", 1)[1])
        for url in ("http://169.254.169.254/", f"http://127.0.0.1:{desk_port}/api/v1/me"):
            with pytest.raises(InvalidCommand):
                await server.services.webhooks.add(EndpointFields(url=url))


async def test_the_servers_own_listener_is_refused_by_name_at_send_time(tmp_path: Path) -> None:
    """The machine's own name and the desk's port: accepted as a URL (a name), refused when
    the connection is made, and nothing reaches the desk."""
    async with AsyncExitStack() as stack:
        server = await start_server(
            stack, make_config(tmp_path / "data", webhooks_allow_loopback=True, desk_host="0.0.0.0")
        )
        desk_port = int(server.desk_url.rsplit(":", 1)[1])
        webhooks = server.services.webhooks
        endpoint_id = await webhooks.add(
            EndpointFields(url=f"http://{socket.gethostname()}:{desk_port}/api/v1/conversations")
        )
        delivery_id = await webhooks.send_test(endpoint_id)
        for _ in range(100):
            delivery, attempts = await webhooks.delivery(endpoint_id, delivery_id)
            if attempts:
                break
            await asyncio.sleep(0.05)
        assert attempts[0].status_code is None
        assert "refused address" in attempts[0].error or "own listener" in attempts[0].error


async def test_redirects_are_not_followed(tmp_path: Path) -> None:
    target = Receiver(free_port())
    await target.up()
    hits: list[str] = []

    async def redirect(request: web.Request) -> web.Response:
        hits.append(request.path)
        raise web.HTTPFound(target.url)

    app = web.Application()
    app.router.add_post("/hook", redirect)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        async with AsyncExitStack() as stack:
            server = await start_server(
                stack, make_config(tmp_path / "data", webhooks_allow_loopback=True)
            )
            webhooks = server.services.webhooks
            endpoint_id = await webhooks.add(EndpointFields(url=f"http://127.0.0.1:{port}/hook"))
            delivery_id = await webhooks.send_test(endpoint_id)
            for _ in range(100):
                delivery, attempts = await webhooks.delivery(endpoint_id, delivery_id)
                if attempts:
                    break
                await asyncio.sleep(0.05)
            assert attempts[0].status_code == 302 and delivery.status != "sent"
            assert hits == ["/hook"] and target.attempts == 0
    finally:
        await runner.cleanup()
        await target.down()
