"""Sends webhook deliveries: signed POSTs, retried on a schedule, never followed elsewhere.

Runs on the one outbox worker (`outbox.OutboxWorker`) over the `webhook_deliveries` queue,
in order per endpoint and customer. Success is a 2xx answer only; anything else is retried
with jitter on the schedule (Standard Webhooks' 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h,
20 h, 24 h by default), sooner or later as a 429 or 503 answer's Retry-After says. A 410
answer disables the endpoint, and so do three days of failures without a success; admins are
told by mail and in the desk. A success sends what waits for the endpoint at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Any

import aiohttp

from onlinesupport import __version__
from onlinesupport.clock import Clock, from_db, to_db
from onlinesupport.hub import Hub
from onlinesupport.integrations.guard import (
    GuardedResolver,
    ResolvedToRefused,
    TargetGuard,
    TargetRefused,
)
from onlinesupport.integrations.public_events import PUBLIC_TYPES
from onlinesupport.integrations.signature import signature_header
from onlinesupport.outbox import OutboxWorker, scheduled_wait
from onlinesupport.secretbox import SecretBox
from onlinesupport.store import Database
from onlinesupport.store import webhooks as webhooks_repo
from onlinesupport.store import work_queue
from onlinesupport.store.webhooks import WEBHOOKS, Delivery, Endpoint

log = logging.getLogger(__name__)
TIMEOUT = 15.0
RESPONSE_KEPT = 1024
DISABLE_AFTER = timedelta(days=3)
MAX_RETRY_AFTER = 24 * 3600.0
BATCH = 50
SECRET_PURPOSE = "webhook secret"

Notify = Callable[[str, str], Awaitable[None]]
"""Tell the admins something: (subject, body)."""


class Outcome:
    """What one attempt came to."""

    def __init__(self, status: int | None = None, response: str = "", error: str = "",
                 retry_after: float | None = None, duration_ms: int = 0) -> None:
        self.status = status
        self.response = response
        self.error = error
        self.retry_after = retry_after
        self.duration_ms = duration_ms

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def reason(self) -> str:
        return self.error or f"the endpoint answered {self.status}"


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None  # an HTTP date: the schedule decides
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


class WebhookSender:
    def __init__(self, db: Database, hub: Hub, clock: Clock, box: SecretBox, guard: TargetGuard,
                 *, schedule: Sequence[float], notify: Notify | None = None) -> None:
        self._db = db
        self._clock = clock
        self._box = box
        self._guard = guard
        self._schedule = tuple(schedule)
        self._notify = notify
        self._http: aiohttp.ClientSession | None = None
        self._worker = OutboxWorker(db, hub, clock, WEBHOOKS, self._send,
                                    wakes_on=lambda event: event.type in PUBLIC_TYPES,
                                    batch=BATCH, name="webhooks")

    def wake(self) -> None:
        self._worker.wake()

    def stop(self) -> None:
        self._worker.stop()

    async def run(self) -> None:
        connector = aiohttp.TCPConnector(resolver=GuardedResolver(self._guard),
                                         use_dns_cache=False, limit=100)
        async with aiohttp.ClientSession(
                connector=connector, timeout=aiohttp.ClientTimeout(total=TIMEOUT),
                headers={"User-Agent": f"OnlineSupport-Webhooks/{__version__}"}) as http:
            self._http = http
            try:
                await self._worker.run()
            finally:
                self._http = None

    def secrets_in_use(self, endpoint: Endpoint) -> list[str]:
        """The secret, and the one it replaced while that still signs."""
        found = [self._box.open(endpoint.secret, SECRET_PURPOSE)]
        if endpoint.previous_secret and endpoint.previous_until and \
                from_db(endpoint.previous_until) > self._clock.now():
            found.append(self._box.open(endpoint.previous_secret, SECRET_PURPOSE))
        return found

    async def _send(self, row: dict[str, Any]) -> None:
        found = await webhooks_repo.for_sending(self._db, row["id"])
        if found is None:
            return
        delivery, endpoint, event = found
        if not endpoint.enabled:
            await self._db.write(lambda conn: work_queue.failed(
                conn, WEBHOOKS, delivery.id, "not sent: the endpoint is disabled"))
            return
        body = event.payload.encode()
        # The receiver checks the timestamp against its own clock: this is wall-clock time.
        timestamp = int(time.time())
        headers = {"Content-Type": "application/json", "webhook-id": event.msg_id,
                   "webhook-timestamp": str(timestamp),
                   "webhook-signature": signature_header(self.secrets_in_use(endpoint),
                                                         event.msg_id, timestamp, body)}
        outcome = await self._post(endpoint.url, body, headers)
        await self._settle(delivery, endpoint, outcome)

    async def _post(self, url: str, body: bytes, headers: dict[str, str]) -> Outcome:
        started = time.monotonic()
        try:
            self._guard.check(url)
            assert self._http is not None
            async with self._http.post(url, data=body, headers=headers,
                                       allow_redirects=False) as response:
                kept = await response.content.read(RESPONSE_KEPT)
                return Outcome(response.status, kept.decode("utf-8", "replace"),
                               retry_after=_retry_after(response.headers.get("Retry-After"))
                               if response.status in (429, 503) else None,
                               duration_ms=int((time.monotonic() - started) * 1000))
        except TargetRefused as exc:
            error = f"refused: {exc}"
        except asyncio.TimeoutError:
            error = f"no answer within {TIMEOUT:.0f} s"
        except aiohttp.ClientConnectorError as exc:
            refused = isinstance(exc.os_error, ResolvedToRefused)
            error = f"refused: {exc.os_error}" if refused else f"could not connect: {exc}"[:300]
        except aiohttp.ClientError as exc:
            error = f"could not connect: {exc}"[:300]
        except OSError as exc:
            error = f"could not connect: {exc}"[:300]
        return Outcome(error=error, duration_ms=int((time.monotonic() - started) * 1000))

    async def _settle(self, delivery: Delivery, endpoint: Endpoint, outcome: Outcome) -> None:
        now_moment = self._clock.now()
        disabled: list[str] = []

        def write(conn: Any) -> None:
            now = to_db(now_moment)
            webhooks_repo.record_attempt(conn, delivery.id, delivery.attempts, outcome.status,
                                         outcome.response, outcome.error, outcome.duration_ms,
                                         now)
            if outcome.ok:
                work_queue.sent(conn, WEBHOOKS, delivery.id, now)
                webhooks_repo.succeeded(conn, endpoint.id, now)
                return
            reason = outcome.reason()
            if outcome.status == 410:
                work_queue.failed(conn, WEBHOOKS, delivery.id, reason)
                if webhooks_repo.disable(conn, endpoint.id, "the endpoint answered 410 Gone",
                                         now):
                    disabled.append("it answered 410 Gone")
                return
            since = webhooks_repo.failing(conn, endpoint.id, now)
            if now_moment - from_db(since) >= DISABLE_AFTER:
                work_queue.failed(conn, WEBHOOKS, delivery.id, reason)
                if webhooks_repo.disable(conn, endpoint.id,
                                         f"no success for 3 days ({reason})", now):
                    disabled.append(f"no delivery has succeeded since {since[:16]} UTC "
                                    f"(last: {reason})")
                return
            wait = scheduled_wait(self._schedule, delivery.attempts)
            if wait is None:
                work_queue.failed(conn, WEBHOOKS, delivery.id, f"gave up: {reason}")
                return
            if outcome.retry_after is not None:
                wait = outcome.retry_after
            when = to_db(now_moment + timedelta(seconds=wait))
            work_queue.retry_later(conn, WEBHOOKS, delivery.id, when, reason)

        await self._db.write(write)
        if not outcome.ok:
            log.info("webhook %s to %s failed (attempt %d): %s", delivery.msg_id, endpoint.url,
                     delivery.attempts, outcome.reason())
        for why in disabled:
            log.warning("webhook endpoint %s disabled: %s", endpoint.url, why)
            await self._tell_admins(endpoint, why)

    async def _tell_admins(self, endpoint: Endpoint, why: str) -> None:
        if self._notify is None:
            return
        try:
            await self._notify(f"Webhook endpoint disabled: {endpoint.url[:80]}",
                               f"The webhook endpoint {endpoint.url} was disabled because {why}."
                               "\n\nEvents are no longer sent to it. Check the receiver, then "
                               "enable the endpoint again in Admin → Webhooks, where its "
                               "delivery log shows every attempt.\n")
        except Exception as exc:  # noqa: BLE001 - the desk shows it anyway; mail is extra
            log.warning("could not mail the admins about endpoint %s: %s", endpoint.url, exc)
