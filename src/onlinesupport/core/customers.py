"""Customer profiles as agents and integrations edit them: name, email, phone, external id,
tier and tags. Each change is an event (customer.created, customer.updated)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from onlinesupport.core.conversations import Actor, Conversations, InvalidCommand
from onlinesupport.core.conversations.work import Work
from onlinesupport.lib.inputs import is_email_address, phone_number
from onlinesupport.store import Database, Transaction
from onlinesupport.store import conversations as conversations_repo
from onlinesupport.store import customers as customers_repo

TIERS = ("standard", "preferred")
MAX_TAGS = 20
_TAG = re.compile(r"^[\w .&+-]{1,30}$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ()./-]{3,38}$")


async def own_conversation(
    db: Database, customer_id: int | None, conversation_id: int | None
) -> conversations_repo.ConversationView | None:
    """The conversation if it is this customer's. A customer (a widget visitor, or on their
    own page) sees only their own conversations; anything else is as if it did not exist."""
    if customer_id is None or conversation_id is None:
        return None
    found = await conversations_repo.get(db, conversation_id)
    return found if found is not None and found["customer_id"] == customer_id else None


class IdentityTaken(InvalidCommand):
    """The email address, phone number or external id belongs to another customer."""

    status = 409


@dataclass(frozen=True)
class CustomerChanges:
    """What to change on a profile; None leaves a field as it is."""

    name: str | None = None
    email: str | None = None
    phone: str | None = None
    external_id: str | None = None
    """"" removes it."""
    tier: str | None = None
    tags: list[str] | None = None


def _checked(changes: CustomerChanges) -> CustomerChanges:
    name = email = phone = external_id = None
    if changes.name is not None:
        name = changes.name.strip()
        if len(name) > 200:
            raise InvalidCommand("the name is longer than 200 characters")
    if changes.email is not None:
        email = changes.email.strip().lower()
        if email and not is_email_address(email):
            raise InvalidCommand("enter a valid email address or leave it empty", "email")
    if changes.phone is not None:
        phone = changes.phone.strip()
        if phone and not _PHONE.match(phone):
            raise InvalidCommand(
                "a phone number takes digits, spaces and + ( ) . / - only", "phone"
            )
    if changes.external_id is not None:
        external_id = changes.external_id.strip()
        if len(external_id) > 200 or not external_id.isprintable():
            raise InvalidCommand(
                "an external id takes at most 200 printable characters", "external_id"
            )
    if changes.tier is not None and changes.tier not in TIERS:
        raise InvalidCommand(f"tier must be one of {', '.join(TIERS)}")
    tags = None
    if changes.tags is not None:
        tags = list(dict.fromkeys(t.strip() for t in changes.tags if t.strip()))
        if len(tags) > MAX_TAGS:
            raise InvalidCommand(f"at most {MAX_TAGS} tags")
        for tag in tags:
            if not _TAG.match(tag):
                raise InvalidCommand(
                    f"tag {tag[:40]!r}: letters, digits, spaces and .&+- only, "
                    "at most 30 characters"
                )
    return CustomerChanges(name, email, phone, external_id, changes.tier, tags)


def _apply(conn: Transaction, customer_id: int, changes: CustomerChanges) -> None:
    row = customers_repo.lock(conn, customer_id)
    customers_repo.update(
        conn,
        customer_id,
        name=row.name if changes.name is None else changes.name,
        tier=changes.tier or row.tier,
        tags=json.loads(row.tags) if changes.tags is None else changes.tags,
    )
    for kind, field, value in (
        ("email", "email", changes.email),
        ("phone", "phone", changes.phone),
        ("external", "external_id", changes.external_id),
    ):
        if value is None:
            continue
        # A phone number is found however it is typed, and shown as typed.
        stored, shown = (phone_number(value), value) if kind == "phone" else (value, None)
        try:
            customers_repo.set_identity(conn, customer_id, kind, stored, shown)
        except ValueError as exc:
            raise IdentityTaken(str(exc), field) from None


IDENTITY_ORDER = (("external", "external_id"), ("email", "email"), ("phone", "phone"))
"""Which identity names the customer when several are given (then a customer id)."""
_NAMED = {"external_id": "external id ", "email": "", "phone": "phone number "}


def _named(field: str, typed: str, customer_id: int) -> str:
    if field == "id":
        return f"customer {customer_id}"
    return f"{_NAMED[field]}{typed} (customer {customer_id})"


def _given(changes: CustomerChanges) -> list[tuple[str, str, str, str]]:
    """The identities given, in IDENTITY_ORDER: (kind, field, stored value, as typed)."""
    found = []
    for kind, field in IDENTITY_ORDER:
        typed = getattr(changes, field)
        if typed:
            found.append((kind, field, phone_number(typed) if kind == "phone" else typed, typed))
    return found


class Customers:
    def __init__(self, conversations: Conversations) -> None:
        self._conversations = conversations

    async def identify(self, given: CustomerChanges, customer_id: int | None, actor: Actor) -> int:
        """The customer that the given identities and id name, made when none does.

        The first found in the order external id, email, phone, id wins; each given
        identity nobody has is added to them. Refused (409, naming the field) when two of
        them belong to two different customers, or when the customer found has another
        external id (a customer has at most one). `given.name` names only a new customer.
        """
        given = _checked(
            CustomerChanges(
                name=given.name, email=given.email, phone=given.phone, external_id=given.external_id
            )
        )
        identities = _given(given)
        if not identities and customer_id is None:
            raise InvalidCommand("name the customer by id, email, phone or external_id", "customer")

        def command(work: Work) -> int:
            owners = [
                customers_repo.owner(work.conn, kind, stored) for kind, _, stored, _ in identities
            ]
            found = [
                (field, typed, owner)
                for (_, field, _, typed), owner in zip(identities, owners, strict=True)
                if owner is not None
            ]
            if customer_id is not None:
                found.append(
                    ("id", str(customers_repo.lock(work.conn, customer_id).id), customer_id)
                )
            if not found:
                chosen = customers_repo.create(work.conn, given.name or "", work.now)
                kind_of_event = "customer.created"
            else:
                chosen = found[0][2]
                for field, typed, owner in found[1:]:
                    if owner != chosen:
                        raise IdentityTaken(
                            f"{_named(*found[0])} and {_named(field, typed, owner)}"
                            " are two different customers",
                            field,
                        )
                kind_of_event = "customer.updated"
            added = False
            for (kind, field, stored, typed), known in zip(identities, owners, strict=True):
                if known is not None:
                    continue
                if (
                    kind == "external"
                    and (other := customers_repo.identity_of(work.conn, chosen, "external"))
                    is not None
                ):
                    raise IdentityTaken(
                        f"{_named(*found[0])} has external id {other}, not {typed}", field
                    )
                customers_repo.add_identity(work.conn, chosen, kind, stored, typed)
                added = True
            if not found or added:
                work.emit(None, kind_of_event, actor.type, actor.id, {"customer_id": chosen})
            return chosen

        return await self._conversations.run(command)

    async def create(self, changes: CustomerChanges, actor: Actor) -> int:
        """A new customer with what `changes` sets (an integration adding a contact)."""
        changes = _checked(changes)

        def command(work: Work) -> int:
            customer_id = customers_repo.create(work.conn, changes.name or "", work.now)
            _apply(work.conn, customer_id, changes)
            work.emit(None, "customer.created", actor.type, actor.id, {"customer_id": customer_id})
            return customer_id

        return await self._conversations.run(command)

    async def update(self, customer_id: int, changes: CustomerChanges, actor: Actor) -> None:
        changes = _checked(changes)

        def command(work: Work) -> None:
            _apply(work.conn, customer_id, changes)
            work.emit(None, "customer.updated", actor.type, actor.id, {"customer_id": customer_id})

        await self._conversations.run(command)

    async def update_profile(
        self,
        customer_id: int,
        *,
        name: str,
        email: str,
        tier: str,
        tags: str,
        actor: Actor | None = None,
    ) -> None:
        """Change what the desk knows about a customer; `tags` is comma-separated."""
        await self.update(
            customer_id,
            CustomerChanges(name=name, email=email, tier=tier, tags=tags.split(",")),
            actor or Actor("system"),
        )
