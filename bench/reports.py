"""Reports on a busy small business's three years: how long each report page and export takes.

Generates, with bulk SQL straight into a fresh database (the conversation core would take
hours): 30 agents, 8 queues with business hours, a few rules, 300,000 conversations with
3,000,000 messages and their events (creation, answer targets, assignments, first responses,
resolutions, some reopened, rated, abandoned) spread over three years, and 2,000,000 page views.
Then it builds the report rollup from the events (timed), starts the server, signs in as an
admin and times every report page, the JSON and both CSV exports over the last 30 days and over
all three years, with the server's memory during the 300,000-row CSV.

    python bench/reports.py [--conversations 300000] [--runs 20] [--keep DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

from onlinesupport import app
from onlinesupport.config import Config
from onlinesupport.lib.clock import to_db
from onlinesupport.services import open_services
from onlinesupport.store import agents as agents_repo

AGENTS, QUEUES, MESSAGES_PER, PAGE_VIEWS = 30, 8, 10, 2_000_000
PAGES = [
    f"https://shop.example/{p}"
    for p in (
        "pricing",
        "delivery",
        "returns",
        "account",
        "checkout",
        "cart",
        "contact",
        "faq",
        *[f"products/{n}" for n in range(60)],
    )
]
HOURS = "mon-fri 08:00-18:00"


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def generate(path: Path, conversations: int, now: datetime, seed: int = 7) -> None:
    """Bulk-insert the history (the schema was made by the server's migrations)."""
    rnd = random.Random(seed)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = OFF")
    # The transcript search index is not what this measures: its triggers are dropped for the
    # load (the benchmark database has no search index; see docs/performance.md).
    for trigger in ("messages_fts_insert", "messages_fts_delete", "messages_fts_update"):
        conn.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    stamp = to_db(now)
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO agents (id, email, name, role, password_hash, created_at)"
        " VALUES (?, ?, ?, 'agent', 'x', ?)",
        [(100 + a, f"agent{a}@example.com", f"Agent {a}", stamp) for a in range(AGENTS)],
    )
    for q in range(2, QUEUES + 1):
        conn.execute(
            "INSERT INTO queues (id, name, created_at) VALUES (?, ?, ?)", (q, f"Queue {q}", stamp)
        )
    conn.execute(
        "UPDATE queues SET timezone = 'Europe/Berlin', hours = ?, holidays ="
        " '2024-12-25 2025-12-25 2026-12-25'",
        (HOURS,),
    )
    conn.executemany(
        "INSERT INTO queue_members (queue_id, agent_id) VALUES (?, ?)",
        [(1 + a % QUEUES, 100 + a) for a in range(AGENTS)],
    )
    conn.executemany(
        "INSERT INTO routing_rules (position, name, active, trigger, conditions,"
        " actions, created_at, updated_at) VALUES (?, ?, 1, 'new', ?, ?, ?, ?)",
        [
            (
                10 + i,
                f"Rule {i}",
                f"subject contains topic{i}",
                f"queue Queue {2 + i}",
                stamp,
                stamp,
            )
            for i in range(4)
        ],
    )
    conn.execute("COMMIT")
    start = now - timedelta(days=3 * 365)
    span = (now - start).total_seconds()
    customers, convs, messages, events = [], [], [], []
    message_id = event_id = 0

    def flush() -> None:
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO customers (id, name, created_at) VALUES (?, ?, ?)", customers)
        conn.executemany(
            "INSERT INTO conversations (id, customer_id, channel, subject, status, queue_id,"
            " assignee_id, last_seq, page_url, first_response_at, created_at, updated_at,"
            " last_message_at, tags) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            convs,
        )
        conn.executemany(
            "INSERT INTO messages (id, conversation_id, seq, author_type, author_id,"
            " kind, body, created_at) VALUES (?, ?, ?, ?, ?, 'message', ?, ?)",
            messages,
        )
        conn.executemany(
            "INSERT INTO events (id, conversation_id, type, actor_type, actor_id,"
            " data, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            events,
        )
        conn.execute("COMMIT")
        for rows in (customers, convs, messages, events):
            rows.clear()

    moments = []
    for _ in range(conversations):
        # More in working hours and on weekdays, like a real shop.
        moment = start + timedelta(seconds=rnd.random() * span)
        if (
            moment.weekday() >= 5
            and rnd.random() < 0.6
            or not 7 <= moment.hour < 19
            and rnd.random() < 0.7
        ):
            moment = moment.replace(hour=rnd.randint(8, 17))
        moments.append(moment)
    moments.sort()  # ids follow time, as they do in a real database
    for cid, moment in enumerate(moments, start=1):
        channel = rnd.choices(("chat", "email", "form", "phone"), (5, 3, 1, 1))[0]
        queue = rnd.randint(1, QUEUES)
        agent = 100 + rnd.randrange(AGENTS)
        t = moment
        customers.append((cid, f"Customer {cid}", to_db(t)))

        def event(
            type_: str, actor: str, actor_id: int | None, data: dict, at: datetime, cid: int = cid
        ) -> None:
            nonlocal event_id
            event_id += 1
            events.append(
                (
                    event_id,
                    cid,
                    type_,
                    actor,
                    actor_id,
                    json.dumps(data, separators=(",", ":")),
                    to_db(at),
                )
            )

        event("conversation.created", "customer", cid, {"channel": channel}, t)
        event(
            "sla.target",
            "system",
            None,
            {"target": "first_response", "due_at": to_db(t + timedelta(hours=1))},
            t,
        )
        count = max(2, int(rnd.gauss(MESSAGES_PER, 3)))
        first_response = None
        assigned = False
        for seq in range(1, count + 1):
            customer = seq % 2 == 1
            t += timedelta(seconds=rnd.expovariate(1 / (240 if customer else 600)))
            if not customer and not assigned and rnd.random() < 0.7:
                event("conversation.assigned", "system", None, {"agent_id": agent}, t)
                assigned = True
                t += timedelta(seconds=rnd.expovariate(1 / 120))
            message_id += 1
            messages.append(
                (
                    message_id,
                    cid,
                    seq,
                    "customer" if customer else "agent",
                    None if customer else agent,
                    "Hello, about my order" if customer else "Thanks, we are on it",
                    to_db(t),
                )
            )
            event(
                "message.posted",
                "customer" if customer else "agent",
                cid if customer else agent,
                {"seq": seq, "kind": "message"},
                t,
            )
            if not customer and first_response is None:
                first_response = t
                event("conversation.first_response", "agent", agent, {}, t)
            elif customer and first_response is not None and seq == 3:
                event(
                    "sla.target",
                    "system",
                    None,
                    {"target": "next_response", "due_at": to_db(t + timedelta(hours=4))},
                    t,
                )
        if channel == "chat" and rnd.random() < 0.03:
            event("chat.left", "customer", cid, {}, moment + timedelta(seconds=30))
        t += timedelta(seconds=rnd.expovariate(1 / 3600))
        status = "resolved" if t < now - timedelta(days=2) or rnd.random() < 0.5 else "open"
        if status == "resolved":
            event("conversation.resolved", "agent", agent, {"from": "open"}, t)
            if channel == "chat" and rnd.random() < 0.3:
                event(
                    "conversation.rated",
                    "customer",
                    cid,
                    {"score": rnd.choices((1, 2, 3, 4, 5), (1, 1, 2, 4, 6))[0], "comment": ""},
                    t + timedelta(seconds=20),
                )
        convs.append(
            (
                cid,
                cid,
                channel,
                f"Question {cid}",
                status,
                queue,
                agent if assigned else None,
                count,
                rnd.choice(PAGES) if channel in ("chat", "form") else "",
                to_db(first_response) if first_response else None,
                to_db(moment),
                to_db(t),
                to_db(t),
                json.dumps(["vip"] if rnd.random() < 0.05 else []),
            )
        )
        if len(messages) >= 50_000:
            flush()
    flush()
    # Page views: counters per day and page, adding up to 2,000,000.
    counts: dict[tuple[str, str], int] = {}
    days = (now.date() - start.date()).days
    for _ in range(PAGE_VIEWS // 50):
        key = ((start.date() + timedelta(days=rnd.randrange(days))).isoformat(), rnd.choice(PAGES))
        counts[key] = counts.get(key, 0) + 50
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO site_counts (day, kind, key, count) VALUES (?, 'page_view', ?, ?)",
        [(d, p, n) for (d, p), n in counts.items()],
    )
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()


