"""Escalation to back-end staff: an agent opens a problem record (question, problem or RMA)
in an internal queue; staff there work on it; the agent keeps the customer, sees every change
in the conversation, and the customer sees the status on their own page."""

from __future__ import annotations

from onlinesupport.core.conversations import Actor, Conversations, InvalidCommand
from onlinesupport.core.conversations.work import Work
from onlinesupport.store import conversations as conversations_repo
from onlinesupport.store import problems as problems_repo
from onlinesupport.store import queues as queues_repo

LIMITS = {"product": 200, "serial_number": 100, "rma_number": 100, "summary": 5000}


def clean(form: dict[str, str], *, status_required: bool = False) -> dict[str, str]:
    values = {k: form.get(k, "").strip()[:limit] for k, limit in LIMITS.items()}
    values["type"] = form.get("type", "")
    if values["type"] not in problems_repo.TYPES:
        raise InvalidCommand("choose question, problem or RMA")
    values["status"] = form.get("status", "new" if not status_required else "")
    if values["status"] not in problems_repo.STATUSES:
        raise InvalidCommand(f"status must be one of {', '.join(problems_repo.STATUSES)}")
    if not values["summary"]:
        raise InvalidCommand("say what the back office should look at")
    return values


class Escalations:
    def __init__(self, conversations: Conversations) -> None:
        self._conversations = conversations

    async def escalate(
        self, conversation_id: int, queue_id: int, form: dict[str, str], actor: Actor
    ) -> int:
        values = clean(form)

        def command(work: Work) -> int:
            queue = queues_repo.find(work.conn, queue_id)
            if queue is None or not queue.internal:
                raise InvalidCommand("escalate to one of the internal (back-office) queues")
            if not conversations_repo.exists(work.conn, conversation_id):
                raise InvalidCommand(f"conversation {conversation_id} does not exist")
            problem_id = problems_repo.insert(
                work.conn, conversation_id, queue_id, values, actor.id, work.now
            )
            work.emit(
                conversation_id,
                "problem.escalated",
                actor.type,
                actor.id,
                {
                    "problem_id": problem_id,
                    "queue_id": queue_id,
                    "queue_name": queue.name,
                    "type": values["type"],
                },
            )
            return problem_id

        return await self._conversations.run(command)

    async def update(self, problem_id: int, form: dict[str, str], actor: Actor) -> None:
        values = clean(form, status_required=True)

        def command(work: Work) -> None:
            row = problems_repo.update(work.conn, problem_id, values, work.now)
            work.emit(
                row.conversation_id,
                "problem.updated",
                actor.type,
                actor.id,
                {
                    "problem_id": problem_id,
                    "status": values["status"],
                    "rma_number": values["rma_number"],
                },
            )

        await self._conversations.run(command)
