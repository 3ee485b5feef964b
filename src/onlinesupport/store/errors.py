"""Errors the store raises to the layers above it."""

from __future__ import annotations

import errno
import sqlite3

_NO_ROOM = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


class StoreError(Exception):
    """The database cannot be used as it is; the message says why and what to do."""


class StoreClosed(Exception):
    """The store is shutting down and takes no more writes."""


class NotFound(LookupError):
    """The row asked for does not exist."""


class StorageFull(Exception):
    """The disk is full: nothing can be stored until there is room again (nothing is lost that
    was acknowledged; callers say so and try later)."""

    def __init__(self, message: str = "The server cannot store messages right now (disk full)."
                 ) -> None:
        super().__init__(message)


def is_full(exc: BaseException) -> bool:
    """Whether `exc` says the disk (or the user's quota on it) has no room left."""
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        return code is not None and code & 0xFF == sqlite3.SQLITE_FULL
    return isinstance(exc, OSError) and exc.errno in _NO_ROOM
