"""Admin-editable settings, one JSON document per key."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from onlinesupport.store.database import Database


def put(conn: sqlite3.Connection, key: str, value: dict[str, Any], now: str) -> None:
    conn.execute(
        "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value,"
        " updated_at = excluded.updated_at",
        (key, json.dumps(value), now),
    )


# Free-form: each key's document has the shape its feature gives it.
async def get(db: Database, key: str) -> dict[str, Any] | None:
    row = await db.fetch_one("SELECT value FROM settings WHERE key = ?", (key,))
    return json.loads(row["value"]) if row else None
