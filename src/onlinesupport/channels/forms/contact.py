"""The public contact form: checked, protected from spam without third parties, routed.

Spam protection: a honeypot field people never see, a signed token that says when the form
was handed out (robots post instantly or replay old forms) and sends one message, and a limit
per internet address.
The token also ties a post to a form this server rendered (what CSRF protection asks of a
form without a session).
"""

from __future__ import annotations

import asyncio
import secrets
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from onlinesupport.core.conversations import Actor, Conversations
from onlinesupport.core.conversations.work import Work
from onlinesupport.lib.clock import Clock
from onlinesupport.lib.errors import UserError
from onlinesupport.lib.inputs import MAX_ID, InvalidAddress, email_address, whole_number
from onlinesupport.lib.signing import sign, verify
from onlinesupport.lib.throttle import Throttle
from onlinesupport.routing.due import promise_for
from onlinesupport.store import customers as customers_repo
from onlinesupport.store import messages as messages_repo
from onlinesupport.store import settings as settings_repo
from onlinesupport.store.attachments import StoredFile
from onlinesupport.store.database import Database

SETTINGS_KEY = "contact_form"
DEFAULT_TYPES = ("General question", "Order or delivery", "Billing", "Technical problem")
URGENCY = {"no-rush": "No rush", "today": "Today, please", "urgent": "Urgent (within the hour)"}
MIN_SECONDS = 3
MAX_AGE = 24 * 3600
MAX_SPENT = 100_000
POSTS_PER_HOUR = 10
LIMITS = {"name": 200, "email": 320, "subject": 200, "message": 20_000, "page": 2000}


