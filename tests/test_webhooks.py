"""Webhooks to a real local receiver that verifies every signature with the reference
`standardwebhooks` library: payloads, order, retries, a receiver that was down, 410, redelivery,
secret rotation, Retry-After, three days of failures."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from api_helpers import Api, make_token
from conftest import PASSWORD, Server, free_port, make_config, start_server, wait_until
from onlinesupport.core.conversations import Actor, InvalidCommand
from onlinesupport.integrations.webhooks import EndpointFields
from onlinesupport.lib.clock import ManualClock, from_db
from webhook_receiver import Receiver

FAST_RETRIES = (0.2,) * 40


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    found = Receiver(free_port())
    await found.up()
    yield found
    await found.down()


@pytest.fixture
async def hooked(tmp_path: Path) -> AsyncIterator[Server]:
    """A server that may send webhooks to this machine, retrying every 0.2 s."""
    config = make_config(
        tmp_path / "data", webhooks_allow_loopback=True, webhooks_retry_seconds=FAST_RETRIES
    )
    async with AsyncExitStack() as stack:
        yield await start_server(stack, config)


async def add_endpoint(server: Server, receiver: Receiver, *types: str) -> int:
    webhooks = server.services.webhooks
    endpoint_id = await webhooks.add(EndpointFields(url=receiver.url, event_types=types))
    endpoint = await webhooks.get(endpoint_id)
    assert endpoint is not None
    receiver.secrets = webhooks.secrets_in_use(endpoint)
    return endpoint_id


async def feed(server: Server) -> list[dict[str, Any]]:
    async with aiohttp.ClientSession() as http:
        client = Api(http, server.desk_url, await make_token(server.services, "read"))
        status, body = await client.get("/events?limit=500")
        assert status == 200
        return body["events"]


async def test_events_arrive_signed_with_the_objects_the_api_returns(
    hooked: Server, receiver: Receiver
) -> None:
    await add_endpoint(hooked, receiver)
    async with aiohttp.ClientSession() as http:
        client = Api(http, hooked.desk_url, await make_token(hooked.services, "write"))
        status, opened = await client.post(
            "/conversations",
            {
                "channel": "email",
                "body": "Order 1 failed",
                "customer": {"email": "c@example.com", "name": "Cy"},
            },
        )
        cid = opened["conversation"]["id"]
        await client.post(f"/conversations/{cid}/messages", {"body": "checking", "kind": "note"})
        await client.post(f"/conversations/{cid}/resolve")
        got = await receiver.wait_for(5)
        status, conversation = await client.get(f"/conversations/{cid}")
    assert [r.type for r in got] == [
        "customer.created",
        "conversation.created",
        "message.created",
        "message.created",
        "conversation.resolved",
    ]
    assert got[0].data["customer"]["email"] == "c@example.com"
    assert got[2].data["message"] == conversation["messages"][0]
    assert got[3].data["note"] is True and got[2].data["note"] is False
    assert got[4].data["conversation"] == conversation["conversation"]
    assert got[4].data["from"] == "open"
    assert all(r.headers["webhook-id"].startswith("msg_") for r in got)
    assert [r.webhook_id for r in got] == [e["webhook_id"] for e in await feed(hooked)]
    assert not receiver.refused


async def test_an_endpoint_gets_only_the_types_it_asked_for(
    hooked: Server, receiver: Receiver
) -> None:
    await add_endpoint(hooked, receiver, "conversation.resolved")
    conversations = hooked.services.conversations
    opened = await conversations.open(channel="chat", body="hi", identity=("email", "x@y.z"))
    await conversations.resolve(opened.conversation_id, Actor("system"))
    await receiver.wait_for(1)
    await asyncio.sleep(0.3)
    assert [r.type for r in receiver.received] == ["conversation.resolved"]


async def test_a_receiver_that_was_down_gets_every_event_once_in_order(
    hooked: Server, receiver: Receiver
) -> None:
    await add_endpoint(hooked, receiver)
    await receiver.down()
    conversations = hooked.services.conversations
    opened = [
        await conversations.open(
            channel="chat", body=f"hello {n}", identity=("email", f"c{n}@example.com")
        )
        for n in range(4)
    ]
    for round_ in range(5):
        for n, o in enumerate(opened):
            await conversations.post(
                o.conversation_id, Actor.customer(o.customer_id), f"message {round_} from {n}"
            )

    async def failed_twice() -> bool:  # several attempts fail while it is down
        attempts = await hooked.services.db.fetch_one(
            "SELECT max(attempts) FROM webhook_deliveries"
        )
        return (attempts[0] or 0) > 1

    await wait_until(failed_twice)
    await receiver.up()
    events = await feed(hooked)
    got = await receiver.wait_for(len(events), timeout=30)
    await asyncio.sleep(0.5)
    ids = [r.webhook_id for r in got]
    assert len(ids) == len(set(ids)) == len(events)
    assert set(ids) == {e["webhook_id"] for e in events}
    for o in opened:  # in the order they happened, per conversation
        mine = [
            e["webhook_id"]
            for e in events
            if e["data"].get("message", {}).get("conversation_id") == o.conversation_id
        ]
        assert [i for i in ids if i in mine] == mine
    attempts = await hooked.services.db.fetch_all("SELECT max(attempts) FROM webhook_deliveries")
    assert attempts[0][0] > 1


async def test_410_disables_the_endpoint_and_the_desk_says_so(
    hooked: Server, receiver: Receiver
) -> None:
    endpoint_id = await add_endpoint(hooked, receiver)
    receiver.status = 410
    webhooks = hooked.services.webhooks
    await webhooks.send_test(endpoint_id)
    for _ in range(100):
        endpoint = await webhooks.get(endpoint_id)
        if not endpoint.enabled:
            break
        await asyncio.sleep(0.05)
    assert not endpoint.enabled and "410" in endpoint.disabled_reason
    await hooked.services.conversations.open(
        channel="chat", body="hi", identity=("email", "c@example.com")
    )
    assert [d.status for d in await webhooks.deliveries(endpoint_id)] == ["failed"]
    from onlinesupport.ops.health import report

    assert any("was disabled" in w for w in (await report(hooked.services))["warnings"])


async def test_redeliver_sends_the_same_webhook_id_again(
    hooked: Server, receiver: Receiver
) -> None:
    endpoint_id = await add_endpoint(hooked, receiver)
    webhooks = hooked.services.webhooks
    delivery_id = await webhooks.send_test(endpoint_id)
    [first] = await receiver.wait_for(1)
    assert first.type == "ping"

    # The receiver has it a moment before the sender records the outcome; until then a
    # redelivery is refused with a reason rather than lost.
    async def redelivered() -> bool:
        try:
            await webhooks.redeliver(endpoint_id, delivery_id)
        except InvalidCommand as refused:
            assert "being sent right now" in str(refused)
            return False
        return True

    await wait_until(redelivered, 10, "the redelivery was never accepted")
    second = (await receiver.wait_for(2))[1]
    assert second.webhook_id == first.webhook_id
    assert second.headers["webhook-timestamp"] >= first.headers["webhook-timestamp"]
    for _ in range(100):
        delivery, attempts = await webhooks.delivery(endpoint_id, delivery_id)
        if len(attempts) == 2 and delivery.status == "sent":
            break
        await asyncio.sleep(0.05)
    assert delivery.status == "sent" and [a.status_code for a in attempts] == [200, 200]
    assert attempts[0].response == "thanks"


@pytest.fixture
async def manual(tmp_path: Path) -> AsyncIterator[tuple[Server, ManualClock]]:
    clock = ManualClock()
    config = make_config(tmp_path / "data", webhooks_allow_loopback=True)
    async with AsyncExitStack() as stack:
        yield await start_server(stack, config, clock), clock


async def test_a_rotated_secret_signs_beside_the_new_one_for_a_day(
    manual: tuple[Server, ManualClock], receiver: Receiver
) -> None:
    server, clock = manual
    endpoint_id = await add_endpoint(server, receiver)
    old = receiver.secrets
    webhooks = server.services.webhooks
    await webhooks.rotate_secret(endpoint_id)
    new = webhooks.secrets_in_use(await webhooks.get(endpoint_id))
    assert new[1:] == old and new[0] != old[0]
    receiver.secrets = old  # a receiver that has not switched yet still verifies
    await webhooks.send_test(endpoint_id)
    [got] = await receiver.wait_for(1)
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    clock.advance(hours=25)
    assert webhooks.secrets_in_use(await webhooks.get(endpoint_id)) == new[:1]


async def test_retry_after_and_three_days_of_failures(
    manual: tuple[Server, ManualClock], receiver: Receiver
) -> None:
    server, clock = manual
    admin = await server.services.accounts.create_agent("ada@example.com", "Ada", "admin", PASSWORD)
    endpoint_id = await add_endpoint(server, receiver)
    webhooks = server.services.webhooks
    receiver.status, receiver.headers = 429, {"Retry-After": "3600"}
    delivery_id = await webhooks.send_test(endpoint_id)

    async def settled_attempts() -> int:
        delivery, _ = await webhooks.delivery(endpoint_id, delivery_id)
        return delivery.attempts if delivery.status != "sending" else 0

    await wait_until(settled_attempts, message="the first attempt was not recorded")
    delivery, _ = await webhooks.delivery(endpoint_id, delivery_id)
    waited = from_db(delivery.next_attempt_at) - clock.now()
    assert waited.total_seconds() == pytest.approx(3600, abs=1)
    receiver.status, receiver.headers = 500, {}
    # The schedule runs out after about three days of failures: go to each retry's time and
    # wait for the attempt it causes, however busy the machine.
    for _ in range(12):
        if not (await webhooks.get(endpoint_id)).enabled:
            break
        delivery, _ = await webhooks.delivery(endpoint_id, delivery_id)
        before = delivery.attempts
        clock.advance(seconds=(from_db(delivery.next_attempt_at) - clock.now()).total_seconds())
        webhooks.sender.wake()

        async def tried_again_or_gave_up(before: int = before) -> bool:
            endpoint = await webhooks.get(endpoint_id)
            return not endpoint.enabled or await settled_attempts() > before

        await wait_until(tried_again_or_gave_up, message="no attempt when one was due")
    endpoint = await webhooks.get(endpoint_id)
    assert not endpoint.enabled and "3 days" in endpoint.disabled_reason
    assert receiver.attempts >= 5
    assert admin


async def test_a_server_killed_mid_delivery_loses_nothing(
    tmp_path: Path, receiver: Receiver
) -> None:
    """SIGKILL while the receiver holds a request, then restart: every event arrives."""
    import os
    import signal
    import sys

    data = tmp_path / "data"
    desk_port = free_port()
    env = {
        **os.environ,
        "ONLINESUPPORT_STORAGE_DATA_DIR": str(data),
        "ONLINESUPPORT_DESK_HOST": "127.0.0.1",
        "ONLINESUPPORT_DESK_PORT": str(desk_port),
        "ONLINESUPPORT_PUBLIC_HOST": "127.0.0.1",
        "ONLINESUPPORT_PUBLIC_PORT": "0",
        "ONLINESUPPORT_STORAGE_BACKUPS_KEEP": "0",
        "ONLINESUPPORT_WEBHOOKS_ALLOW_LOOPBACK": "true",
        "ONLINESUPPORT_WEBHOOKS_RETRY_SECONDS": ",".join(map(str, FAST_RETRIES)),
        "ONLINESUPPORT_CONFIG": str(tmp_path / "none.toml"),
    }
    (tmp_path / "none.toml").write_text("")
    async with AsyncExitStack() as stack:  # prepare the data folder, then let it go
        server = await start_server(stack, make_config(data, webhooks_allow_loopback=True))
        token = await make_token(server.services, "write")
        await add_endpoint(server, receiver)
    base = f"http://127.0.0.1:{desk_port}"

    async def start() -> asyncio.subprocess.Process:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "onlinesupport",
            "serve",
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        async with aiohttp.ClientSession() as http:
            for _ in range(200):
                try:
                    async with http.get(base + "/healthz") as r:
                        if r.status == 200:
                            return process
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.05)
        raise AssertionError("the server did not start")

    receiver.delay = 5.0  # the receiver holds each request: the kill comes mid-delivery
    process = await start()
    posted = []
    try:
        async with aiohttp.ClientSession() as http:
            client = Api(http, base, token)
            status, opened = await client.post(
                "/conversations",
                {"channel": "email", "body": "first", "customer": {"email": "c@example.com"}},
            )
            cid = opened["conversation"]["id"]
            for n in range(10):
                status, body = await client.post(
                    f"/conversations/{cid}/messages", {"body": f"reply {n}", "client_id": f"r{n}"}
                )
                assert status == 201
                posted.append(body["message"]["id"])
            for _ in range(100):
                if receiver.attempts:
                    break
                await asyncio.sleep(0.05)
            assert receiver.attempts and not receiver.received
    finally:
        process.send_signal(signal.SIGKILL)
        await process.wait()
    receiver.delay = 0.0
    process = await start()
    try:
        async with aiohttp.ClientSession() as http:
            client = Api(http, base, token)
            status, body = await client.get(f"/conversations/{cid}/messages")
            assert [m["id"] for m in body["messages"]][1:] == posted
            events = (await client.get("/events?limit=500"))[1]["events"]
        got = await receiver.wait_for(len(events), timeout=30)
        ids = [r.webhook_id for r in got]
        assert {e["webhook_id"] for e in events} <= set(ids)
        assert len(events) == 13  # customer, conversation, 11 messages
    finally:
        process.send_signal(signal.SIGTERM)
        await process.wait()


async def test_the_log_keeps_14_days_and_the_events_30(
    manual: tuple[Server, ManualClock], receiver: Receiver
) -> None:
    server, clock = manual
    endpoint_id = await add_endpoint(server, receiver)
    webhooks = server.services.webhooks
    sent = []
    for day in range(40):
        sent.append(await webhooks.send_test(endpoint_id))
        await receiver.wait_for(day + 1)
        clock.advance(days=1)
    for _ in range(100):
        if (await webhooks.delivery(endpoint_id, sent[-1]))[0].status == "sent":
            break
        await asyncio.sleep(0.05)
    assert await webhooks.prune() == 26  # older than 14 days
    kept = [d.id for d in await webhooks.deliveries(endpoint_id, 100)]
    assert kept == sorted(sent[26:], reverse=True)
    events = await server.services.db.fetch_all("SELECT created_at FROM webhook_events")
    assert len(events) == 30 and min(e[0] for e in events) >= "2026-01-15"
