"""Routing rules at work: kept compiled in memory, run inside the transaction that stores a
customer's message, and every rule that fires recorded on the conversation.

Hooked into `Conversations.received`, so every channel (chat, mail, the contact form, a
logged call) is routed the same way, and the routing commits with the message or not at all.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from onlinesupport.core.conversations import SYSTEM, Conversations
from onlinesupport.core.conversations.work import Work
from onlinesupport.lib.clock import Clock, from_db, to_db
from onlinesupport.routing.due import calendar, chosen_by_customer, set_target
from onlinesupport.routing.rules import (
    TRIGGERS,
    Facts,
    InvalidRule,
    Rule,
    evaluate,
    parse_actions,
    parse_conditions,
)
from onlinesupport.store import Database, Transaction
from onlinesupport.store import agents as agents_repo
from onlinesupport.store import conversations as conversations_repo
from onlinesupport.store import events as events_repo
from onlinesupport.store import queues as queues_repo
from onlinesupport.store import routing_rules as rules_repo
from onlinesupport.store.agents import Agent
from onlinesupport.store.conversations import Conversation
from onlinesupport.store.messages import Message
from onlinesupport.store.queues import Candidate
from onlinesupport.store.routing_rules import StoredRule

AUTO_REPLY_NAME = "Automatic reply"


def compile_rule(row: StoredRule) -> Rule:
    return Rule(
        id=row["id"],
        name=row["name"],
        trigger=row["trigger"],
        conditions=parse_conditions(row["conditions"]),
        actions=parse_actions(row["actions"]),
        active=bool(row["active"]),
    )


def facts_for(conn: Transaction, conversation_id: int, message: Message | None, now: str) -> Facts:
    """What the rules see of a conversation and the customer message that arrived.

    Read inside the transaction that stores the message, not before it: a new conversation,
    its customer and its mail thread are this transaction's own writes, and a rule must see
    the tags, queue and customer as they are when its actions change them (a read before could
    miss a change committed in the same batch). The read is one lookup by key per table."""
    row = conversations_repo.routing_facts(conn, conversation_id)
    form: dict[str, Any] = {}
    if row.channel == "form":
        # Only forms have one; a long chat has thousands of events to skip.
        form = events_repo.first_data(conn, conversation_id, "form.submitted")

    def open_now() -> bool:
        return calendar(queues_repo.lock(conn, row.queue_id)).is_open(from_db(now))

    return Facts(
        channel=row.channel,
        mailbox=row.mailbox or "",
        sender=row.sender or "",
        tier=row.tier,
        tags=tuple(json.loads(row.ctags) + json.loads(row.tags)),
        subject=row.subject,
        body=message.body if message else "",
        page=row.page_url,
        question_type=form.get("question_type", ""),
        urgency=form.get("urgency", ""),
        language=row.language,
        open_now=open_now,
    )


def choose(
    candidates: list[Candidate],
    online: set[int],
    last_assigned: dict[int, int],
    excluded: set[int] = frozenset(),  # type: ignore[assignment]
    mode: str = "least-loaded",
) -> Candidate | None:
    """The online candidate with free capacity: the one with the fewest open conversations
    (among equals the one who got one longest ago), or, round-robin, simply the one whose turn
    it is (who got one longest ago)."""
    free = [
        c for c in candidates if c.id in online and c.load < c.capacity and c.id not in excluded
    ]
    if not free:
        return None
    if mode == "round-robin":
        return min(free, key=lambda c: (last_assigned.get(c.id, 0), c.id))
    return min(free, key=lambda c: (c.load, last_assigned.get(c.id, 0)))


def pick_agent(
    conn: Transaction, queue_id: int, online: set[int], last_assigned: dict[int, int]
) -> Candidate | None:
    return choose(
        queues_repo.candidates(conn, queue_id),
        online,
        last_assigned,
        mode=queues_repo.assignment(conn, queue_id),
    )


class RoutingRules:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        conversations: Conversations,
        online: Callable[[], set[int]] = set,
    ) -> None:
        self._db = db
        self._clock = clock
        self._conversations = conversations
        self._online = online
        self._assignments = itertools.count(1)
        self._last_assigned: dict[int, int] = {}
        self.rules: list[Rule] = []
        self._active: dict[str, list[Rule]] = {"new": [], "message": []}
        """The active rules that run for a new conversation and for a later message."""

    async def load(self) -> None:
        self.rules = [compile_rule(r) for r in await rules_repo.list_all(self._db)]
        self._active = {
            trigger: [r for r in self.rules if r.active and r.trigger in (trigger, "both")]
            for trigger in ("new", "message")
        }

    async def check(self, form: dict[str, str]) -> dict[str, Any]:
        """The rule as written, checked (names of queues and agents must exist)."""
        name = " ".join(form.get("name", "").split())[:100]
        if not name:
            raise InvalidRule("give the rule a name")
        trigger = form.get("trigger", "new")
        if trigger not in TRIGGERS:
            raise InvalidRule("run it for new conversations, every customer message, or both")
        conditions = form.get("conditions", "")[:5000].strip()
        actions = form.get("actions", "")[:5000].strip()
        values = {
            "name": name,
            "active": int(form.get("active") == "on"),
            "trigger": trigger,
            "conditions": conditions,
            "actions": actions,
        }
        parse_conditions(conditions)
        for action in parse_actions(actions):
            if action.kind == "queue" and not await queues_repo.named(self._db, action.value):
                raise InvalidRule(f"there is no queue named {action.value!r}")
            if (
                action.kind == "assign"
                and action.value != "auto"
                and not await agents_repo.is_active(self._db, action.value)
            ):
                raise InvalidRule(f"there is no active agent with the address {action.value!r}")
        return values

    async def save(self, rule_id: int | None, form: dict[str, str]) -> int:
        values = await self.check(form)
        now = to_db(self._clock.now())

        def write(conn: Transaction) -> int:
            if rule_id is None:
                return rules_repo.insert(conn, values, now)
            rules_repo.update(conn, rule_id, values, now)
            return rule_id

        saved = await self._db.write(write)
        await self.load()
        return saved

    async def delete(self, rule_id: int) -> None:
        await self._db.write(lambda conn: rules_repo.delete(conn, rule_id))
        await self.load()

    async def move(self, rule_id: int, step: int) -> None:
        await self._db.write(lambda conn: rules_repo.move(conn, rule_id, step))
        await self.load()

    def received(
        self,
        work: Work,
        conversation_id: int,
        message: Message,
        new: bool,
    ) -> None:
        """A `Conversations.received` hook: route by the rules that fire."""
        trigger = "new" if new else "message"
        if not self._active[trigger]:
            # Most small shops start without rules, and many rules run only for new
            # conversations: not even the facts are read.
            return
        fired = evaluate(
            self._active[trigger], facts_for(work.conn, conversation_id, message, work.now), trigger
        )
        if not fired:
            return
        # Read once; each action hands on the conversation as it left it.
        conversation = conversations_repo.lock(work.conn, conversation_id)
        for rule in fired:
            done: list[str] = []
            for action in rule.actions:
                said, conversation = self._apply(work, conversation, action.kind, action.value, new)
                if said:
                    done.append(said)
            if done or new:
                # A rule that changes nothing on a later message (all already so) is not news.
                work.emit(
                    conversation_id,
                    "rule.fired",
                    "system",
                    None,
                    {"rule_id": rule.id, "name": rule.name, "actions": done},
                )

    def _apply(
        self,
        work: Work,
        conversation: Conversation,
        kind: str,
        value: str,
        new: bool,
    ) -> tuple[str, Conversation]:
        """Carry out one action; returns what was done, in words (empty: nothing), and the
        conversation as the action left it."""
        conversation_id = conversation.id

        def change(**columns: Any) -> Conversation:
            conversations_repo.update(work.conn, conversation_id, work.now, **columns)
            return replace(conversation, **columns)

        if kind == "queue":
            queue = queues_repo.by_name(work.conn, value)
            if queue is None or not self._conversations.move_in(work, conversation, queue, SYSTEM):
                return "", conversation
            conversation = replace(conversation, queue_id=queue.id)
            if not conversation.first_response_at and not chosen_by_customer(
                work.conn, conversation_id
            ):
                # Promised by the queue it is now in, counted from when it arrived.
                due = to_db(
                    calendar(queue).add(
                        from_db(conversation.created_at), queue.first_response_minutes
                    )
                )
                set_target(work, conversation_id, "first_response", due)
                conversation = replace(conversation, first_response_due_at=due)
            return f"queue {queue.name}", conversation
        if kind == "priority":
            if conversation.priority == int(value):
                return "", conversation
            conversation = change(priority=int(value))
            return f"priority {value}", conversation
        if kind == "tag":
            tags = json.loads(conversation.tags)
            if value in tags:
                return "", conversation
            conversation = change(tags=json.dumps([*tags, value]))
            return f"tag {value}", conversation
        if kind == "first_response":
            if conversation.first_response_at or chosen_by_customer(work.conn, conversation_id):
                return "", conversation
            queue = queues_repo.lock(work.conn, conversation.queue_id)
            due = to_db(calendar(queue).add(from_db(conversation.created_at), int(value)))
            if conversation.first_response_due_at == due:
                return "", conversation
            set_target(work, conversation_id, "first_response", due)
            conversation = replace(conversation, first_response_due_at=due)
            return f"first answer within {value} minutes", conversation
        if kind == "next_response":
            if conversation.next_response_minutes == int(value):
                return "", conversation
            conversation = change(next_response_minutes=int(value))
            return f"next answers within {value} minutes", conversation
        if kind == "assign":
            agent: Agent | Candidate | None
            if value == "auto":
                if conversation.assignee_id:
                    return "", conversation
                agent = pick_agent(
                    work.conn, conversation.queue_id, self._online(), self._last_assigned
                )
                if agent is None:
                    return "waits: nobody online with room", conversation
            else:
                agent = agents_repo.active_by_email(work.conn, value)
            if agent is None or not self._conversations.assign_in(
                work, conversation, agent, SYSTEM
            ):
                return "", conversation
            conversation = replace(conversation, assignee_id=agent.id)
            self._last_assigned[agent.id] = next(self._assignments)
            return f"assigned to {agent.name}", conversation
        if kind == "reply":
            if not new:
                return "", conversation  # once per conversation: never a conversation with a robot
            text = value.replace("{ticket}", str(conversation_id))
            self._conversations.auto_reply_in(work, conversation_id, text, AUTO_REPLY_NAME)
            return "automatic reply", conversation
        if kind == "spam":
            if conversation.status == "closed":
                return "", conversation
            tags = json.loads(conversation.tags)
            conversation = change(
                status="closed", tags=json.dumps(tags if "spam" in tags else [*tags, "spam"])
            )
            work.emit(conversation_id, "conversation.closed", "system", None, {"status": "closed"})
            return "closed as spam", conversation
        return "stop", conversation
