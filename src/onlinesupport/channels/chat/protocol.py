"""The visitor side of chat: what a widget's websocket says and what the server answers.

Client → server (JSON objects with a `type`):
  hello   {token?, conversation_id?, last_seq?, user?, lang?}
                                                   first frame; resumes a conversation after
                                                   last_seq; `user` {id, email?, name?, hash} is
                                                   the website's signed-in user (identity.py);
                                                   `lang` the widget's language
  start   {client_id, body, name?, email?, page?, language?}
                                                   open a chat with the first message
  send    {client_id, body}                       a further message
  leave   {client_id, body, name?, email, subject?, question_type?, urgency?, page?}
                                                   the leave-a-message form (the contact form
                                                   inside the widget, when no agent is online)
  typing  {}                                       the visitor is typing
  end     {}                                       the visitor ends the chat
  rate    {score, comment?}                        satisfaction 1-5 for the chat (once)
  page    {url, title}                             the visitor opened a page of the site: a
                                                   page view for the reports, and in a chat a
                                                   step of its trail (at most 10 a minute are
                                                   recorded, the same page twice in a row once)
  queue   {}                                       where am I in the queue?
  proactive {message_id, event, page?}             a proactive message was shown, clicked,
                                                   dismissed, or led to a chat
  answered {article_id, question?}                 a suggested article answered the question
                                                   (a chat still waiting for its first answer
                                                   leaves the queue: it is resolved)
  callback_options {}                              what the callback form offers now
  callback {client_id, phone, country, about, window, name?, email?}
                                                   ask to be called back (channels/phone)
Server → client:
  welcome {token, conversation_id, agents_online, widget, proactive, form, visitor, callbacks}
                                                   `visitor` {verified, unverified, name, email}:
                                                   what the pre-chat form need not ask;
                                                   `callbacks` the offer's words ("" while off)
  message {seq, author_type, author_name, body, created_at, client_id, attachments}
  ack     {client_id, conversation_id, seq}        sent only after the commit (a callback's
                                                   also has callback {phone, window, start, end})
  typing  {name}                                   an agent is typing
  ended   {}                                       the chat was ended (by either side)
  rated   {}                                       the rating was stored
  queue   {position, wait_minutes}                 waiting for a first answer (position null:
                                                   not waiting)
  read    {seq}                                    agents have read the chat up to this message
  answered {conversation_id}                        the deflection was recorded (and the waiting
                                                   chat, if any, resolved)
  callback_options {enabled, countries?, country?, zone?, windows?}
                                                   windows: [{key, end, day, label, time}]
                                                   (key: the start; both in UTC)
  error   {message, client_id?, retry?}           the frame (the message of client_id) is refused;
                                                   with retry true it is not refused but could
                                                   not be stored (a full disk): send it again later

Delivery: messages carry the conversation's `seq`; a reconnecting widget sends the last seq it
has and gets everything after it from the store. Each send carries a `client_id`, so a resend
after a lost ack returns the first ack again instead of adding a message. Internal notes never
reach the visitor.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import statistics
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypedDict

from onlinesupport.channels.chat.access import VisitorAccess
from onlinesupport.channels.chat.identity import NOBODY, Claim, WebsiteIdentity
from onlinesupport.channels.chat.presence import Presence
from onlinesupport.channels.chat.proactive import InvalidProactive, Proactive
from onlinesupport.channels.chat.widget_settings import WidgetSettings
from onlinesupport.channels.forms.contact import URGENCY, ContactForm
from onlinesupport.channels.phone.callbacks import Callbacks, TooManyCallbacks
from onlinesupport.core.attachments import FileStore
from onlinesupport.core.conversations import Actor, ConversationMerged, Conversations
from onlinesupport.core.conversations.service import DEFAULT_QUEUE, SYSTEM
from onlinesupport.core.conversations.work import Work
from onlinesupport.core.hub import Hub, Notice, SubscriberLagged
from onlinesupport.knowledge.service import KnowledgeBase
from onlinesupport.lib.clock import Clock, to_db
from onlinesupport.lib.errors import UserError
from onlinesupport.lib.inputs import MAX_ID, email_address, row_id, whole_number
from onlinesupport.lib.supervisor import cause
from onlinesupport.lib.throttle import Throttle
from onlinesupport.routing.due import chat_calendar
from onlinesupport.store import Database
from onlinesupport.store import conversations as conversations_repo
from onlinesupport.store import customers as customers_repo
from onlinesupport.store import kb as kb_repo
from onlinesupport.store import messages as messages_repo
from onlinesupport.store import queues as queues_repo
from onlinesupport.store import website_users as users_repo
from onlinesupport.store.errors import StorageFull, StoreClosed, StoreError
from onlinesupport.store.events import Event
from onlinesupport.store.messages import Message

if TYPE_CHECKING:
    from onlinesupport.reports.recording import Recorder

log = logging.getLogger(__name__)
Send = Callable[[dict[str, Any]], Awaitable[None]]
TYPING_EVERY = timedelta(seconds=2)
GIVEN_UP_AFTER = timedelta(hours=1)
"""A waiting visitor who has written nothing for this long has left: not counted in line."""
CATCH_UP_PAGE = 500
PAGE_VIEWS_PER_MINUTE = 10
"""Page views recorded a minute per visitor; more is a script, not a person reading."""
LISTENER_FIRST_WAIT = 1.0
LISTENER_MAX_WAIT = 30.0


class ProtocolError(UserError):
    """The visitor's frame is not acceptable; the message is sent back as an error."""


