"""Public events: the stable event types integrations see, written in the events' transaction.

`PUBLIC_TYPES` is the one table from the model's internal events to the public types; a new
kind of event reaches webhooks and the event feed by adding a line there (and, if its data is
new, a line in `_DETAILS`). `PublicEvents` is a `Conversations.committing` hook: for every
internal event with a public type it writes the payload (the objects as the transaction leaves
them) and one delivery per enabled endpoint that wants the type, all in the same transaction
as the event, so a crash can lose neither.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from typing import Any

from onlinesupport.core.conversations.work import Work
from onlinesupport.integrations import objects
from onlinesupport.store import Transaction, integration_reads
from onlinesupport.store import messages as messages_repo
from onlinesupport.store import webhooks as webhooks_repo
from onlinesupport.store.events import Event
from onlinesupport.store.webhooks import Endpoint, PublicEvent

PUBLIC_TYPES: Mapping[str, str] = {
    "conversation.created": "conversation.created",
    "conversation.assigned": "conversation.assigned",
    "conversation.transferred": "conversation.assigned",
    "conversation.moved": "conversation.moved",
    "conversation.resolved": "conversation.resolved",
    "conversation.closed": "conversation.resolved",
    "conversation.reopened": "conversation.reopened",
    "conversation.rated": "conversation.rated",
    "message.posted": "message.created",
    "customer.created": "customer.created",
    "customer.updated": "customer.updated",
    "sla.warning": "sla.warning",
    "sla.breached": "sla.breached",
    "callback.requested": "callback.requested",
}
"""Internal event type -> public type. Internal types not named here stay inside."""

DESCRIPTIONS: Mapping[str, str] = {
    "conversation.created": "A conversation started (any channel, or through the API).",
    "conversation.assigned": "A conversation was given to an agent, transferred, or released.",
    "conversation.moved": "A conversation was moved to another queue.",
    "conversation.resolved": "A conversation was resolved (or closed, e.g. as spam).",
    "conversation.reopened": "A resolved conversation was opened again.",
    "conversation.rated": "The customer rated the conversation (1-5, with a comment).",
    "message.created": "A message was added: the customer's, an agent's, or an internal note "
    "(`note` is true; customers never see notes).",
    "customer.created": "A new customer (contact) was recorded.",
    "customer.updated": "A customer's profile changed.",
    "sla.warning": "An answer the customer waits for is due soon.",
    "sla.breached": "An answer the customer waits for is late.",
    "callback.requested": "A customer asked to be called back.",
    "ping": "A test event an admin sent to one endpoint.",
}
WEBHOOK_TYPES = tuple(DESCRIPTIONS)
"""Every type an endpoint can subscribe to, `ping` last."""

_DETAILS: Mapping[str, tuple[str, ...]] = {
    "conversation.assigned": ("previous_agent_id",),
    "conversation.moved": ("previous_queue_id", "reason"),
    "conversation.resolved": ("from",),
    "conversation.rated": ("score", "comment"),
    "sla.warning": ("target", "due_at"),
    "sla.breached": ("target", "due_at"),
}
"""Facts from the internal event's data that a public event passes on, beside its object."""

BODY_LIMIT = 8 * 1024
"""Message bodies longer than this (bytes) are cut in payloads; the API has them whole."""
MAX_PAYLOAD = 20 * 1024


def new_msg_id() -> str:
    """A webhook-id: the receiver's idempotency key, the same on every retry."""
    return "msg_" + secrets.token_hex(12)


def payload(type: str, timestamp: str, data: dict[str, Any]) -> str:
    """The body sent: {type, timestamp, data}, at most MAX_PAYLOAD bytes (a bigger one keeps
    only what names its objects; the API has the rest). `timestamp` as stored is RFC 3339."""
    body = json.dumps(
        {"type": type, "timestamp": timestamp, "data": data},
        separators=(",", ":"),
        ensure_ascii=False,
    )
    if len(body.encode()) <= MAX_PAYLOAD:
        return body
    slim = {
        key: {"id": value["id"]} if isinstance(value, dict) and "id" in value else value
        for key, value in data.items()
        if not isinstance(value, (str, list))
    }
    return json.dumps(
        {"type": type, "timestamp": timestamp, "data": {**slim, "truncated": True}},
        separators=(",", ":"),
        ensure_ascii=False,
    )


