"""Chat under load: visitor websockets and agent websockets against a real server process.

The server runs as its own process (so it gets a core to itself and its memory can be read);
this process is the load: N visitor sockets that each start a chat, 50 agent desk sockets that
receive every event. Two phases:

  steady      a fixed message rate (default 200/s) from random visitors; latency is measured
              from the visitor's send to each agent socket receiving the message's event
  saturation  as many messages as a window of unacknowledged sends allows; messages/s counts
              acknowledgements (an ack means committed)

The same load then runs against a bare aiohttp websocket relay that stores nothing (the limit).

    python bench/chat_load.py [--visitors 2000] [--agents 50] [--rate 200] [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from aiohttp import web

ORIGIN = "http://shop.example.com"
PASSWORD = "benchmark password"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """CPU time the process has used (user + system): unlike latency, hardly moved by other
    programs sharing the machine."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


async def prepare_instance(data_dir: Path, agents: int, rules: int = 0) -> list[str]:
    """Allow the benchmark origin, create the agents and sign each in, and load `rules` routing
    rules (those of bench/routing.py); returns session tokens."""
    from onlinesupport.channels.chat import widget_settings
    from onlinesupport.config import Config
    from onlinesupport.lib.clock import to_db
    from onlinesupport.services import open_services
    from onlinesupport.store import queues as queues_repo

    async with open_services(Config(storage_data_dir=str(data_dir))) as services:
        await widget_settings.save(
            services.db, services.clock, widget_settings.WidgetSettings(allowed_origins=(ORIGIN,))
        )
        tokens = []
        for n in range(agents):
            agent_id = await services.accounts.create_agent(
                f"agent{n}@example.com", f"Agent {n}", "agent", PASSWORD
            )
            tokens.append((await services.accounts.start_session(agent_id, "127.0.0.1")).token)
        if rules:
            import routing  # bench/routing.py, beside this script

            now = to_db(services.clock.now())
            await services.db.write(
                lambda conn: [
                    queues_repo.insert(conn, f"Queue {n}", now) for n in range(routing.QUEUES)
                ]
            )
            for n in range(rules):
                await services.rules.save(None, routing.rule_form(n, "agent{n}@example.com"))
        return tokens


# ---- the bare relay (the limit) ---------------------------------------------------------