@dataclass
class ChatContext:
    """What every visitor session shares."""

    db: Database
    hub: Hub
    clock: Clock
    conversations: Conversations
    presence: Presence
    files: FileStore
    access: VisitorAccess
    page_views: Throttle
    socket_buffer: int
    """Most bytes of events waiting for one visitor's socket (more: caught up from the store)."""
    knowledge: KnowledgeBase
    proactive: Proactive
    contact: ContactForm
    identity: WebsiteIdentity
    callbacks: Callbacks
    recorder: Recorder


class _Chat(TypedDict):
    """A start frame's chat, as `Conversations.open` and `Identity.open_chat` take it."""

    body: str
    client_id: str
    page_url: str
    page_title: str
    page_referrer: str
    language: str


def _page_of(frame: dict[str, Any]) -> dict[str, Any]:
    """The page a frame describes (url, title, referrer); empty when it names none."""
    page = frame.get("page")
    return page if isinstance(page, dict) else {}


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


def _id(frame: dict[str, Any], name: str) -> int:
    found = row_id(frame.get(name))
    if found is None:
        raise ProtocolError(f"{name} must be a whole number from 1 to {MAX_ID}", name)
    return found


class VisitorSession:
    """One widget connection: authenticates the visitor, relays their chat both ways."""

    def __init__(
        self, context: ChatContext, widget: WidgetSettings, send: Send, address: str
    ) -> None:
        self._ctx = context
        self._widget = widget
        self._send = send
        self._address = address
        self.visitor_id: str | None = None
        self.customer_id: int | None = None
        self.conversation_id: int | None = None
        self.claim: Claim = NOBODY
        self._last_seq = 0
        self._push_lock = asyncio.Lock()
        self._listener: asyncio.Task[None] | None = None
        self._last_typing: datetime | None = None
        self._last_page = ""

    async def handle(self, frame: Any) -> None:
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            raise ProtocolError("each frame must be a JSON object with a type")
        kind = frame["type"]
        if kind == "hello":
            await self._hello(frame)
            return
        if self.visitor_id is None:
            raise ProtocolError("say hello first")
        handler = {
            "start": self._start,
            "send": self._send_message,
            "leave": self._leave,
            "typing": self._typing,
            "page": self._page,
            "end": self._end,
            "rate": self._rate,
            "queue": self._queue,
            "answered": self._answered,
            "proactive": self._proactive,
            "callback_options": self._callback_options,
            "callback": self._callback,
        }.get(kind)
        if handler is None:
            raise ProtocolError(f"unknown frame type {kind!r}")
        await handler(frame)

    async def _hello(self, frame: dict[str, Any]) -> None:
        if self.visitor_id is not None:
            raise ProtocolError("hello was said already")
        # Checked before anything is kept: a refused hello leaves the socket ready for another.
        wanted = None if frame.get("conversation_id") is None else _id(frame, "conversation_id")
        last_seq = whole_number(frame.get("last_seq") or 0, 0, MAX_ID)
        if last_seq is None:
            raise ProtocolError(f"last_seq must be a whole number from 0 to {MAX_ID}", "last_seq")
        now = self._ctx.clock.now()
        self.claim = self._ctx.identity.check(frame.get("user"))
        visitor_id, customer_id = await self._ctx.access.visitor(frame.get("token"), now)
        visitor_id, self.customer_id = await self._as_signed_in(visitor_id, customer_id)
        if visitor_id is None:
            # New visitors cost the address too, so nobody escapes the limits by starting over.
            self._limit(None)
        # A returning visitor gets the next token: theirs lasts as long as they keep coming.
        visitor_id, token = self._ctx.access.next_token(now, visitor_id)
        self.visitor_id = visitor_id
        read_seq = 0
        found = await self._ctx.access.own_conversation(self.customer_id, wanted)
        if found is not None:
            self.conversation_id = wanted
            read_seq = found["agent_read_seq"]
            # A widget ahead of the store (a backup was restored) would wait for a seq that
            # never comes: it gets everything after the store's last message instead.
            last_seq = min(last_seq, found["last_seq"])
        self._last_seq = last_seq
        if self.conversation_id is not None:
            await self._ctx.recorder.chat_returned(self.conversation_id, self.customer_id)
        # Outside the chat queue's business hours the widget offers the leave-a-message form.
        queue = await queues_repo.get(self._ctx.db, DEFAULT_QUEUE)
        open_now = queue is None or chat_calendar(queue).is_open(self._ctx.clock.now())
        customer = self.customer_id and await customers_repo.get(self._ctx.db, self.customer_id)
        user = self.claim.user
        await self._send(
            {
                "type": "welcome",
                "token": token,
                "conversation_id": self.conversation_id,
                "agents_online": open_now and self._ctx.presence.anyone_online(),
                "widget": self._widget.for_visitor(),
                "form": {
                    "question_types": await self._ctx.contact.question_types(),
                    "urgency": URGENCY,
                },
                "proactive": await self._ctx.proactive.for_visitor(
                    customer["tier"] if customer else None, open_now
                ),
                "visitor": {
                    "verified": user is not None,
                    "unverified": self.claim.unverified,
                    "name": self._known(user, customer, "name"),
                    "email": self._known(user, customer, "email"),
                },
                "callbacks": await self._ctx.callbacks.offer(frame.get("lang")),
            }
        )
        if self.conversation_id is not None:
            self._follow()
            if read_seq:
                await self._send({"type": "read", "seq": read_seq})

    async def _as_signed_in(
        self, visitor_id: str | None, customer_id: int | None
    ) -> tuple[str | None, int | None]:
        """The visitor's token and customer as the page's user allows. A verified user's
        browser is theirs (a chat in progress moves with them); a token of a verified customer
        is refused (None) when the page does not name them: they signed out, or another
        website user signed in on the same computer."""
        user = self.claim.user
        if user is None:
            if customer_id is not None and await users_repo.verified(self._ctx.db, customer_id):
                return None, None
            return visitor_id, customer_id
        verified_id = await self._ctx.identity.customer(user)
        if visitor_id is None or customer_id is None or customer_id == verified_id:
            return visitor_id, verified_id
        adopted = await self._ctx.identity.sign_in(user, visitor_id)
        return (visitor_id, adopted) if adopted is not None else (None, verified_id)

    @staticmethod
    def _known(user: Any, customer: Any, field: str) -> str:
        """A verified visitor's name or email, from the website or their profile."""
        if user is None:
            return ""
        return getattr(user, field) or (customer[field] if customer else "")

    def _follow(self) -> None:
        """Send what the visitor has not seen yet, then keep following the conversation."""
        self._listener = asyncio.create_task(self._listen(self.conversation_id))

    async def _listen(self, conversation_id: int | None) -> None:
        """Push the conversation to the visitor until the socket closes.

        A failure that is not the socket's (the store stopping, a bug) is logged once per cause
        and the listener starts again after a wait, catching up from the store, rather than
        leaving the visitor without pushes and nothing said.
        """
        assert conversation_id is not None
        said, wait = "", LISTENER_FIRST_WAIT
        while True:
            with self._ctx.hub.subscribe(
                conversation_id, maxsize=1000, max_bytes=self._ctx.socket_buffer
            ) as subscription:
                try:
                    await self._push_new()
                    while True:
                        item = await subscription.get()
                        if isinstance(item, Event) and item.type == "message.posted":
                            await self._push(item.message)
                        elif isinstance(item, Event) and item.type == "conversation.resolved":
                            await self._send({"type": "ended"})
                        elif (
                            isinstance(item, Notice)
                            and item.type == "typing"
                            and item.data.get("author_type") == "agent"
                        ):
                            await self._send({"type": "typing", "name": item.data.get("name", "")})
                        elif isinstance(item, Notice) and item.type == "read":
                            await self._send({"type": "read", "seq": item.data["seq"]})
                except SubscriberLagged:
                    continue
                except ConnectionError:
                    raise  # the visitor went away: nothing to push to
                except Exception as exc:  # noqa: BLE001 - see above
                    if cause(exc) != said:
                        said = cause(exc)
                        log.exception(
                            "visitor listener of conversation %d failed; following "
                            "it again in %.0f s",
                            conversation_id,
                            wait,
                        )
                    await asyncio.sleep(wait)
                    wait = min(LISTENER_MAX_WAIT, wait * 2)

    async def _push(self, message: Message | None) -> None:
        """Send a just-committed message; from the store instead if any before it is missing."""
        if message is None or message.seq != self._last_seq + 1:
            await self._push_new()
            return
        async with self._push_lock:
            if message.seq == self._last_seq + 1:
                await self._deliver(message)

    async def _push_new(self) -> None:
        """Messages after the last one sent, from the store, a page at a time until none is
        left (a reloaded long chat starts from 0); never one twice, never a note."""
        assert self.conversation_id is not None
        async with self._push_lock:
            while True:
                page = await messages_repo.after(
                    self._ctx.db, self.conversation_id, self._last_seq, CATCH_UP_PAGE
                )
                for message in page:
                    await self._deliver(message)
                if len(page) < CATCH_UP_PAGE:
                    return

    async def _deliver(self, message: Message) -> None:
        self._last_seq = message.seq
        if message.kind != "message":
            return
        await self._send(
            {
                "type": "message",
                "seq": message.seq,
                "author_type": message.author_type,
                "author_name": message.author_name if message.author_type == "agent" else "",
                "body": message.body,
                "created_at": message.created_at,
                "client_id": message.client_id if message.author_type == "customer" else None,
                "attachments": [
                    {
                        "filename": a["filename"],
                        "content_type": a["content_type"],
                        "size": a["size"],
                        "url": self._ctx.files.visitor_link(a["id"], self._ctx.clock.now()),
                    }
                    for a in message.attachments
                ],
            }
        )

    def _limit(self, visitor_id: str | None) -> None:
        refused = self._ctx.access.refuse_rate(visitor_id, self._address)
        if refused:
            raise ProtocolError(refused)

    async def _start(self, frame: dict[str, Any]) -> None:
        if self.conversation_id is not None:
            await self._send_message(frame)
            return
        assert self.visitor_id is not None  # `handle` takes no other frame before hello
        self._limit(self.visitor_id)
        page = _page_of(frame)
        name = _string(frame, "name", 200)
        email = _string(frame, "email", 320).strip().lower()
        user = self.claim.user
        self._require(name or (user.name if user else ""), email or (user.email if user else ""))
        chat = _Chat(
            body=_string(frame, "body", 20_000, required=True),
            client_id=_string(frame, "client_id", 64, required=True),
            page_url=_string(page, "url", 2000),
            page_title=_string(page, "title", 500),
            page_referrer=_string(page, "referrer", 2000),
            language=_string(frame, "language", 10),
        )
        if user is not None or self.claim.unverified:
            opened = await self._ctx.identity.open_chat(
                self.claim, self.visitor_id, name=name, email=email, **chat
            )
        else:
            opened = await self._ctx.conversations.open(
                channel="chat", customer_name=name, identity=("visitor", self.visitor_id), **chat
            )
            if email and not opened.duplicate:
                await self._keep_email(opened.customer_id, opened.conversation_id, email)
        self.customer_id = opened.customer_id
        self.conversation_id = opened.conversation_id
        await self._ack(frame["client_id"], opened.message.seq if opened.message else 0)
        self._follow()

    async def _keep_email(self, customer_id: int, conversation_id: int, email: str) -> None:
        """The address from the pre-chat form goes on the customer record (transcripts, answers
        by mail, history across channels). An address another customer has is not taken over,
        since anyone can type one: the agents get a note to check it is them."""

        def command(work: Work) -> None:
            owner = customers_repo.add_email(work.conn, customer_id, email)
            if owner is not None:
                self._ctx.conversations.post_in(
                    work,
                    conversation_id,
                    SYSTEM,
                    f"The visitor gave the email address {email}, which belongs to "
                    f"{owner.name or 'another customer'} (customer #{owner.id}). It was "
                    "not added to this chat's customer: anyone can type an address, so check "
                    "it is them before sending anything there.",
                    kind="note",
                )

        await self._ctx.conversations.run(command)

    def _require(self, name: str, email: str) -> None:
        if self._widget.ask_name == "required" and not name.strip():
            raise ProtocolError("Please tell us your name.")
        if self._widget.ask_email == "required" and not email:
            raise ProtocolError("Please give your email address.")
        if email:
            email_address(email)

    async def _ack(self, client_id: str, seq: int) -> None:
        await self._send(
            {
                "type": "ack",
                "client_id": client_id,
                "conversation_id": self.conversation_id,
                "seq": seq,
            }
        )

    async def _send_message(self, frame: dict[str, Any]) -> None:
        if self.conversation_id is None:
            raise ProtocolError("start a chat first")
        self._limit(self.visitor_id)
        client_id = _string(frame, "client_id", 64, required=True)
        posted = await self._ctx.conversations.post(
            self.conversation_id,
            Actor.customer(self.customer_id),
            _string(frame, "body", 20_000, required=True),
            client_id=client_id,
        )
        await self._ack(client_id, posted.message.seq)

    async def _leave(self, frame: dict[str, Any]) -> None:
        """The leave-a-message form: an email conversation the desk answers later."""
        self._limit(self.visitor_id)
        name = _string(frame, "name", 200)
        email = _string(frame, "email", 320, required=True).strip()
        self._require(name, email)
        client_id = _string(frame, "client_id", 64, required=True)
        page = _page_of(frame)
        await self._ctx.contact.leave_message(
            {
                "name": name,
                "email": email,
                "subject": _string(frame, "subject", 200),
                "message": _string(frame, "body", 20_000, required=True),
                "question_type": _string(frame, "question_type", 100),
                "urgency": _string(frame, "urgency", 20),
                "page": _string(page, "url", 2000),
            },
            client_id,
        )
        await self._send({"type": "ack", "client_id": client_id, "conversation_id": None, "seq": 1})

    async def _callback_options(self, frame: dict[str, Any]) -> None:
        options = await self._ctx.callbacks.options()
        await self._send(
            {"type": "callback_options", "enabled": options is not None, **(options or {})}
        )

    async def _callback(self, frame: dict[str, Any]) -> None:
        """The widget's callback form: a verified visitor's lands on their customer, anyone
        else's on the customer with that email address or number (as a left message does)."""
        self._limit(self.visitor_id)
        client_id = _string(frame, "client_id", 64, required=True)
        fields = {
            name: _string(frame, name, limit)
            for name, limit in (
                ("name", 200),
                ("email", 320),
                ("phone", 40),
                ("country", 10),
                ("about", 2000),
                ("window", 40),
            )
        }
        user, customer_id = self.claim.user, None
        if user is not None:
            assert self.visitor_id is not None
            customer_id = self.customer_id or await self._ctx.identity.sign_in(
                user, self.visitor_id
            )
            self.customer_id = customer_id
        try:
            done = await self._ctx.callbacks.request(
                fields,
                source="widget",
                address=self._address,
                customer_id=customer_id,
                client_id=client_id,
            )
        except TooManyCallbacks:
            raise ProtocolError(
                "Too many callback requests from your network; please try again later."
            ) from None
        await self._send(
            {
                "type": "ack",
                "client_id": client_id,
                "conversation_id": None,
                "seq": 1,
                "callback": {
                    "phone": done.phone,
                    "window": done.window,
                    "start": done.start,
                    "end": done.end,
                },
            }
        )

    async def _end(self, frame: dict[str, Any]) -> None:
        if self.conversation_id is None:
            raise ProtocolError("there is no chat to end")
        try:
            changed = await self._ctx.conversations.resolve(
                self.conversation_id, Actor.customer(self.customer_id)
            )
        except ConversationMerged:
            changed = False  # closed by the merge already, and it stays so
        if not changed:
            await self._send({"type": "ended"})

    async def _rate(self, frame: dict[str, Any]) -> None:
        if self.conversation_id is None:
            raise ProtocolError("there is no chat to rate")
        await self._ctx.conversations.rate(
            self.conversation_id,
            Actor.customer(self.customer_id),
            frame.get("score"),
            _string(frame, "comment", 1000),
        )
        await self._send({"type": "rated"})

    async def _queue(self, frame: dict[str, Any]) -> None:
        place = None
        if self.conversation_id is not None:
            gave_up = to_db(self._ctx.clock.now() - GIVEN_UP_AFTER)
            place = await conversations_repo.queue_position(
                self._ctx.db, self.conversation_id, gave_up
            )
        if place is None:
            await self._send({"type": "queue", "position": None, "wait_minutes": None})
            return
        position, waits = place
        # The typical (median) first answer of the last day, not the mean: one chat answered
        # the next morning must not promise every visitor a wait of hours. Without recent
        # answers, two minutes a chat; the agents online share the line.
        each = statistics.median(waits) if waits else 2.0
        agents = max(1, len(self._ctx.presence.online()))
        wait = math.ceil(position / agents) * each
        await self._send(
            {"type": "queue", "position": position, "wait_minutes": max(1, round(wait))}
        )

    async def _proactive(self, frame: dict[str, Any]) -> None:
        message_id, event = _id(frame, "message_id"), frame.get("event")
        if not isinstance(event, str):
            raise ProtocolError("a proactive frame needs message_id and event", "event")
        self._limit(self.visitor_id)
        try:
            await self._ctx.recorder.proactive(
                message_id,
                event,
                f"visitor:{self.visitor_id}",
                _string(frame, "page", 2000),
                self.conversation_id,
                self.customer_id,
            )
        except InvalidProactive as exc:
            raise ProtocolError(str(exc)) from None

    async def _answered(self, frame: dict[str, Any]) -> None:
        article_id = _id(frame, "article_id")
        self._limit(self.visitor_id)
        if await kb_repo.published(self._ctx.db, article_id) is None:
            raise ProtocolError("there is no such article")
        resolved = None
        if (
            self.conversation_id is not None
            and await conversations_repo.queue_position(self._ctx.db, self.conversation_id)
            is not None
        ):
            resolved = self.conversation_id
        # Recorded before the chat is resolved, so the reports see a deflection, not a visitor
        # who gave up waiting.
        await self._ctx.knowledge.deflected(
            article_id,
            "widget",
            _string(frame, "question", 2000),
            resolved,
            asker=f"visitor:{self.visitor_id}",
        )
        if resolved is not None:
            # Still waiting for a first answer: the article answered it, so it leaves the queue.
            await self._ctx.conversations.resolve(resolved, Actor.customer(self.customer_id))
        await self._send({"type": "answered", "conversation_id": resolved})

    async def _typing(self, frame: dict[str, Any]) -> None:
        now = self._ctx.clock.now()
        if self.conversation_id is None or (
            self._last_typing is not None and now - self._last_typing < TYPING_EVERY
        ):
            return
        self._last_typing = now
        self._ctx.hub.publish([Notice(self.conversation_id, "typing", {"author_type": "customer"})])

    async def _page(self, frame: dict[str, Any]) -> None:
        """A page view: counted for the reports, and in a chat a step of its trail."""
        url = _string(frame, "url", 2000, required=True)
        # The same page again (a reload) is no new view; a flood is dropped quietly.
        if url == self._last_page or not self._ctx.page_views.allow(f"visitor:{self.visitor_id}"):
            return
        self._last_page = url
        self._ctx.recorder.page_viewed(url)
        if self.conversation_id is None:
            return
        await self._ctx.conversations.record_page(
            self.conversation_id,
            Actor.customer(self.customer_id),
            url,
            _string(frame, "title", 500),
        )

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            # A socket that went away mid-send ends the listener with a connection error.
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await self._listener
        if self.conversation_id is not None:
            # A report detail: never a reason for closing the socket to fail (a full disk, a
            # server stopping).
            with contextlib.suppress(StoreError, StoreClosed, StorageFull):
                await self._ctx.recorder.chat_left(self.conversation_id, self.customer_id)
