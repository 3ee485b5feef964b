"""Scripted question sequences and the one a conversation is running."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import TypedDict

from onlinesupport.store.database import Database
from onlinesupport.store.errors import NotFound, conflicts
from onlinesupport.store.rows import new_id, one, record


@conflicts()
def create(conn: sqlite3.Connection, title: str, questions: list[str], now: str) -> int:
    return new_id(
        conn.execute(
            "INSERT INTO scripts (title, questions, created_at) VALUES (?, ?, ?)",
            (title, json.dumps(questions), now),
        )
    )


def delete(conn: sqlite3.Connection, script_id: int) -> None:
    conn.execute("DELETE FROM scripts WHERE id = ?", (script_id,))


def questions(conn: sqlite3.Connection, script_id: int) -> tuple[str, list[str]]:
    row = conn.execute("SELECT title, questions FROM scripts WHERE id = ?", (script_id,)).fetchone()
    if row is None:
        raise NotFound(f"script {script_id} does not exist")
    return row[0], json.loads(row[1])


@dataclass(frozen=True, slots=True)
class ScriptRun:
    """A script running in a conversation: the questions sent so far (`position`), for the
    agent who started it."""

    conversation_id: int
    script_id: int
    position: int
    agent_id: int
    started_at: str


def running(conn: sqlite3.Connection, conversation_id: int) -> ScriptRun | None:
    row = one(
        conn.execute(
            "SELECT * FROM conversation_scripts WHERE conversation_id = ?", (conversation_id,)
        )
    )
    return record(ScriptRun, row) if row is not None else None


def start(
    conn: sqlite3.Connection, conversation_id: int, script_id: int, agent_id: int, now: str
) -> None:
    conn.execute(
        "INSERT INTO conversation_scripts (conversation_id, script_id, position, agent_id,"
        " started_at) VALUES (?, ?, 0, ?, ?)",
        (conversation_id, script_id, agent_id, now),
    )


def advance(conn: sqlite3.Connection, conversation_id: int, position: int) -> None:
    conn.execute(
        "UPDATE conversation_scripts SET position = ? WHERE conversation_id = ?",
        (position, conversation_id),
    )


def stop(conn: sqlite3.Connection, conversation_id: int) -> None:
    conn.execute("DELETE FROM conversation_scripts WHERE conversation_id = ?", (conversation_id,))


class Script(TypedDict):
    id: int
    title: str
    questions: list[str]


async def list_all(db: Database) -> list[Script]:
    rows = await db.fetch_all("SELECT id, title, questions FROM scripts ORDER BY title")
    return [
        {"id": r["id"], "title": r["title"], "questions": json.loads(r["questions"])} for r in rows
    ]


class ScriptProgress(TypedDict):
    """How far a conversation's script is: questions sent of how many."""

    title: str
    sent: int
    total: int


async def progress(db: Database, conversation_id: int) -> ScriptProgress | None:
    """The script a conversation runs: title, questions sent so far, how many in all."""
    row = await db.fetch_one(
        "SELECT s.title, s.questions, cs.position FROM conversation_scripts cs"
        " JOIN scripts s ON s.id = cs.script_id WHERE cs.conversation_id = ?",
        (conversation_id,),
    )
    if row is None:
        return None
    return {
        "title": row["title"],
        "sent": row["position"],
        "total": len(json.loads(row["questions"])),
    }
