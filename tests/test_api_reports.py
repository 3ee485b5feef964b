"""The reports' figures through the JSON API on a real server: exact values on a small history
worked out by hand, the desk's rule for who sees what (by the agent a token acts as), and every
bad filter answered with the API's error shape."""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import aiohttp
import pytest

from api_helpers import Api, make_token
from conftest import PASSWORD, Server, make_config, start_server
from onlinesupport.core.conversations import Actor
from onlinesupport.lib.clock import ManualClock
from onlinesupport.store import queues as queues_repo
from test_api_docs import DOC, shell


@pytest.fixture
async def history(tmp_path: Path) -> AsyncIterator[tuple[Server, dict[str, int]]]:
    """Monday 5 January 2026 (UTC): three conversations, two answered, one resolved and rated."""
    clock = ManualClock()  # 09:00
    async with AsyncExitStack() as stack:
        server = await start_server(stack, make_config(tmp_path / "data"), clock)
        services = server.services
        people = {
            name: await services.accounts.create_agent(f"{name}@example.com", name, role, PASSWORD)
            for name, role in (
                ("ada", "admin"),
                ("max", "manager"),
                ("amy", "agent"),
                ("bob", "agent"),
            )
        }
        conversations = services.conversations
        amy, bob = Actor.agent(people["amy"], "amy"), Actor.agent(people["bob"], "bob")
        first = (
            await conversations.open(
                channel="chat", customer_name="C1", body="Hi", page_url="https://shop.test/cart"
            )
        ).conversation_id
        clock.advance(seconds=120)
        await conversations.post(first, amy, "Hello!")  # first response: 120 s
        clock.advance(seconds=480)  # 09:10
        await conversations.resolve(first, amy)  # resolution: 600 s
        await conversations.rate(first, Actor.customer(None), 5, "Quick, thanks")
        second = (
            await conversations.open(channel="email", customer_name="C2", body="Invoice?")
        ).conversation_id
        clock.advance(seconds=360)  # 09:16
        await conversations.post(second, bob, "Attached.")  # first response: 360 s
        await conversations.open(channel="chat", customer_name="C3", body="Anyone?")
        clock.advance(hours=1)
        yield server, people


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def test_the_overview_has_the_figures_worked_out_by_hand(
    history: tuple[Server, dict[str, int]], http: aiohttp.ClientSession
) -> None:
    server, _ = history
    client = Api(http, server.desk_url, await make_token(server.services, "read"))
    status, report = await client.get("/reports/overview?period=today")
    assert status == 200, report
    assert report["period"] == {"first": "2026-01-05", "last": "2026-01-05"}
    assert report["previous"] == {"first": "2026-01-04", "last": "2026-01-04"}
    assert (report["created"], report["resolved"], report["created_before"]) == (3, 1, 0)
    first = next(f for f in report["durations"] if f["key"] == "first_response")
    assert first["now"] == {"count": 2, "median": 240.0, "p90": 360.0}
    assert first["before"] == {"count": 0, "median": None, "p90": None}
    resolution = next(f for f in report["durations"] if f["key"] == "resolution")
    assert resolution["now"] == {"count": 1, "median": 600.0, "p90": 600.0}
    rates = {r["key"]: (r["part"], r["whole"], r["value"]) for r in report["rates"]}
    assert rates["satisfaction"] == (1, 1, 1.0)
    assert rates["fcr"] == (1, 1, 1.0)
    assert sorted((c["channel"], c["count"]) for c in report["channels"]) == [
        ("chat", 2),
        ("email", 1),
    ]
    assert report["volume"] == [
        {"label": "2026-01-05", "created": 3, "resolved": 1, "merged": 0, "backlog": 2}
    ]
    assert report["heatmap"][0][9] == 3 and sum(map(sum, report["heatmap"])) == 3
    assert report["ratings"][4] == {"score": 5, "count": 1}
    assert [(c["score"], c["comment"]) for c in report["comments"]] == [(5, "Quick, thanks")]

    status, chats = await client.get("/reports/overview?period=today&channel=chat")
    assert (chats["created"], [c["channel"] for c in chats["channels"]]) == (2, ["chat"])
    status, days = await client.get("/reports/days?first=2026-01-04&last=2026-01-05")
    assert status == 200 and [(d["day"], d["created"], d["resolved"]) for d in days["days"]] == [
        ("2026-01-04", 0, 0),
        ("2026-01-05", 3, 1),
    ]
    assert days["days"][1]["first_response"] == first["now"]
    status, website = await client.get("/reports/website?period=7d")
    assert status == 200 and website["pages"] == [
        {"page": "https://shop.test/cart", "inquiries": 1, "views": 0, "per_thousand": None}
    ]


