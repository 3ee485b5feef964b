"""The shortcuts tests/conftest.py takes to save CPU, and why they prove the same.

Tests hash passwords at a lower scrypt cost, and start their servers on a copy of a database
migrated once per test process instead of migrating a new file each time.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from conftest import PRODUCTION_SCRYPT, TEST_SCRYPT_N, fresh_database, make_config
from onlinesupport.accounts.passwords import hash_password, verify_password
from onlinesupport.lib.clock import ManualClock
from onlinesupport.store import Database


def test_production_hashes_with_scrypt_at_n_2_15_r_8_p_1(production_password_cost: None) -> None:
    """The suite lowers the cost (tests/conftest.py); what it lowers must be production's."""
    assert PRODUCTION_SCRYPT == (2**15, 8, 1)
    stored = hash_password("correct horse battery")
    scheme, n, r, p, _salt, _digest = stored.split("$")
    assert (scheme, int(n), int(r), int(p)) == ("scrypt", 2**15, 8, 1)
    assert verify_password("correct horse battery", stored)
    assert not verify_password("correct horse batterz", stored)


def test_a_hash_is_verified_with_the_parameters_it_was_made_with() -> None:
    """Why the suite may hash cheaply: verifying reads the cost from the stored hash."""
    cheap = hash_password("correct horse battery")
    assert cheap.startswith(f"scrypt${TEST_SCRYPT_N}$8$1$")
    assert verify_password("correct horse battery", cheap)
    assert not verify_password("wrong password", cheap)
    assert not verify_password("correct horse battery", cheap.replace("scrypt$", "bcrypt$"))


_WHEN = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def _timeless(row: tuple[object, ...]) -> tuple[object, ...]:
    """A row with the times the migrations wrote (SQLite's clock at migration time) masked."""
    return tuple("<time>" if isinstance(v, str) and _WHEN.match(v) else v for v in row)


def _contents(path: Path) -> dict[str, object]:
    conn = sqlite3.connect(path)
    try:
        schema = conn.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
        ).fetchall()
        tables = [name for kind, name, _, _ in schema if kind == "table"]
        rows = {
            # When the migrations ran differs; what they made must not.
            table: sorted(
                (_timeless(row) for row in conn.execute(f'SELECT * FROM "{table}"')), key=repr
            )
            for table in tables
        }
        pragmas = {
            name: conn.execute(f"PRAGMA {name}").fetchone()[0]
            for name in ("user_version", "application_id", "journal_mode", "page_size")
        }
    finally:
        conn.close()
    return {"schema": schema, "rows": rows, "pragmas": pragmas}


async def test_the_template_database_is_what_the_store_makes_of_an_empty_folder(
    tmp_path: Path,
) -> None:
    config = make_config(tmp_path / "copied")
    fresh_database(config)
    migrated = tmp_path / "migrated" / "onlinesupport.db"
    db = Database(migrated, ManualClock())
    try:
        await db.open()
    finally:
        await db.close()
    assert _contents(config.database_path) == _contents(migrated)
