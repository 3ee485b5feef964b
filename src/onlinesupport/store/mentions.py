"""Who internal notes mention: a row per mentioned agent, written with the note's event."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from onlinesupport.store.rows import records


@dataclass(frozen=True, slots=True)
class MentionableAgent:
    id: int
    name: str
    email: str


def mentionable(conn: sqlite3.Connection) -> list[MentionableAgent]:
    """The agents a note can mention: every active one."""
    rows = conn.execute("SELECT id, name, email FROM agents WHERE active ORDER BY id").fetchall()
    return records(MentionableAgent, rows)


def record(
    conn: sqlite3.Connection,
    message_id: int,
    conversation_id: int,
    agent_ids: Iterable[int],
    now: str,
) -> None:
    conn.executemany(
        "INSERT INTO mentions (message_id, agent_id, conversation_id, created_at)"
        " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
        [(message_id, agent_id, conversation_id, now) for agent_id in agent_ids],
    )
