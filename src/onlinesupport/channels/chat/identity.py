"""Verified website customers: the company's website vouches for the user it has signed in.

The website's own server computes `HMAC-SHA256(secret, user id)` (hex) with the secret shown
on the desk's Website chat page, and hands the widget `{id, email, name, hash}` (script tag
attributes or `OnlineSupport.identify`). A chat from a correctly signed user lands on the
customer holding that user id (identity kind `external`), so their earlier conversations are
in the desk at once and the pre-chat form skips what is known. Anything unsigned or wrongly
signed is ignored: the visitor is anonymous, and the desk says "not verified".

Only the id is signed (as with Intercom's user hash and Chatwoot's identifier hash), so the
email and name are contact details taken on trust: they fill the customer's profile only
where nobody else holds the address, and never lead to another customer's record.

A browser's visitor token belongs to one customer. A verified user's token is refused when
the page names nobody (they signed out), and a visitor who signs in during a chat keeps it:
the chat in progress moves to the verified customer, with an event saying so.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from typing import Any

from onlinesupport.core.conversations import Actor, Conversations, Opened
from onlinesupport.core.conversations.work import Work
from onlinesupport.lib.clock import Clock, to_db
from onlinesupport.lib.inputs import InvalidAddress, email_address
from onlinesupport.lib.secretbox import SecretBox, SecretUnreadable
from onlinesupport.store import Database, Transaction
from onlinesupport.store import customers as customers_repo
from onlinesupport.store import messages as messages_repo
from onlinesupport.store import settings as settings_repo
from onlinesupport.store import website_users as users_repo

log = logging.getLogger(__name__)
SETTINGS_KEY = "website_identity"
SEALED_AS = "website identity secret"
MAX_ID = 200
_HASH = re.compile(r"^[0-9a-fA-F]{64}$")


def signature(secret: str, user_id: str) -> str:
    """What the website computes: HMAC-SHA256 of the user id keyed with the secret, in hex."""
    return hmac.new(secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class WebsiteUser:
    id: str
    email: str = ""
    name: str = ""


@dataclass(frozen=True)
class Claim:
    """What a page said about its visitor, checked: `user` is set only when it was signed
    correctly; `claimed_id` is the id the page named (empty when it named nobody)."""

    user: WebsiteUser | None = None
    claimed_id: str = ""

    @property
    def unverified(self) -> bool:
        return self.user is None and bool(self.claimed_id)


NOBODY = Claim()


def _text(value: Any, limit: int) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return ""
    text = str(value).strip()
    return text if len(text) <= limit and text.isprintable() else ""


def check(secret: str, claim: Any) -> Claim:
    """The page's `{id, email, name, hash}` checked against the secret (anything malformed
    counts as not signed)."""
    if not isinstance(claim, dict):
        return NOBODY
    named = claim.get("id")
    user_id = _text(named, MAX_ID)
    if not user_id:
        shown = "".join(c for c in str(named)[:MAX_ID] if c.isprintable()).strip()
        return Claim(claimed_id=shown) if named not in (None, "") and shown else NOBODY
    given = claim.get("hash")
    if (
        not secret
        or not isinstance(given, str)
        or not _HASH.match(given)
        or not hmac.compare_digest(signature(secret, user_id), given.lower())
    ):
        return Claim(claimed_id=user_id)
    return Claim(
        WebsiteUser(
            user_id, _valid_address(_text(claim.get("email"), 320)), _text(claim.get("name"), 200)
        ),
        user_id,
    )


class WebsiteIdentity:
    """The signing secret (sealed in the database, shown to admins, rotatable) and the
    commands that attach visitors and their chats to verified customers."""

    def __init__(
        self, db: Database, clock: Clock, conversations: Conversations, box: SecretBox
    ) -> None:
        self._db = db
        self._clock = clock
        self._conversations = conversations
        self._box = box
        self._secret = ""
        self.rotated_at = ""

    async def load(self) -> None:
        """Read the secret; the first start makes one."""
        stored = await settings_repo.get(self._db, SETTINGS_KEY)
        try:
            if stored is not None:
                self._secret = self._box.open(stored["secret"], SEALED_AS)
                self.rotated_at = stored["rotated_at"]
                return
        except SecretUnreadable:
            # A database restored without its data folder's key: the old secret is lost.
            log.warning(
                "the website identity secret was sealed with another key; a new one "
                "was made: put it into your website (Website chat page)"
            )
        await self.rotate()

    @property
    def secret(self) -> str:
        return self._secret

    async def rotate(self) -> str:
        """A new secret, in force at once (signatures made with the old one stop working)."""
        secret = secrets.token_hex(32)
        now = to_db(self._clock.now())
        await self._db.write(
            lambda conn: settings_repo.put(
                conn,
                SETTINGS_KEY,
                {"secret": self._box.seal(secret, SEALED_AS), "rotated_at": now},
                now,
            )
        )
        self._secret, self.rotated_at = secret, now
        return secret

    def check(self, claim: Any) -> Claim:
        return check(self._secret, claim)

    async def customer(self, user: WebsiteUser) -> int | None:
        return await customers_repo.by_identity(self._db, "external", user.id)

    async def sign_in(self, user: WebsiteUser, visitor_id: str) -> int | None:
        """A visitor's browser now belongs to a verified user: their token and any chat in
        progress move to that customer. None when the token is another website user's (a
        shared computer): the browser then starts afresh."""

        def command(work: Work) -> int | None:
            holder = users_repo.owner(work.conn, "visitor", visitor_id)
            customer_id = self._verified_customer(work.conn, work.now, user)
            if holder is None:
                users_repo.attach(work.conn, customer_id, "visitor", visitor_id)
            if holder is None or holder == customer_id:
                return customer_id
            if users_repo.is_verified(work.conn, holder):
                return None
            users_repo.move_identity(work.conn, "visitor", visitor_id, customer_id)
            for conversation_id in users_repo.open_chats(work.conn, holder):
                users_repo.move_conversation(work.conn, conversation_id, customer_id, work.now)
                work.emit(
                    conversation_id,
                    "conversation.customer_verified",
                    "customer",
                    customer_id,
                    {
                        "from_customer_id": holder,
                        "customer_id": customer_id,
                        "external_id": user.id,
                    },
                )
            return customer_id

        return await self._conversations.run(command)

    def _verified_customer(self, conn: Transaction, now: str, user: WebsiteUser) -> int:
        """The customer holding the user id (created if new), with the page's name and email
        where they are missing and free."""
        customer_id = customers_repo.find_or_create(conn, "external", user.id, user.name, now)
        if user.name:
            users_repo.fill_name(conn, customer_id, user.name)
        if user.email:
            users_repo.attach(conn, customer_id, "email", user.email)
        return customer_id

    async def open_chat(
        self,
        claim: Claim,
        visitor_id: str,
        *,
        name: str,
        email: str,
        body: str,
        client_id: str,
        page_url: str,
        page_title: str,
        page_referrer: str,
        language: str,
    ) -> Opened:
        """A chat from a visitor whose page named a user: on the verified customer, or (not
        signed correctly) on the anonymous visitor with the desk told it is not verified.
        A retry with the same `client_id` returns the chat the first one opened."""
        user = claim.user

        def command(work: Work) -> Opened:
            if user is not None:
                customer_id = self._verified_customer(work.conn, work.now, user)
                users_repo.attach(work.conn, customer_id, "visitor", visitor_id)
            else:
                customer_id = customers_repo.find_or_create(
                    work.conn, "visitor", visitor_id, name, work.now
                )
            if email:
                users_repo.attach(work.conn, customer_id, "email", email.lower())
            earlier = messages_repo.by_customer_client_id(work.conn, customer_id, client_id)
            if earlier is not None:
                return Opened(earlier.conversation_id, customer_id, earlier, duplicate=True)
            who = Actor.customer(customer_id, user.name if user and user.name else name)
            conversation_id = self._conversations.open_in(
                work,
                channel="chat",
                customer_id=customer_id,
                subject="",
                opener=who,
                page_url=page_url,
                page_title=page_title,
                page_referrer=page_referrer,
                language=language,
            )
            work.emit(
                conversation_id,
                "identity.verified" if user else "identity.unverified",
                "system",
                None,
                {"external_id": claim.claimed_id},
            )
            message = self._conversations.post_in(
                work, conversation_id, who, body, client_id=client_id
            )
            return Opened(conversation_id, customer_id, message)

        return await self._conversations.run(command)


def _valid_address(text: str) -> str:
    """The website's address for its user when it is one plain address, else ""."""
    try:
        return email_address(text).lower() if text else ""
    except InvalidAddress:
        return ""
