"""Sends webhook deliveries: signed POSTs, retried on a schedule, never followed elsewhere.

Runs on the one outbox worker (`outbox.OutboxWorker`) over the `webhook_deliveries` queue,
in order per endpoint and customer: a batch sends each endpoint's deliveries about one customer
one after the other and the runs side by side, and records all outcomes in one transaction.
Success is a 2xx answer only; anything else is retried
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
from datetime import datetime, timedelta

import aiohttp

from onlinesupport import __version__
from onlinesupport.core.hub import Hub
from onlinesupport.core.outbox import OutboxWorker, scheduled_wait
from onlinesupport.integrations.guard import (
    GuardedResolver,
    ResolvedToRefused,
    TargetGuard,
    TargetRefused,
)
from onlinesupport.integrations.public_events import PUBLIC_TYPES
from onlinesupport.integrations.signature import signature_header
from onlinesupport.lib.clock import Clock, from_db, to_db
from onlinesupport.lib.secretbox import SecretBox
from onlinesupport.store import Database, Transaction, work_queue
from onlinesupport.store import webhooks as webhooks_repo
from onlinesupport.store.webhooks import WEBHOOKS, Delivery, Endpoint, PublicEvent
from onlinesupport.store.work_queue import Claim

log = logging.getLogger(__name__)
TIMEOUT = 15.0
RESPONSE_KEPT = 1024
DISABLE_AFTER = timedelta(days=3)
MAX_RETRY_AFTER = 24 * 3600.0
BATCH = 200
CONCURRENCY = 4
GATHER = 0.05
"""After a new event, wait this long for more before sending: fewer, larger batches cost the
chat's writer fewer transactions."""
SECRET_PURPOSE = "webhook secret"

Notify = Callable[[str, str], Awaitable[None]]
"""Tell the admins something: (subject, body)."""


