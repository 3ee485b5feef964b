"""Typed reads of the writer's cursors: what `sqlite3` leaves as `Any` or `Optional`.

typeshed types `Cursor.fetchone()` as `Any`, because a connection's `row_factory` can return
anything; every store connection sets `sqlite3.Row` (`Database._open_writer`), so these helpers
name that type once instead of at each query.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import fields
from typing import Any, TypeVar, cast

R = TypeVar("R")
D = TypeVar("D", bound=Mapping[str, Any])


def one(cursor: sqlite3.Cursor) -> sqlite3.Row | None:
    """The cursor's next row, or None when there is none."""
    return cast("sqlite3.Row | None", cursor.fetchone())


def only(cursor: sqlite3.Cursor) -> sqlite3.Row:
    """The next row of a query that always yields one (an aggregate, or a row the caller's
    transaction has just checked or written)."""
    return cast(sqlite3.Row, cursor.fetchone())


def new_id(cursor: sqlite3.Cursor) -> int:
    """The id of the row an INSERT on this cursor has just written."""
    # `lastrowid` is None only on a cursor that has run no statement yet.
    row_id = cursor.lastrowid
    assert row_id is not None
    return row_id


_FIELD_NAMES: dict[type[Any], tuple[str, ...]] = {}


def _field_names(kind: type[Any]) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(kind)
    if names is None:
        names = _FIELD_NAMES[kind] = tuple(field.name for field in fields(kind))
    return names


def record(kind: type[R], row: sqlite3.Row) -> R:
    """The row as the dataclass `kind`, each field taken from the column of its name.

    Columns the dataclass does not name are left out, so a `SELECT *` keeps working when a
    migration adds a column; a field with no column fails here, at the query, not in a caller.
    """
    return kind(*[row[name] for name in _field_names(kind)])


def records(kind: type[R], rows: list[sqlite3.Row]) -> list[R]:
    """Every row as the dataclass `kind` (see `record`)."""
    names = _field_names(kind)
    return [kind(*[row[name] for name in names]) for row in rows]


def as_dict(kind: type[D], row: sqlite3.Row) -> D:
    """The row as a dict of the TypedDict `kind`, whose keys are the query's columns.

    For reads whose callers use a dict (templates, JSON, a copy they change); like every value
    `sqlite3` returns, the keys and types are the query's promise, not checked here.
    """
    return cast(D, dict(row))


def as_dicts(kind: type[D], rows: list[sqlite3.Row]) -> list[D]:
    """Every row as a dict of the TypedDict `kind` (see `as_dict`)."""
    return cast(list[D], [dict(row) for row in rows])
