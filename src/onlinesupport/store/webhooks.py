"""Webhook endpoints, the public events they are sent, and each delivery with its attempts.

Deliveries are a work queue (`WEBHOOKS`, see `store/work_queue.py`), kept in order per
endpoint and conversation (or customer). Public events double as the API's event feed.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from onlinesupport.store.database import Database
from onlinesupport.store.errors import NotFound
from onlinesupport.store.rows import new_id, only
from onlinesupport.store.work_queue import Claim, WorkQueue

WEBHOOKS = WorkQueue("webhook_deliveries", Claim, ordered_by=("endpoint_id", "ordering_key"))


@dataclass(frozen=True)
class Endpoint:
    id: int
    url: str
    description: str
    event_types: tuple[str, ...]
    """Empty: every type."""
    enabled: bool
    disabled_reason: str
    secret: str
    """Sealed with the instance key (see `SecretBox`)."""
    previous_secret: str | None
    previous_until: str | None
    failing_since: str | None
    created_at: str
    updated_at: str

    def wants(self, type: str) -> bool:
        return not self.event_types or type in self.event_types


@dataclass(frozen=True)
class PublicEvent:
    id: int
    event_id: int | None
    msg_id: str
    type: str
    conversation_id: int | None
    customer_id: int | None
    created_at: str
    payload: str
    """The JSON body sent to endpoints: {type, timestamp, data}."""


@dataclass(frozen=True)
class Delivery:
    id: int
    endpoint_id: int
    webhook_event_id: int
    ordering_key: str | None
    msg_id: str
    type: str
    status: str
    attempts: int
    next_attempt_at: str
    last_error: str
    last_status_code: int | None
    sent_at: str | None
    created_at: str


@dataclass(frozen=True)
class Attempt:
    id: int
    delivery_id: int
    attempt: int
    status_code: int | None
    response: str
    error: str
    duration_ms: int
    created_at: str


def _endpoint(row: sqlite3.Row) -> Endpoint:
    return Endpoint(
        row["id"],
        row["url"],
        row["description"],
        tuple(json.loads(row["event_types"])),
        bool(row["enabled"]),
        row["disabled_reason"],
        row["secret"],
        row["previous_secret"],
        row["previous_until"],
        row["failing_since"],
        row["created_at"],
        row["updated_at"],
    )


def _event(row: sqlite3.Row) -> PublicEvent:
    return PublicEvent(
        row["id"],
        row["event_id"],
        row["msg_id"],
        row["type"],
        row["conversation_id"],
        row["customer_id"],
        row["created_at"],
        row["payload"],
    )


def _delivery(row: sqlite3.Row) -> Delivery:
    return Delivery(
        row["id"],
        row["endpoint_id"],
        row["webhook_event_id"],
        row["ordering_key"],
        row["msg_id"],
        row["type"],
        row["status"],
        row["attempts"],
        row["next_attempt_at"],
        row["last_error"],
        row["last_status_code"],
        row["sent_at"],
        row["created_at"],
    )


# Endpoints


def insert_endpoint(
    conn: sqlite3.Connection,
    *,
    url: str,
    description: str,
    event_types: Sequence[str],
    enabled: bool,
    secret: str,
    now: str,
) -> int:
    return new_id(
        conn.execute(
            "INSERT INTO webhook_endpoints (url, description, event_types, enabled, secret,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (url, description, json.dumps(list(event_types)), int(enabled), secret, now, now),
        )
    )


def update_endpoint(
    conn: sqlite3.Connection,
    endpoint_id: int,
    now: str,
    *,
    url: str,
    description: str,
    event_types: Sequence[str],
    enabled: bool,
) -> None:
    """Change an endpoint; enabling it again clears why it was disabled and its failures."""
    changed = conn.execute(
        "UPDATE webhook_endpoints SET url = ?, description = ?, event_types = ?, enabled = ?,"
        " disabled_reason = CASE WHEN ? THEN '' ELSE disabled_reason END,"
        " failing_since = CASE WHEN ? AND NOT enabled THEN NULL ELSE failing_since END,"
        " updated_at = ? WHERE id = ?",
        (
            url,
            description,
            json.dumps(list(event_types)),
            int(enabled),
            int(enabled),
            int(enabled),
            now,
            endpoint_id,
        ),
    ).rowcount
    if not changed:
        raise NotFound(f"webhook endpoint {endpoint_id} does not exist")


def delete_endpoint(conn: sqlite3.Connection, endpoint_id: int) -> None:
    if not conn.execute("DELETE FROM webhook_endpoints WHERE id = ?", (endpoint_id,)).rowcount:
        raise NotFound(f"webhook endpoint {endpoint_id} does not exist")


def lock_endpoint(conn: sqlite3.Connection, endpoint_id: int) -> Endpoint:
    row = conn.execute("SELECT * FROM webhook_endpoints WHERE id = ?", (endpoint_id,)).fetchone()
    if row is None:
        raise NotFound(f"webhook endpoint {endpoint_id} does not exist")
    return _endpoint(row)


def rotate_secret(
    conn: sqlite3.Connection, endpoint_id: int, secret: str, previous_until: str, now: str
) -> None:
    """A new secret; the one it replaces keeps signing until `previous_until`."""
    changed = conn.execute(
        "UPDATE webhook_endpoints SET previous_secret = secret, previous_until = ?, secret = ?,"
        " updated_at = ? WHERE id = ?",
        (previous_until, secret, now, endpoint_id),
    ).rowcount
    if not changed:
        raise NotFound(f"webhook endpoint {endpoint_id} does not exist")


def enabled_endpoints(conn: sqlite3.Connection) -> list[Endpoint]:
    """Inside a write: the endpoints that receive new events."""
    return [
        _endpoint(r)
        for r in conn.execute(
            "SELECT * FROM webhook_endpoints WHERE enabled ORDER BY id"
        ).fetchall()
    ]


def disable(conn: sqlite3.Connection, endpoint_id: int, reason: str, now: str) -> bool:
    """Stop sending to an endpoint; what waits for it fails. False if it was disabled already."""
    changed = conn.execute(
        "UPDATE webhook_endpoints SET enabled = 0, disabled_reason = ?,"
        " updated_at = ? WHERE id = ? AND enabled",
        (reason, now, endpoint_id),
    ).rowcount
    conn.execute(
        "UPDATE webhook_deliveries SET status = 'failed', last_error = ?"
        " WHERE endpoint_id = ? AND status = 'queued'",
        (f"not sent: the endpoint was disabled ({reason})"[:500], endpoint_id),
    )
    return bool(changed)


def failing(conn: sqlite3.Connection, endpoint_id: int, now: str) -> str:
    """Note a failed attempt; returns since when the endpoint has failed without a success."""
    since: str = only(
        conn.execute(
            "UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, ?)"
            " WHERE id = ? RETURNING failing_since",
            (now, endpoint_id),
        )
    )[0]
    return since


def succeeded(conn: sqlite3.Connection, endpoint_id: int, now: str) -> None:
    """The endpoint answers again: clear its failures and send what waits for a retry now."""
    conn.execute(
        "UPDATE webhook_endpoints SET failing_since = NULL WHERE id = ?"
        " AND failing_since IS NOT NULL",
        (endpoint_id,),
    )
    conn.execute(
        "UPDATE webhook_deliveries SET next_attempt_at = ? WHERE endpoint_id = ?"
        " AND status = 'queued' AND next_attempt_at > ?",
        (now, endpoint_id, now),
    )


async def get_endpoint(db: Database, endpoint_id: int) -> Endpoint | None:
    row = await db.fetch_one("SELECT * FROM webhook_endpoints WHERE id = ?", (endpoint_id,))
    return _endpoint(row) if row else None


async def list_endpoints(db: Database) -> list[Endpoint]:
    return [_endpoint(r) for r in await db.fetch_all("SELECT * FROM webhook_endpoints ORDER BY id")]


async def disabled_endpoints(db: Database) -> list[Endpoint]:
    return [
        _endpoint(r)
        for r in await db.fetch_all(
            "SELECT * FROM webhook_endpoints WHERE NOT enabled AND disabled_reason != ''"
            " ORDER BY id"
        )
    ]


# Public events


def insert_event(
    conn: sqlite3.Connection,
    *,
    event_id: int | None,
    msg_id: str,
    type: str,
    conversation_id: int | None,
    customer_id: int | None,
    now: str,
    payload: str,
) -> int:
    return new_id(
        conn.execute(
            "INSERT INTO webhook_events (event_id, msg_id, type, conversation_id, customer_id,"
            " created_at, payload) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (event_id, msg_id, type, conversation_id, customer_id, now, payload),
        )
    )


def announced(conn: sqlite3.Connection, customer_id: int, type: str) -> bool:
    """Whether a public event of `type` about the customer was written already."""
    return (
        conn.execute(
            "SELECT 1 FROM webhook_events WHERE customer_id = ? AND type = ? LIMIT 1",
            (customer_id, type),
        ).fetchone()
        is not None
    )


def erase_customer(conn: sqlite3.Connection, customer_id: int, payload: str) -> None:
    """An erased customer: their events keep their place in the feed but say nothing more;
    deliveries that wait are not sent."""
    conn.execute(
        "UPDATE webhook_deliveries SET status = 'failed', last_error = 'erased'"
        " WHERE status = 'queued' AND webhook_event_id IN ("
        " SELECT id FROM webhook_events WHERE customer_id = ?)",
        (customer_id,),
    )
    conn.execute(
        "UPDATE webhook_events SET payload = json_set(?, '$.type', type,"
        " '$.timestamp', json_extract(payload, '$.timestamp')) WHERE customer_id = ?",
        (payload, customer_id),
    )


async def feed(
    db: Database, after: int, limit: int, types: Sequence[str] = ()
) -> list[PublicEvent]:
    """Public events after id `after`, in order (test pings are not in the feed)."""
    only = f" AND type IN ({','.join('?' * len(types))})" if types else ""
    rows = await db.fetch_all(
        f"SELECT * FROM webhook_events WHERE id > ? AND type != 'ping'{only} ORDER BY id LIMIT ?",
        (after, *types, limit),
    )
    return [_event(r) for r in rows]


async def feed_floor(db: Database) -> int:
    """Cursors below this point at events pruned since (ids are never reused or skipped)."""
    row = await db.fetch_one(
        "SELECT coalesce((SELECT min(id) - 1 FROM webhook_events),"
        " (SELECT seq FROM sqlite_sequence WHERE name = 'webhook_events'), 0)"
    )
    assert row is not None  # an aggregate always yields one row
    floor: int = row[0]
    return floor


async def feed_ceiling(db: Database) -> int:
    """The id of the latest event ever written (0: none yet); no cursor can be past it."""
    row = await db.fetch_one(
        "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'webhook_events'), 0)"
    )
    assert row is not None  # an aggregate always yields one row
    ceiling: int = row[0]
    return ceiling


# Deliveries


def insert_deliveries(
    conn: sqlite3.Connection,
    endpoint_ids: Sequence[int],
    webhook_event_id: int,
    ordering_key: str | None,
    now: str,
) -> None:
    conn.executemany(
        "INSERT INTO webhook_deliveries (endpoint_id, webhook_event_id, ordering_key,"
        " next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?)",
        [(endpoint_id, webhook_event_id, ordering_key, now, now) for endpoint_id in endpoint_ids],
    )


def insert_delivery(
    conn: sqlite3.Connection,
    endpoint_id: int,
    webhook_event_id: int,
    ordering_key: str | None,
    now: str,
) -> int:
    return new_id(
        conn.execute(
            "INSERT INTO webhook_deliveries (endpoint_id, webhook_event_id, ordering_key,"
            " next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?)",
            (endpoint_id, webhook_event_id, ordering_key, now, now),
        )
    )


def record_attempt(
    conn: sqlite3.Connection,
    delivery_id: int,
    attempt: int,
    status_code: int | None,
    response: str,
    error: str,
    duration_ms: int,
    now: str,
) -> None:
    conn.execute(
        "INSERT INTO webhook_attempts (delivery_id, attempt, status_code, response, error,"
        " duration_ms, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (delivery_id, attempt, status_code, response, error[:500], duration_ms, now),
    )
    conn.execute(
        "UPDATE webhook_deliveries SET last_status_code = ? WHERE id = ?",
        (status_code, delivery_id),
    )


def redeliver(conn: sqlite3.Connection, endpoint_id: int, delivery_id: int, now: str) -> bool:
    """Send a delivery again now, with a fresh retry schedule (its webhook-id stays); False
    while it is being sent (its outcome is not known yet)."""
    changed = conn.execute(
        "UPDATE webhook_deliveries SET status = 'queued', attempts = 0, next_attempt_at = ?,"
        " last_error = '' WHERE id = ? AND endpoint_id = ? AND status IN ('sent', 'failed')",
        (now, delivery_id, endpoint_id),
    ).rowcount
    if changed:
        return True
    row = conn.execute(
        "SELECT status FROM webhook_deliveries WHERE id = ? AND endpoint_id = ?",
        (delivery_id, endpoint_id),
    ).fetchone()
    if row is None:
        raise NotFound(f"delivery {delivery_id} of webhook endpoint {endpoint_id} does not exist")
    if row[0] == "sending":
        return False
    conn.execute(
        "UPDATE webhook_deliveries SET next_attempt_at = ? WHERE id = ? AND status = 'queued'",
        (now, delivery_id),
    )
    return True


def _first_after(conn: sqlite3.Connection, table: str, moment: str) -> int | None:
    """The first id of `table` (ids grow with created_at) created at or after `moment`,
    found by bisecting ids, so the tables need no index on the time."""
    bounds = only(conn.execute(f"SELECT min(id), max(id) FROM {table}"))
    if bounds[0] is None:
        return None
    low: int = bounds[0]
    high: int = bounds[1]
    if conn.execute(f"SELECT created_at FROM {table} WHERE id = ?", (high,)).fetchone()[0] < moment:
        return high + 1
    while low < high:
        middle = (low + high) // 2
        row = conn.execute(
            f"SELECT id, created_at FROM {table} WHERE id >= ? ORDER BY id LIMIT 1", (middle,)
        ).fetchone()
        if row[1] < moment:
            low = row[0] + 1
        else:
            high = middle if row[0] > middle else row[0]
    return low


def prune(conn: sqlite3.Connection, deliveries_before: str, events_before: str) -> int:
    """Forget finished deliveries (and their attempts) and public events older than the
    given times; returns how many deliveries went."""
    gone = 0
    first = _first_after(conn, "webhook_deliveries", deliveries_before)
    if first is not None:
        gone = conn.execute(
            "DELETE FROM webhook_deliveries WHERE id < ? AND status IN ('sent', 'failed')", (first,)
        ).rowcount
    first = _first_after(conn, "webhook_events", events_before)
    if first is not None:
        conn.execute(
            "DELETE FROM webhook_events WHERE id < min(:first, coalesce(("
            " SELECT min(webhook_event_id) FROM webhook_deliveries"
            " WHERE status IN ('queued', 'sending')), :first))",
            {"first": first},
        )
    return gone


_DELIVERY = (
    "SELECT d.*, e.msg_id, e.type FROM webhook_deliveries d"
    " JOIN webhook_events e ON e.id = d.webhook_event_id"
)


async def for_sending(
    db: Database, delivery_ids: Sequence[int]
) -> list[tuple[Delivery, Endpoint, PublicEvent]]:
    """Claimed deliveries with their endpoints and events, in id order."""
    if not delivery_ids:
        return []
    marks = ",".join("?" * len(delivery_ids))
    rows = await db.fetch_all(
        f"SELECT d.*, e.msg_id, e.type, e.event_id, e.conversation_id, e.customer_id,"
        f" e.created_at AS event_created_at, e.payload FROM webhook_deliveries d"
        f" JOIN webhook_events e ON e.id = d.webhook_event_id WHERE d.id IN ({marks})"
        f" ORDER BY d.id",
        list(delivery_ids),
    )
    wanted = sorted({r["endpoint_id"] for r in rows})
    endpoints = (
        {
            r["id"]: _endpoint(r)
            for r in await db.fetch_all(
                f"SELECT * FROM webhook_endpoints WHERE id IN ({','.join('?' * len(wanted))})",
                wanted,
            )
        }
        if wanted
        else {}
    )
    return [
        (
            _delivery(r),
            endpoints[r["endpoint_id"]],
            PublicEvent(
                r["webhook_event_id"],
                r["event_id"],
                r["msg_id"],
                r["type"],
                r["conversation_id"],
                r["customer_id"],
                r["event_created_at"],
                r["payload"],
            ),
        )
        for r in rows
        if r["endpoint_id"] in endpoints
    ]


async def deliveries(
    db: Database, endpoint_id: int, limit: int = 50, before: int | None = None
) -> list[Delivery]:
    """An endpoint's deliveries, newest first."""
    rows = await db.fetch_all(
        f"{_DELIVERY} WHERE d.endpoint_id = ? AND d.id < ? ORDER BY d.id DESC LIMIT ?",
        (endpoint_id, before if before is not None else 2**63 - 1, limit),
    )
    return [_delivery(r) for r in rows]


async def get_delivery(db: Database, endpoint_id: int, delivery_id: int) -> Delivery | None:
    row = await db.fetch_one(
        f"{_DELIVERY} WHERE d.id = ? AND d.endpoint_id = ?", (delivery_id, endpoint_id)
    )
    return _delivery(row) if row else None


async def attempts(db: Database, delivery_id: int) -> list[Attempt]:
    rows = await db.fetch_all(
        "SELECT * FROM webhook_attempts WHERE delivery_id = ? ORDER BY id", (delivery_id,)
    )
    return [
        Attempt(
            r["id"],
            r["delivery_id"],
            r["attempt"],
            r["status_code"],
            r["response"],
            r["error"],
            r["duration_ms"],
            r["created_at"],
        )
        for r in rows
    ]
