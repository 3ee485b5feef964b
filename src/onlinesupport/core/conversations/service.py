"""The conversation commands: open, post, note, assign, resolve, reopen.

Each command is one write transaction that changes the conversation and appends its events;
the events are published on the hub only after the commit, in commit order. Channels, routing
and the web handlers all change conversations through this class, never through SQL.

A channel whose intake is more than one step (an email: find the thread, the customer, record
the mail) writes its own command with `run`, and builds it from `open_in` and `post_in`, so the
whole intake is one transaction. Features take part in the commands' transactions through the
hooks of `onlinesupport.core.conversations.hooks` (routing, mail, mentions, scripts, chat notices,
webhooks), registered in `onlinesupport.services.wire_hooks`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from onlinesupport.core.conversations.hooks import Hooks
from onlinesupport.core.conversations.work import Work
from onlinesupport.core.hub import Hub, Notice
from onlinesupport.lib.clock import Clock, to_db
from onlinesupport.lib.errors import UserError
from onlinesupport.lib.inputs import is_email_address, one_line, phone_number
from onlinesupport.store import Database, Transaction
from onlinesupport.store import agents as agents_repo
from onlinesupport.store import attachments as attachments_repo
from onlinesupport.store import conversations as conversations_repo
from onlinesupport.store import customers as customers_repo
from onlinesupport.store import events as events_repo
from onlinesupport.store import messages as messages_repo
from onlinesupport.store import queues as queues_repo
from onlinesupport.store.agents import Agent
from onlinesupport.store.attachments import StoredFile
from onlinesupport.store.conversations import Conversation
from onlinesupport.store.events import Event
from onlinesupport.store.messages import Message
from onlinesupport.store.queues import Candidate, Queue

CHANNELS = ("chat", "email", "form", "phone")
IDENTITY_KINDS = ("email", "visitor", "phone")
MAX_BODY = 20_000
MAX_SUBJECT = 200
MAX_NAME = 200
MAX_CLIENT_ID = 64
DEFAULT_QUEUE = 1
"""The General queue (made by the first migration, never deleted): where a conversation goes
unless its channel or a rule says otherwise; its time zone is the business's."""
T = TypeVar("T")
Command = Callable[[Work], T]


class InvalidCommand(UserError):
    """The command's input is not acceptable; the message is safe to show to the user."""


class ConversationMerged(InvalidCommand):
    """A merged conversation stays closed: it is answered in the one it was merged into."""

    status = 409

    def __init__(self, conversation_id: int, into: int) -> None:
        super().__init__(
            f"#{conversation_id} was merged into #{into} and stays closed: answer in #{into}"
        )


def refuse_if_merged(conversation_id: int, merged_into: int | None) -> None:
    """Raise ConversationMerged for a merged conversation: only its customer still writes
    there (copied to the one it went into); every agent's action goes to that one."""
    if merged_into is not None:
        raise ConversationMerged(conversation_id, merged_into)


@dataclass(frozen=True)
class Actor:
    """Who does something: a customer, an agent or the system."""

    type: str
    id: int | None = None
    name: str = ""

    @classmethod
    def agent(cls, agent_id: int, name: str) -> Actor:
        return cls("agent", agent_id, name)

    @classmethod
    def customer(cls, customer_id: int | None = None, name: str = "") -> Actor:
        return cls("customer", customer_id, name)


@dataclass(frozen=True)
class Opened:
    conversation_id: int
    customer_id: int
    message: Message | None
    duplicate: bool = False


@dataclass(frozen=True)
class Posted:
    message: Message
    duplicate: bool


def _text(value: str, what: str, limit: int, required: bool = True) -> str:
    text = (value or "").strip()
    if required and not text:
        raise InvalidCommand(f"{what} is empty")
    if len(text) > limit:
        raise InvalidCommand(f"{what} is longer than {limit} characters")
    return text


