"""What the reports need that no conversation event records: page views, help-center searches
and article views, agents' presence, and a waiting chat's visitor leaving and coming back.

One small function per kind, each reached from one place that has already applied the
limits on anonymous writes: a page view from the visitor's `page` frame (the trail's limit per
visitor and minute, not the same page twice in a row), a search or an article view from the
knowledge base (once a day per address and query or article), a proactive message's event
from `Proactive.record` (once a day per visitor, message and kind). What passes is counted in
memory and written as counters per day and key, at most every few seconds, in one
transaction; a day takes at most `KEYS_PER_DAY` distinct keys per kind (more count as
"other"), so made-up page addresses cannot grow the table without limit. A crash loses at
most the last few seconds of these counts, never a conversation's events.
"""

from __future__ import annotations

import logging
from collections import Counter, OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from onlinesupport.channels.chat.proactive import Proactive
from onlinesupport.core.conversations import Actor, Conversations
from onlinesupport.core.conversations.work import Work
from onlinesupport.lib.clock import Clock, to_db
from onlinesupport.reports.facts import page_key
from onlinesupport.reports.rollup import Calendars
from onlinesupport.store import Database, Transaction
from onlinesupport.store import reports as reports_repo

log = logging.getLogger(__name__)
KEYS_PER_DAY = 5000
FLUSH_SECONDS = 10.0
LEFT_REMEMBERED = 10_000


class Recorder:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        conversations: Conversations,
        proactive: Proactive,
        calendars: Calendars,
    ) -> None:
        self._db = db
        self._proactive = proactive
        self._calendars = calendars
        self._clock = clock
        self._conversations = conversations
        self._counts: Counter[tuple[str, str, str]] = Counter()
        self._keys: dict[tuple[str, str], set[str]] = {}
        self._presence: list[tuple[int, str, str]] = []
        self._left: OrderedDict[int, None] = OrderedDict()

    def _count(self, kind: str, key: str) -> None:
        day = self._clock.now().astimezone(self._calendars.zone()).date().isoformat()
        seen = self._keys.setdefault((day, kind), set())
        if key not in seen:
            if len(seen) >= KEYS_PER_DAY:
                key = ""
            else:
                seen.add(key)
        self._counts[(day, kind, key)] += 1

    def page_viewed(self, url: str) -> None:
        """A visitor opened a page of the website (the widget says so once per page)."""
        key = page_key(url)[:500]
        if key:
            self._count("page_view", key)

    def searched(self) -> None:
        """Someone searched the help center (or the widget's article suggestions)."""
        self._count("kb_search", "")

    def article_viewed(self, article_id: int) -> None:
        self._count("article_view", str(article_id))

    def presence_changed(self, agent_id: int, status: str) -> None:
        """An agent came online, went away or closed their last desk."""
        self._presence.append((agent_id, status, to_db(self._clock.now())))

    async def proactive(
        self,
        message_id: int,
        kind: str,
        viewer: str,
        page: str,
        conversation_id: int | None,
        customer_id: int | None,
    ) -> None:
        """A proactive message was shown, clicked or dismissed on `page`, or led to the chat
        `conversation_id`: counted once a day per `viewer`, message and kind (`Proactive`)."""
        counted = await self._proactive.record(message_id, kind, viewer, page_key(page))
        if counted and kind == "chat_started" and conversation_id is not None:
            await self._chat_event(
                conversation_id, customer_id, "proactive.chat_started", {"message_id": message_id}
            )

    async def chat_left(self, conversation_id: int, customer_id: int | None) -> None:
        """The visitor's widget closed while their chat still waits for its first answer."""
        if not await reports_repo.awaits_first_answer(self._db, conversation_id):
            return
        self._left[conversation_id] = None
        while len(self._left) > LEFT_REMEMBERED:
            self._left.popitem(last=False)
        await self._chat_event(conversation_id, customer_id, "chat.left")

    async def chat_returned(self, conversation_id: int, customer_id: int | None) -> None:
        """The visitor is back in a chat they had left (recorded only after a `chat_left`)."""
        if self._left.pop(conversation_id, False) is None:
            await self._chat_event(conversation_id, customer_id, "chat.returned")

    async def _chat_event(
        self,
        conversation_id: int,
        customer_id: int | None,
        type: str,
        data: dict[str, int] | None = None,
    ) -> None:
        actor = Actor.customer(customer_id)

        def command(work: Work) -> None:
            work.emit(conversation_id, type, actor.type, actor.id, data)

        await self._conversations.run(command)

    async def flush(self) -> None:
        """Write what was counted since the last flush (one transaction, or none)."""
        counts, self._counts = self._counts, Counter()
        presence, self._presence = self._presence, []
        today = self._clock.now().astimezone(self._calendars.zone()).date().isoformat()
        self._keys = {k: v for k, v in self._keys.items() if k[0] >= today}
        if not counts and not presence:
            return
        rows = [(day, kind, key, n) for (day, kind, key), n in counts.items()]

        def write(conn: Transaction) -> None:
            reports_repo.add_site_counts(conn, rows)
            reports_repo.add_presence(conn, presence)

        try:
            await self._db.write(write)
        except Exception:
            # Keep them for the next try rather than lose them.
            self._counts.update(counts)
            self._presence[:0] = presence
            raise

    async def agents_offline(self) -> None:
        """At start-up nobody is connected: close the presence of agents a stop left online."""
        now = to_db(self._clock.now())
        for change in await reports_repo.last_presence(self._db):
            if change.status != "offline":
                self._presence.append((change.agent_id, "offline", now))
        await self.flush()

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Close the presence a stop left open, and flush once more when the server stops (the
        supervisor flushes every FLUSH_SECONDS in between)."""
        await self._calendars.current()
        await self.agents_offline()
        try:
            yield
        finally:
            await self.flush()
