"""Customers (contacts) and the identities that attach every channel to one of them."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import TypedDict

from onlinesupport.store.database import Database
from onlinesupport.store.errors import NotFound
from onlinesupport.store.rows import as_dicts, new_id, one, record

_SHOWN = {"phone": "phone number ", "external": "external id "}
"""How a refusal names an identity of a kind (an email address speaks for itself)."""


@dataclass(frozen=True, slots=True)
class Customer:
    """A customer as stored; `tags` is their JSON list of tags."""

    id: int
    name: str
    tier: str
    tags: str
    created_at: str
    erased_at: str | None


@dataclass(frozen=True, slots=True)
class Holder:
    """The customer who holds an identity already."""

    id: int
    name: str


def create(conn: sqlite3.Connection, name: str, now: str) -> int:
    return new_id(
        conn.execute("INSERT INTO customers (name, created_at) VALUES (?, ?)", (name, now))
    )


def find_or_create(
    conn: sqlite3.Connection, kind: str, value: str, name: str, now: str, shown: str | None = None
) -> int:
    """The customer holding identity (kind, value), created with `name` if there is none;
    `shown` is the value as typed, where that differs from how it is stored."""
    row = conn.execute(
        "SELECT customer_id FROM customer_identities WHERE kind = ? AND value = ?", (kind, value)
    ).fetchone()
    if row:
        holder: int = row[0]
        return holder
    customer_id = create(conn, name, now)
    conn.execute(
        "INSERT INTO customer_identities (customer_id, kind, value, shown) VALUES (?, ?, ?, ?)",
        (customer_id, kind, value, _differs(shown, value)),
    )
    return customer_id


def _differs(shown: str | None, value: str) -> str | None:
    return shown if shown and shown != value else None


def update(
    conn: sqlite3.Connection, customer_id: int, *, name: str, tier: str, tags: list[str]
) -> None:
    changed = conn.execute(
        "UPDATE customers SET name = ?, tier = ?, tags = ? WHERE id = ?",
        (name, tier, json.dumps(tags), customer_id),
    ).rowcount
    if not changed:
        raise NotFound(f"customer {customer_id} does not exist")


def set_identity(
    conn: sqlite3.Connection, customer_id: int, kind: str, value: str, shown: str | None = None
) -> None:
    """Make `value` the customer's only identity of `kind` (empty: none; `shown`: as typed);
    refused with ValueError if another customer has it."""
    owner = conn.execute(
        "SELECT customer_id FROM customer_identities WHERE kind = ? AND value = ?", (kind, value)
    ).fetchone()
    if owner is not None and owner[0] != customer_id:
        raise ValueError(f"{_SHOWN.get(kind, '')}{shown or value} belongs to another customer")
    conn.execute(
        "DELETE FROM customer_identities WHERE customer_id = ? AND kind = ?", (customer_id, kind)
    )
    if value:
        conn.execute(
            "INSERT INTO customer_identities (customer_id, kind, value, shown) VALUES (?, ?, ?, ?)",
            (customer_id, kind, value, _differs(shown, value)),
        )


def owner(conn: sqlite3.Connection, kind: str, value: str) -> int | None:
    """The customer holding identity (kind, value), if any."""
    row = conn.execute(
        "SELECT customer_id FROM customer_identities WHERE kind = ? AND value = ?", (kind, value)
    ).fetchone()
    return row[0] if row else None


def identity_of(conn: sqlite3.Connection, customer_id: int, kind: str) -> str | None:
    """The customer's first identity of `kind` (as typed, where that differs)."""
    row = conn.execute(
        "SELECT coalesce(shown, value) FROM customer_identities"
        " WHERE customer_id = ? AND kind = ? ORDER BY id LIMIT 1",
        (customer_id, kind),
    ).fetchone()
    return row[0] if row else None