async def timed(http: aiohttp.ClientSession, url: str, runs: int) -> list[float]:
    found = []
    for _ in range(runs):
        started = time.perf_counter()
        async with http.get(url) as response:
            await response.read()
            assert response.status == 200, (url, response.status)
        found.append((time.perf_counter() - started) * 1000)
    return found


async def measure(config: Config, runs: int) -> None:
    async with AsyncExitStack() as stack:
        services, listening = await app.start(stack, config)
        if await agents_repo.credentials(services.db, "ada@example.com") is None:
            await services.accounts.create_agent(
                "ada@example.com", "Ada", "admin", "correct horse battery"
            )
        desk = listening.desk_url.replace("localhost", "127.0.0.1")
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(
            cookie_jar=jar, timeout=aiohttp.ClientTimeout(total=600)
        ) as http:
            async with http.get(desk + "/signin") as page:
                token = (await page.text()).split('name="csrf_token" value="')[1].split('"')[0]
            async with http.post(
                desk + "/signin",
                data={
                    "csrf_token": token,
                    "email": "ada@example.com",
                    "password": "correct horse battery",
                },
            ) as response:
                assert response.status == 200, response.status
            today = services.clock.now().date()
            ranges = {
                "30 days": "period=30d",
                "3 years": f"period=custom&first={(today - timedelta(days=3 * 365 + 1))}"
                f"&last={today}",
            }
            pages = {
                "overview": "/reports",
                "overview, business hours": "/reports?hours=business",
                "agents": "/reports/agents",
                "website": "/reports/website",
                "drill-down (first response)": "/reports/conversations?metric=first_response",
                "JSON": "/api/reports",
                "per-day CSV": "/reports/days.csv",
            }
            print(
                f"{'page':32} {'range':8} {'p50 ms':>9} {'p99 ms':>9} {'max ms':>9}"
                "  (limit p99 < 300 ms)"
            )
            for name, path in pages.items():
                for label, query in ranges.items():
                    url = desk + path + ("&" if "?" in path else "?") + query
                    times = sorted(await timed(http, url, runs))
                    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
                    print(
                        f"{name:32} {label:8} {statistics.median(times):9.1f} {p99:9.1f}"
                        f" {times[-1]:9.1f}"
                    )
            for label, query in ranges.items():
                peak, baseline = 0.0, rss_mb()

                async def sample() -> None:
                    nonlocal peak
                    while True:
                        peak = max(peak, rss_mb())
                        await asyncio.sleep(0.05)

                sampler = asyncio.create_task(sample())
                started, rows = time.perf_counter(), 0
                async with http.get(desk + "/reports/conversations.csv?" + query) as response:
                    async for _line in response.content:
                        rows += 1
                sampler.cancel()
                print(
                    f"conversations CSV {label:8}: {rows - 1:,} rows in "
                    f"{time.perf_counter() - started:.1f} s (limit 20 s); server+client RSS "
                    f"{baseline:.0f} MB before, peak {peak:.0f} MB"
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=20, help="requests per page and range")
    parser.add_argument("--keep", type=Path, help="build (or reuse) the database in this folder")
    args = parser.parse_args()
    print(
        f"machine: {os.cpu_count()} cores, {platform.machine()}, Python "
        f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    )
    folder = args.keep or Path(tempfile.mkdtemp(dir=os.environ.get("BENCH_DIR")))
    config = Config(
        storage_data_dir=str(folder),
        desk_host="127.0.0.1",
        desk_port=0,
        public_host="127.0.0.1",
        public_port=0,
        storage_backups_keep=0,
    )
    if not config.database_path.exists():
        asyncio.run(_migrate(config))
        started = time.perf_counter()
        generate(config.database_path, args.conversations, datetime.now(UTC))
        size = config.database_path.stat().st_size / 2**20
        print(
            f"generated {args.conversations:,} conversations in "
            f"{time.perf_counter() - started:.0f} s ({size:,.0f} MB)"
        )
        started = time.perf_counter()
        asyncio.run(_rebuild(config))
        print(f"report rollup built from the events in {time.perf_counter() - started:.0f} s")
    asyncio.run(measure(config, args.runs))


async def _migrate(config: Config) -> None:
    async with open_services(config):
        pass


async def _rebuild(config: Config) -> None:
    async with open_services(config) as services:
        await services.reports.rebuild()
        counts = await services.db.fetch_one(
            "SELECT (SELECT count(*) FROM messages), (SELECT count(*) FROM events),"
            " (SELECT count(*) FROM report_values), (SELECT sum(count) FROM site_counts)"
        )
        print(
            f"messages {counts[0]:,}, events {counts[1]:,}, report values {counts[2]:,}, "
            f"page views {counts[3]:,}"
        )


if __name__ == "__main__":
    sys.exit(main())
