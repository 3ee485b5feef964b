"""Callback requests: a customer asks to be called back instead of typing.

From the widget, the contact form and the customer's page: a number (checked with its country,
kept in E.164), what it is about, and a half-hour window inside the callback queue's business
hours. It becomes a conversation in the `phone` channel, routed by the rules like any other.
The customer's window is its answer target ("call back by 14:30"), and the call is the answer:
an agent logs how it went (reached, with notes; no answer, and when to try again, which becomes
the next answer due; wrong number), and the first call logged is the first response. The
customer gets a confirmation by mail when an address is known (from the default mailbox,
threaded into the conversation). Requests are limited per internet address like the contact
form, and are off until an admin switches them on (Website chat page).

Events: `callback.requested` {phone, country, window_start, window_end, source, customer_id}
and `callback.outcome` {outcome, notes, retry_at, attempt}; the window's end and a retry time
are answer targets set like every other (`sla.target`, through `due.set_target`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from onlinesupport.channels.email import outgoing, threads
from onlinesupport.channels.email.replies import customer_address
from onlinesupport.channels.forms.contact import POSTS_PER_HOUR
from onlinesupport.channels.phone import numbers
from onlinesupport.core.conversations import Actor, Conversations, InvalidCommand
from onlinesupport.core.conversations.service import DEFAULT_QUEUE
from onlinesupport.core.conversations.work import Work
from onlinesupport.lib.clock import Clock, from_db, to_db
from onlinesupport.lib.errors import UserError
from onlinesupport.lib.inputs import InvalidAddress, email_address, row_id
from onlinesupport.lib.throttle import Throttle
from onlinesupport.routing.due import calendar, set_target
from onlinesupport.routing.hours import BusinessHours
from onlinesupport.store import Database, NotFound
from onlinesupport.store import callbacks as callbacks_repo
from onlinesupport.store import conversations as conversations_repo
from onlinesupport.store import customers as customers_repo
from onlinesupport.store import mailboxes as mailboxes_repo
from onlinesupport.store import messages as messages_repo
from onlinesupport.store import outbox as outbox_repo
from onlinesupport.store import queues as queues_repo
from onlinesupport.store import settings as settings_repo
from onlinesupport.store import website_users as users_repo
from onlinesupport.store.queues import Queue

SETTINGS_KEY = "callbacks"
SOURCES = ("widget", "form", "my-page")
WINDOW_MINUTES = 30
HORIZON = timedelta(days=7)
MAX_WINDOWS = 48
LEAD = timedelta(minutes=15)
"""A window is offered while at least this much of it is left to make the call."""
CONFIRMATIONS_PER_HOUR = 3
"""Confirmations to one address: requests from many networks cannot flood a mailbox."""
OUTCOMES = {"reached": "reached", "no_answer": "no answer", "wrong_number": "wrong number"}
STATUS = {"reached": "reached", "no_answer": "retry", "wrong_number": "wrong_number"}
MAX_RETRY = timedelta(days=14)
LIMITS = {"name": 200, "email": 320, "about": 2000, "notes": 5000}
SUBJECT = "Callback request"
OFFER = {
    "en": "Call me back instead",
    "de": "Lieber zurückrufen lassen",
    "fr": "Être rappelé plutôt",
    "es": "Prefiero que me llamen",
    "nl": "Liever teruggebeld worden",
}
"""The widget's link to the callback form, in the languages the widget speaks."""