def _client_id(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if len(value) > MAX_CLIENT_ID or not value.isprintable():
        raise InvalidCommand(f"client_id must be at most {MAX_CLIENT_ID} printable characters")
    return value


SYSTEM = Actor("system", None, "")


class Conversations:
    def __init__(self, db: Database, hub: Hub, clock: Clock) -> None:
        self._db = db
        self._hub = hub
        self._clock = clock
        self.hooks = Hooks()
        """What the features add to each command's transaction (set by `wire_hooks`)."""

    async def run(self, command: Command[T]) -> T:
        """Write `command(work)`, then publish the events it appended to `work.events`."""

        def transaction(conn: Transaction) -> tuple[T, list[Event]]:
            work = Work(conn, to_db(self._clock.now()))
            result = command(work)
            if self.hooks.received:
                self._run_received(work)
            for hook in self.hooks.committing:
                hook(work=work)
            return result, work.events

        result, events = await self._db.write(transaction)
        self._hub.publish(events)
        return result

    def _run_received(self, work: Work) -> None:
        created = {e.conversation_id for e in work.events if e.type == "conversation.created"}
        arrived = [
            e.message
            for e in work.events
            if e.type == "message.posted"
            and e.actor_type == "customer"
            and e.data.get("kind") == "message"
        ]
        for message in arrived:
            if message is None:
                continue
            if conversations_repo.merge_target(work.conn, message.conversation_id) != (
                message.conversation_id
            ):
                # A customer writing into a merged conversation: the copy in the one it went
                # into is what rules, scripts and answer targets act on, not the original too
                # (or a rule would auto-reply twice).
                continue
            for hook in self.hooks.received:
                hook(
                    work=work,
                    conversation_id=message.conversation_id,
                    message=message,
                    new=message.conversation_id in created,
                )

    def auto_reply_in(
        self,
        work: Work,
        conversation_id: int,
        text: str,
        name: str,
    ) -> Message:
        """Inside a command: an automatic answer the customer receives like an agent's (mailed
        in mail conversations), which is not the first response an agent owes."""
        return self.send_in(work, conversation_id, Actor("agent", None, name), text)

    def send_in(
        self,
        work: Work,
        conversation_id: int,
        actor: Actor,
        text: str,
    ) -> Message:
        """Inside a command: a message sent on its own (a script's question, a notice in the
        chat) with none of `post_in`'s consequences: no first response, reopening or waking.
        An agent's is delivered like any (the `outbound` hooks run)."""
        return self._insert_message(work, conversation_id, actor, "message", text, None)

    async def open(
        self,
        *,
        channel: str,
        customer_name: str = "",
        identity: tuple[str, str] | None = None,
        subject: str = "",
        body: str = "",
        client_id: str | None = None,
        page_url: str = "",
        page_title: str = "",
        page_referrer: str = "",
        language: str = "",
        actor: Actor | None = None,
        customer_id: int | None = None,
    ) -> Opened:
        """Start a conversation for the customer owning `identity` (created if new).

        `body`, when given, is the customer's first message; `actor` is who opened it (the
        customer by default, or an agent logging a phone call). `customer_id` names a known
        customer instead of `identity`. A retry with the same `client_id` for the same
        customer returns the conversation it opened the first time.
        """
        if channel not in CHANNELS:
            raise InvalidCommand(f"channel must be one of {', '.join(CHANNELS)}")
        name = _text(customer_name, "name", MAX_NAME, required=False)
        subject = _text(subject, "subject", MAX_SUBJECT, required=False)
        body = _text(body, "message", MAX_BODY, required=False)
        client_id = _client_id(client_id)
        typed = None
        if identity is not None:
            kind, value = identity
            if kind not in IDENTITY_KINDS:
                raise InvalidCommand(f"identity kind must be one of {', '.join(IDENTITY_KINDS)}")
            value = _text(value, kind, 320)
            if kind == "email":
                if not is_email_address(value):
                    raise InvalidCommand(
                        "the customer's email address must be one address such as name@example.com",
                        "email",
                    )
                value = value.lower()
            elif kind == "phone":  # found however it is typed; shown as typed
                typed, value = value, phone_number(value)
            identity = (kind, value)

        known = customer_id

        def command(work: Work) -> Opened:
            if known is not None:
                customer_id = customers_repo.lock(work.conn, known).id
            elif identity is None:
                customer_id = customers_repo.create(work.conn, name, work.now)
            else:
                customer_id = customers_repo.find_or_create(
                    work.conn, *identity, name, work.now, typed
                )
            if client_id is not None and (known is not None or identity is not None):
                earlier = messages_repo.by_customer_client_id(work.conn, customer_id, client_id)
                if earlier is not None:
                    return Opened(earlier.conversation_id, customer_id, earlier, duplicate=True)
            conversation_id = self.open_in(
                work,
                channel=channel,
                customer_id=customer_id,
                subject=subject,
                opener=actor or Actor.customer(customer_id, name),
                page_url=page_url,
                page_title=page_title,
                page_referrer=page_referrer,
                language=language,
            )
            message = None
            if body:
                message = self._insert_message(
                    work,
                    conversation_id,
                    Actor.customer(customer_id, name),
                    "message",
                    body,
                    client_id,
                )
            return Opened(conversation_id, customer_id, message)

        return await self.run(command)

    def open_in(
        self,
        work: Work,
        *,
        channel: str,
        customer_id: int,
        subject: str,
        opener: Actor,
        queue_id: int = DEFAULT_QUEUE,
        page_url: str = "",
        page_title: str = "",
        page_referrer: str = "",
        language: str = "",
    ) -> int:
        """Inside a command: create the conversation (the caller checked the input)."""
        # Every channel's subject ends up in mail headers, where a line break breaks the mail.
        subject = one_line(subject)
        conversation_id = conversations_repo.insert(
            work.conn,
            customer_id=customer_id,
            channel=channel,
            subject=subject,
            queue_id=queue_id,
            now=work.now,
            page_url=page_url[:2000],
            page_title=page_title[:500],
            page_referrer=page_referrer[:2000],
            language=language.strip().lower()[:10],
        )
        work.emit(
            conversation_id,
            "conversation.created",
            opener.type,
            opener.id,
            {"channel": channel, "subject": subject, "customer_id": customer_id},
        )
        for hook in self.hooks.opened:
            hook(work=work, conversation_id=conversation_id)
        return conversation_id

    def _insert_message(
        self,
        work: Work,
        conversation_id: int,
        actor: Actor,
        kind: str,
        body: str,
        client_id: str | None,
        seq: int | None = None,
        files: Sequence[StoredFile] = (),
    ) -> Message:
        if seq is None:
            seq = conversations_repo.take_seq(work.conn, conversation_id, work.now).last_seq
        message = messages_repo.insert(
            work.conn,
            conversation_id=conversation_id,
            seq=seq,
            author_type=actor.type,
            author_id=actor.id,
            kind=kind,
            body=body,
            client_id=client_id,
            now=work.now,
            author_name=actor.name,
        )
        if files:
            message = replace(
                message,
                attachments=tuple(
                    attachments_repo.insert(work.conn, message.id, file, work.now) for file in files
                ),
            )
        work.emit(
            conversation_id,
            "message.posted",
            actor.type,
            actor.id,
            {"seq": seq, "kind": kind, "message_id": message.id},
            message=message,
        )
        if actor.type == "agent" and kind in ("message", "note"):
            for hook in self.hooks.outbound if kind == "message" else self.hooks.noted:
                hook(
                    work=work,
                    conversation_id=conversation_id,
                    message=message,
                )
        return message

    async def post(
        self,
        conversation_id: int,
        actor: Actor,
        body: str,
        *,
        kind: str = "message",
        client_id: str | None = None,
        files: Sequence[StoredFile] = (),
        take: bool = False,
    ) -> Posted:
        """Add a message or an internal note; a retry with the same `client_id` adds nothing.

        `files` are already in the data folder; they are linked to the message in the same
        transaction. On a duplicate they are not linked, and the caller removes them. With
        `take`, an agent's message to an unassigned conversation also assigns it to them.
        """
        if kind not in ("message", "note"):
            raise InvalidCommand("kind must be message or note")
        if kind == "note" and actor.type != "agent":
            raise InvalidCommand("only agents write internal notes")
        body = _text(body, "message", MAX_BODY)
        client_id = _client_id(client_id)

        def command(work: Work) -> Posted:
            if client_id is not None:
                existing = messages_repo.by_client_id(work.conn, conversation_id, client_id)
                if existing is not None:
                    return Posted(existing, duplicate=True)
            message = self.post_in(
                work,
                conversation_id,
                actor,
                body,
                kind=kind,
                client_id=client_id,
                files=files,
            )
            if take and actor.type == "agent" and actor.id is not None and kind == "message":
                conversation = conversations_repo.lock(work.conn, conversation_id)
                if conversation.assignee_id is None:
                    self.assign_in(work, conversation, agents_repo.lock(work.conn, actor.id), actor)
            return Posted(message, duplicate=False)

        return await self.run(command)

    def post_in(
        self,
        work: Work,
        conversation_id: int,
        actor: Actor,
        body: str,
        *,
        kind: str = "message",
        client_id: str | None = None,
        files: Sequence[StoredFile] = (),
    ) -> Message:
        """Inside a command: add a message (a customer's reopens a resolved conversation and
        wakes a snoozed one; in a merged one, it is copied to the conversation it went into).
        Nobody else writes in a merged conversation, not even a note: it is answered in the
        one it went into (ConversationMerged)."""
        conversation = conversations_repo.take_seq(work.conn, conversation_id, work.now)
        if actor.type != "customer":
            refuse_if_merged(conversation_id, conversation.merged_into)
        merged = actor.type == "customer" and conversation.merged_into is not None
        if (
            actor.type == "customer"
            and conversation.status in ("resolved", "closed")
            and not merged
        ):
            conversations_repo.update(work.conn, conversation_id, work.now, status="open")
            work.emit(conversation_id, "conversation.reopened", actor.type, actor.id)
        if actor.type == "customer" and conversation.snoozed_at:
            self.wake_in(work, conversation_id, "reply", actor)
        message = self._insert_message(
            work,
            conversation_id,
            actor,
            kind,
            body,
            client_id,
            seq=conversation.last_seq,
            files=files,
        )
        if actor.type == "agent" and kind == "message" and not conversation.first_response_at:
            conversations_repo.update(
                work.conn, conversation_id, work.now, first_response_at=work.now
            )
            work.emit(conversation_id, "conversation.first_response", actor.type, actor.id)
        if merged:
            # The sender's client follows this conversation by seq, so the message stays here;
            # agents answer in the conversation it was merged into, so a copy goes there.
            self.post_in(
                work,
                conversations_repo.merge_target(work.conn, conversation_id),
                actor,
                body,
                kind=kind,
            )
        return message

    def wake_in(
        self,
        work: Work,
        conversation_id: int,
        reason: str,
        actor: Actor,
    ) -> None:
        """Inside a command: end the conversation's snooze (`reason`: reply, time or agent)."""
        conversations_repo.update(
            work.conn, conversation_id, work.now, snoozed_at=None, snoozed_until=None
        )
        work.emit(conversation_id, "conversation.woke", actor.type, actor.id, {"reason": reason})

    async def _record(
        self,
        conversation_id: int,
        actor: Actor,
        type: str,
        data: dict[str, Any],
        *,
        once: str | None = None,
    ) -> None:
        """A command that changes nothing but the record: one event on the conversation
        (refused with the message `once` when the conversation has one of that type)."""

        def command(work: Work) -> None:
            conversations_repo.lock(work.conn, conversation_id)
            if once is not None and events_repo.has(work.conn, conversation_id, type):
                raise InvalidCommand(once)
            work.emit(conversation_id, type, actor.type, actor.id, data)

        await self.run(command)

    async def rate(self, conversation_id: int, actor: Actor, score: object, comment: str) -> None:
        """The customer's satisfaction with the conversation: 1 (bad) to 5 (great), and why."""
        if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
            raise InvalidCommand("the rating must be a whole number from 1 to 5")
        comment = _text(comment, "comment", 1000, required=False)
        # One rating a conversation: a flood of them must not fill the event log.
        await self._record(
            conversation_id,
            actor,
            "conversation.rated",
            {"score": score, "comment": comment},
            once="this conversation has been rated already",
        )

    async def mark_read(self, conversation_id: int, seq: int) -> None:
        """An agent has seen the conversation up to message `seq` (tells the visitor, no event)."""
        if seq < 1:
            return
        moved = await self._db.write(
            lambda conn: conversations_repo.mark_read(conn, conversation_id, seq)
        )
        if moved is not None:
            self._hub.publish([Notice(conversation_id, "read", {"seq": moved})])

    async def record_page(self, conversation_id: int, actor: Actor, url: str, title: str) -> None:
        """The visitor opened a page of the website during the conversation (the trail)."""
        await self._record(
            conversation_id, actor, "page.viewed", {"url": url[:2000], "title": title[:500]}
        )

    async def note(
        self, conversation_id: int, actor: Actor, body: str, client_id: str | None = None
    ) -> Posted:
        return await self.post(conversation_id, actor, body, kind="note", client_id=client_id)

    async def assign(self, conversation_id: int, agent_id: int | None, actor: Actor) -> bool:
        """Give the conversation to an agent (None: unassign); False when nothing changed."""

        def command(work: Work) -> bool:
            conversation = conversations_repo.lock(work.conn, conversation_id)
            agent = self._active_agent(work.conn, agent_id) if agent_id is not None else None
            return self.assign_in(work, conversation, agent, actor)

        return await self.run(command)

    def assign_in(
        self,
        work: Work,
        conversation: Conversation,
        agent: Agent | Candidate | None,
        actor: Actor,
    ) -> bool:
        """Inside a command: give the conversation to `agent` (id, name; None: unassign). A
        merged conversation is given to nobody (ConversationMerged); releasing it is allowed."""
        agent_id = agent.id if agent is not None else None
        if conversation.assignee_id == agent_id:
            return False
        if agent_id is not None:
            refuse_if_merged(conversation.id, conversation.merged_into)
        conversations_repo.update(work.conn, conversation.id, work.now, assignee_id=agent_id)
        work.emit(
            conversation.id,
            "conversation.assigned",
            actor.type,
            actor.id,
            {
                "agent_id": agent_id,
                "agent_name": agent.name if agent is not None else "",
                "previous_agent_id": conversation.assignee_id,
            },
        )
        return True

    async def transfer(
        self, conversation_id: int, agent_id: int, actor: Actor, note: str = ""
    ) -> None:
        """Hand the conversation to another agent, with an internal note for them (a chat's
        visitor is told by `channels.chat.notices`, as for `invite`)."""
        note = _text(note, "note", MAX_BODY, required=False)

        def command(work: Work) -> None:
            conversation = conversations_repo.lock(work.conn, conversation_id)
            refuse_if_merged(conversation.id, conversation.merged_into)
            agent = self._active_agent(work.conn, agent_id)
            if conversation.assignee_id == agent_id:
                raise InvalidCommand(f"{agent.name} has this conversation already")
            conversations_repo.update(work.conn, conversation_id, work.now, assignee_id=agent_id)
            work.emit(
                conversation_id,
                "conversation.transferred",
                actor.type,
                actor.id,
                {
                    "agent_id": agent_id,
                    "agent_name": agent.name,
                    "previous_agent_id": conversation.assignee_id,
                },
            )
            if note:
                self._insert_message(work, conversation_id, actor, "note", note, None)

        await self.run(command)

    async def invite(self, conversation_id: int, agent_id: int, actor: Actor) -> bool:
        """Bring a second agent into the conversation; False if they take part already."""

        def command(work: Work) -> bool:
            conversation = conversations_repo.lock(work.conn, conversation_id)
            refuse_if_merged(conversation.id, conversation.merged_into)
            agent = self._active_agent(work.conn, agent_id)
            if conversation.assignee_id == agent_id or not conversations_repo.add_participant(
                work.conn, conversation_id, agent_id, actor.id, work.now
            ):
                return False
            work.emit(
                conversation_id,
                "conversation.agent_joined",
                actor.type,
                actor.id,
                {"agent_id": agent_id, "agent_name": agent.name},
            )
            return True

        return await self.run(command)

    async def move(self, conversation_id: int, queue_id: int, actor: Actor) -> bool:
        """Put the conversation in another queue (a manager moving work); False if it is there.

        Its due time stays: it is what the customer was promised.
        """

        def command(work: Work) -> bool:
            conversation = conversations_repo.lock(work.conn, conversation_id)
            return self.move_in(work, conversation, queues_repo.lock(work.conn, queue_id), actor)

        return await self.run(command)

    def move_in(
        self,
        work: Work,
        conversation: Conversation,
        queue: Queue,
        actor: Actor,
        **why: Any,
    ) -> bool:
        """Inside a command: put the conversation in `queue` (id, name); False if it is there."""
        if conversation.queue_id == queue.id:
            return False
        conversations_repo.update(work.conn, conversation.id, work.now, queue_id=queue.id)
        work.emit(
            conversation.id,
            "conversation.moved",
            actor.type,
            actor.id,
            {
                "queue_id": queue.id,
                "queue_name": queue.name,
                "previous_queue_id": conversation.queue_id,
                **why,
            },
        )
        return True

    def _active_agent(self, conn: Transaction, agent_id: int) -> Agent:
        agent = agents_repo.lock(conn, agent_id)
        if not agent.active:
            raise InvalidCommand(f"{agent.name} is disabled and cannot take conversations")
        return agent

    async def _set_status(
        self, conversation_id: int, actor: Actor, status: str, event: str
    ) -> bool:
        def command(work: Work) -> bool:
            return self.set_status_in(
                work,
                conversations_repo.lock(work.conn, conversation_id),
                actor,
                status,
                event,
            )

        return await self.run(command)

    def set_status_in(
        self,
        work: Work,
        conversation: Conversation,
        actor: Actor,
        status: str,
        event: str,
    ) -> bool:
        """Inside a command: change the status (False if it is that already). Resolving ends
        a snooze: the conversation needs nothing more until the customer writes. A merged
        conversation's status never changes (ConversationMerged)."""
        refuse_if_merged(conversation.id, conversation.merged_into)
        if conversation.status == status:
            return False
        changes: dict[str, Any] = {"status": status}
        data: dict[str, Any] = {"from": conversation.status}
        if status in ("resolved", "closed") and conversation.snoozed_at:
            changes.update(snoozed_at=None, snoozed_until=None)
            data["snooze_ended"] = True
        conversations_repo.update(work.conn, conversation.id, work.now, **changes)
        work.emit(conversation.id, event, actor.type, actor.id, data)
        return True

    async def set_priority(self, conversation_id: int, priority: int, actor: Actor) -> bool:
        """Set how urgent the conversation is (0 normal to 9); False if it is that already."""
        if not isinstance(priority, int) or isinstance(priority, bool) or not 0 <= priority <= 9:
            raise InvalidCommand("priority must be a whole number from 0 to 9")

        def command(work: Work) -> bool:
            conversation = conversations_repo.lock(work.conn, conversation_id)
            if conversation.priority == priority:
                return False
            conversations_repo.update(work.conn, conversation_id, work.now, priority=priority)
            work.emit(
                conversation_id,
                "conversation.prioritized",
                actor.type,
                actor.id,
                {"priority": priority, "previous_priority": conversation.priority},
            )
            return True

        return await self.run(command)

    async def resolve(self, conversation_id: int, actor: Actor) -> bool:
        return await self._set_status(conversation_id, actor, "resolved", "conversation.resolved")

    async def reopen(self, conversation_id: int, actor: Actor) -> bool:
        return await self._set_status(conversation_id, actor, "open", "conversation.reopened")
