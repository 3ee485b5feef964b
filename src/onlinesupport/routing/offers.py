"""Chat offers: in queues that offer chats, each new chat goes to one agent at a time (the
online member with room and the fewest open conversations), who accepts it within the queue's
offer time; declined or unanswered, it moves on to the next. Nobody free: it waits (the
visitor sees their place in line) and is offered as soon as someone is.

Offers live in memory (a restart simply offers again); each offer, decline and expiry is an
event on the conversation, which is how the offered agent's desk learns of it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from onlinesupport.channels.chat.presence import Presence
from onlinesupport.core.conversations import SYSTEM, Actor, Conversations
from onlinesupport.core.conversations.work import Work
from onlinesupport.lib.clock import Clock, to_db
from onlinesupport.routing.engine import choose
from onlinesupport.store import Database
from onlinesupport.store import conversations as conversations_repo
from onlinesupport.store import queues as queues_repo


@dataclass
class Offer:
    agent_id: int
    expires: datetime
    customer_name: str = ""


class ChatOffers:
    def __init__(
        self,
        db: Database,
        conversations: Conversations,
        clock: Clock,
        presence: Presence,
        interval: float = 1.0,
        grace: float = 60.0,
    ) -> None:
        self._db = db
        self._conversations = conversations
        self._clock = clock
        self._presence = presence
        self.interval = interval
        """Seconds between two runs of `tick` (the supervisor runs it as 'chat-offers')."""
        self._grace = grace
        self.offers: dict[int, Offer] = {}
        self._passed: dict[int, set[int]] = {}
        self._order = itertools.count(1)
        self._last_offered: dict[int, int] = {}

    async def tick(self) -> None:
        """Take chats back from agents gone offline (where their queue says so), expire offers
        nobody answered, and offer every waiting chat that has none."""
        # The grace period lets a reload or a network blip pass without losing the chats.
        for agent_id in self._presence.gone_for(self._grace):
            for chat_id in await conversations_repo.chats_released_offline(self._db, agent_id):
                await self._conversations.assign(chat_id, None, SYSTEM)
        now = self._clock.now()
        for cid, offer in list(self.offers.items()):
            if now >= offer.expires:
                del self.offers[cid]
                self._passed.setdefault(cid, set()).add(offer.agent_id)
                await self._record(cid, "offer.expired", offer.agent_id)
        waiting = await conversations_repo.chats_to_offer(self._db)
        live = {row.id for row in waiting}
        for cid in list(self._passed):
            if cid not in live:
                del self._passed[cid]
        online = self._presence.online()
        busy = {offer.agent_id for offer in self.offers.values()}
        for row in waiting:
            if row.id in self.offers:
                continue
            candidates = await queues_repo.candidates_now(self._db, row.queue_id)
            passed = self._passed.get(row.id, set())
            agent = choose(candidates, online, self._last_offered, passed | busy, row.assignment)
            if agent is None and passed:
                # Everyone passed: start another round (the chat must not be stranded).
                self._passed[row.id] = set()
                agent = choose(candidates, online, self._last_offered, busy, row.assignment)
            if agent is None:
                continue
            self.offers[row.id] = Offer(
                agent.id,
                now + timedelta(seconds=row.offer_seconds),
                row.customer_name or "",
            )
            self._last_offered[agent.id] = next(self._order)
            busy.add(agent.id)
            await self._record(
                row.id,
                "offer.made",
                agent.id,
                {
                    "agent_name": agent.name,
                    "customer_name": row.customer_name,
                    "seconds": row.offer_seconds,
                    "expires_at": to_db(self.offers[row.id].expires),
                },
            )

    def pending_for(self, agent_id: int) -> dict[str, Any] | None:
        """The chat offered to this agent now, for a desk page loaded after the offer was made
        (its socket only hears of offers made later)."""
        now = self._clock.now()
        for conversation_id, offer in self.offers.items():
            if offer.agent_id == agent_id and offer.expires > now:
                return {
                    "conversation_id": conversation_id,
                    "customer_name": offer.customer_name,
                    "seconds": max(1, round((offer.expires - now).total_seconds())),
                }
        return None

    async def answer(self, conversation_id: int, agent: Actor, accept: bool) -> bool:
        """The offered agent takes the chat or passes it on; False if it is not theirs now."""
        offer = self.offers.get(conversation_id)
        if offer is None or offer.agent_id != agent.id:
            return False
        del self.offers[conversation_id]
        if accept:
            await self._conversations.assign(conversation_id, agent.id, agent)
            self._passed.pop(conversation_id, None)
            return True
        self._passed.setdefault(conversation_id, set()).add(agent.id)
        await self._record(conversation_id, "offer.declined", agent.id)
        await self.tick()
        return True

    async def _record(
        self, conversation_id: int, kind: str, agent_id: int, data: dict[str, Any] | None = None
    ) -> None:
        def command(work: Work) -> None:
            work.emit(conversation_id, kind, "system", None, {"agent_id": agent_id, **(data or {})})

        await self._conversations.run(command)
