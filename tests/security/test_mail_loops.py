"""Issue 13, finding 12 (mail part): mail from the support address itself or from an agent is
never acknowledged (a loop risk), and no mail is ever sent to our own support address."""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path

from conftest import PASSWORD, free_port, make_config, start_server
from email_helpers import add_mailbox, eventually, mail, mailbox_form, scalar, smtp_send
from mail_servers import USER, Relay
from onlinesupport.core.conversations import Actor


async def test_mail_from_our_own_or_an_agents_address_is_never_acknowledged(
    tmp_path: Path, relay: Relay
) -> None:
    config = make_config(
        tmp_path / "data",
        email_smtp_port=free_port(),
        email_smtp_host="127.0.0.1",
        email_retry_seconds=0.2,
    )
    async with AsyncExitStack() as stack:
        services = (await start_server(stack, config)).services
        await add_mailbox(services, mailbox_form(None, relay, smtp_receive="on"))
        amy = await services.accounts.create_agent("amy@shop.test", "Amy", "agent", PASSWORD)
        port = services.email.smtp_port
        await smtp_send(port, mail(sender=USER, subject="Looped back"), USER)
        await smtp_send(port, mail(sender="Support+x@shop.test", subject="Plus address"), USER)
        await smtp_send(
            port, mail(sender="amy@shop.test", subject="From an agent"), "amy@shop.test"
        )
        await smtp_send(port, mail(subject="From a customer"), "carla@customer.test")
        [ack] = await relay.wait_for(1)
        assert ack["To"] == "carla@customer.test"
        assert await scalar(services, "SELECT count(*) FROM outbox") == 1
        warnings = [
            r[0]
            for r in await services.db.fetch_all(
                "SELECT warning FROM email_messages ORDER BY message_id"
            )
        ]
        assert "support address support@shop.test itself" in warnings[0]
        assert "support address support+x@shop.test itself" in warnings[1]
        assert "an agent's address (amy@shop.test)" in warnings[2]
        assert warnings[3] == ""
        # An answer in the looped conversation has nowhere to go but back to us: refused.
        await services.conversations.post(1, Actor.agent(amy, "Amy"), "Hello?")
        await eventually(
            lambda: scalar(
                services, "SELECT status = 'failed' FROM outbox WHERE conversation_id = 1"
            )
        )
        assert "mail loop" in await scalar(
            services, "SELECT last_error FROM outbox WHERE conversation_id = 1"
        )
        assert len(relay.received) == 1
