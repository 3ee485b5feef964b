"""Canned replies: who may add and remove which, and what a valid one looks like.

Shared replies are managed by managers and admins; every agent manages their own. Bodies may
hold variables the desk fills in when inserting: {customer.name}, {customer.first_name},
{agent.name}.
"""

from __future__ import annotations

import re

from onlinesupport.core.conversations import InvalidCommand
from onlinesupport.lib.clock import Clock, to_db
from onlinesupport.lib.errors import UserError
from onlinesupport.store import Conflict, Database, Transaction
from onlinesupport.store import canned as canned_repo

_SHORTCUT = re.compile(r"^[a-z0-9][a-z0-9-]{0,29}$")


class PermissionDenied(UserError):
    """The agent may not change this canned reply."""

    status = 403


class CannedReplies:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def for_agent(self, agent_id: int) -> list[canned_repo.CannedReply]:
        """The shared replies and the agent's own, by shortcut."""
        return await canned_repo.for_agent(self._db, agent_id)

    async def add(
        self, agent_id: int, may_share: bool, *, shared: bool, shortcut: str, title: str, body: str
    ) -> int:
        shortcut = shortcut.strip().lower().lstrip("/")
        if not _SHORTCUT.match(shortcut):
            raise InvalidCommand("the shortcut takes 1-30 lowercase letters, digits and dashes")
        title, body = title.strip(), body.strip()
        if not title or len(title) > 100:
            raise InvalidCommand("give a title of at most 100 characters")
        if not body or len(body) > 5000:
            raise InvalidCommand("write the reply, at most 5000 characters")
        if shared and not may_share:
            raise PermissionDenied("only managers add shared replies")
        now = to_db(self._clock.now())

        def write(conn: Transaction) -> int:
            try:
                return canned_repo.create(
                    conn,
                    owner_id=None if shared else agent_id,
                    shortcut=shortcut,
                    title=title,
                    body=body,
                    now=now,
                )
            except Conflict:
                raise InvalidCommand(f"/{shortcut} exists already") from None

        return await self._db.write(write)

    async def remove(self, reply_id: int, agent_id: int, may_share: bool) -> None:
        def write(conn: Transaction) -> None:
            owner = canned_repo.owner(conn, reply_id)
            if (owner is None and not may_share) or (owner is not None and owner != agent_id):
                raise PermissionDenied("you may not remove this reply")
            canned_repo.delete(conn, reply_id)

        await self._db.write(write)
