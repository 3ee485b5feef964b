"""Online backup and restore with SQLite's backup API (consistent while the server writes)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from onlinesupport.store import migrate
from onlinesupport.store.errors import StorageFull, StoreError, is_full


def _quick_check(path: Path) -> None:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        result = conn.execute("PRAGMA quick_check").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path}: damaged ({exc})") from None
    finally:
        conn.close()
    if result != "ok":
        raise StoreError(f"{path}: damaged ({result})")


def _copy(source: Path, dest: Path) -> None:
    src = sqlite3.connect(source)
    try:
        dst = sqlite3.connect(dest)
        try:
            # One step: the whole copy is read in a single read transaction, a consistent snapshot.
            src.backup(dst)
            # A copy in WAL mode would grow -wal and -shm files beside it whenever it is opened
            # (even read-only, to check it); a backup is one self-contained file.
            dst.execute("PRAGMA journal_mode = DELETE")
        finally:
            dst.close()
    finally:
        src.close()


def backup(db_path: Path, dest: Path) -> None:
    """Copy the live database to `dest` (replaced atomically, never half-written); a full disk
    raises `StorageFull`."""
    if migrate.inspect(db_path) == 0:
        raise StoreError(f"{db_path}: there is no OnlineSupport database to back up yet")
    dest = dest.resolve()
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        _copy(db_path, partial)
        _quick_check(partial)
        os.replace(partial, dest)
    except (sqlite3.Error, OSError) as exc:
        if is_full(exc):
            raise StorageFull() from exc
        raise
    finally:
        partial.unlink(missing_ok=True)


def check(backup_file: Path) -> int:
    """The schema version of a usable backup; refuses a file that is not an OnlineSupport
    database, is damaged or comes from a newer version."""
    if not backup_file.is_file():
        raise StoreError(f"{backup_file}: no such file")
    version = migrate.inspect(backup_file)
    if version == 0:
        raise StoreError(f"{backup_file}: not an OnlineSupport backup")
    _quick_check(backup_file)
    return version


def restore(backup_file: Path, db_path: Path, safety_copy: Path | None) -> int:
    """Replace the database with a checked backup; returns the backup's schema version.

    The current database, if any, is first copied to `safety_copy`.
    """
    version = check(backup_file)
    if safety_copy is not None and migrate.inspect(db_path) > 0:
        backup(db_path, safety_copy)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    _copy(backup_file, db_path)
    return version
