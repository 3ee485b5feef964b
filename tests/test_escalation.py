"""Escalation to the back office: a problem record in an internal queue, its status changes
seen by the agent in the conversation and by the customer on their page."""

from __future__ import annotations

import json

from conftest import Desk, Personas, Server
from email_helpers import add_mailbox, mailbox_form
from mail_servers import Relay
from onlinesupport.lib.clock import to_db
from onlinesupport.store import queues as queues_repo
from test_my_page import _signed_in


async def test_an_rma_is_escalated_worked_on_and_its_status_reaches_the_customer(
    server: Server, personas: Personas, client_factory, relay: Relay
) -> None:
    services = server.services
    now = to_db(services.clock.now())
    tech = await services.db.write(lambda conn: queues_repo.insert(conn, "Technical", now))
    opened = await services.conversations.open(
        channel="form",
        customer_name="Lee",
        identity=("email", "lee@customer.test"),
        subject="Broken charger",
        body="My charger stopped working.",
    )
    cid = opened.conversation_id
    amy: Desk = client_factory(server.desk_url)
    await amy.signin("amy@example.com")
    await amy.post(f"/conversations/{cid}/assign", {"agent_id": "me"})
    fields = {
        "type": "rma",
        "product": "Charger C2",
        "serial_number": "SN-77",
        "rma_number": "",
        "summary": "Dead on arrival, please check",
    }

    refused = await amy.post(f"/conversations/{cid}/escalate", {**fields, "queue_id": "1"})
    assert refused.status == 400 and "internal (back-office) queues" in await refused.text()
    admin: Desk = client_factory(server.desk_url)
    await admin.signin("ada@example.com")
    await admin.post(
        f"/admin/queues/{tech}",
        {
            "timezone": "UTC",
            "hours": "",
            "holidays": "",
            "first_response_minutes": "60",
            "next_response_minutes": "240",
            "internal": "on",
        },
    )
    page = await (await amy.get(f"/conversations/{cid}")).text()
    assert "Escalate to the back office" in page
    escalated = await amy.post(f"/conversations/{cid}/escalate", {**fields, "queue_id": str(tech)})
    assert escalated.status == 303

    bob: Desk = client_factory(server.desk_url)
    await bob.signin("bob@example.com")
    board = await (await bob.get("/problems")).text()
    assert "Technical" in board and "Broken charger" in board and "with Amy Agent" in board
    problem_id = await services.db.fetch_one("SELECT id FROM problems")
    updated = await bob.post(
        f"/problems/{problem_id[0]}",
        {**fields, "rma_number": "RMA-1042", "status": "waiting for parts"},
    )
    assert updated.status == 303

    row = await services.db.fetch_one(
        "SELECT assignee_id, queue_id FROM conversations WHERE id = ?", (cid,)
    )
    assert tuple(row) == (personas.agent, 1), "the agent keeps the customer"
    events = await services.db.fetch_all(
        "SELECT type, data FROM events WHERE conversation_id = ? AND type LIKE 'problem.%'"
        " ORDER BY id",
        (cid,),
    )
    assert [e["type"] for e in events] == ["problem.escalated", "problem.updated"]
    assert json.loads(events[1]["data"])["status"] == "waiting for parts"
    view = await (await amy.get(f"/conversations/{cid}")).text()
    assert "RMA-1042" in view and "waiting for parts" in view

    # The customer's own page shows the case and its state (not the internal summary).
    await add_mailbox(services, mailbox_form(None, relay, smtp_receive="on", ack_enabled=""))
    lee, _ = await _signed_in(server, relay, client_factory, "lee@customer.test")
    mine = await (await lee.get(f"/my/conversations/{cid}")).text()
    assert "Your return (RMA) RMA-1042, Charger C2:" in mine and "waiting for parts" in mine
    assert "Dead on arrival" not in mine
