"""Attachments: the files a message carries."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import TypedDict

from onlinesupport.store.database import Database
from onlinesupport.store.rows import as_dict, new_id


@dataclass(frozen=True)
class StoredFile:
    """An uploaded file already written to the data folder, waiting for its message."""

    storage_name: str
    filename: str
    content_type: str
    size: int
    sha256: str


_COLUMNS = "a.id, a.message_id, a.filename, a.content_type, a.size, a.storage_name"


class ServedFile(TypedDict):
    """What serving a file from the data folder needs (an attachment, a help-center file)."""

    filename: str
    content_type: str
    storage_name: str


class Attachment(ServedFile):
    """A message's file as the desk, the widget and the API show it."""

    id: int
    message_id: int
    size: int


class Download(Attachment):
    """An attachment with the conversation it belongs to (whose access decides its download)."""

    conversation_id: int


def insert(conn: sqlite3.Connection, message_id: int, file: StoredFile, now: str) -> Attachment:
    """Link a stored file to its message; returns the row as `for_messages` gives it."""
    attachment_id = new_id(
        conn.execute(
            "INSERT INTO attachments (message_id, filename, content_type, size, sha256,"
            " storage_name,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                message_id,
                file.filename,
                file.content_type,
                file.size,
                file.sha256,
                file.storage_name,
                now,
            ),
        )
    )
    return {
        "id": attachment_id,
        "message_id": message_id,
        "filename": file.filename,
        "content_type": file.content_type,
        "size": file.size,
        "storage_name": file.storage_name,
    }


async def for_messages(db: Database, message_ids: list[int]) -> dict[int, list[Attachment]]:
    if not message_ids:
        return {}
    marks = ",".join("?" * len(message_ids))
    rows = await db.fetch_all(
        f"SELECT {_COLUMNS} FROM attachments a WHERE a.message_id IN ({marks}) ORDER BY a.id",
        message_ids,
    )
    found: dict[int, list[Attachment]] = {}
    for row in rows:
        found.setdefault(row["message_id"], []).append(as_dict(Attachment, row))
    return found


async def get(db: Database, attachment_id: int) -> Download | None:
    row = await db.fetch_one(
        f"SELECT {_COLUMNS}, m.conversation_id FROM attachments a"
        " JOIN messages m ON m.id = a.message_id WHERE a.id = ?",
        (attachment_id,),
    )
    return as_dict(Download, row) if row else None