class FormRejected(UserError):
    """The form is not accepted; `errors` maps each field to what is wrong with it."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()), field=next(iter(errors), None))
        self.errors = errors


class LooksLikeSpam(Exception):
    """A robot: answered without saying which check it failed."""


class TooSoon(Exception):
    """Sent too fast after the form was shown, with an expired form, or too often."""


@dataclass(frozen=True)
class Submitted:
    conversation_id: int
    promise: str
    """When the answer will come: "within 2 hours", "by Monday 30 November, 11:00 (…)"."""


class ContactForm:
    def __init__(
        self, db: Database, conversations: Conversations, clock: Clock, key: bytes
    ) -> None:
        self._db = db
        self._conversations = conversations
        self._clock = clock
        self._key = key
        self._posts = Throttle(clock, POSTS_PER_HOUR, timedelta(hours=1))
        self._spent: OrderedDict[str, asyncio.Future[Submitted | None]] = OrderedDict()
        """Tokens used to send a form (with its answer, for a second send of the same form)
        or to say an article answered the question (None); forgotten as they expire."""

    async def question_types(self) -> list[str]:
        stored = await settings_repo.get(self._db, SETTINGS_KEY)
        return list(stored["question_types"]) if stored else list(DEFAULT_TYPES)

    async def set_question_types(self, text: str, now: str) -> list[str]:
        types = [line.strip()[:100] for line in text.splitlines() if line.strip()][:30]
        if not types:
            raise FormRejected({"question_types": "give at least one question type"})
        await self._db.write(
            lambda conn: settings_repo.put(conn, SETTINGS_KEY, {"question_types": types}, now)
        )
        return types

    def token(self) -> str:
        """A token for one rendering of the form: when it was handed out and a nonce, signed."""
        issued = f"{int(self._clock.now().timestamp())}.{secrets.token_urlsafe(9)}"
        return f"{issued}.{sign(self._key, 'contact-form', issued, 24)}"

    def token_ok(self, token: str) -> bool:
        """Whether `token` is one this form handed out (any age, spent or not)."""
        issued, _, signature = token.rpartition(".")
        return whole_number(issued.partition(".")[0], 0, MAX_ID) is not None and verify(
            self._key, "contact-form", issued, signature, 24
        )

    def spend(self, token: str) -> bool:
        """Use up a valid token; False when it was used before ("this answered my question"
        counts once per form)."""
        if token in self._spent:
            return False
        self._keep_spent(token).set_result(None)
        return True

    def _keep_spent(self, token: str) -> asyncio.Future[Submitted | None]:
        """Mark `token` used; its future is given what the use came to."""
        used = self._spent[token] = asyncio.get_running_loop().create_future()
        # Older tokens are refused by their age anyway; a flood cannot grow this without end.
        cutoff = self._clock.now().timestamp() - MAX_AGE
        while self._spent and (
            len(self._spent) > MAX_SPENT or int(next(iter(self._spent)).partition(".")[0]) < cutoff
        ):
            self._spent.popitem(last=False)
        return used

    def _check_robot(self, fields: dict[str, str]) -> int:
        """Signs no person leaves: the hidden field filled in, a token we never handed out."""
        if fields.get("website", ""):
            raise LooksLikeSpam("honeypot filled")
        token = fields.get("token", "")
        if not self.token_ok(token):
            raise LooksLikeSpam("no valid form token")
        return int(token.partition(".")[0])

    def _check_pace(self, issued: int, address: str) -> None:
        """Too fast, too old, too many: a person may do this too, and is asked to send again."""
        self._check_age(issued)
        if self._posts.retry_after(address):
            raise TooSoon("too many posts from one address")

    def _check_age(self, issued: int) -> None:
        age = self._clock.now().timestamp() - issued
        if age < MIN_SECONDS or age > MAX_AGE:
            raise TooSoon(f"form sent {age:.0f} s after it was shown")

    def screen(self, fields: dict[str, str]) -> None:
        """This form's checks against robots, for another public form rendered with `token()`
        and a trap field (the callback request): raises LooksLikeSpam or TooSoon."""
        self._check_age(self._check_robot(fields))

    async def check(self, fields: dict[str, str]) -> dict[str, str]:
        """The form's values when a person filled it in correctly.

        Raises LooksLikeSpam (a robot) or FormRejected (fields to correct).
        """
        self._check_robot(fields)
        values = {
            name: fields.get(name, "").strip() for name in (*LIMITS, "question_type", "urgency")
        }
        errors = {}
        for name, limit in LIMITS.items():
            if len(values[name]) > limit:
                errors[name] = f"at most {limit} characters, please"
        if not values["name"]:
            errors["name"] = "tell us your name"
        try:
            email_address(values["email"])
        except InvalidAddress as exc:
            errors["email"] = exc.message
        if not values["message"]:
            errors["message"] = "write your question"
        types = await self.question_types()
        if values["question_type"] not in types:
            errors["question_type"] = "choose what your question is about"
        if values["urgency"] not in URGENCY:
            errors["urgency"] = "choose how soon you need an answer"
        if errors:
            raise FormRejected(errors)
        return values

    async def submit(
        self, fields: dict[str, str], address: str, files: Sequence[StoredFile] = ()
    ) -> Submitted:
        """Check the form and open its conversation (with the files already stored).

        Raises LooksLikeSpam (a robot), FormRejected (fields to correct) or TooSoon.
        """
        values = await self.check(fields)
        self._check_pace(self._check_robot(fields), address)
        token = fields["token"]
        if token in self._spent:
            # The same form sent twice (a double click): the first send's answer.
            earlier = await asyncio.shield(self._spent[token])
            if earlier is None:  # "this answered my question", or the first send failed
                raise TooSoon("the form's token is spent")
            return earlier
        self._posts.hit(address)
        sending = self._keep_spent(token)
        try:
            sent = await self._conversations.run(self._command(values, files=files))
        except BaseException:
            self._spent.pop(token, None)
            sending.set_result(None)
            raise
        sending.set_result(sent)
        return sent

    async def leave_message(self, values: dict[str, str], client_id: str) -> Submitted:
        """The form inside the chat widget (a visitor already checked by the chat's limits):
        the same conversation as the page's form; a resend with the same `client_id` returns
        the first one."""
        if values["question_type"] not in await self.question_types():
            values = {**values, "question_type": ""}
        if values["urgency"] not in URGENCY:
            values = {**values, "urgency": "no-rush"}
        return await self._conversations.run(self._command(values, client_id))

    def _command(
        self, values: dict[str, str], client_id: str | None = None, files: Sequence[StoredFile] = ()
    ):
        def command(work: Work) -> Submitted:
            email = values["email"].lower()
            customer_id = customers_repo.find_or_create(
                work.conn, "email", email, values["name"], work.now
            )
            if client_id is not None:
                earlier = messages_repo.by_customer_client_id(work.conn, customer_id, client_id)
                if earlier is not None:
                    return Submitted(
                        earlier.conversation_id, promise_for(work.conn, earlier.conversation_id)
                    )
            customer = Actor.customer(customer_id, values["name"])
            conversation_id = self._conversations.open_in(
                work,
                channel="form",
                customer_id=customer_id,
                subject=(
                    values["subject"] or values["question_type"] or "Message left on the website"
                ),
                opener=customer,
                page_url=values["page"],
            )
            work.emit(
                conversation_id,
                "form.submitted",
                "customer",
                customer_id,
                {"question_type": values["question_type"], "urgency": values["urgency"]},
            )
            about = f"Question type: {values['question_type']}; " if values["question_type"] else ""
            body = f"{values['message']}\n\n— {about}needs an answer: {URGENCY[values['urgency']]}"
            self._conversations.post_in(
                work, conversation_id, customer, body, client_id=client_id, files=files
            )
            return Submitted(conversation_id, promise_for(work.conn, conversation_id))

        return command
