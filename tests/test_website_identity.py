"""Verified website customers: a correctly signed user's chat lands on their customer, with
their history in the desk and nothing asked twice; signing in during a chat keeps the chat;
the secret is shown to admins and rotated at once."""

from __future__ import annotations

import re
from contextlib import AsyncExitStack
from typing import Any

import pytest

from conftest import ROOT, Personas, Server, make_config, start_server
from email_helpers import scalar
from onlinesupport.channels.chat import identity
from onlinesupport.channels.chat.identity import Claim, WebsiteUser, check, signature
from onlinesupport.core.conversations import SYSTEM
from onlinesupport.ops import datadir
from test_chat_protocol import visitor  # noqa: F401  (the fixture: visitors on an allowed site)

SECRET = "5e" * 32


def signed(server: Server, user_id: str = "42", **extra: Any) -> dict[str, Any]:
    """What the website's server hands the widget for a signed-in user."""
    return {
        "id": user_id,
        "email": "nora@kunde.test",
        "name": "Nora Kunde",
        "hash": signature(server.services.identity.secret, user_id),
        **extra,
    }


def test_the_signature_is_hmac_sha256_of_the_id_in_hex() -> None:
    # The same figure PHP's hash_hmac('sha256', '42', $secret) and Node's createHmac give.
    assert (
        signature("secret", "42")
        == "93c121e7aa437a1e01e3c512c6f0ce3c821a839025dca4408f85616de4aaee70"
    )
    good = {"id": "42", "email": "Nora@Kunde.test", "name": "Nora", "hash": signature(SECRET, "42")}
    assert check(SECRET, good) == Claim(WebsiteUser("42", "nora@kunde.test", "Nora"), "42")
    assert check(SECRET, {**good, "hash": good["hash"].upper()}).user is not None
    assert check(SECRET, {**good, "id": 42}).user == WebsiteUser("42", "nora@kunde.test", "Nora")
    assert check(SECRET, {**good, "email": "not an address"}).user.email == ""


def test_the_guides_python_example_signs_as_the_server_checks(monkeypatch) -> None:
    guide = (ROOT / "docs" / "website-chat.md").read_text(encoding="utf-8")
    example = guide.split("### Python")[1].split("```python")[1].split("```")[0]
    monkeypatch.setenv("ONLINESUPPORT_IDENTITY_SECRET", SECRET)
    namespace: dict[str, Any] = {}
    exec(compile(example, "website-chat.md", "exec"), namespace)  # noqa: S102 - our own guide
    claim = namespace["chat_user"](42, "nora@kunde.test", "Nora")
    assert check(SECRET, claim).user == WebsiteUser("42", "nora@kunde.test", "Nora")
    assert signature("secret", "42") in guide, "the guide's test figure is right"


@pytest.mark.parametrize(
    "claim",
    [
        None,
        "42",
        ["42"],
        {},
        {"id": ""},
        {"hash": "ab" * 32},
    ],
)
def test_a_page_that_names_nobody_is_an_anonymous_visitor(claim: Any) -> None:
    assert check(SECRET, claim) == identity.NOBODY


@pytest.mark.parametrize(
    "changes",
    [
        {"hash": "00" * 32},
        {"hash": ""},
        {"hash": None},
        {"hash": "zz" * 32},
        {"id": "43"},
        {"hash": signature(SECRET, "42") + "00"},
        {"id": True},
        {"id": "4\n2"},
        {"id": "x" * 201},
    ],
)
def test_a_wrong_or_malformed_signature_is_not_believed(changes: dict[str, Any]) -> None:
    claim = {"id": "42", "hash": signature(SECRET, "42"), **changes}
    checked = check(SECRET, claim)
    assert checked.user is None and checked.unverified
    assert len(checked.claimed_id) <= identity.MAX_ID and checked.claimed_id.isprintable()
    assert check("", {"id": "42", "hash": signature("", "42")}).user is None, "no secret, no trust"