async def test_a_token_sees_what_the_agent_it_acts_as_sees(
    history: tuple[Server, dict[str, int]], http: aiohttp.ClientSession
) -> None:
    server, people = history
    services = server.services

    async def lines(agent_id: int | None) -> list[tuple[str, int, int]]:
        client = Api(http, server.desk_url, await make_token(services, "read", agent_id))
        status, report = await client.get("/reports/agents?period=today")
        assert status == 200, report
        return [(a["name"], a["handled"], a["replies"]) for a in report["agents"]]

    everyone = [("amy", 1, 1), ("bob", 1, 1), ("ada", 0, 0), ("max", 0, 0)]
    assert await lines(None) == everyone
    assert await lines(people["ada"]) == everyone
    assert await lines(people["amy"]) == [("amy", 1, 1)]
    status, amy = await Api(
        http, server.desk_url, await make_token(services, "read", people["amy"])
    ).get(f"/reports/agents?agent={people['bob']}")
    assert [a["name"] for a in amy["agents"]] == ["amy"], "an agent sees only their own line"

    db = services.db
    billing = await db.write(
        lambda conn: queues_repo.insert(conn, "Billing", "2026-01-01T00:00:00.000Z")
    )
    await db.write(lambda conn: queues_repo.set_members(conn, billing, [], [people["max"]]))
    manager = Api(http, server.desk_url, await make_token(services, "read", people["max"]))
    status, report = await manager.get("/reports/overview?period=today")
    assert status == 200 and report["created"] == 0, "nothing came into Billing"
    assert [q["queue"]["name"] for q in report["live"]] == ["Billing"]
    status, refused = await manager.get("/reports/overview?queue=1")
    assert status == 403 and refused["error"] == {
        "code": "forbidden",
        "message": "that queue is not one of yours",
        "field": "queue",
    }


BAD_FILTERS = (
    ("period=forever", "period", "must be one of"),
    ("period=custom", "first", "dates like"),
    ("first=2026-02-30&last=2026-03-01", "first", "dates like"),
    ("first=2026-03-01&last=2026-02-30", "last", "dates like"),
    ("first=2026-03-02&last=2026-03-01", "last", "before the first"),
    ("first=2000-01-01&last=2026-03-01", "first", "at most 3700 days"),
    ("first=5.3.2026&last=2026-03-01", "first", "expected form"),
    ("channel=fax", "channel", "must be one of"),
    ("queue=abc", "queue", "whole number"),
    ("agent=0", "agent", "out of range"),
    ("hours=office", "hours", "must be one of"),
    ("tag=", "tag", "too short"),
)


async def test_bad_filters_get_the_api_error_shape(
    history: tuple[Server, dict[str, int]], http: aiohttp.ClientSession
) -> None:
    server, _ = history
    client = Api(http, server.desk_url, await make_token(server.services, "read"))
    for query, field, words in BAD_FILTERS:
        for part in ("overview", "agents", "website", "days"):
            status, body = await client.get(f"/reports/{part}?{query}")
            assert status == 422, (query, part, body)
            assert body["error"]["code"] == "invalid" and body["error"]["field"] == field, body
            assert words in body["error"]["message"], body


async def test_the_curl_examples_in_the_docs_work(history: tuple[Server, dict[str, int]]) -> None:
    server, _ = history
    section = DOC.read_text().split("## Reports\n", 1)[1].split("\n## ", 1)[0]
    [commands] = re.findall(r"```sh\n(.*?)```", section, re.S)
    overview, days = commands.strip().split("\ncurl")
    env = {
        **os.environ,
        "BASE": f"{server.desk_url}/api/v1",
        "TOKEN": await make_token(server.services, "read"),
    }
    loop = asyncio.get_running_loop()
    printed = await loop.run_in_executor(None, shell, overview, env)
    assert printed.startswith("3 [('first_response', "), printed
    found = json.loads(await loop.run_in_executor(None, shell, "curl" + days, env))
    assert len(found["days"]) == 31 and sum(d["created"] for d in found["days"]) == 0
