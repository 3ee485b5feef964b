"""Schema migrations: numbered SQL files applied in order, each in its own transaction.

A database is recognised as ours by SQLite's `application_id`; its schema version is
`user_version` plus a row per migration in `schema_migrations`. Inspection opens the file
read-only, so a foreign, damaged or newer database is reported without being modified.
To change the schema, add `NNNN_what.sql` to `migrations/`; never edit a released one.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from onlinesupport.lib.clock import Clock, to_db
from onlinesupport.store.errors import StoreError

APPLICATION_ID = 0x4F535550  # "OSUP"
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def available_migrations() -> list[Migration]:
    folder = resources.files("onlinesupport.store").joinpath("migrations")
    found = []
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text("utf-8")))
    found.sort(key=lambda m: m.version)
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise StoreError(
                f"migration {migration.name} is out of sequence (expected {expected:04d})"
            )
    return found


def latest_version() -> int:
    return len(available_migrations())


def inspect(path: Path) -> int:
    """The schema version of the database at `path` (0 for none yet); refuses what is not ours."""
    if not path.exists() or path.stat().st_size == 0:
        return 0
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: cannot open the database: {exc}") from None
    try:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version: int = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise StoreError(
            f"{path}: not a readable SQLite database ({exc}); it was left untouched. "
            "Restore a backup with `onlinesupport restore FILE`."
        ) from None
    finally:
        conn.close()
    if app_id != APPLICATION_ID:
        if tables == 0 and version == 0:
            return 0
        raise StoreError(
            f"{path}: not an OnlineSupport database; it was left untouched. "
            "Point storage.data_dir at another folder or move the file away."
        )
    latest = latest_version()
    if version > latest:
        raise StoreError(
            f"{path}: the database has schema version {version}, newer than this "
            f"program understands ({latest}). Install the newer OnlineSupport again "
            "or restore a backup made by this version."
        )
    return version


def split_statements(sql: str) -> list[str]:
    """Split a migration into statements; trigger bodies keep their inner semicolons."""
    statements, current = [], ""
    for line in sql.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    if any(line.strip() and not line.strip().startswith("--") for line in current.splitlines()):
        raise StoreError(f"migration ends with an incomplete statement: {current.strip()[:60]!r}")
    return statements


def migrate(conn: sqlite3.Connection, clock: Clock) -> list[int]:
    """Apply every pending migration on an autocommit connection; returns the versions applied."""
    current = conn.execute("PRAGMA user_version").fetchone()[0]
    applied = []
    for migration in available_migrations():
        if migration.version <= current:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            if migration.version == 1:
                conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                conn.execute(
                    "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, "
                    "name TEXT NOT NULL, applied_at TEXT NOT NULL)"
                )
            for statement in split_statements(migration.sql):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (migration.version, migration.name, to_db(clock.now())),
            )
            conn.execute(f"PRAGMA user_version = {migration.version}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        applied.append(migration.version)
    return applied
