"""More queues: added by the admin with members, chosen by a mailbox, moved between by managers."""

from __future__ import annotations

from conftest import Personas, Server
from email_helpers import mail, mailbox_form, scalar
from mail_servers import USER
from onlinesupport.channels.email.intake import Incoming


async def test_a_billing_queue_gets_its_mail_and_a_manager_moves_work_between_queues(
    server: Server, personas: Personas, client_factory
) -> None:
    admin = client_factory(server.desk_url)
    await admin.signin("ada@example.com")
    assert (await admin.post("/admin/queues", {"name": "Billing"})).status == 303
    again = await admin.post("/admin/queues", {"name": "Billing"})
    assert again.status == 400 and "exists already" in await again.text()
    saved = await admin.post(
        "/admin/queues/2",
        {
            "first_response_minutes": "120",
            "next_response_minutes": "240",
            "timezone": "UTC",
            "hours": "",
            "holidays": "",
            "member": [str(personas.agent), str(personas.manager)],
        },
    )
    assert saved.status == 303
    members = await server.services.db.fetch_all(
        "SELECT agent_id FROM queue_members WHERE queue_id = 2 ORDER BY agent_id"
    )
    assert [m[0] for m in members] == sorted([personas.agent, personas.manager])

    response = await admin.post(
        "/admin/mailboxes",
        mailbox_form(None, None, smtp_receive="on", queue_id="2", ack_enabled=""),
    )
    assert response.status == 303
    mailbox = dict(await server.services.db.fetch_one("SELECT * FROM mailboxes"))
    assert mailbox["address"] == USER and mailbox["queue_id"] == 2
    await server.services.email.intake.receive(mailbox, Incoming(mail(subject="Refund?")))
    assert await scalar(server.services, "SELECT queue_id FROM conversations") == 2
    page = await (await admin.get("/conversations/1")).text()
    assert "queue Billing" in page

    agent = client_factory(server.desk_url)
    await agent.signin("amy@example.com")
    assert (await agent.post("/conversations/1/move", {"queue_id": "1"})).status == 403
    manager = client_factory(server.desk_url)
    await manager.signin("max@example.com")
    moved = await manager.post_json("/conversations/1/move", {"queue_id": 1})
    assert (await moved.json())["changed"] is True
    assert await scalar(server.services, "SELECT queue_id FROM conversations") == 1
    assert (
        await scalar(server.services, "SELECT data FROM events WHERE type = 'conversation.moved'")
        == '{"queue_id":1,"queue_name":"General","previous_queue_id":2}'
    )
    missing = await manager.post_json("/conversations/1/move", {"queue_id": 99})
    assert missing.status == 404
