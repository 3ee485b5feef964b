"""Durable messages per second through the conversation core, against raw batched SQLite inserts.

Each run starts from a fresh database file with the production settings (WAL, synchronous as
chosen, FULL by default). "core" posts through `Conversations.post` with 1, 10 and 100 concurrent
posters, every post acknowledged only after its commit. "limit" inserts the same number of rows
into the same `messages` table with plain sqlite3, 100 rows per transaction, at the same
durability: the most this disk and SQLite can store. A second limit makes, just as raw, the
same three writes the core makes per message (message, event, conversation). Ratios are core /
limit.

With --reports, each core run is made twice, without and with the reports' background work
(the rollup following the events every 5 s, the page-view and presence counters flushed every
10 s), and the slowdown is printed.

    python bench/store_write.py [--messages 20000] [--synchronous full|normal] [--reports]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sqlite3
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path

from onlinesupport.config import Config
from onlinesupport.core.conversations import Actor
from onlinesupport.lib.clock import Clock, to_db
from onlinesupport.services import open_services

BODY = "Hello, I have a question about my order and the delivery date. " * 2


async def core_rate(
    folder: Path, posters: int, total: int, synchronous: str, reports: bool = False
) -> tuple[float, float]:
    """Messages/s through the core, and the average number of commands per transaction;
    with `reports`, while the reports' background work runs beside it."""
    config = Config(storage_data_dir=str(folder), storage_synchronous=synchronous)
    async with open_services(config) as services, AsyncExitStack() as stack:
        if reports:
            await stack.enter_async_context(services.reports.running())
            await stack.enter_async_context(services.recorder.running())
        conversations = services.conversations
        opened = [
            await conversations.open(channel="chat", customer_name=f"visitor {i}")
            for i in range(posters)
        ]
        per_poster = total // posters

        async def poster(i: int) -> None:
            actor = Actor.customer(opened[i].customer_id)
            for n in range(per_poster):
                await conversations.post(
                    opened[i].conversation_id, actor, BODY, client_id=f"{i}-{n}"
                )

        batches_before, commands_before = services.db.batches, services.db.commands
        started = time.perf_counter()
        await asyncio.gather(*[poster(i) for i in range(posters)])
        elapsed = time.perf_counter() - started
        batches = services.db.batches - batches_before
        commands = services.db.commands - commands_before
    return per_poster * posters / elapsed, commands / max(batches, 1)


def limit_rates(folder: Path, total: int, synchronous: str) -> tuple[float, float]:
    """Rows/s of plain batched writes, 100 messages per transaction, at the same durability.

    First the message rows alone (the strictest yardstick); then the same three writes the core
    makes per message (message row, event row, the conversation's seq and times), still batched
    with executemany and no Python model around them.
    """
    asyncio.run(core_rate(folder, 100, 100, synchronous))  # creates 100 conversations
    conn = sqlite3.connect(folder / "onlinesupport.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA synchronous = {synchronous.upper()}")
    conversation_ids = [r[0] for r in conn.execute("SELECT id FROM conversations ORDER BY id")]
    now = to_db(Clock().now())
    rates = []
    seq = 1000
    for same_work in (False, True):
        started = time.perf_counter()
        for _ in range(total // 100):
            messages, events, updates = [], [], []
            for cid in conversation_ids:
                seq += 1
                messages.append((cid, seq, "customer", None, "message", BODY, f"r{seq}", now))
                events.append(
                    (
                        cid,
                        "message.posted",
                        "customer",
                        None,
                        f'{{"seq":{seq},"kind":"message"}}',
                        now,
                    )
                )
                updates.append((now, now, cid))
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(
                "INSERT INTO messages (conversation_id, seq, author_type, author_id,"
                " kind, body, client_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                messages,
            )
            if same_work:
                conn.executemany(
                    "INSERT INTO events (conversation_id, type, actor_type, actor_id,"
                    " data, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                    events,
                )
                conn.executemany(
                    "UPDATE conversations SET last_seq = last_seq + 1,"
                    " last_message_at = ?, updated_at = ? WHERE id = ?",
                    updates,
                )
            conn.execute("COMMIT")
        rates.append((total // 100) * 100 / (time.perf_counter() - started))
    conn.close()
    return rates[0], rates[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000, help="messages per run")
    parser.add_argument("--synchronous", choices=("full", "normal"), default="full")
    parser.add_argument(
        "--reports",
        action="store_true",
        help="also run each core case with the reports' background work",
    )
    args = parser.parse_args()
    print(
        f"machine: {os.cpu_count()} cores, {platform.machine()}, Python "
        f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"synchronous={args.synchronous.upper()}"
    )
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR")) as tmp:
        rows, same = limit_rates(Path(tmp) / "limit", args.messages, args.synchronous)
        print(f"limit  raw message rows, 100/transaction:     {rows:10,.0f} messages/s")
        print(f"limit  raw same 3 writes, 100/transaction:    {same:10,.0f} messages/s")
        for posters in (1, 10, 100):
            # One poster waits for every commit before the next: each message is its own fsync.
            total = min(args.messages, 2_000) if posters == 1 else args.messages
            rate, batch = asyncio.run(
                core_rate(Path(tmp) / f"core{posters}", posters, total, args.synchronous)
            )
            print(
                f"core   {posters:3d} concurrent posters:          {rate:10,.0f} messages/s  "
                f"avg {batch:5.1f} per commit; ratio {rate / rows:.2f} to message rows, "
                f"{rate / same:.2f} to the same writes"
            )
            if args.reports:
                with_reports, _ = asyncio.run(
                    core_rate(
                        Path(tmp) / f"reports{posters}", posters, total, args.synchronous, True
                    )
                )
                print(
                    f"       with reports running:           {with_reports:10,.0f} messages/s  "
                    f"slowdown {(1 - with_reports / rate) * 100:5.1f}% (limit 10%)"
                )


if __name__ == "__main__":
    sys.exit(main())
