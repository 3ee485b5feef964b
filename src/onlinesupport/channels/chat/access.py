"""Visitor access: who holds a widget token, which conversations are theirs, how fast they send.

The visitor websocket and the widget's file upload both ask these questions; they ask them
here, so a visitor reads and writes only their own conversations by one rule, and a send
through either door counts against the same limits.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from onlinesupport.channels.chat import tokens
from onlinesupport.core.customers import own_conversation
from onlinesupport.lib.clock import Clock
from onlinesupport.lib.errors import UserError
from onlinesupport.lib.throttle import Throttle
from onlinesupport.store import Database
from onlinesupport.store import customers as customers_repo
from onlinesupport.store.conversations import ConversationView

MESSAGES_PER_MINUTE = 30
"""A visitor's sends a minute (messages, files, forms); more is a script, not a person typing."""


class NotTheirs(UserError):
    """The visitor has no conversation to put this in."""

    status = 403


class TooFast(UserError):
    """The visitor, or their network, sends faster than the limits allow."""

    status = 429


class VisitorAccess:
    def __init__(
        self, db: Database, clock: Clock, secret_key: bytes, *, messages_per_address: int
    ) -> None:
        self._db = db
        self._clock = clock
        self._secret_key = secret_key
        self._per_visitor = Throttle(clock, MESSAGES_PER_MINUTE, timedelta(minutes=1))
        self._per_address = Throttle(clock, messages_per_address, timedelta(minutes=1))

    async def visitor(self, token: Any, now: datetime) -> tuple[str | None, int | None]:
        """The visitor id of a token that is good at `now` (else None), and their customer id
        if they have written before."""
        visitor_id = tokens.verify(self._secret_key, token, now)
        customer_id = visitor_id and await customers_repo.by_identity(
            self._db, "visitor", visitor_id
        )
        return visitor_id, customer_id or None

    def next_token(self, now: datetime, visitor_id: str | None) -> tuple[str, str]:
        """(visitor id, token): a new visitor, or `visitor_id`'s next token."""
        return tokens.issue(self._secret_key, now, visitor_id)

    async def own_conversation(
        self, customer_id: int | None, conversation_id: int | None
    ) -> ConversationView | None:
        """The conversation if it is this customer's; anything else is as if it did not exist."""
        return await own_conversation(self._db, customer_id, conversation_id)

    def refuse_rate(self, visitor_id: str | None, address: str) -> str | None:
        """Why this send is refused (too fast for the visitor or the address), or None.

        A send that is let through counts against both; `visitor_id` None counts a new visitor
        against the address only.
        """
        visitor_key, address_key = f"visitor:{visitor_id}", f"address:{address}"
        if visitor_id is not None and self._per_visitor.retry_after(visitor_key):
            return "You are sending messages too quickly; wait a moment."
        if self._per_address.retry_after(address_key):
            return "Too many messages from your network; wait a minute."
        self._per_address.hit(address_key)
        if visitor_id is not None:
            self._per_visitor.hit(visitor_key)
        return None

    async def sender(
        self, token: Any, conversation_id: int | None, address: str
    ) -> tuple[int, int]:
        """(customer id, conversation id) for a send outside the websocket (a file): the
        token's own conversation, within the limits; raises NotTheirs or TooFast."""
        visitor_id, customer_id = await self.visitor(token, self._clock.now())
        found = await self.own_conversation(customer_id, conversation_id)
        if found is None or customer_id is None:
            raise NotTheirs("Start a chat before sending a file.")
        refused = self.refuse_rate(visitor_id, address)
        if refused:
            raise TooFast(refused)
        return customer_id, found["id"]
