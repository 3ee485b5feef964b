"""The manager's live board: per queue, what waits, for how long, and who is there to answer."""

from __future__ import annotations

from typing import TypedDict

from onlinesupport.store.customers import first_email_of
from onlinesupport.store.database import Database
from onlinesupport.store.rows import as_dicts

_QUEUE_FIGURES = """
SELECT q.id, q.name, q.internal,
  sum(c.id IS NOT NULL AND c.first_response_at IS NULL) AS waiting,
  min(CASE WHEN c.first_response_at IS NULL THEN c.created_at END) AS oldest_waiting,
  sum(c.id IS NOT NULL AND c.first_response_at IS NULL AND c.sla_warned_at IS NOT NULL
      AND c.sla_breached_at IS NULL) + sum(c.next_warned_at IS NOT NULL
      AND c.next_breached_at IS NULL AND c.next_response_due_at IS NOT NULL) AS at_risk,
  sum(c.id IS NOT NULL AND c.first_response_at IS NULL AND c.sla_breached_at IS NOT NULL)
    + sum(c.next_breached_at IS NOT NULL AND c.next_response_due_at IS NOT NULL) AS breached,
  count(c.id) AS open
FROM queues q LEFT JOIN conversations c ON c.queue_id = q.id AND c.status IN ('open', 'pending')
GROUP BY q.id ORDER BY q.name
"""


class QueueFigures(TypedDict):
    """A queue's open work now, and its average first response today, in minutes."""

    id: int
    name: str
    internal: int
    waiting: int
    oldest_waiting: str | None
    at_risk: int
    breached: int
    open: int
    first_response_minutes_today: float | None


async def queues(db: Database, today_start: str) -> list[QueueFigures]:
    """Each queue's open work, and its average first response for conversations since
    `today_start`, in minutes."""
    figures = await db.fetch_all(_QUEUE_FIGURES)
    averages = {
        r["queue_id"]: r["minutes"]
        for r in await db.fetch_all(
            "SELECT queue_id, avg((julianday(first_response_at) - julianday(created_at)) * 1440)"
            " AS minutes FROM conversations WHERE first_response_at IS NOT NULL AND created_at >= ?"
            " GROUP BY queue_id",
            (today_start,),
        )
    }
    # A queue with no open conversation sums nothing: NULL, which counts as 0.
    return [
        {
            "id": r["id"],
            "name": r["name"],
            "internal": r["internal"],
            "waiting": r["waiting"] or 0,
            "oldest_waiting": r["oldest_waiting"],
            "at_risk": r["at_risk"] or 0,
            "breached": r["breached"] or 0,
            "open": r["open"],
            "first_response_minutes_today": averages.get(r["id"]),
        }
        for r in figures
    ]


class Card(TypedDict):
    """An open conversation on the board, with what to show of it and when its answer is due."""

    id: int
    queue_id: int
    subject: str
    channel: str
    priority: int
    created_at: str
    customer_name: str
    assignee_name: str | None
    preview: str | None
    answer_due_at: str | None
    n: int


async def open_conversations(db: Database, per_queue: int = 50) -> list[Card]:
    rows = await db.fetch_all(
        "SELECT * FROM (SELECT c.id, c.queue_id, c.subject, c.channel, c.priority,"
        " c.created_at, cu.name AS customer_name, a.name AS assignee_name,"
        f" {first_email_of('c.customer_id')} AS customer_email,"
        " (SELECT substr(m.body, 1, 200) FROM messages m WHERE m.conversation_id = c.id"
        "  AND m.kind = 'message' ORDER BY m.seq DESC LIMIT 1) AS preview,"
        " coalesce(c.next_response_due_at, CASE WHEN c.first_response_at IS NULL"
        "  THEN c.first_response_due_at END) AS answer_due_at,"
        " row_number() OVER (PARTITION BY c.queue_id ORDER BY c.created_at) AS n"
        " FROM conversations c JOIN customers cu ON cu.id = c.customer_id"
        " LEFT JOIN agents a ON a.id = c.assignee_id WHERE c.status IN ('open', 'pending'))"
        " WHERE n <= ? ORDER BY answer_due_at IS NULL, answer_due_at, created_at",
        (per_queue,),
    )
    return as_dicts(Card, rows)


class BoardAgent(TypedDict):
    """An active agent's open conversations, capacity and queues (a JSON list of ids)."""

    id: int
    name: str
    capacity: int
    load: int
    queues: str


async def agent_loads(db: Database) -> list[BoardAgent]:
    """Active agents with their open conversations and the queues they are members of."""
    rows = await db.fetch_all(
        "SELECT a.id, a.name, a.capacity, (SELECT count(*) FROM conversations c"
        "  WHERE c.assignee_id = a.id AND c.status IN ('open', 'pending')) AS load,"
        " (SELECT json_group_array(queue_id) FROM queue_members m WHERE m.agent_id = a.id)"
        "  AS queues FROM agents a WHERE a.active ORDER BY a.name"
    )
    return as_dicts(BoardAgent, rows)