def add_identity(
    conn: sqlite3.Connection, customer_id: int, kind: str, value: str, shown: str | None = None
) -> None:
    """Give the customer one more identity, one nobody has (the caller checked)."""
    conn.execute(
        "INSERT INTO customer_identities (customer_id, kind, value, shown) VALUES (?, ?, ?, ?)",
        (customer_id, kind, value, _differs(shown, value)),
    )


def lock(conn: sqlite3.Connection, customer_id: int) -> Customer:
    row = one(conn.execute("SELECT * FROM customers WHERE id = ?", (customer_id,)))
    if row is None:
        raise NotFound(f"customer {customer_id} does not exist")
    return record(Customer, row)


def add_email(conn: sqlite3.Connection, customer_id: int, email: str) -> Holder | None:
    """Give the customer `email` as an identity; when another customer has it, nothing changes
    and that customer's id and name are returned."""
    owner = one(
        conn.execute(
            "SELECT c.id, c.name FROM customer_identities i JOIN customers c"
            " ON c.id = i.customer_id WHERE i.kind = 'email' AND i.value = ?",
            (email,),
        )
    )
    if owner is not None:
        return record(Holder, owner) if owner["id"] != customer_id else None
    conn.execute(
        "INSERT INTO customer_identities (customer_id, kind, value) VALUES (?, 'email', ?)",
        (customer_id, email),
    )
    return None


def first_email_of(customer_id: str) -> str:
    """SQL for the first email address of the customer whose id is the expression
    `customer_id` (NULL if they have none): what the desk names a customer without a name by."""
    return (
        "(SELECT value FROM customer_identities WHERE customer_id = "
        f"{customer_id} AND kind = 'email' ORDER BY id LIMIT 1)"
    )


def first_email(conn: sqlite3.Connection, customer_id: int) -> str:
    """The customer's first email address ('' if they have none)."""
    row = conn.execute(
        "SELECT value FROM customer_identities WHERE customer_id = ?"
        " AND kind = 'email' ORDER BY id LIMIT 1",
        (customer_id,),
    ).fetchone()
    return row[0] if row else ""


class PastConversation(TypedDict):
    """One line of a customer's history."""

    id: int
    channel: str
    subject: str
    status: str
    created_at: str
    last_message_at: str
    first_response_at: str | None
    first_response_due_at: str | None


async def conversations(db: Database, customer_id: int) -> list[PastConversation]:
    """Every conversation of the customer, across channels, newest first."""
    rows = await db.fetch_all(
        "SELECT id, channel, subject, status, created_at, last_message_at, first_response_at,"
        " first_response_due_at FROM conversations"
        " WHERE customer_id = ? ORDER BY last_message_at DESC, id DESC",
        (customer_id,),
    )
    return as_dicts(PastConversation, rows)


class Identity(TypedDict):
    """An identity as shown: its kind, and its value as typed."""

    kind: str
    value: str


class Profile(TypedDict):
    """A customer with their tags read, their identities and first email address."""

    id: int
    name: str
    tier: str
    tags: list[str]
    created_at: str
    erased_at: str | None
    identities: list[Identity]
    email: str


async def get(db: Database, customer_id: int) -> Profile | None:
    row = await db.fetch_one("SELECT * FROM customers WHERE id = ?", (customer_id,))
    if row is None:
        return None
    customer = record(Customer, row)
    identities = as_dicts(
        Identity,
        await db.fetch_all(
            "SELECT kind, coalesce(shown, value) AS value FROM customer_identities"
            " WHERE customer_id = ? ORDER BY id",
            (customer_id,),
        ),
    )
    return {
        "id": customer.id,
        "name": customer.name,
        "tier": customer.tier,
        "tags": json.loads(customer.tags),
        "created_at": customer.created_at,
        "erased_at": customer.erased_at,
        "identities": identities,
        "email": next((i["value"] for i in identities if i["kind"] == "email"), ""),
    }


async def by_identity(db: Database, kind: str, value: str) -> int | None:
    row = await db.fetch_one(
        "SELECT customer_id FROM customer_identities WHERE kind = ? AND value = ?", (kind, value)
    )
    return row[0] if row else None
