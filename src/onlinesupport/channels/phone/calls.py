"""Calls and visits an agent logs in the desk ("Log a call"): a phone conversation, assigned
to the agent who took it, on the customer the email address or phone number given names.

A number given is the customer's from then on, written in E.164 as every phone number is
stored (read in the country chosen, which starts at the business's), so the next call or
callback request from it finds the same customer.
"""

from __future__ import annotations

from dataclasses import dataclass

from onlinesupport.channels.phone import numbers
from onlinesupport.channels.phone.callbacks import Callbacks
from onlinesupport.core.conversations import Actor, Conversations, InvalidCommand
from onlinesupport.core.customers import CustomerChanges, Customers


@dataclass(frozen=True)
class LoggedCall:
    name: str = ""
    email: str = ""
    phone: str = ""
    country: str = ""
    """The country `phone` is read in when it is written nationally."""
    subject: str = ""
    body: str = ""


class PhoneCalls:
    def __init__(
        self, conversations: Conversations, customers: Customers, callbacks: Callbacks
    ) -> None:
        self._conversations = conversations
        self._customers = customers
        self._callbacks = callbacks

    async def country(self) -> str:
        """The country chosen first for the number (the one the callback forms start at)."""
        return await self._callbacks.country()

    async def log(self, call: LoggedCall, agent: Actor) -> int:
        """The conversation for the call, assigned to `agent`. Raises a UserError naming the
        field at fault: InvalidPhone, IdentityTaken when the address and the number belong to
        two different customers, InvalidCommand."""
        if not call.body.strip():
            raise InvalidCommand("write down what the customer asked", "body")
        phone = ""
        if call.phone.strip():
            try:
                e164, _ = numbers.normalise(call.phone, call.country)
            except numbers.InvalidPhone as exc:
                raise numbers.InvalidPhone(exc.message, "phone") from None
            phone = numbers.display(e164)
        customer_id = None
        if call.email.strip() or phone:
            customer_id = await self._customers.identify(
                CustomerChanges(name=call.name, email=call.email.strip(), phone=phone), None, agent
            )
        opened = await self._conversations.open(
            channel="phone",
            customer_name=call.name,
            customer_id=customer_id,
            subject=call.subject,
            body=call.body,
            actor=agent,
        )
        assert agent.id is not None  # an agent logs a call
        await self._conversations.assign(opened.conversation_id, agent.id, agent)
        return opened.conversation_id