async def test_a_signed_user_chats_as_their_customer_with_their_history(
    server: Server, personas: Personas, visitor, client_factory
) -> None:
    first = visitor()
    welcome = await first.connect(user=signed(server))
    assert welcome["visitor"] == {
        "verified": True,
        "unverified": False,
        "name": "Nora Kunde",
        "email": "nora@kunde.test",
    }
    await first.send(type="start", client_id="c1", body="Where is order 77?")
    earlier = (await first.receive("ack"))["conversation_id"]
    await server.services.conversations.resolve(earlier, SYSTEM)

    # Another browser, another day: the same website user is the same customer.
    second = visitor()
    await second.connect(user=signed(server, name="", email=""))
    await second.send(type="start", client_id="c2", body="And order 78?")
    latest = (await second.receive("ack"))["conversation_id"]
    customers = await server.services.db.fetch_all("SELECT DISTINCT customer_id FROM conversations")
    assert len(customers) == 1
    identities = await server.services.db.fetch_all(
        "SELECT kind, value FROM customer_identities ORDER BY id"
    )
    assert [r[0] for r in identities] == ["external", "email", "visitor", "visitor"]
    assert await scalar(server.services, "SELECT name FROM customers") == "Nora Kunde"

    desk = client_factory(server.desk_url)
    await desk.signin("amy@example.com")
    page = await (await desk.get(f"/conversations/{latest}")).text()
    assert "✓ Verified by your website (account 42)" in page
    assert "website account 42" in page and "email: nora@kunde.test" in page
    assert f'href="/conversations/{earlier}?view=open">#{earlier} chat' in page, (
        "the earlier conversation is in the desk at once"
    )


async def test_a_visitor_who_signs_in_during_a_chat_keeps_it(
    server: Server, personas: Personas, visitor
) -> None:
    anonymous = visitor()
    await anonymous.connect()
    await anonymous.send(type="start", client_id="c1", body="Can you see my account?")
    ack = await anonymous.receive("ack")
    anonymous.conversation_id = ack["conversation_id"]
    await anonymous.close()

    welcome = await anonymous.connect(user=signed(server))
    assert welcome["conversation_id"] == ack["conversation_id"], "the chat goes on"
    moved = await server.services.db.fetch_one(
        "SELECT c.customer_id, i.value FROM conversations c JOIN customer_identities i"
        " ON i.customer_id = c.customer_id AND i.kind = 'external'"
    )
    assert moved[1] == "42"
    data = await scalar(
        server.services, "SELECT data FROM events WHERE type = 'conversation.customer_verified'"
    )
    assert '"external_id":"42"' in data
    await anonymous.send(type="send", client_id="c2", body="I signed in")
    assert (await anonymous.receive("ack"))["seq"] == 2


async def test_admins_see_the_secret_and_a_new_one_is_in_force_at_once(
    server: Server, personas: Personas, visitor, client_factory
) -> None:
    old = signed(server)
    agent = client_factory(server.desk_url)
    await agent.signin("amy@example.com")
    assert (await agent.get("/admin/widget")).status == 403
    assert (await agent.post("/admin/widget/identity")).status == 403
    admin = client_factory(server.desk_url)
    await admin.signin("ada@example.com")
    page = await (await admin.get("/admin/widget")).text()
    shown = re.search(r'id="identity-secret">([0-9a-f]{64})<', page).group(1)
    assert shown == server.services.identity.secret
    no_csrf = await admin.session.post(admin.base + "/admin/widget/identity", allow_redirects=False)
    assert no_csrf.status == 403
    rotated = await admin.post("/admin/widget/identity")
    assert rotated.status == 303
    assert server.services.identity.secret != shown
    page = await (await admin.get(rotated.headers["Location"])).text()
    assert "A new secret is in force" in page and server.services.identity.secret in page
    stale = visitor()
    assert (await stale.connect(user=old))["visitor"]["verified"] is False
    fresh = visitor()
    assert (await fresh.connect(user=signed(server)))["visitor"]["verified"] is True
    stored = await scalar(
        server.services, "SELECT value FROM settings WHERE key = 'website_identity'"
    )
    assert server.services.identity.secret not in stored, "sealed in the database"


async def test_the_secret_survives_a_restart_and_a_restore_without_its_key(tmp_path) -> None:
    config = make_config(tmp_path / "data")
    async with AsyncExitStack() as stack:
        first = (await start_server(stack, config)).services.identity.secret
    async with AsyncExitStack() as stack:
        assert (await start_server(stack, config)).services.identity.secret == first
    (config.data_dir / datadir.SECRET_FILE).write_bytes(b"another instance's key" * 2)
    async with AsyncExitStack() as stack:
        replaced = (await start_server(stack, config)).services.identity.secret
    assert replaced != first and len(replaced) == 64
