"""Scripted question sequences: what a valid one looks like. Managers and admins keep them."""

from __future__ import annotations

from onlinesupport.clock import Clock, to_db
from onlinesupport.conversations import InvalidCommand
from onlinesupport.store import Conflict, Database, Transaction
from onlinesupport.store import scripts as scripts_repo

MAX_QUESTIONS = 20


class Scripts:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def add(self, title: str, questions_text: str) -> int:
        """`questions_text` has one question per line."""
        title = title.strip()
        if not title or len(title) > 100:
            raise InvalidCommand("give a title of at most 100 characters")
        questions = [line.strip() for line in questions_text.splitlines() if line.strip()]
        if not questions or len(questions) > MAX_QUESTIONS:
            raise InvalidCommand(f"write 1 to {MAX_QUESTIONS} questions, one per line")
        if any(len(q) > 1000 for q in questions):
            raise InvalidCommand("a question is longer than 1000 characters")
        now = to_db(self._clock.now())

        def write(conn: Transaction) -> int:
            try:
                return scripts_repo.create(conn, title, questions, now)
            except Conflict:
                raise InvalidCommand(f"a script called {title!r} exists already") from None

        return await self._db.write(write)

    async def remove(self, script_id: int) -> None:
        await self._db.write(lambda conn: scripts_repo.delete(conn, script_id))
