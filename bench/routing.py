"""Routing decisions with 200 rules and 50 agents.

1. Decisions alone: the rules evaluated in memory against 20,000 varied messages (what a
   rule engine costs per message).
2. In the core: 3,000 chat conversations and 3,000 further messages stored through
   `Conversations` with the 200 rules loaded, timing the routing hook inside each transaction
   (facts read from the database, rules evaluated, actions applied and recorded), and its share
   of the time each store takes.

Prints p50/p99 per decision (target p99 < 2 ms) and decisions per second.

    .venv/bin/python bench/routing.py
"""

from __future__ import annotations

import asyncio
import random
import statistics
import tempfile
import time

from onlinesupport.config import Config
from onlinesupport.core.conversations import Actor
from onlinesupport.lib.clock import Clock, to_db
from onlinesupport.routing.rules import Facts, evaluate
from onlinesupport.services import open_services
from onlinesupport.store import queues as queues_repo

RULES = 200
AGENTS = 50
QUEUES = 10
DECISIONS = 20_000
CONVERSATIONS = 3_000
random.seed(11)
# A shop's vocabulary: rules look for its words; messages use some of them among others.
WORDS = [
    f"{stem}{n}"
    for n in range(20)
    for stem in (
        "invoice",
        "refund",
        "parcel",
        "warranty",
        "login",
        "voucher",
        "exchange",
        "damage",
        "quote",
        "battery",
    )
]
FILLER = (
    "hello please thanks my the order is not a with and when can you help me it was i have for"
).split()
DOMAINS = [f"customer{n}.example" for n in range(40)]


def rule_form(n: int, agent_email: str = "agent{n}@shop.example") -> dict[str, str]:
    """A rule of the kinds small businesses write: words, senders, pages, tiers, channels."""
    conditions = []
    kind = n % 5
    if kind == 0:
        conditions.append("text contains " + ", ".join(random.sample(WORDS, 3)))
    elif kind == 1:
        conditions.append(f"sender domain {random.choice(DOMAINS)}")
    elif kind == 2:
        conditions.append(f"page matches */{random.choice(WORDS)}*")
    elif kind == 3:
        conditions.append(r"body matches (order|invoice)\s*#?\d{4,}")
        conditions.append("tier is preferred")
        conditions.append(f"sender domain {random.choice(DOMAINS)}")
    else:
        conditions.append(f"channel is {random.choice(['chat', 'email', 'form'])}")
        conditions.append("subject contains " + ", ".join(random.sample(WORDS, 5)))
    if n % 7 == 0:
        conditions.append("hours inside")
    actions = [f"queue Queue {n % QUEUES}", f"priority {n % 3}", f"tag t{n % 20}"]
    if n % 10 == 0:
        actions.append("assign " + agent_email.format(n=n % AGENTS))
    # Most routing rules place new conversations; one in four also looks at later messages.
    return {
        "name": f"Rule {n}",
        "active": "on",
        "trigger": "both" if n % 4 == 0 else "new",
        "conditions": "\n".join(conditions),
        "actions": "\n".join(actions),
    }


def sample_facts() -> Facts:
    words = " ".join(random.choices(FILLER, k=20) + random.sample(WORDS, 3))
    return Facts(
        channel=random.choice(["chat", "email", "form"]),
        sender=f"kim@{random.choice(DOMAINS + ['other.example'] * 40)}",
        tier=random.choice(["standard"] * 4 + ["preferred"]),
        subject=" ".join(random.sample(WORDS, 2)),
        body=f"{words} order {random.randint(1, 99999)}",
        page=f"https://shop.example/{random.choice(WORDS)}/item",
        open_now=lambda: True,
    )


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def report(name: str, values: list[float]) -> None:
    print(
        f"{name}: p50 {statistics.median(values) * 1000:.3f} ms, p99 "
        f"{percentile(values, 0.99) * 1000:.3f} ms, max {max(values) * 1000:.2f} ms; "
        f"{len(values) / sum(values):,.0f} decisions/s on one core"
    )


async def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        config = Config(
            storage_data_dir=folder, storage_backups_keep=0, storage_synchronous="normal"
        )
        async with open_services(config) as services:
            now = to_db(Clock().now())
            await services.db.write(
                lambda conn: [queues_repo.insert(conn, f"Queue {n}", now) for n in range(QUEUES)]
            )
            for n in range(AGENTS):
                await services.accounts.create_agent(
                    f"agent{n}@shop.example", f"Agent {n}", "agent", "correct horse battery"
                )
            for n in range(RULES):
                await services.rules.save(None, rule_form(n))
            rules = services.rules.rules
            print(f"{len(rules)} rules, {AGENTS} agents, {QUEUES} queues")

            samples = [sample_facts() for _ in range(DECISIONS)]
            times, fired = [], 0
            for facts in samples:
                t = time.perf_counter()
                fired += len(evaluate(rules, facts, "new"))
                times.append(time.perf_counter() - t)
            report("decision in memory (200 rules)", times)
            print(f"  {fired / DECISIONS:.1f} rules fire per message on average")

            hook_times: list[float] = []
            original = services.rules.received

            def timed(*args):  # type: ignore[no-untyped-def]
                t = time.perf_counter()
                original(*args)
                hook_times.append(time.perf_counter() - t)

            services.conversations.received[:] = [timed]
            total = time.perf_counter()
            store_times = []
            opened = []
            for n in range(CONVERSATIONS):
                facts = samples[n]
                t = time.perf_counter()
                result = await services.conversations.open(
                    channel="chat",
                    customer_name=f"Visitor {n}",
                    identity=("email", facts.sender.replace("kim@", f"v{n}@")),
                    subject=facts.subject,
                    body=facts.body,
                    page_url=facts.page,
                )
                store_times.append(time.perf_counter() - t)
                opened.append(result)
            for n, result in enumerate(opened):
                t = time.perf_counter()
                await services.conversations.post(
                    result.conversation_id, Actor.customer(result.customer_id), samples[-n - 1].body
                )
                store_times.append(time.perf_counter() - t)
            elapsed = time.perf_counter() - total
            report("routing in the transaction (facts + rules + actions + events)", hook_times)
            print(
                f"  routing share of storing a message: {sum(hook_times) / sum(store_times):.0%}"
                f" ({len(store_times) / elapsed:,.0f} stored messages/s, one at a time, "
                f"synchronous=normal)"
            )


if __name__ == "__main__":
    asyncio.run(main())