class CallbackRejected(InvalidCommand):
    """The request is not accepted; `errors` maps each field to what is wrong with it."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


class TooManyCallbacks(UserError):
    """Too many requests from one internet address; `retry_after` in seconds."""

    status = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many callback requests; try again in {retry_after} s")
        self.retry_after = retry_after


@dataclass(frozen=True)
class CallbackSettings:
    enabled: bool = False
    queue_id: int = DEFAULT_QUEUE
    """The queue callback requests start in (its business hours offer the windows)."""
    country: str = ""
    """The country chosen first in the forms ("": the one of the queue's time zone)."""


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime
    zone: str

    @property
    def key(self) -> str:
        """How a form names the window: its start as stored."""
        return to_db(self.start)

    def label(self) -> str:
        """'Tue 6 Jan, 14:00–14:30', in the queue's time zone."""
        start, end = (t.astimezone(ZoneInfo(self.zone)) for t in (self.start, self.end))
        return f"{start:%a} {start.day} {start:%b}, {start:%H:%M}–{end:%H:%M}"

    def day(self, now: datetime) -> str:
        """'Today', 'Tomorrow' or 'Wednesday 7 January' (a group in a list of windows)."""
        zone = ZoneInfo(self.zone)
        start, today = self.start.astimezone(zone), now.astimezone(zone).date()
        if start.date() == today:
            return "Today"
        if start.date() == today + timedelta(days=1):
            return "Tomorrow"
        return f"{start:%A} {start.day} {start:%B}"


@dataclass(frozen=True)
class Requested:
    conversation_id: int
    phone: str
    """The number as shown: '+49 30123456'."""
    window: str
    """When we call, with the time zone: 'Tue 6 Jan, 14:00–14:30 (Europe/Berlin)'."""
    mailed: bool
    """Whether a confirmation was queued."""
    start: str = ""
    end: str = ""
    """The window in UTC as stored (a widget writes it in its own language)."""


def when(moment: datetime, zone: str, now: datetime) -> str:
    """'14:30' today, 'Tue 6 Jan, 14:30' on another day, in `zone`."""
    local, today = moment.astimezone(ZoneInfo(zone)), now.astimezone(ZoneInfo(zone)).date()
    if local.date() == today:
        return f"{local:%H:%M}"
    return f"{local:%a} {local.day} {local:%b}, {local:%H:%M}"


def by_label(due: datetime, zone: str, now: datetime) -> str:
    """What agents see: 'call back by 14:30 (Europe/Berlin)': the business's time, named, as
    it stands beside times in the agent's own zone."""
    return f"call back by {when(due, zone, now)} ({zone})"


class Callbacks:
    def __init__(
        self, db: Database, conversations: Conversations, clock: Clock, key: bytes
    ) -> None:
        self._db = db
        self._conversations = conversations
        self._clock = clock
        self._key = key
        self.limit = Throttle(clock, POSTS_PER_HOUR, timedelta(hours=1))

    async def settings(self) -> CallbackSettings:
        stored = await settings_repo.get(self._db, SETTINGS_KEY) or {}
        known = {f.name for f in dataclasses.fields(CallbackSettings)}
        return CallbackSettings(**{k: v for k, v in stored.items() if k in known})

    async def save_settings(self, form: dict[str, str]) -> CallbackSettings:
        """The admin's choice: on or off, the queue, the country chosen first."""
        queue_id = row_id(form.get("queue_id", ""))
        if queue_id is None or await queues_repo.get(self._db, queue_id) is None:
            raise InvalidCommand("choose one of the queues")
        country = form.get("country", "").strip().upper()
        if country and country not in numbers.COUNTRIES:
            raise InvalidCommand("choose one of the countries listed")
        chosen = CallbackSettings(
            enabled=form.get("enabled") == "on", queue_id=queue_id, country=country
        )
        now = to_db(self._clock.now())
        await self._db.write(
            lambda conn: settings_repo.put(conn, SETTINGS_KEY, dataclasses.asdict(chosen), now)
        )
        return chosen

    async def offer(self, language: object) -> str:
        """The widget's words for the callback form's link; "" while callbacks are off."""
        if not (await self.settings()).enabled:
            return ""
        return OFFER.get(language, OFFER["en"]) if isinstance(language, str) else OFFER["en"]

    async def _queue(self, settings: CallbackSettings) -> Queue:
        """The queue requests start in (the first one, should it have gone)."""
        queue = await queues_repo.get(self._db, settings.queue_id) or await queues_repo.get(
            self._db, DEFAULT_QUEUE
        )
        if queue is None:  # the General queue is made by the first migration, never deleted
            raise NotFound(f"queue {DEFAULT_QUEUE} is missing")
        return queue

    def _windows(self, hours: BusinessHours, now: datetime) -> list[Window]:
        found = hours.windows(now, WINDOW_MINUTES, now + HORIZON, MAX_WINDOWS + 1)
        return [
            Window(start, end, hours.zone) for start, end in found if end - max(start, now) >= LEAD
        ][:MAX_WINDOWS]

    async def country(self) -> str:
        """The country a phone number is read in first: the admin's choice, else the one of
        the callback queue's time zone ("" where the zone names none, such as UTC)."""
        settings = await self.settings()
        if settings.country:
            return settings.country
        return numbers.country_of_zone(calendar(await self._queue(settings)).zone)

    async def options(self) -> dict[str, Any] | None:
        """What a form offers (None while callbacks are off): the countries we call, the one
        chosen first, and the windows ahead grouped by day, in the queue's time zone."""
        settings = await self.settings()
        if not settings.enabled:
            return None
        now = self._clock.now()
        hours = calendar(await self._queue(settings))
        windows = self._windows(hours, now)
        return {
            "countries": numbers.choices(),
            "country": settings.country or numbers.country_of_zone(hours.zone),
            "zone": hours.zone,
            "windows": [
                {
                    "key": w.key,
                    "end": to_db(w.end),
                    "day": w.day(now),
                    "label": w.label(),
                    "time": w.label().split(", ", 1)[1],
                }
                for w in windows
            ],
        }

    def _check(
        self, fields: dict[str, Any], windows: list[Window], name_known: bool
    ) -> dict[str, Any]:
        """The request's values, or CallbackRejected naming every field to correct."""
        values: dict[str, Any] = {
            k: str(fields.get(k) or "").strip() for k in ("name", "email", "about")
        }
        values["email"] = values["email"].lower()
        errors = {
            k: f"at most {n} characters, please"
            for k, n in LIMITS.items()
            if len(values.get(k, "")) > n
        }
        if not values["name"] and not name_known:
            errors.setdefault("name", "tell us whom to ask for")
        if values["email"]:
            try:
                values["email"] = email_address(values["email"]).lower()
            except InvalidAddress as exc:
                errors.setdefault("email", exc.message)
        if not values["about"]:
            errors["about"] = "tell us what the call is about"
        try:
            values["phone"], values["country"] = numbers.normalise(
                str(fields.get("phone") or ""), str(fields.get("country") or "")
            )
        except numbers.InvalidPhone as exc:
            errors["phone"] = str(exc)
        chosen = [w for w in windows if w.key == fields.get("window")]
        if not chosen:
            errors["window"] = (
                "choose one of the times offered"
                if windows
                else "no times are open for calls in the coming days"
            )
        if errors:
            raise CallbackRejected(errors)
        values["window"] = chosen[0]
        return values

    async def request(
        self,
        fields: dict[str, Any],
        *,
        source: str,
        address: str,
        customer_id: int | None = None,
        client_id: str | None = None,
    ) -> Requested:
        """Check a request and open its conversation. `customer_id` is who is asking when we
        know (a signed-in or verified customer); otherwise the customer with the email
        address, or else with the number. A resend with the same `client_id` returns the
        first request. Raises CallbackRejected or TooManyCallbacks."""
        if source not in SOURCES:
            raise ValueError(f"unknown source {source!r}")
        settings = await self.settings()
        if not settings.enabled:
            raise CallbackRejected({"form": "We do not take callback requests at the moment."})
        queue = await self._queue(settings)
        hours = calendar(queue)
        known = await customers_repo.get(self._db, customer_id) if customer_id else None
        values = self._check(
            fields, self._windows(hours, self._clock.now()), bool(known and known["name"])
        )
        wait = self.limit.retry_after(address)
        if wait:
            raise TooManyCallbacks(wait)
        self.limit.hit(address)
        window: Window = values["window"]
        shown = f"{window.label()} ({hours.zone})"
        stored = {"start": to_db(window.start), "end": to_db(window.end)}

        def command(work: Work) -> Requested:
            phone, country = values["phone"], values["country"]
            who = customer_id or customers_repo.find_or_create(
                work.conn,
                *(("email", values["email"]) if values["email"] else ("phone", phone)),
                values["name"],
                work.now,
            )
            for kind in ("phone", "email"):
                if values[kind]:
                    users_repo.attach(
                        work.conn, who, kind, values[kind] if kind == "email" else phone
                    )
            if values["name"]:
                users_repo.fill_name(work.conn, who, values["name"])
            if client_id:
                earlier = messages_repo.by_customer_client_id(work.conn, who, client_id)
                if earlier is not None:
                    return Requested(
                        earlier.conversation_id, numbers.display(phone), shown, False, **stored
                    )
            customer = Actor.customer(who, values["name"])
            conversation_id = self._conversations.open_in(
                work,
                channel="phone",
                customer_id=who,
                subject=SUBJECT,
                opener=customer,
                queue_id=queue.id,
            )
            callbacks_repo.insert(
                work.conn,
                conversation_id=conversation_id,
                phone=phone,
                country=country.code,
                window_start=to_db(window.start),
                window_end=to_db(window.end),
                source=source,
                now=work.now,
            )
            # The customer's window is the promise, whatever the queue's target says.
            set_target(work, conversation_id, "first_response", stored["end"])
            work.emit(
                conversation_id,
                "callback.requested",
                "customer",
                who,
                {
                    "phone": phone,
                    "country": country.code,
                    "window_start": stored["start"],
                    "window_end": stored["end"],
                    "source": source,
                    "customer_id": who,
                    "due_at": stored["end"],
                },
            )
            body = (
                f"{values['about']}\n\n— Please call {numbers.display(phone)} "
                f"({country.name}), {shown}."
            )
            self._conversations.post_in(work, conversation_id, customer, body, client_id=client_id)
            mailed = self._confirm(work, conversation_id, who, values, shown)
            return Requested(conversation_id, numbers.display(phone), shown, mailed, **stored)

        return await self._conversations.run(command)

    def _confirm(
        self,
        work: Work,
        conversation_id: int,
        customer_id: int,
        values: dict[str, Any],
        shown: str,
    ) -> bool:
        """Queue the confirmation mail when the customer has an address and a mailbox can
        send it; the mail's Message-ID threads a reply into the conversation."""
        to = customer_address(work.conn, customer_id)
        mailbox = mailboxes_repo.default_sender(work.conn)
        since = to_db(from_db(work.now) - timedelta(hours=1))
        if (
            not to
            or mailbox is None
            or outbox_repo.acks_since(work.conn, to, since) >= CONFIRMATIONS_PER_HOUR
        ):
            return False
        team = mailbox.display_name or mailbox.address
        body = (
            f"Hello {values['name'] or 'there'},\n\nthank you for asking us to call you. "
            f"We will call you at {numbers.display(values['phone'])} on {shown}.\n\n"
            f"What the call is about:\n{values['about']}\n\nYour reference is "
            f"#{conversation_id}. If you would rather write, reply to this mail.\n\n{team}\n"
        )
        outgoing.queue(
            work,
            self._key,
            conversation_id,
            mailbox_id=mailbox.id,
            domain=mailbox.address.rsplit("@", 1)[-1],
            purpose="ack",
            to=to,
            subject=threads.tag_subject(f"We will call you: {shown}", conversation_id),
            body=body,
        )
        return True

    def _retry_time(self, typed: str, zone: str, now: datetime) -> str:
        """When to call again, typed as '2026-01-06T14:30' in the queue's time zone."""
        try:
            local = datetime.fromisoformat(typed.strip())
        except ValueError:
            raise InvalidCommand("say when to call again (a date and time)") from None
        moment = local.replace(tzinfo=ZoneInfo(zone)) if local.tzinfo is None else local
        if not now < moment <= now + MAX_RETRY:
            raise InvalidCommand("the next call must be in the future, within 14 days")
        return to_db(moment)

    async def log_call(
        self,
        conversation_id: int,
        actor: Actor,
        outcome: str,
        *,
        notes: str = "",
        retry_at: str = "",
        resolve: bool = False,
    ) -> int:
        """Record a call to the customer: the answer they were waiting for. Returns which
        call this was. `retry_at` (for "no answer") becomes the next answer due; `resolve`
        resolves the conversation after a call that reached them or could not be made."""
        if outcome not in OUTCOMES:
            raise InvalidCommand(f"the outcome must be one of {', '.join(OUTCOMES)}")
        notes = (notes or "").strip()
        if len(notes) > LIMITS["notes"]:
            raise InvalidCommand(f"notes are at most {LIMITS['notes']} characters")
        callback = await callbacks_repo.get(self._db, conversation_id)
        if callback is None:
            raise InvalidCommand("this conversation is not a callback request")
        zone = calendar(callback).zone
        retry = (
            self._retry_time(retry_at, zone, self._clock.now()) if outcome == "no_answer" else None
        )

        def command(work: Work) -> int:
            conversation = conversations_repo.lock(work.conn, conversation_id)
            attempt = callbacks_repo.record_call(
                work.conn, conversation_id, STATUS[outcome], retry, work.now
            )
            work.emit(
                conversation_id,
                "callback.outcome",
                actor.type,
                actor.id,
                {"outcome": outcome, "notes": notes, "retry_at": retry, "attempt": attempt},
            )
            line = f"Call {attempt} to {numbers.display(callback['phone'])}: {OUTCOMES[outcome]}"
            if retry is not None:
                line += f"; call again {when(from_db(retry), zone, from_db(work.now))} ({zone})"
            self._conversations.post_in(
                work,
                conversation_id,
                actor,
                f"{line}.\n\n{notes}" if notes else f"{line}.",
                kind="note",
            )
            changes: dict[str, Any] = {}
            if not conversation.first_response_at:
                changes["first_response_at"] = work.now
                work.emit(
                    conversation_id,
                    "conversation.first_response",
                    actor.type,
                    actor.id,
                    {"via": "callback"},
                )
            if retry is not None:
                set_target(
                    work,
                    conversation_id,
                    "next_response",
                    retry,
                    next_waiting_since=work.now,
                    next_warned_at=None,
                    next_breached_at=None,
                )
            elif conversation.next_response_due_at:
                changes.update(next_response_due_at=None, next_waiting_since=None)
            if changes:
                conversations_repo.update(work.conn, conversation_id, work.now, **changes)
            if resolve and retry is None:
                self._conversations.set_status_in(
                    work, conversation, actor, "resolved", "conversation.resolved"
                )
            return attempt

        return await self._conversations.run(command)

    async def for_desk(self, conversation_id: int) -> dict[str, Any] | None:
        """What the desk shows of a callback request (None if the conversation is not one)."""
        row = await callbacks_repo.get(self._db, conversation_id)
        if row is None:
            return None
        now, zone = self._clock.now(), calendar(row).zone
        due = _due(row)
        window = Window(from_db(row["window_start"]), from_db(row["window_end"]), zone)
        suggested = max(now + timedelta(hours=1), from_db(due))

        def local(moment: datetime) -> str:  # as a datetime-local field shows it
            return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M")

        country = numbers.COUNTRIES.get(row["country"])
        return {
            "phone": numbers.display(row["phone"]),
            "tel": row["phone"],
            "country": country.name if country else row["country"],
            "zone": zone,
            "window": window.label(),
            "status": row["status"],
            "attempts": row["attempts"],
            "open": row["status"] in callbacks_repo.OPEN,
            "by": by_label(from_db(due), zone, now),
            "outcomes": OUTCOMES,
            "retry": {"value": local(suggested), "min": local(now), "max": local(now + MAX_RETRY)},
        }

    async def due_labels(self, conversation_ids: list[int]) -> dict[int, str]:
        """'call back by 14:30' for those of these conversations still to be called."""
        now = self._clock.now()
        return {
            r["conversation_id"]: by_label(
                from_db(_due(r)),
                calendar(r).zone,
                now,
            )
            for r in await callbacks_repo.still_to_call(self._db, conversation_ids)
        }


def _due(row: callbacks_repo.Callback | callbacks_repo.ToCall) -> str:
    """When the call is due: the time an agent set after no answer, else the window's end.

    A retry always has its time (`record_call` stores both together); the schema cannot say
    so, and a row without one falls back to the window's end instead of failing.
    """
    retry_at = row["retry_at"]
    return retry_at if row["status"] == "retry" and retry_at else row["window_end"]
