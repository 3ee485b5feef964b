"""A customer's phone number is stored one way, whoever typed it where (a callback request, the
API, the desk's Log a call) and however, so the customer is found by it; what was typed is
still what the desk and the API show. Numbers stored before are brought to that form."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import aiohttp
import pytest

from api_helpers import Api, make_token
from conftest import PASSWORD, Desk, Server, make_config, start_server
from onlinesupport.channels.phone import numbers
from onlinesupport.lib.clock import ManualClock
from onlinesupport.lib.inputs import phone_number
from onlinesupport.store import customers as customers_repo
from onlinesupport.store import migrate
from test_callbacks import ask, enable, set_hours


def test_every_way_of_typing_a_number_gives_one_form() -> None:
    for typed in (
        "+49 30 1234567",
        "+49 (0)30 123-4567",
        "0049 30 1234567",
        " +49.30/1234567 ",
        "+49301234567",
        "00 49 (30) 1234567",
    ):
        assert phone_number(typed) == "+49301234567", typed
        assert numbers.normalise(typed, "DE")[0] == phone_number(typed), (
            "a callback request stores the same form"
        )
    assert phone_number("030 123-4567") == "0301234567", "no country: the digits"
    assert (phone_number(""), phone_number(" () "), phone_number("+")) == ("", "()", "+")


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    async with AsyncExitStack() as stack:
        yield await start_server(stack, make_config(tmp_path / "data"), ManualClock())


async def test_a_customer_is_found_by_their_number_however_it_was_typed(
    server: Server, client_factory
) -> None:
    services = server.services
    await services.accounts.create_agent("ada@example.com", "Ada", "admin", PASSWORD)
    await services.accounts.create_agent("amy@example.com", "Amy", "agent", PASSWORD)
    await set_hours(services)
    await enable(services)
    done, _ = await ask(services, phone="030 1234567")  # Germany chosen in the form
    nora = await customers_repo.by_identity(services.db, "phone", "+49301234567")
    assert nora is not None

    async with aiohttp.ClientSession() as http:
        api = Api(http, server.desk_url, await make_token(services, "write"))
        status, found = await api.get("/customers", params={"phone": "+49 (0)30 123-4567"})
        assert status == 200 and [c["id"] for c in found["customers"]] == [nora]
        status, opened = await api.post(
            "/conversations",
            {
                "channel": "phone",
                "body": "Calling about my invoice",
                "customer": {"phone": "0049 30 1234567"},
            },
        )
        assert status == 201 and opened["conversation"]["customer"]["id"] == nora

        desk: Desk = client_factory(server.desk_url)
        await desk.signin("amy@example.com")
        logged = await desk.post_json(
            "/conversations",
            {
                "name": "Nora",
                "phone": "+49-30-1234567",
                "subject": "Invoice",
                "body": "Called about invoice 77",
                "email": "",
            },
        )
        assert logged.status == 200, await logged.text()
        cid = (await logged.json())["conversation_id"]
        row = await services.db.fetch_one(
            "SELECT customer_id FROM conversations WHERE id = ?", (cid,)
        )
        assert row[0] == nora

        status, added = await api.post("/customers", {"name": "Liam", "phone": "+44 20 7946 0000"})
        assert status == 201 and added["customer"]["phone"] == "+44 20 7946 0000", "shown as typed"
        status, found = await api.get("/customers", params={"phone": "0044 20 7946-0000"})
        assert [c["id"] for c in found["customers"]] == [added["customer"]["id"]]
        status, refused = await api.call(
            "PATCH", f"/customers/{nora}", {"phone": "+44 (0)20 7946 0000"}
        )
        assert status == 409 and refused["error"]["field"] == "phone"
        assert "+44 (0)20 7946 0000 belongs to another customer" in refused["error"]["message"]
    profile = await customers_repo.get(services.db, added["customer"]["id"])
    assert profile["identities"] == [{"kind": "phone", "value": "+44 20 7946 0000"}], (
        "the desk shows it as typed"
    )
    assert done.phone == "+49 301234567"


def test_numbers_stored_before_are_brought_to_the_one_form(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = sqlite3.connect(tmp_path / "old.db", isolation_level=None)
    every = migrate.available_migrations()
    [this] = [m for m in every if m.name.endswith("_phone_identities.sql")]
    with monkeypatch.context() as older_program:
        older_program.setattr(
            migrate, "available_migrations", lambda: [m for m in every if m.version < this.version]
        )
        migrate.migrate(conn, ManualClock())
    conn.executemany(
        "INSERT INTO customers (id, name, created_at) VALUES (?, '', '2026')",
        [(n,) for n in range(1, 6)],
    )
    conn.executemany(
        "INSERT INTO customer_identities (customer_id, kind, value) VALUES (?, ?, ?)",
        [
            (1, "phone", "+49 (0)30 1234567"),
            (2, "phone", "0049301234567"),
            (3, "phone", " 030 123-4567"),
            (4, "email", "a.b@example.com"),
            (5, "phone", "+4930999"),
        ],
    )
    migrate.migrate(conn, ManualClock())
    assert conn.execute(
        "SELECT customer_id, value, shown FROM customer_identities ORDER BY id"
    ).fetchall() == [
        (1, "+49301234567", "+49 (0)30 1234567"),
        (2, "0049301234567", None),  # the same number as customer 1's: left as it was
        (3, "0301234567", " 030 123-4567"),
        (4, "a.b@example.com", None),
        (5, "+4930999", None),
    ]
    conn.close()


async def test_a_call_logged_for_a_known_customer_gives_them_the_number_in_e164(
    server: Server, client_factory
) -> None:
    services = server.services
    await services.accounts.create_agent("ada@example.com", "Ada", "admin", PASSWORD)
    amy = await services.accounts.create_agent("amy@example.com", "Amy", "agent", PASSWORD)
    await set_hours(services)  # the business is in Europe/Berlin: numbers are German first
    lee = await services.conversations.open(
        channel="email", identity=("email", "lee@customer.test"), body="Order 1042?"
    )
    other = await services.conversations.open(
        channel="phone", identity=("phone", "+44 20 7946 0000"), body="Hello"
    )
    desk: Desk = client_factory(server.desk_url)
    await desk.signin("amy@example.com")
    form = await (await desk.get("/conversations/new")).text()
    assert '<option value="DE" selected>Germany (+49)</option>' in form

    call = {"name": "", "email": "Lee@Customer.test", "phone": "030 123-4567", "country": "DE"}
    logged = await desk.post("/conversations", {**call, "subject": "", "body": "Called again"})
    assert logged.status == 303, await logged.text()
    assert await customers_repo.by_identity(services.db, "phone", "+49301234567") == (
        lee.customer_id
    )
    profile = await customers_repo.get(services.db, lee.customer_id)
    assert {"kind": "phone", "value": "+49 301234567"} in profile["identities"]
    rows = await services.db.fetch_all(
        "SELECT customer_id, assignee_id, channel FROM conversations ORDER BY id"
    )
    assert tuple(rows[-1]) == (lee.customer_id, amy, "phone"), "the call is theirs, and Amy's"

    # A number someone else has, a number that cannot be one: said, and nothing is lost.
    taken = await desk.post(
        "/conversations", {**call, "phone": "+44 20 7946 0000", "body": "About my order"}
    )
    text = await taken.text()
    assert taken.status == 409 and "two different customers" in text, text
    assert "About my order</textarea>" in text and 'value="+44 20 7946 0000"' in text
    wrong = await desk.post("/conversations", {**call, "phone": "030 12", "body": "Hi"})
    text = await wrong.text()
    assert wrong.status == 400 and "not a phone number in Germany" in text
    assert 'value="030 12"' in text and '<option value="DE" selected>' in text
    national = await desk.post(
        "/conversations", {**call, "country": "", "phone": "030 1234567", "body": "Hi"}
    )
    assert national.status == 400 and "choose the country" in await national.text()
    assert len(await services.db.fetch_all("SELECT id FROM conversations")) == 3
    assert await customers_repo.by_identity(services.db, "phone", "+442079460000") == (
        other.customer_id
    )
