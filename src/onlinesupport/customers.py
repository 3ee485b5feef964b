"""Customer profiles as agents edit them: name, email, tier and tags."""

from __future__ import annotations

import re
import sqlite3

from onlinesupport.conversations import InvalidCommand
from onlinesupport.inputs import is_email_address
from onlinesupport.store import Database
from onlinesupport.store import customers as customers_repo

TIERS = ("standard", "preferred")
MAX_TAGS = 20
_TAG = re.compile(r"^[\w .&+-]{1,30}$")


class Customers:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def update_profile(self, customer_id: int, *, name: str, email: str, tier: str,
                             tags: str) -> None:
        """Change what the desk knows about a customer; `tags` is comma-separated."""
        name = name.strip()
        if len(name) > 200:
            raise InvalidCommand("the name is longer than 200 characters")
        email = email.strip().lower()
        if email and not is_email_address(email):
            raise InvalidCommand("enter a valid email address or leave it empty", "email")
        if tier not in TIERS:
            raise InvalidCommand(f"tier must be one of {', '.join(TIERS)}")
        tag_list = list(dict.fromkeys(t.strip() for t in tags.split(",") if t.strip()))
        if len(tag_list) > MAX_TAGS:
            raise InvalidCommand(f"at most {MAX_TAGS} tags")
        for tag in tag_list:
            if not _TAG.match(tag):
                raise InvalidCommand(f"tag {tag[:40]!r}: letters, digits, spaces and .&+- only, "
                                     "at most 30 characters")

        def write(conn: sqlite3.Connection) -> None:
            customers_repo.update(conn, customer_id, name=name, tier=tier, tags=tag_list)
            try:
                customers_repo.set_email(conn, customer_id, email)
            except ValueError as exc:
                raise InvalidCommand(str(exc)) from None

        await self._db.write(write)
