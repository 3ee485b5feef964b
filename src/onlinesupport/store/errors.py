"""Errors the store raises to the layers above it."""

from __future__ import annotations

import errno
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from onlinesupport.lib.errors import AlreadyReported

_NO_ROOM = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


class StoreError(Exception):
    """The database cannot be used as it is; the message says why and what to do."""


class Conflict(StoreError):
    """A write that breaks a rule of the data: a name or address taken already, or a row that
    refers to one that does not exist. Nothing of that statement is written; the caller says
    what to change."""


@contextmanager
def conflicts() -> Iterator[None]:
    """Raise `Conflict` for what SQLite reports as a broken constraint in the block (or, as
    `@conflicts()`, in the repository function)."""
    try:
        yield
    except sqlite3.IntegrityError as exc:
        raise Conflict(str(exc)) from exc


class StoreClosed(Exception):
    """The store is shutting down and takes no more writes."""


class NotFound(LookupError):
    """The row asked for does not exist."""


class StorageFull(AlreadyReported):
    """The disk is full: nothing can be stored until there is room again (nothing is lost that
    was acknowledged; callers say so and try later)."""

    def __init__(
        self, message: str = "The server cannot store messages right now (disk full)."
    ) -> None:
        super().__init__(message)


def is_full(exc: BaseException) -> bool:
    """Whether `exc` says the disk (or the user's quota on it) has no room left."""
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        return code is not None and code & 0xFF == sqlite3.SQLITE_FULL
    return isinstance(exc, OSError) and exc.errno in _NO_ROOM
