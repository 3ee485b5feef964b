"""The health report: is everything running, and is anything about to go wrong?

Shown to admins on the desk's health page (web/desk/health_page.py renders it).
"""

from __future__ import annotations

import dataclasses
import shutil
import time
from datetime import UTC, datetime
from typing import Any

from onlinesupport import __version__
from onlinesupport.lib.clock import to_db
from onlinesupport.lib.supervisor import LoopState
from onlinesupport.ops import platform_support
from onlinesupport.services import Services
from onlinesupport.store import erasure as erasure_repo
from onlinesupport.store import mailboxes as mailboxes_repo
from onlinesupport.store import outbox as outbox_repo
from onlinesupport.store import webhooks as webhooks_repo

LOW_DISK = 1024**3
OLD_BACKUP_DAYS = 2
FEW_OPEN_FILES = 4096
BUSY_OPEN_FILES = 0.7


def _size(path: Any) -> int:
    return path.stat().st_size if path.exists() else 0


async def report(services: Services) -> dict[str, Any]:
    """Everything the health page shows, with "warnings": what needs the admin's attention."""
    config = services.config
    database = config.database_path
    db_bytes = _size(database) + _size(database.with_name(database.name + "-wal"))
    disk = shutil.disk_usage(config.data_dir)
    backups = services.backups.existing()
    last_backup = None
    warnings = []
    if backups:
        stamp = datetime.fromtimestamp(backups[-1].stat().st_mtime, UTC)
        last_backup = {"name": backups[-1].name, "at": stamp.isoformat(timespec="minutes")}
        if (services.clock.now() - stamp).days >= OLD_BACKUP_DAYS:
            warnings.append(f"The newest backup is more than {OLD_BACKUP_DAYS} days old.")
    elif config.storage_backups_keep:
        warnings.append("No daily backup has been made yet.")
    else:
        warnings.append("Daily backups are off (storage.backups_keep = 0).")
    if services.db.full:
        warnings.append(
            "The disk is full: new messages cannot be stored until there is room "
            "(visitors' messages wait in their browsers, mail servers try again)."
        )
    elif disk.free < LOW_DISK:
        warnings.append("Less than 1 GB of disk space is left for the data folder.")
    warnings.extend(_open_file_warnings())
    mailboxes = []
    for mailbox in await mailboxes_repo.list_all(services.db):
        state = services.email.states.get(mailbox["id"])
        mailboxes.append(
            {
                "address": mailbox["address"],
                "active": mailbox["active"],
                "imap": bool(mailbox["imap_host"]),
                "state": state,
                "last_import_at": mailbox["last_import_at"],
            }
        )
        if mailbox["active"] and mailbox["imap_host"] and state and state.last_error:
            warnings.append(f"{mailbox['address']}: {state.last_error}")
    waiting = await erasure_repo.pending_count(services.db)
    if waiting:
        warnings.append(
            f"{waiting} customer{'s' if waiting > 1 else ''} asked for their data "
            "to be erased (Admin → Privacy)."
        )
    outbox = await outbox_repo.counts(services.db)
    if outbox.get("failed"):
        failed = outbox["failed"]
        warnings.append(
            f"{failed} outgoing mail{'s' if failed > 1 else ''} could not be delivered."
        )
    for loop in services.supervisor.states():
        if loop.status == "restarting":
            warnings.append(
                f"{loop.name} keeps failing ({loop.failures} times so far): {loop.last_error}"
            )
    for endpoint in await webhooks_repo.disabled_endpoints(services.db):
        warnings.append(
            f"Webhook endpoint {endpoint.url} was disabled: "
            f"{endpoint.disabled_reason} (Admin → Webhooks)."
        )
    return {
        "version": __version__,
        "warnings": warnings,
        "uptime_minutes": int((time.monotonic() - services.started_at) // 60),
        "database": str(database),
        "db_mb": db_bytes / 1e6,
        "disk_free_gb": disk.free / 1e9,
        "data_dir": str(config.data_dir),
        "backups": len(backups),
        "last_backup": last_backup,
        "keep": config.storage_backups_keep,
        "mailboxes": mailboxes,
        "outbox": outbox,
        "turned_away": sorted(services.tally.totals.items()),
        "loops": [_loop(state) for state in services.supervisor.states()],
    }


def _loop(state: LoopState) -> dict[str, Any]:
    """A background loop as the page shows it (times as stored, for the `when` filter)."""
    return {
        **dataclasses.asdict(state),
        "since": to_db(state.since) if state.since else None,
        "last_error_at": to_db(state.last_error_at) if state.last_error_at else None,
    }


def _open_file_warnings() -> list[str]:
    """Every connection holds an open file: near the limit, new visitors are turned away."""
    used, limit = platform_support.open_files(), platform_support.open_file_limit()
    if used is None or limit is None:
        return []
    if used >= limit * BUSY_OPEN_FILES:
        return [
            f"{used:,} of {limit:,} open files are in use: connections are near the "
            "limit (see Turned away below; the service's LimitNOFILE raises it)."
        ]
    if limit < FEW_OPEN_FILES:
        return [
            f"The server may hold only {limit:,} open files, so few connections; raise "
            "its limit (LimitNOFILE in the systemd unit, ulimit -n)."
        ]
    return []
