"""The visitor side of chat: what a widget's websocket says and what the server answers.

Client → server (JSON objects with a `type`):
  hello   {token?, conversation_id?, last_seq?, page?}
                                                   first frame; resumes a conversation after
                                                   last_seq; `page` (the address) counts a view
  start   {client_id, body, name?, email?, page?, language?}
                                                   open a chat with the first message
  send    {client_id, body}                       a further message
  leave   {client_id, body, name?, email, subject?, question_type?, urgency?, page?}
                                                   the leave-a-message form (the contact form
                                                   inside the widget, when no agent is online)
  typing  {}                                       the visitor is typing
  end     {}                                       the visitor ends the chat
  rate    {score, comment?}                        satisfaction 1-5 for the chat
  page    {url, title}                             the visitor opened another page of the site
  queue   {}                                       where am I in the queue?
  proactive {message_id, event, page?}             a proactive message was shown, clicked,
                                                   dismissed, or led to a chat
  answered {article_id, question?}                 a suggested article answered the question
                                                   (a chat still waiting for its first answer
                                                   leaves the queue: it is resolved)
Server → client:
  welcome {token, conversation_id, agents_online, widget, proactive, form}
  message {seq, author_type, author_name, body, created_at, client_id, attachments}
  ack     {client_id, conversation_id, seq}        sent only after the commit
  typing  {name}                                   an agent is typing
  ended   {}                                       the chat was ended (by either side)
  rated   {}                                       the rating was stored
  queue   {position, wait_minutes}                 waiting for a first answer (position null: not waiting)
  read    {seq}                                    agents have read the chat up to this message
  answered {conversation_id}                        the deflection was recorded (and the waiting
                                                   chat, if any, resolved)
  error   {message}

Delivery: messages carry the conversation's `seq`; a reconnecting widget sends the last seq it
has and gets everything after it from the store. Each send carries a `client_id`, so a resend
after a lost ack returns the first ack again instead of adding a message. Internal notes never
reach the visitor.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from onlinesupport.attachments import FileStore
from onlinesupport.channels.chat import tokens
from onlinesupport.channels.chat.presence import Presence
from onlinesupport.channels.chat.proactive import InvalidProactive, Proactive
from onlinesupport.channels.chat.widget_settings import WidgetSettings
from onlinesupport.channels.forms.contact import URGENCY, ContactForm
from onlinesupport.clock import Clock
from onlinesupport.conversations import Actor, Conversations
from onlinesupport.conversations.service import DEFAULT_QUEUE
from onlinesupport.hub import Hub, Notice, SubscriberLagged
from onlinesupport.knowledge.service import KnowledgeBase
from onlinesupport.store import Database
from onlinesupport.routing.due import chat_calendar
from onlinesupport.store import conversations as conversations_repo
from onlinesupport.store import queues as queues_repo
from onlinesupport.store import customers as customers_repo
from onlinesupport.store import kb as kb_repo
from onlinesupport.store import messages as messages_repo
from onlinesupport.store.errors import StoreError
from onlinesupport.store.events import Event
from onlinesupport.store.messages import Message
from onlinesupport.throttle import Throttle

if TYPE_CHECKING:
    from onlinesupport.reports.recording import Recorder

Send = Callable[[dict[str, Any]], Awaitable[None]]
TYPING_EVERY = timedelta(seconds=2)


class ProtocolError(ValueError):
    """The visitor's frame is not acceptable; the message is sent back as an error."""


@dataclass
class ChatContext:
    """What every visitor session shares."""

    db: Database
    hub: Hub
    clock: Clock
    conversations: Conversations
    presence: Presence
    secret_key: bytes
    files: FileStore
    message_limit: Throttle
    address_limit: Throttle
    knowledge: KnowledgeBase
    proactive: Proactive
    contact: ContactForm
    recorder: Recorder

    def refuse_rate(self, visitor_id: str | None, address: str) -> str | None:
        """Why this send is refused (too fast for the visitor or the address), or None.

        A send that is let through counts against both; `visitor_id` None counts a new visitor
        against the address only.
        """
        visitor_key, address_key = f"visitor:{visitor_id}", f"address:{address}"
        if visitor_id is not None and self.message_limit.retry_after(visitor_key):
            return "You are sending messages too quickly; wait a moment."
        if self.address_limit.retry_after(address_key):
            return "Too many messages from your network; wait a minute."
        self.address_limit.hit(address_key)
        if visitor_id is not None:
            self.message_limit.hit(visitor_key)
        return None


