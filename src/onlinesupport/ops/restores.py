"""Restoring a backup from the admin pages: checked at once, swapped in while the server is
stopped.

The admin's choice is checked (ours, undamaged, not from a newer version) and staged as
restore-pending.db in the data folder; the server then stops both listeners and every service,
swaps the database (keeping the replaced one in backups/), and starts again in the same
process. The outcome is kept in backups/last-restore.json for the health page.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any

from onlinesupport.lib.clock import Clock, to_db
from onlinesupport.lib.errors import UserError
from onlinesupport.store import backup as backup_store
from onlinesupport.store.errors import StoreError

log = logging.getLogger(__name__)

PENDING = "restore-pending.db"
RESULT = "last-restore.json"


class NotRestorable(UserError):
    """The file chosen is no backup of ours that this version can use; the message says why."""


def stage(data_dir: Path, source: Path, name: str) -> int:
    """Check `source` and stage a copy of it for the swap; returns its schema version. Raises
    NotRestorable for a foreign, damaged or newer file."""
    try:
        version = backup_store.check(source)
    except StoreError as exc:
        raise NotRestorable(str(exc)) from exc
    pending = data_dir / PENDING
    partial = pending.with_suffix(".partial")
    shutil.copyfile(source, partial)
    os.replace(partial, pending)
    (data_dir / (PENDING + ".name")).write_text(name, encoding="utf-8")
    return version


def staged(data_dir: Path) -> bool:
    return (data_dir / PENDING).is_file()


def apply_pending(data_dir: Path, database: Path, clock: Clock) -> dict[str, Any] | None:
    """Swap a staged backup in (call only while nothing has the database open)."""
    pending, label = data_dir / PENDING, data_dir / (PENDING + ".name")
    if not pending.is_file():
        return None
    name = label.read_text(encoding="utf-8") if label.exists() else PENDING
    now = clock.now()
    safety = data_dir / "backups" / f"before-restore-{now:%Y%m%d-%H%M%S}.db"
    result: dict[str, Any] = {"file": name, "at": to_db(now)}
    try:
        result.update(
            ok=True,
            version=backup_store.restore(pending, database, safety),
            replaced=safety.name if safety.exists() else "",
        )
        log.warning("restored the backup %s; the database it replaced is %s", name, safety)
    except (StoreError, OSError) as exc:
        result.update(ok=False, error=str(exc))
        log.error("could not restore the backup %s: %s", name, exc)
    finally:
        pending.unlink(missing_ok=True)
        label.unlink(missing_ok=True)
    (data_dir / "backups").mkdir(exist_ok=True)
    (data_dir / "backups" / RESULT).write_text(json.dumps(result), encoding="utf-8")
    return result


def last_result(data_dir: Path) -> dict[str, Any] | None:
    try:
        return json.loads((data_dir / "backups" / RESULT).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