def run_relay(port: int) -> None:
    """A websocket relay with the same frames as the product and nothing stored."""
    agents: set[web.WebSocketResponse] = set()
    counter = {"conversation": 0}

    async def visitor(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(compress=False)
        await ws.prepare(request)
        conversation, seq = 0, 0
        async for message in ws:
            frame = json.loads(message.data)
            if frame["type"] == "hello":
                await ws.send_json({"type": "welcome", "token": "t", "conversation_id": None})
                continue
            if frame["type"] == "start":
                counter["conversation"] += 1
                conversation = counter["conversation"]
            seq += 1
            event = {
                "type": "event",
                "event": {
                    "conversation_id": conversation,
                    "type": "message.posted",
                    "data": {"seq": seq},
                },
            }
            for agent in list(agents):
                await agent.send_json(event)
            await ws.send_json(
                {
                    "type": "ack",
                    "client_id": frame["client_id"],
                    "conversation_id": conversation,
                    "seq": seq,
                }
            )
        return ws

    async def agent(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(compress=False)
        await ws.prepare(request)
        agents.add(ws)
        await ws.send_json({"type": "hello"})
        async for _ in ws:
            pass
        agents.discard(ws)
        return ws

    app = web.Application()
    app.router.add_get("/widget/ws", visitor)
    app.router.add_get("/api/ws", agent)
    app.router.add_get("/healthz", lambda r: web.json_response({"status": "ok"}))
    web.run_app(app, host="127.0.0.1", port=port, print=None)


# ---- the load ---------------------------------------------------------------------------


@dataclass
class Results:
    sent_at: dict[str, float] = field(default_factory=dict)
    acked: dict[str, tuple[int, int]] = field(default_factory=dict)
    delivered: list[tuple[tuple[int, int], float]] = field(default_factory=list)
    refused: int = 0
    ack_event: asyncio.Event = field(default_factory=asyncio.Event)


class Load:
    def __init__(self, public: str, desk: str, tokens: list[str]) -> None:
        self.public, self.desk, self.tokens = public, desk, tokens
        self.results = Results()
        self.visitors: list[aiohttp.ClientWebSocketResponse] = []
        self.tasks: list[asyncio.Task] = []
        self.http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        self.in_flight = 0
        self.next_visitor = 0
        self.agents_ready = asyncio.Semaphore(0)
        self.agent_closes: list[int | None] = []

    async def _visitor_reader(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for message in ws:
            frame = json.loads(message.data)
            if frame["type"] == "ack":
                if frame["client_id"] not in self.results.acked:
                    self.results.acked[frame["client_id"]] = (
                        frame["conversation_id"],
                        frame["seq"],
                    )
                    self.in_flight -= 1
                    self.results.ack_event.set()
            elif frame["type"] == "error":
                # The per-visitor rate limit (or another refusal): count it, do not wait for it.
                self.results.refused += 1
                self.in_flight -= 1
                self.results.ack_event.set()

    async def _agent(self, token: str) -> None:
        """One agent's desk socket, connected again whenever the server closes it, as the desk
        does: a load process starved during the 2,000 connects reads too slowly, and the
        server's unread-send guard closes its sockets. Each close is counted and printed, so a
        run cannot silently measure no deliveries at all."""
        while True:
            ws = await self.http.ws_connect(
                self.desk + "/api/ws", headers={"Cookie": f"os_session={token}"}
            )
            await ws.receive_json()
            self.agents_ready.release()
            async for message in ws:
                frame = json.loads(message.data)
                if frame["type"] == "event" and frame["event"]["type"] == "message.posted":
                    key = (frame["event"]["conversation_id"], frame["event"]["data"]["seq"])
                    self.results.delivered.append((key, time.perf_counter()))
            self.agent_closes.append(ws.close_code)

    async def connect(self, visitors: int) -> float:
        started = time.perf_counter()
        gate = asyncio.Semaphore(200)

        async def one(n: int) -> None:
            async with gate:
                ws = await self.http.ws_connect(self.public + "/widget/ws", origin=ORIGIN)
                await ws.send_json({"type": "hello"})
                await ws.receive_json()
                self.visitors.append(ws)
                self.tasks.append(asyncio.create_task(self._visitor_reader(ws)))
                await self.send(ws, "start", f"start-{n}")

        for token in self.tokens:
            self.tasks.append(asyncio.create_task(self._agent(token)))
            await self.agents_ready.acquire()
        await asyncio.gather(*[one(n) for n in range(visitors)])
        while len(self.results.acked) < visitors:
            await asyncio.wait_for(self.results.ack_event.wait(), 30)
            self.results.ack_event.clear()
        return time.perf_counter() - started

    def visitor(self) -> aiohttp.ClientWebSocketResponse:
        """Visitors in turn, so no one visitor runs into the per-visitor rate limit."""
        self.next_visitor = (self.next_visitor + 1) % len(self.visitors)
        return self.visitors[self.next_visitor]

    async def send(self, ws: aiohttp.ClientWebSocketResponse, kind: str, client_id: str) -> None:
        self.results.sent_at[client_id] = time.perf_counter()
        self.in_flight += 1
        await ws.send_json(
            {
                "type": kind,
                "client_id": client_id,
                "name": "Visitor",
                "body": "Hello, is this available in blue? " + client_id,
            }
        )

    async def steady(self, rate: int, seconds: float) -> list[str]:
        ids = []
        started = time.perf_counter()
        n = 0
        while (elapsed := time.perf_counter() - started) < seconds:
            due = int(elapsed * rate)
            while n < due:
                client_id = f"steady-{n}"
                ids.append(client_id)
                await self.send(self.visitor(), "send", client_id)
                n += 1
            await asyncio.sleep(0.002)
        await asyncio.sleep(1.0)
        return ids

    async def saturate(self, seconds: float, window: int) -> float:
        acked_before = len(self.results.acked)
        started = time.perf_counter()
        n = 0
        while time.perf_counter() - started < seconds:
            while self.in_flight < window:
                await self.send(self.visitor(), "send", f"sat-{n}")
                n += 1
            await self.results.ack_event.wait()
            self.results.ack_event.clear()
        return (len(self.results.acked) - acked_before) / (time.perf_counter() - started)

    def latencies(self, ids: list[str]) -> list[float]:
        wanted = {
            self.results.acked[i]: self.results.sent_at[i] for i in ids if i in self.results.acked
        }
        return [(at - wanted[key]) * 1000 for key, at in self.results.delivered if key in wanted]

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        for ws in self.visitors:
            await ws.close()
        await self.http.close()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] if ordered else float("nan")


async def wait_until_up(url: str) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(300):
            try:
                async with http.get(url + "/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


async def print_widget_size(public: str) -> None:
    """What a website's visitor downloads before opening the chat: the whole widget, gzipped."""
    async with aiohttp.ClientSession(auto_decompress=False) as http:
        async with http.get(public + "/widget.js", headers={"Accept-Encoding": "gzip"}) as response:
            wire = len(await response.read())
            encoding = response.headers.get("Content-Encoding", "identity")
    print(f"widget.js on the wire: {wire / 1024:.1f} KB ({encoding}); budget 10 KB gzipped")


async def run_load(
    name: str, pid: int, public: str, desk: str, tokens: list[str], args: argparse.Namespace
) -> float:
    load = Load(public, desk, tokens)
    try:
        connect_time = await load.connect(args.visitors)
        # This process is the stopwatch: its own full garbage collections (measured at up to
        # 214 ms with 2,050 sockets) would be counted as delivery latency. Hold them off while
        # timing; the server keeps its normal settings.
        gc.freeze()
        gc.disable()
        try:
            cpu = cpu_seconds(pid)
            ids = await load.steady(args.rate, args.seconds)
            cpu = cpu_seconds(pid) - cpu
            lat = load.latencies(ids)
            expected = len(ids) * len(tokens)
            rss = rss_mb(pid)
            throughput = await load.saturate(args.saturate_seconds, args.window)
        finally:
            gc.enable()
            gc.unfreeze()
        print(
            f"{name:8s} {args.visitors} visitors + {len(tokens)} agents connected and chatting "
            f"in {connect_time:.1f}s; steady {args.rate}/s for {args.seconds:.0f}s: "
            f"{len(lat)}/{expected} agent deliveries, p50 {percentile(lat, 0.5):.1f} ms, "
            f"p99 {percentile(lat, 0.99):.1f} ms; server CPU {cpu:.1f} s "
            f"({cpu / max(1, len(ids)) * 1000:.2f} ms a message); server RSS {rss:.0f} MB; "
            f"saturation {throughput:,.0f} messages/s acknowledged"
            f"{f' ({load.results.refused} sends refused)' if load.results.refused else ''}"
        )
        if load.agent_closes:
            print(
                f"{name:8s} the server closed agent sockets {len(load.agent_closes)} times "
                f"(close codes {sorted(set(load.agent_closes), key=str)}); each was reconnected"
            )
        return throughput
    finally:
        await load.close()


def stop_under_load(server: subprocess.Popen[bytes]) -> None:
    """SIGTERM right after the load, and how long the server takes to stop (it once ignored
    SIGTERM under this load: see lib/stop_signals.py)."""
    started = time.perf_counter()
    server.terminate()
    try:
        server.wait(60)
        print(f"server stopped {time.perf_counter() - started:.1f} s after SIGTERM; limit 30 s")
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
        print("server did NOT stop within 60 s of SIGTERM (killed); limit 30 s")


async def main(args: argparse.Namespace) -> None:
    print(f"machine: {os.cpu_count()} cores; server in its own process, load in this one")
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        tokens = await prepare_instance(data, args.agents, args.rules)
        public, desk = free_port(), free_port()
        # All visitors come from 127.0.0.1 here: lift the per-address limits meant for the
        # internet (messages a minute, connections and chat websockets at once).
        env = {
            **os.environ,
            "ONLINESUPPORT_STORAGE_DATA_DIR": str(data),
            "ONLINESUPPORT_PUBLIC_VISITOR_MESSAGES_PER_ADDRESS": "0",
            "ONLINESUPPORT_LIMITS_PUBLIC_CONNECTIONS_PER_ADDRESS": "0",
            "ONLINESUPPORT_LIMITS_PUBLIC_WEBSOCKETS_PER_ADDRESS": "0",
            "ONLINESUPPORT_CONFIG": str(Path(tmp) / "none.toml"),
        }
        (Path(tmp) / "none.toml").touch()
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "onlinesupport",
                "serve",
                "--public-host",
                "127.0.0.1",
                "--public-port",
                str(public),
                "--desk-host",
                "127.0.0.1",
                "--desk-port",
                str(desk),
                "--log-level",
                "warning",
            ],
            env=env,
        )
        try:
            await wait_until_up(f"http://127.0.0.1:{public}")
            await print_widget_size(f"http://127.0.0.1:{public}")
            product = await run_load(
                "product",
                server.pid,
                f"http://127.0.0.1:{public}",
                f"http://127.0.0.1:{desk}",
                tokens,
                args,
            )
        finally:
            stop_under_load(server)
        if args.no_relay:
            return
        relay_port = free_port()
        relay = subprocess.Popen([sys.executable, __file__, "--relay", str(relay_port)])
        try:
            await wait_until_up(f"http://127.0.0.1:{relay_port}")
            limit = await run_load(
                "relay",
                relay.pid,
                f"http://127.0.0.1:{relay_port}",
                f"http://127.0.0.1:{relay_port}",
                ["x"] * len(tokens),
                args,
            )
        finally:
            relay.terminate()
            relay.wait(30)
    print(f"throughput ratio product/relay at saturation: {product / limit:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, default=2000)
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--rate", type=int, default=200, help="messages/s in the steady phase")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the steady phase")
    parser.add_argument("--saturate-seconds", type=float, default=10.0)
    parser.add_argument("--window", type=int, default=200, help="unacknowledged sends at once")
    parser.add_argument("--no-relay", action="store_true", help="skip the relay run (the limit)")
    parser.add_argument(
        "--rules",
        type=int,
        default=0,
        help="routing rules in the instance (those of bench/routing.py)",
    )
    parser.add_argument("--relay", type=int, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.relay:
        run_relay(arguments.relay)
    else:
        asyncio.run(main(arguments))