def event_json(event: PublicEvent) -> dict[str, Any]:
    """A public event as the feed returns it: its id (the cursor), webhook-id and payload."""
    return {"id": event.id, "webhook_id": event.msg_id, **json.loads(event.payload)}


class PublicEvents:
    """The `Conversations.committing` hook that records public events and their deliveries.

    The enabled endpoints are kept between transactions (every chat message comes here);
    whatever changes an endpoint calls `forget_endpoints` inside its own write, on the
    writer's thread, so the next transaction reads them again.
    """

    def __init__(self) -> None:
        self._endpoints: list[Endpoint] | None = None

    def forget_endpoints(self) -> None:
        self._endpoints = None

    def __call__(self, work: Work) -> None:
        for event in list(work.events):
            public = PUBLIC_TYPES.get(event.type)
            if public is None:
                continue
            if self._endpoints is None:
                self._endpoints = webhooks_repo.enabled_endpoints(work.conn)
            endpoints = self._endpoints
            if event.type == "conversation.created":
                self._announce_customer(work.conn, work.now, event, endpoints)
            self._write(work.conn, work.now, event, public, endpoints)

    def _announce_customer(
        self, conn: Transaction, now: str, opened: Event, endpoints: list[Endpoint]
    ) -> None:
        """A conversation that brought a new customer: customer.created comes first. (The
        model records no event of its own for it: the conversation's event says it.)"""
        customer_id = opened.data.get("customer_id")
        if not customer_id:
            return
        record = integration_reads.customer_in(conn, customer_id)
        if (
            record is None
            or record.created_at != now
            or webhooks_repo.announced(conn, customer_id, "customer.created")
        ):
            return
        self._write(conn, now, opened, "customer.created", endpoints, from_event=False)

    def _write(
        self,
        conn: Transaction,
        now: str,
        event: Event,
        public: str,
        endpoints: list[Endpoint],
        from_event: bool = True,
    ) -> None:
        """Write the public event `public` made of `event` (`from_event` False: told by it,
        not its own) and its deliveries."""
        data, customer_id = self._data(conn, event, public)
        if data is None:
            return
        row_id = webhooks_repo.insert_event(
            conn,
            event_id=event.id if from_event else None,
            msg_id=new_msg_id(),
            type=public,
            conversation_id=event.conversation_id,
            customer_id=customer_id,
            now=now,
            payload=payload(public, event.created_at, data),
        )
        wanted = [endpoint.id for endpoint in endpoints if endpoint.wants(public)]
        if wanted:
            key = f"customer:{customer_id}" if customer_id is not None else None
            webhooks_repo.insert_deliveries(conn, wanted, row_id, key, now)

    def _data(
        self, conn: Transaction, event: Event, public: str
    ) -> tuple[dict[str, Any] | None, int | None]:
        """The payload's data and the customer it is about (None, None: nothing to say)."""
        actor = {"type": event.actor_type, "id": event.actor_id}
        if public.startswith("customer."):
            record = integration_reads.customer_in(conn, event.data["customer_id"])
            if record is None:
                return None, None
            return {"customer": objects.customer(record), "actor": actor}, record.id
        if public == "message.created":
            message = event.message or messages_repo.lock(conn, event.data["message_id"])
            customer_id = integration_reads.customers_of(conn, [message.conversation_id])
            return (
                {
                    "message": objects.message(message, BODY_LIMIT),
                    "note": message.kind == "note",
                    "actor": actor,
                },
                customer_id.get(message.conversation_id),
            )
        if event.conversation_id is None:
            return None, None
        conversation = integration_reads.conversation_in(conn, event.conversation_id)
        if conversation is None:
            return None, None
        data: dict[str, Any] = {"conversation": objects.conversation(conversation), "actor": actor}
        data.update({k: event.data[k] for k in _DETAILS.get(public, ()) if k in event.data})
        if public == "callback.requested":
            data["callback"] = event.data
        return data, conversation.customer_id