class Outcome:
    """What one attempt came to."""

    def __init__(
        self,
        status: int | None = None,
        response: str = "",
        error: str = "",
        retry_after: float | None = None,
        duration_ms: int = 0,
    ) -> None:
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
    def __init__(
        self,
        db: Database,
        hub: Hub,
        clock: Clock,
        box: SecretBox,
        guard: TargetGuard,
        *,
        schedule: Sequence[float],
        notify: Notify | None = None,
        endpoints_changed: Callable[[], None] = lambda: None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._box = box
        self._guard = guard
        self._schedule = tuple(schedule)
        self._notify = notify
        self._endpoints_changed = endpoints_changed
        """Called inside a write that disables an endpoint (see `PublicEvents`)."""
        self._http: aiohttp.ClientSession | None = None
        self._worker = OutboxWorker(
            db,
            hub,
            clock,
            WEBHOOKS,
            self._send,
            wakes_on=lambda event: event.type in PUBLIC_TYPES,
            batch=BATCH,
            gather=GATHER,
            concurrency=CONCURRENCY,
            name="webhooks",
        )

    def wake(self) -> None:
        self._worker.wake()

    def stop(self) -> None:
        self._worker.stop()

    async def run(self) -> None:
        connector = aiohttp.TCPConnector(
            resolver=GuardedResolver(self._guard), use_dns_cache=False, limit=100
        )
        async with aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=TIMEOUT),
            headers={"User-Agent": f"OnlineSupport-Webhooks/{__version__}"},
        ) as http:
            self._http = http
            try:
                await self._worker.run()
            finally:
                self._http = None

    def secrets_in_use(self, endpoint: Endpoint) -> list[str]:
        """The secret, and the one it replaced while that still signs."""
        found = [self._box.open(endpoint.secret, SECRET_PURPOSE)]
        if (
            endpoint.previous_secret
            and endpoint.previous_until
            and from_db(endpoint.previous_until) > self._clock.now()
        ):
            found.append(self._box.open(endpoint.previous_secret, SECRET_PURPOSE))
        return found

    async def _send(self, rows: list[Claim]) -> None:
        """Send a batch: each endpoint's deliveries about one customer one after the other,
        stopping at a failure (the rest wait behind it), the runs side by side; then record
        every outcome in one transaction."""
        runs: dict[tuple[int, str | None], list[tuple[Delivery, Endpoint, PublicEvent]]] = {}
        for found in await webhooks_repo.for_sending(self._db, [row.id for row in rows]):
            runs.setdefault((found[0].endpoint_id, found[0].ordering_key), []).append(found)
        done = await asyncio.gather(*(self._run(run) for run in runs.values()))
        await self._settle(
            [a for attempted, _ in done for a in attempted],
            [i for _, untried in done for i in untried],
        )

    async def _run(
        self, run: list[tuple[Delivery, Endpoint, PublicEvent]]
    ) -> tuple[list[tuple[Delivery, Endpoint, Outcome | None]], list[int]]:
        attempted: list[tuple[Delivery, Endpoint, Outcome | None]] = []
        for delivery, endpoint, event in run:
            outcome = await self._attempt(endpoint, event)
            attempted.append((delivery, endpoint, outcome))
            if outcome is not None and not outcome.ok:
                break
        return attempted, [d.id for d, _, _ in run[len(attempted) :]]

    async def _attempt(self, endpoint: Endpoint, event: PublicEvent) -> Outcome | None:
        """POST the event to the endpoint; None when the endpoint is disabled."""
        if not endpoint.enabled:
            return None
        body = event.payload.encode()
        # The receiver checks the timestamp against its own clock: this is wall-clock time.
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "webhook-id": event.msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature_header(
                self.secrets_in_use(endpoint), event.msg_id, timestamp, body
            ),
        }
        return await self._post(endpoint.url, body, headers)

    async def _post(self, url: str, body: bytes, headers: dict[str, str]) -> Outcome:
        started = time.monotonic()
        try:
            self._guard.check(url)
            assert self._http is not None
            async with self._http.post(
                url, data=body, headers=headers, allow_redirects=False
            ) as response:
                kept = await response.content.read(RESPONSE_KEPT)
                return Outcome(
                    response.status,
                    kept.decode("utf-8", "replace"),
                    retry_after=_retry_after(response.headers.get("Retry-After"))
                    if response.status in (429, 503)
                    else None,
                    duration_ms=int((time.monotonic() - started) * 1000),
                )
        except TargetRefused as exc:
            error = f"refused: {exc}"
        except TimeoutError:
            error = f"no answer within {TIMEOUT:.0f} s"
        except aiohttp.ClientConnectorError as exc:
            refused = isinstance(exc.os_error, ResolvedToRefused)
            error = f"refused: {exc.os_error}" if refused else f"could not connect: {exc}"[:300]
        except aiohttp.ClientError as exc:
            error = f"could not connect: {exc}"[:300]
        except OSError as exc:
            error = f"could not connect: {exc}"[:300]
        return Outcome(error=error, duration_ms=int((time.monotonic() - started) * 1000))

    async def _settle(
        self, attempts: list[tuple[Delivery, Endpoint, Outcome | None]], untried: list[int]
    ) -> None:
        moment = self._clock.now()
        disabled: list[tuple[Endpoint, str]] = []

        def write(conn: Transaction) -> None:
            for delivery, endpoint, outcome in attempts:
                why = self._record(conn, moment, delivery, endpoint, outcome)
                if why:
                    disabled.append((endpoint, why))
            if untried:
                work_queue.unclaim(conn, WEBHOOKS, untried)

        await self._db.write(write)
        for delivery, endpoint, outcome in attempts:
            if outcome is not None and not outcome.ok:
                log.info(
                    "webhook %s to %s failed (attempt %d): %s",
                    delivery.msg_id,
                    endpoint.url,
                    delivery.attempts,
                    outcome.reason(),
                )
        for endpoint, why in disabled:
            log.warning("webhook endpoint %s disabled: %s", endpoint.url, why)
            await self._tell_admins(endpoint, why)

    def _record(
        self,
        conn: Transaction,
        moment: datetime,
        delivery: Delivery,
        endpoint: Endpoint,
        outcome: Outcome | None,
    ) -> str:
        """Inside a write: record one attempt; returns why the endpoint was just disabled."""
        now = to_db(moment)
        if outcome is None:
            work_queue.failed(conn, WEBHOOKS, delivery.id, "not sent: the endpoint is disabled")
            return ""
        webhooks_repo.record_attempt(
            conn,
            delivery.id,
            delivery.attempts,
            outcome.status,
            outcome.response,
            outcome.error,
            outcome.duration_ms,
            now,
        )
        if outcome.ok:
            work_queue.sent(conn, WEBHOOKS, delivery.id, now)
            if endpoint.failing_since is not None:
                webhooks_repo.succeeded(conn, endpoint.id, now)
            return ""
        reason = outcome.reason()
        if outcome.status == 410:
            work_queue.failed(conn, WEBHOOKS, delivery.id, reason)
            gone = webhooks_repo.disable(conn, endpoint.id, "the endpoint answered 410 Gone", now)
            self._endpoints_changed()
            return "it answered 410 Gone" if gone else ""
        since = webhooks_repo.failing(conn, endpoint.id, now)
        if moment - from_db(since) >= DISABLE_AFTER:
            work_queue.failed(conn, WEBHOOKS, delivery.id, reason)
            self._endpoints_changed()
            if webhooks_repo.disable(conn, endpoint.id, f"no success for 3 days ({reason})", now):
                return f"no delivery has succeeded since {since[:16]} UTC (last: {reason})"
            return ""
        wait = scheduled_wait(self._schedule, delivery.attempts)
        if wait is None:
            work_queue.failed(conn, WEBHOOKS, delivery.id, f"gave up: {reason}")
            return ""
        if outcome.retry_after is not None:
            wait = outcome.retry_after
        work_queue.retry_later(
            conn, WEBHOOKS, delivery.id, to_db(moment + timedelta(seconds=wait)), reason
        )
        return ""

    async def _tell_admins(self, endpoint: Endpoint, why: str) -> None:
        if self._notify is None:
            return
        try:
            await self._notify(
                f"Webhook endpoint disabled: {endpoint.url[:80]}",
                f"The webhook endpoint {endpoint.url} was disabled because {why}."
                "\n\nEvents are no longer sent to it. Check the receiver, then "
                "enable the endpoint again in Admin → Webhooks, where its "
                "delivery log shows every attempt.\n",
            )
        except Exception as exc:  # noqa: BLE001 - the desk shows it anyway; mail is extra
            log.warning("could not mail the admins about endpoint %s: %s", endpoint.url, exc)
