"""Connection floods cannot take the listeners down (issue 13, finding 1).

About 1,000 idle connections from one address took both listeners down: no cap per address,
no timeout for headers that never finish, and a service with 1,024 open files; the accept
loop then logged hundreds of thousands of "Too many open files" tracebacks.

These run a real server under a hard limit of 1,024 open files (it cannot raise it) and flood
it from 127.0.0.1 while 127.0.0.2 (Linux routes all of 127/8 on lo) uses it as usual.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import resource
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AsyncExitStack, suppress
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from conftest import PASSWORD, Desk, Personas, Server, make_config, start_server
from onlinesupport.ops import health, platform_support
from onlinesupport.web import connections
from running_server import ADMIN, start

LOG_BUDGET = 100_000


async def _hold(port: int, slow: bool, stop: asyncio.Event, seen: Counter) -> None:
    """One attacker's connection, reopened whenever the server closes it: idle, or sending
    its request headers a line a second and never the end of them."""
    while not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection(
                "127.0.0.1", port, local_addr=("127.0.0.1", 0)
            )
        except OSError:
            await asyncio.sleep(0.5)
            continue
        seen["opened"] += 1
        try:
            if slow:
                writer.write(b"GET /healthz HTTP/1.1\r\nHost: shop.example.com\r\n")
            while not stop.is_set():
                if slow:
                    writer.write(b"X-Slow: yes\r\n")
                    await writer.drain()
                with suppress(asyncio.TimeoutError):
                    if not await asyncio.wait_for(reader.read(1024), 1.0):
                        break  # closed by the server
        except OSError:
            pass
        finally:
            writer.close()
        seen["closed"] += 1
        await asyncio.sleep(0.5)


def _flood(ports: dict[int, int], seconds: float, counts: Any) -> None:
    """The attacker, in a process of its own (so the victim's measured latency is not this
    process's): `ports[port]` connections to each port for `seconds`."""

    async def main() -> None:
        stop, seen = asyncio.Event(), Counter()
        tasks = [
            asyncio.create_task(_hold(port, n % 2 == 1, stop, seen))
            for port, count in ports.items()
            for n in range(count)
        ]
        await asyncio.sleep(seconds)
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        counts.update(seen)

    resource.setrlimit(
        resource.RLIMIT_NOFILE, (10_000, resource.getrlimit(resource.RLIMIT_NOFILE)[1])
    )
    asyncio.run(main())


@pytest.fixture
def flood() -> Iterator[Callable[[dict[int, int], float], Callable[[], dict[str, int]]]]:
    """Start a flood in another process; what it returns gives its counts once it ended."""
    context = multiprocessing.get_context("spawn")
    manager = context.Manager()
    processes = []

    def start_flood(ports: dict[int, int], seconds: float) -> Callable[[], dict[str, int]]:
        counts = manager.dict()
        process = context.Process(target=_flood, args=(ports, seconds, counts))
        process.start()
        processes.append(process)

        def ended() -> dict[str, int]:
            process.join(seconds + 60)
            return dict(counts)

        return ended

    yield start_flood
    for process in processes:
        if process.is_alive():
            process.kill()
    manager.shutdown()


async def _timed_get(http: aiohttp.ClientSession, url: str) -> float:
    started = time.monotonic()
    async with http.get(url, timeout=aiohttp.ClientTimeout(total=1.0)) as response:
        assert response.status == 200, url
        await response.read()
    return time.monotonic() - started


def _other_address() -> aiohttp.ClientSession:
    """Another visitor's browser: 127.0.0.2, a new connection each time."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(local_addr=("127.0.0.2", 0), force_close=True)
    )


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


@pytest.mark.slow
async def test_a_flood_from_one_address_leaves_both_listeners_to_everyone_else(
    tmp_path: Path, flood
) -> None:
    server = start(tmp_path, open_files=1024, settings={"LIMITS_HEADER_TIMEOUT": "3"})
    try:
        ended = flood({_port(server.public_url): 1_000, _port(server.desk_url): 500}, 22)
        await asyncio.sleep(4)
        slowest = 0.0
        async with _other_address() as http:
            deadline = time.monotonic() + 15  # past the header timeout, more than once
            while time.monotonic() < deadline:
                slowest = max(
                    slowest,
                    await _timed_get(http, server.public_url + "/healthz"),
                    await _timed_get(http, server.desk_url + "/signin"),
                )
                await asyncio.sleep(0.5)
        assert slowest < 1.0
        seen = await asyncio.to_thread(ended)
        assert seen.get("closed", 0) > 1_500, "slow and refused connections were closed"
        log = server.log_file.read_text()
        assert "Traceback" not in log + server.stderr.read_text(), log[-3000:]
        assert server.log_bytes() < LOG_BUDGET, log[-3000:]
        # Each cause once (then counted), not a line for each of thousands of connections.
        assert log.count("more than 256 at once from one address") == 1
        assert log.count("public listener that sent no request within 3 s") == 1
    finally:
        server.stop()


@pytest.mark.slow
async def test_the_public_side_full_leaves_the_desk_its_own_connections(
    tmp_path: Path, flood
) -> None:
    # No cap per address: one address can fill the whole public listener.
    server = start(
        tmp_path,
        open_files=1024,
        settings={"LIMITS_PUBLIC_CONNECTIONS_PER_ADDRESS": "0", "LIMITS_HEADER_TIMEOUT": "60"},
    )
    try:
        ended = flood({_port(server.public_url): 1_200}, 14)
        await asyncio.sleep(4)
        async with _other_address() as http:
            for _ in range(10):
                assert await _timed_get(http, server.desk_url + "/signin") < 1.0
                await asyncio.sleep(0.3)
        async with aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(local_addr=("127.0.0.2", 0)),
            cookie_jar=aiohttp.CookieJar(unsafe=True),
        ) as http:
            desk = Desk(http, server.desk_url)
            assert (await desk.signin(ADMIN, PASSWORD)).status == 303
            page = await (await desk.get("/admin/health")).text()
        assert "the public listener holds its most connections" in page
        assert "open files" in page, "the low open-file limit is a warning"
        seen = await asyncio.to_thread(ended)
        assert seen.get("opened", 0) > 1_200
        assert server.log_bytes() < LOG_BUDGET
    finally:
        server.stop()


async def test_websockets_are_capped_per_address(tmp_path: Path) -> None:
    from test_chat_protocol import SITE, allow  # noqa: PLC0415

    config = make_config(tmp_path / "data", limits_public_websockets_per_address=5)
    async with AsyncExitStack() as stack:
        server = await start_server(stack, config)
        await allow(server, SITE)
        async with aiohttp.ClientSession() as http:
            mine = [
                await http.ws_connect(server.public_url + "/widget/ws", origin=SITE)
                for _ in range(5)
            ]
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await http.ws_connect(server.public_url + "/widget/ws", origin=SITE)
            assert refused.value.status == 429
            async with _other_address() as other:
                await (
                    await other.ws_connect(server.public_url + "/widget/ws", origin=SITE)
                ).close()
            await mine[0].close()
            await asyncio.sleep(0.2)
            again = await http.ws_connect(server.public_url + "/widget/ws", origin=SITE)
            for ws in [*mine, again]:
                await ws.close()


async def test_the_health_page_warns_when_open_files_near_the_limit(
    server: Server, personas: Personas, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(platform_support, "open_files", lambda: 900)
    monkeypatch.setattr(platform_support, "open_file_limit", lambda: 1024)
    report = await health.report(server.services)
    assert any("900 of 1,024 open files" in w for w in report["warnings"]), report["warnings"]
    monkeypatch.setattr(platform_support, "open_files", lambda: 100)
    monkeypatch.setattr(platform_support, "open_file_limit", lambda: 65536)
    report = await health.report(server.services)
    assert not any("open files" in w for w in report["warnings"])


def test_the_open_file_limit_is_raised_toward_the_hard_limit() -> None:
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415

    code = (
        "import resource; from onlinesupport.ops import platform_support as p; "
        "resource.setrlimit(resource.RLIMIT_NOFILE, (256, 4096)); "
        "print(p.raise_open_file_limit(), p.open_file_limit())"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["(256,", "4096)", "4096"]


def test_the_desk_keeps_its_budget_whatever_the_limit() -> None:
    assert connections.budgets(1024, 1000) == (528, 176)
    assert connections.budgets(65536, 1000) == (64216, 1000)
    assert connections.budgets(None, 1000) == connections.budgets(65536, 1000)
    assert connections.per_address(256, 528) == 256
    assert connections.per_address(256, 176) == 88, "one address never fills a listener"
    assert connections.per_address(0, 528) is None


async def test_addresses_outside_the_desks_networks_share_a_few_connections(tmp_path: Path) -> None:
    config = make_config(tmp_path / "data", desk_allowed_networks=("10.0.0.0/8",))
    async with AsyncExitStack() as stack:
        server = await start_server(stack, config)
        held = [
            await asyncio.open_connection("127.0.0.1", _port(server.desk_url))
            for _ in range(connections.OUTSIDE_CONNECTIONS + 10)
        ]
        await asyncio.sleep(0.3)
        refused = 0
        for reader, writer in held:
            with suppress(asyncio.TimeoutError):
                if await asyncio.wait_for(reader.read(1), 0.05) == b"":
                    refused += 1
            writer.close()
        assert refused == 10
        await asyncio.sleep(0.3)
        async with aiohttp.ClientSession() as http:
            async with http.get(server.desk_url + "/signin") as response:
                assert response.status == 403, "told why, once there is room again"
