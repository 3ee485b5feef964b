"""Scripted question sequences: what a valid one looks like (managers and admins keep them),
and running one in a conversation.

An agent starts a script; its first question goes out at once, and each answer of the customer
sends the next one (the `received` hook `answered`), as the agent who started it, until the last
has been asked.
"""

from __future__ import annotations

from onlinesupport.core.conversations import (
    Actor,
    Conversations,
    InvalidCommand,
    refuse_if_merged,
)
from onlinesupport.core.conversations.work import Work
from onlinesupport.lib.clock import Clock, to_db
from onlinesupport.store import Conflict, Database, Transaction
from onlinesupport.store import agents as agents_repo
from onlinesupport.store import conversations as conversations_repo
from onlinesupport.store import scripts as scripts_repo
from onlinesupport.store.messages import Message

MAX_QUESTIONS = 20


class Scripts:
    def __init__(self, db: Database, clock: Clock, conversations: Conversations) -> None:
        self._db = db
        self._clock = clock
        self._conversations = conversations

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

    async def start(self, conversation_id: int, script_id: int, actor: Actor) -> None:
        """Send the script's first question; each customer answer sends the next one."""
        agent_id = actor.id
        if actor.type != "agent" or agent_id is None:
            raise InvalidCommand("only an agent starts a script")

        def command(work: Work) -> None:
            conversation = conversations_repo.lock(work.conn, conversation_id)
            refuse_if_merged(conversation_id, conversation.merged_into)
            if scripts_repo.running(work.conn, conversation_id) is not None:
                raise InvalidCommand(
                    "a script is running in this conversation already; stop it first"
                )
            title, _ = scripts_repo.questions(work.conn, script_id)
            scripts_repo.start(work.conn, conversation_id, script_id, agent_id, work.now)
            work.emit(
                conversation_id,
                "script.started",
                actor.type,
                actor.id,
                {"script_id": script_id, "title": title},
            )
            self._next_question(work, conversation_id)

        await self._conversations.run(command)

    async def skip(self, conversation_id: int, actor: Actor) -> None:
        """Send the script's next question now, without waiting for the answer."""

        def command(work: Work) -> None:
            if scripts_repo.running(work.conn, conversation_id) is None:
                raise InvalidCommand("no script is running in this conversation")
            self._next_question(work, conversation_id)

        await self._conversations.run(command)

    async def stop(self, conversation_id: int, actor: Actor) -> None:
        def command(work: Work) -> None:
            if scripts_repo.running(work.conn, conversation_id) is None:
                return
            scripts_repo.stop(work.conn, conversation_id)
            work.emit(conversation_id, "script.stopped", actor.type, actor.id)

        await self._conversations.run(command)

    def answered(
        self,
        *,
        work: Work,
        conversation_id: int,
        message: Message,
        new: bool,
    ) -> None:
        """The `received` hook: the customer wrote, so a running script asks its next question."""
        self._next_question(work, conversation_id)

    def _next_question(self, work: Work, conversation_id: int) -> None:
        """If a script runs here, send its next question as the agent who started it."""
        state = scripts_repo.running(work.conn, conversation_id)
        if state is None:
            return
        title, questions = scripts_repo.questions(work.conn, state.script_id)
        position = state.position
        if position >= len(questions):
            scripts_repo.stop(work.conn, conversation_id)
            work.emit(conversation_id, "script.finished", "system", None, {"title": title})
            return
        agent = agents_repo.lock(work.conn, state.agent_id)
        self._conversations.send_in(
            work,
            conversation_id,
            Actor.agent(agent.id, agent.name),
            questions[position],
        )
        scripts_repo.advance(work.conn, conversation_id, position + 1)
        work.emit(
            conversation_id,
            "script.advanced",
            "system",
            None,
            {"title": title, "sent": position + 1, "total": len(questions)},
        )
