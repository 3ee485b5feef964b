"""The store: migrations, refusing databases that are not ours, backup and restore."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
from pathlib import Path

import pytest

from conftest import wait_until
from onlinesupport.config import Config
from onlinesupport.core.conversations import Actor
from onlinesupport.lib.clock import ManualClock
from onlinesupport.services import open_services
from onlinesupport.store import Database, StoreError, migrate
from onlinesupport.store import backup as backup_store
from onlinesupport.store import messages as messages_repo


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def _open_and_close(path: Path) -> None:
    db = Database(path, ManualClock())
    try:
        await db.open()
    finally:
        await db.close()


async def test_migrations_apply_on_an_empty_folder_and_again_on_restart(tmp_path: Path) -> None:
    path = tmp_path / "new" / "onlinesupport.db"
    await _open_and_close(path)
    await _open_and_close(path)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == migrate.latest_version()
    assert conn.execute("PRAGMA application_id").fetchone()[0] == migrate.APPLICATION_ID
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    rows = conn.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
    assert rows == [(m.version, m.name) for m in migrate.available_migrations()]
    assert rows[0] == (1, "0001_initial.sql")
    conn.close()


async def test_data_survives_a_restart(config: Config) -> None:
    async with open_services(config, ManualClock()) as services:
        opened = await services.conversations.open(channel="chat", body="still here?")
    async with open_services(config, ManualClock()) as services:
        messages = await messages_repo.after(services.db, opened.conversation_id)
        assert [m.body for m in messages] == ["still here?"]


async def test_a_foreign_database_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "onlinesupport.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    conn.execute("INSERT INTO invoices (total) VALUES (9.5)")
    conn.commit()
    conn.close()
    before = _digest(path)
    with pytest.raises(StoreError, match="not an OnlineSupport database"):
        await _open_and_close(path)
    assert _digest(path) == before
    assert not (tmp_path / "onlinesupport.db-wal").exists()


async def test_a_corrupted_database_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "onlinesupport.db"
    path.write_bytes(b"this is no database at all" * 200)
    before = _digest(path)
    with pytest.raises(StoreError, match="not a readable SQLite database"):
        await _open_and_close(path)
    assert _digest(path) == before


async def test_a_database_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "onlinesupport.db"
    await _open_and_close(path)
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {migrate.latest_version() + 1}")
    conn.close()
    with pytest.raises(StoreError, match="newer than this program"):
        await _open_and_close(path)


async def test_an_upgrade_copies_the_database_before_changing_its_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, backups = tmp_path / "onlinesupport.db", tmp_path / "backups"
    every = migrate.available_migrations()
    with monkeypatch.context() as older_program:
        older_program.setattr(migrate, "available_migrations", lambda: every[:-1])
        await _open_and_close(path)
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO customers (name, created_at) VALUES ('Kept', '2026-01-01')")
    conn.commit()
    conn.close()

    db = Database(path, ManualClock(), upgrade_backups=backups)
    await db.open()
    await db.close()
    [copy] = backups.glob(f"before-upgrade-v{len(every) - 1}-*.db")
    assert migrate.inspect(copy) == len(every) - 1
    assert migrate.inspect(path) == len(every)
    old = sqlite3.connect(copy)
    assert old.execute("SELECT name FROM customers").fetchall() == [("Kept",)]
    old.close()

    db = Database(path, ManualClock(), upgrade_backups=backups)
    await db.open()
    await db.close()
    assert len(list(backups.glob("*.db"))) == 1, "no copy when nothing is upgraded"


def test_statements_split_keeps_trigger_bodies_whole() -> None:
    sql = (
        "-- leading comment\nCREATE TABLE t (a);\nCREATE TRIGGER x BEFORE DELETE ON t\n"
        "BEGIN\n  SELECT RAISE(ABORT, 'no; never');\nEND;\n-- trailing comment\n"
    )
    statements = migrate.split_statements(sql)
    assert len(statements) == 2
    assert statements[1].startswith("CREATE TRIGGER") and statements[1].endswith("END;")
    with pytest.raises(StoreError, match="incomplete"):
        migrate.split_statements("CREATE TABLE t (a)")


async def test_events_are_append_only(services) -> None:  # type: ignore[no-untyped-def]
    await services.conversations.open(channel="chat", body="hi")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        await services.db.write(lambda conn: conn.execute("UPDATE events SET type = 'x'"))
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        await services.db.write(lambda conn: conn.execute("DELETE FROM events"))


async def test_a_backup_taken_while_100_writers_post_holds_every_committed_message(
    config: Config, tmp_path: Path
) -> None:
    async with open_services(config, ManualClock()) as services:
        opened = [
            await services.conversations.open(channel="chat", customer_name=f"c{i}")
            for i in range(10)
        ]
        committed: set[tuple[int, int]] = set()
        stop = asyncio.Event()

        async def writer(n: int) -> None:
            conversation = opened[n % 10]
            actor = Actor.customer(conversation.customer_id)
            i = 0
            while not stop.is_set():
                posted = await services.conversations.post(
                    conversation.conversation_id, actor, f"w{n} m{i}", client_id=f"{n}-{i}"
                )
                committed.add((conversation.conversation_id, posted.message.seq))
                i += 1

        writers = [asyncio.create_task(writer(n)) for n in range(100)]
        await wait_until(lambda: len(committed) > 100)
        before_backup = set(committed)
        dest = tmp_path / "backup.db"
        await asyncio.to_thread(backup_store.backup, config.database_path, dest)
        await asyncio.sleep(0.1)
        stop.set()
        await asyncio.gather(*writers)
        assert len(before_backup) > 100, "the writers were busy when the backup started"

    conn = sqlite3.connect(dest)
    in_backup = set(conn.execute("SELECT conversation_id, seq FROM messages").fetchall())
    assert conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
    conn.close()
    assert before_backup <= in_backup
    assert len(in_backup) < len(committed), "the backup is a snapshot, not a later copy"


async def test_restore_replaces_the_database_and_keeps_a_safety_copy(
    config: Config, tmp_path: Path
) -> None:
    async with open_services(config, ManualClock()) as services:
        await services.conversations.open(channel="chat", body="in the backup")
    backup_file = tmp_path / "b.db"
    backup_store.backup(config.database_path, backup_file)
    async with open_services(config, ManualClock()) as services:
        await services.conversations.open(channel="chat", body="after the backup")
    safety = tmp_path / "safety.db"
    assert (
        backup_store.restore(backup_file, config.database_path, safety) == migrate.latest_version()
    )
    async with open_services(config, ManualClock()) as services:
        bodies = [r["body"] for r in await services.db.fetch_all("SELECT body FROM messages")]
    assert bodies == ["in the backup"]
    conn = sqlite3.connect(safety)
    assert conn.execute("SELECT count(*) FROM messages").fetchone()[0] == 2
    conn.close()


async def test_restore_refuses_foreign_and_newer_files(config: Config, tmp_path: Path) -> None:
    async with open_services(config, ManualClock()):
        pass
    before = _digest(config.database_path)
    foreign = tmp_path / "foreign.db"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE x (a)")
    conn.close()
    with pytest.raises(StoreError, match="not an OnlineSupport database"):
        backup_store.restore(foreign, config.database_path, None)
    newer = tmp_path / "newer.db"
    backup_store.backup(config.database_path, newer)
    conn = sqlite3.connect(newer)
    conn.execute(f"PRAGMA user_version = {migrate.latest_version() + 1}")
    conn.close()
    with pytest.raises(StoreError, match="newer than this program"):
        backup_store.restore(newer, config.database_path, None)
    empty = tmp_path / "empty.db"
    empty.touch()
    with pytest.raises(StoreError, match="not an OnlineSupport backup"):
        backup_store.restore(empty, config.database_path, None)
    assert _digest(config.database_path) == before


async def test_the_writer_survives_a_batch_that_fails_outside_sqlite(services, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    db = services.db
    real = db._apply

    def broken(fns):  # type: ignore[no-untyped-def]
        raise MemoryError("simulated")

    monkeypatch.setattr(db, "_apply", broken)
    with pytest.raises(MemoryError):
        await services.conversations.open(channel="chat", body="lost")
    monkeypatch.setattr(db, "_apply", real)
    opened = await services.conversations.open(channel="chat", body="kept")
    assert [m.body for m in await messages_repo.after(db, opened.conversation_id)] == ["kept"]