def _string(frame: dict[str, Any], name: str, limit: int, required: bool = False) -> str:
    value = frame.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ProtocolError(f"{name} must be text")
    if required and not value.strip():
        raise ProtocolError(f"{name} is empty")
    if len(value) > limit:
        raise ProtocolError(f"{name} is longer than {limit} characters")
    return value


class VisitorSession:
    """One widget connection: authenticates the visitor, relays their chat both ways."""

    def __init__(self, context: ChatContext, widget: WidgetSettings, send: Send,
                 address: str) -> None:
        self._ctx = context
        self._widget = widget
        self._send = send
        self._address = address
        self.visitor_id: str | None = None
        self.customer_id: int | None = None
        self.conversation_id: int | None = None
        self._last_seq = 0
        self._push_lock = asyncio.Lock()
        self._listener: asyncio.Task[None] | None = None
        self._last_typing: datetime | None = None

    async def handle(self, frame: Any) -> None:
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            raise ProtocolError("each frame must be a JSON object with a type")
        kind = frame["type"]
        if kind == "hello":
            await self._hello(frame)
            return
        if self.visitor_id is None:
            raise ProtocolError("say hello first")
        handler = {"start": self._start, "send": self._send_message, "leave": self._leave,
                   "typing": self._typing, "page": self._page, "end": self._end,
                   "rate": self._rate, "queue": self._queue,
                   "answered": self._answered, "proactive": self._proactive}.get(kind)
        if handler is None:
            raise ProtocolError(f"unknown frame type {kind!r}")
        await handler(frame)

    async def _hello(self, frame: dict[str, Any]) -> None:
        if self.visitor_id is not None:
            raise ProtocolError("hello was said already")
        token = frame.get("token")
        visitor_id = tokens.verify(self._ctx.secret_key, token)
        if visitor_id is None:
            # New visitors cost the address too, so nobody escapes the limits by starting over.
            self._limit(None)
            visitor_id, token = tokens.issue(self._ctx.secret_key)
        self.visitor_id = visitor_id
        self.customer_id = await customers_repo.by_identity(self._ctx.db, "visitor", visitor_id)
        wanted = frame.get("conversation_id")
        read_seq = 0
        if isinstance(wanted, int) and self.customer_id is not None:
            found = await conversations_repo.get(self._ctx.db, wanted)
            # A visitor sees only their own conversations; anything else is as if it did not exist.
            if found is not None and found["customer_id"] == self.customer_id:
                self.conversation_id = wanted
                read_seq = found["agent_read_seq"]
        page = frame.get("page")
        if isinstance(page, str) and page:
            self._ctx.recorder.page_viewed(page[:2000])
        if self.conversation_id is not None:
            await self._ctx.recorder.chat_returned(self.conversation_id, self.customer_id)
        last_seq = frame.get("last_seq")
        self._last_seq = last_seq if isinstance(last_seq, int) and last_seq >= 0 else 0
        # Outside the chat queue's business hours the widget offers the leave-a-message form.
        queue = await queues_repo.get(self._ctx.db, DEFAULT_QUEUE)
        open_now = queue is None or chat_calendar(queue).is_open(self._ctx.clock.now())
        customer = self.customer_id and await customers_repo.get(self._ctx.db, self.customer_id)
        await self._send({"type": "welcome", "token": token,
                          "conversation_id": self.conversation_id,
                          "agents_online": open_now and self._ctx.presence.anyone_online(),
                          "widget": self._widget.for_visitor(),
                          "form": {"question_types": await self._ctx.contact.question_types(),
                                   "urgency": URGENCY},
                          "proactive": await self._ctx.proactive.for_visitor(
                              customer["tier"] if customer else None, open_now)})
        if self.conversation_id is not None:
            self._follow()
            if read_seq:
                await self._send({"type": "read", "seq": read_seq})

    def _follow(self) -> None:
        """Send what the visitor has not seen yet, then keep following the conversation."""
        self._listener = asyncio.create_task(self._listen(self.conversation_id))

    async def _listen(self, conversation_id: int | None) -> None:
        assert conversation_id is not None
        while True:
            with self._ctx.hub.subscribe(conversation_id, maxsize=1000) as subscription:
                await self._push_new()
                try:
                    while True:
                        item = await subscription.get()
                        if isinstance(item, Event) and item.type == "message.posted":
                            await self._push(item.message)
                        elif isinstance(item, Event) and item.type == "conversation.resolved":
                            await self._send({"type": "ended"})
                        elif isinstance(item, Notice) and item.type == "typing" and \
                                item.data.get("author_type") == "agent":
                            await self._send({"type": "typing", "name": item.data.get("name", "")})
                        elif isinstance(item, Notice) and item.type == "read":
                            await self._send({"type": "read", "seq": item.data["seq"]})
                except SubscriberLagged:
                    continue

    async def _push(self, message: Message | None) -> None:
        """Send a just-committed message; from the store instead if any before it is missing."""
        if message is None or message.seq != self._last_seq + 1:
            await self._push_new()
            return
        async with self._push_lock:
            if message.seq == self._last_seq + 1:
                await self._deliver(message)

    async def _push_new(self) -> None:
        """Messages after the last one sent, from the store; never one twice, never a note."""
        assert self.conversation_id is not None
        async with self._push_lock:
            for message in await messages_repo.after(self._ctx.db, self.conversation_id,
                                                     self._last_seq):
                await self._deliver(message)

    async def _deliver(self, message: Message) -> None:
        self._last_seq = message.seq
        if message.kind != "message":
            return
        await self._send({
            "type": "message", "seq": message.seq, "author_type": message.author_type,
            "author_name": message.author_name if message.author_type == "agent" else "",
            "body": message.body, "created_at": message.created_at,
            "client_id": message.client_id if message.author_type == "customer" else None,
            "attachments": [{"filename": a["filename"], "content_type": a["content_type"],
                             "size": a["size"],
                             "url": f"/widget/files/{a['id']}/{self._ctx.files.signature(a['id'])}"}
                            for a in message.attachments]})

    def _limit(self, visitor_id: str | None) -> None:
        refused = self._ctx.refuse_rate(visitor_id, self._address)
        if refused:
            raise ProtocolError(refused)

    async def _start(self, frame: dict[str, Any]) -> None:
        if self.conversation_id is not None:
            await self._send_message(frame)
            return
        self._limit(self.visitor_id)
        page = frame.get("page") if isinstance(frame.get("page"), dict) else {}
        name = _string(frame, "name", 200)
        email = _string(frame, "email", 320).strip()
        self._require(name, email)
        opened = await self._ctx.conversations.open(
            channel="chat", customer_name=name, identity=("visitor", self.visitor_id),
            body=_string(frame, "body", 20_000, required=True),
            client_id=_string(frame, "client_id", 64, required=True),
            page_url=_string(page, "url", 2000), page_title=_string(page, "title", 500),
            page_referrer=_string(page, "referrer", 2000), language=_string(frame, "language", 10))
        self.customer_id = opened.customer_id
        self.conversation_id = opened.conversation_id
        await self._ack(frame["client_id"], opened.message.seq if opened.message else 0)
        self._follow()

    def _require(self, name: str, email: str) -> None:
        if self._widget.ask_name == "required" and not name.strip():
            raise ProtocolError("Please tell us your name.")
        if self._widget.ask_email == "required" and not email:
            raise ProtocolError("Please give your email address.")
        if email and ("@" not in email or " " in email):
            raise ProtocolError("That email address does not look right.")

    async def _ack(self, client_id: str, seq: int) -> None:
        await self._send({"type": "ack", "client_id": client_id,
                          "conversation_id": self.conversation_id, "seq": seq})

    async def _send_message(self, frame: dict[str, Any]) -> None:
        if self.conversation_id is None:
            raise ProtocolError("start a chat first")
        self._limit(self.visitor_id)
        client_id = _string(frame, "client_id", 64, required=True)
        posted = await self._ctx.conversations.post(
            self.conversation_id, Actor.customer(self.customer_id),
            _string(frame, "body", 20_000, required=True), client_id=client_id)
        await self._ack(client_id, posted.message.seq)

    async def _leave(self, frame: dict[str, Any]) -> None:
        """The leave-a-message form: an email conversation the desk answers later."""
        self._limit(self.visitor_id)
        name = _string(frame, "name", 200)
        email = _string(frame, "email", 320, required=True).strip()
        self._require(name, email)
        client_id = _string(frame, "client_id", 64, required=True)
        page = frame.get("page") if isinstance(frame.get("page"), dict) else {}
        await self._ctx.contact.leave_message({
            "name": name, "email": email, "subject": _string(frame, "subject", 200),
            "message": _string(frame, "body", 20_000, required=True),
            "question_type": _string(frame, "question_type", 100),
            "urgency": _string(frame, "urgency", 20),
            "page": _string(page, "url", 2000)}, client_id)
        await self._send({"type": "ack", "client_id": client_id, "conversation_id": None,
                          "seq": 1})

    async def _end(self, frame: dict[str, Any]) -> None:
        if self.conversation_id is None:
            raise ProtocolError("there is no chat to end")
        changed = await self._ctx.conversations.resolve(self.conversation_id,
                                                        Actor.customer(self.customer_id))
        if not changed:
            await self._send({"type": "ended"})

    async def _rate(self, frame: dict[str, Any]) -> None:
        if self.conversation_id is None:
            raise ProtocolError("there is no chat to rate")
        await self._ctx.conversations.rate(self.conversation_id, Actor.customer(self.customer_id),
                                           frame.get("score"), _string(frame, "comment", 1000))
        await self._send({"type": "rated"})

    async def _queue(self, frame: dict[str, Any]) -> None:
        place = None
        if self.conversation_id is not None:
            place = await conversations_repo.queue_position(self._ctx.db, self.conversation_id)
        if place is None:
            await self._send({"type": "queue", "position": None, "wait_minutes": None})
            return
        position, mean_wait = place
        # Without recent answers to go by, assume two minutes a chat.
        wait = round(position * (mean_wait if mean_wait is not None else 2.0))
        await self._send({"type": "queue", "position": position, "wait_minutes": max(1, wait)})

    async def _proactive(self, frame: dict[str, Any]) -> None:
        message_id, event = frame.get("message_id"), frame.get("event")
        if not isinstance(message_id, int) or not isinstance(event, str):
            raise ProtocolError("a proactive frame needs message_id and event")
        self._limit(self.visitor_id)
        try:
            await self._ctx.recorder.proactive(message_id, event, _string(frame, "page", 2000),
                                               self.conversation_id, self.customer_id)
        except InvalidProactive as exc:
            raise ProtocolError(str(exc)) from None

    async def _answered(self, frame: dict[str, Any]) -> None:
        article_id = frame.get("article_id")
        if not isinstance(article_id, int) or isinstance(article_id, bool):
            raise ProtocolError("article_id must be a number")
        self._limit(self.visitor_id)
        if await kb_repo.published(self._ctx.db, article_id) is None:
            raise ProtocolError("there is no such article")
        resolved = None
        if self.conversation_id is not None and await conversations_repo.queue_position(
                self._ctx.db, self.conversation_id) is not None:
            resolved = self.conversation_id
        # Recorded before the chat is resolved, so the reports see a deflection, not a visitor
        # who gave up waiting.
        await self._ctx.knowledge.deflected(article_id, "widget",
                                            _string(frame, "question", 2000), resolved)
        if resolved is not None:
            # Still waiting for a first answer: the article answered it, so it leaves the queue.
            await self._ctx.conversations.resolve(resolved, Actor.customer(self.customer_id))
        await self._send({"type": "answered", "conversation_id": resolved})

    async def _typing(self, frame: dict[str, Any]) -> None:
        now = self._ctx.clock.now()
        if self.conversation_id is None or (
                self._last_typing is not None and now - self._last_typing < TYPING_EVERY):
            return
        self._last_typing = now
        self._ctx.hub.publish([Notice(self.conversation_id, "typing", {"author_type": "customer"})])

    async def _page(self, frame: dict[str, Any]) -> None:
        if self.conversation_id is None:
            return
        await self._ctx.conversations.record_page(
            self.conversation_id, Actor.customer(self.customer_id),
            _string(frame, "url", 2000, required=True), _string(frame, "title", 500))

    async def close(self) -> None:
        if self.conversation_id is not None:
            # A report detail: never a reason for closing the socket to fail.
            with contextlib.suppress(StoreError):
                await self._ctx.recorder.chat_left(self.conversation_id, self.customer_id)
        if self._listener is not None:
            self._listener.cancel()
            # A socket that went away mid-send ends the listener with a connection error.
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await self._listener

