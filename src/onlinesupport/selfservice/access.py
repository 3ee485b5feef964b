"""Customers sign in to their own conversation page with a single-use link sent by mail.

No passwords and no account enumeration: asking for a link gets the same answer, in the same
time, whether or not the address is known: everything that differs (the lookup, the link, the
mail) happens after the answer. The mail goes out through the outbox, retried like every other
mail and shown on the health page. Links expire after 30 minutes and work once; only their
hashes are stored, and the outbox forgets the mail's text once it is sent or given up on.
Opening a link asks for a click before it is spent, so a mail scanner that follows links cannot
use it up.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from onlinesupport.core.customers import own_conversation
from onlinesupport.lib.clock import Clock, to_db
from onlinesupport.lib.inputs import email_address
from onlinesupport.lib.signing import sign, verify
from onlinesupport.lib.throttle import Throttle
from onlinesupport.store import NotFound, Transaction
from onlinesupport.store import customer_access as access_repo
from onlinesupport.store import customers as customers_repo
from onlinesupport.store import mailboxes as mailboxes_repo
from onlinesupport.store import messages as messages_repo
from onlinesupport.store import outbox as outbox_repo
from onlinesupport.store import problems as problems_repo
from onlinesupport.store.conversations import ConversationView
from onlinesupport.store.customers import PastConversation, Profile
from onlinesupport.store.database import Database
from onlinesupport.store.messages import Message
from onlinesupport.store.problems import ProblemLine

log = logging.getLogger(__name__)
LINK_LIFETIME = timedelta(minutes=30)
SESSION_LIFETIME = timedelta(days=7)
REQUESTS_PER_HOUR = 5


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


ANSWER_HEAD_START = 0.005
"""Seconds the sign-in link's work waits for the answer to the request to go out first."""


class CustomerAccess:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        key: bytes,
        queued: Callable[[], None],
        spawn: Callable[[Coroutine[Any, Any, None], str], None],
    ) -> None:
        """`spawn` runs the mailing after the answer (the supervisor's, which owns it)."""
        self._db = db
        self._clock = clock
        self._key = key
        self._queued = queued
        self._spawn = spawn
        self._requests = Throttle(clock, REQUESTS_PER_HOUR, timedelta(hours=1))

    async def can_mail(self) -> bool:
        """Whether a mailbox can send links now (the customer is told when none can)."""
        return await mailboxes_repo.sender(self._db, None) is not None

    async def request_link(self, email: str, address: str, link_base: str) -> None:
        """Mail a sign-in link if `email` belongs to a customer; silent either way.

        Everything that depends on whether the address is known (the lookup, the link written
        with its fsync, the mail) happens after the answer, so the answer takes the same time
        either way. Raises InvalidAddress for anything but one plain address (that tells
        nothing about who is a customer).
        """
        email = email_address(email).lower()
        keys = (f"address:{address}", f"email:{email}")
        if any(self._requests.retry_after(k) for k in keys):
            log.info("sign-in link for %s not sent: too many requests", email)
            return
        for key in keys:
            self._requests.hit(key)
        self._spawn(self._send_link(email, link_base), "sign-in-link")

    async def _send_link(self, email: str, link_base: str) -> None:
        # Begin once the answer is on its way: started at once, the lookup and the link's
        # write compete with sending the answer (same loop, the writer's thread), and a
        # known address answered measurably slower (0.25 ms at the median, issue 13.10).
        await asyncio.sleep(ANSWER_HEAD_START)
        try:
            customer_id = await customers_repo.by_identity(self._db, "email", email)
            if customer_id is None:
                return
            token = secrets.token_urlsafe(32)
            now, expires = to_db(self._clock.now()), to_db(self._clock.now() + LINK_LIFETIME)
            body = (
                f"Hello,\n\nopen this link to see your conversations with us:\n\n"
                f"{link_base}/my/link/{token}\n\nIt works once, for the next 30 minutes. If "
                f"you did not ask for it, you can ignore this mail.\n"
            )

            def write(conn: Transaction) -> None:
                access_repo.add_link(conn, _hash(token), customer_id, now, expires)
                mailbox = mailboxes_repo.default_sender(conn)
                domain = mailbox.address.rsplit("@", 1)[-1] if mailbox else "localhost"
                outbox_repo.enqueue(
                    conn,
                    conversation_id=None,
                    message_id=None,
                    mailbox_id=None,
                    purpose="signin",
                    to_address=email,
                    subject="Your link to your conversations",
                    body=body,
                    rfc_message_id=f"signin.{secrets.token_hex(12)}@{domain}",
                    in_reply_to="",
                    refs="",
                    now=now,
                    expires_at=expires,
                )

            await self._db.write(write)
            self._queued()
        except Exception as exc:  # noqa: BLE001 - logged for the admin; the customer can ask again
            log.warning("sign-in link to %s not queued: %s", email, exc)

    async def redeem(self, token: str) -> str | None:
        """Spend a link; returns a new session token, or None if the link is unknown, used or
        old."""
        now = self._clock.now()
        session = secrets.token_urlsafe(32)

        def spend(conn) -> int | None:
            customer_id = access_repo.use_link(conn, _hash(token), to_db(now))
            if customer_id is not None:
                access_repo.add_session(
                    conn, _hash(session), customer_id, to_db(now), to_db(now + SESSION_LIFETIME)
                )
            return customer_id

        return session if await self._db.write(spend) is not None else None

    async def profile(self, customer_id: int) -> Profile | None:
        return await customers_repo.get(self._db, customer_id)

    async def conversations(self, customer_id: int) -> list[PastConversation]:
        """The customer's conversations, newest first."""
        return await customers_repo.conversations(self._db, customer_id)

    async def conversation(self, customer_id: int, conversation_id: int) -> ConversationView:
        """The customer's own conversation; raises NotFound for anyone else's, exactly as for
        one that does not exist."""
        found = await own_conversation(self._db, customer_id, conversation_id)
        if found is None:
            raise NotFound("There is no such conversation.")
        return found

    async def transcript(
        self, customer_id: int, conversation_id: int
    ) -> tuple[ConversationView, list[Message], list[ProblemLine]]:
        """The customer's own conversation with its messages (no internal notes or events)
        and the problems it is linked to; raises NotFound for anyone else's."""
        found = await self.conversation(customer_id, conversation_id)
        messages = [
            m for m in await messages_repo.after(self._db, conversation_id) if m.kind == "message"
        ]
        return found, messages, await problems_repo.for_conversation(self._db, conversation_id)

    async def customer(self, session: str) -> int | None:
        if not session:
            return None
        return await access_repo.session_customer(
            self._db, _hash(session), to_db(self._clock.now())
        )

    async def sign_out(self, session: str) -> None:
        await self._db.write(lambda conn: access_repo.end_session(conn, _hash(session)))

    def csrf(self, session: str) -> str:
        """The form token of a session (forms post only with it)."""
        return sign(self._key, "customer-csrf", session)

    def csrf_ok(self, session: str, token: str) -> bool:
        return verify(self._key, "customer-csrf", session, token)
