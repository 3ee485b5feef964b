"""Webhook endpoints as admins manage them: add, change, rotate the secret, send a test event,
redeliver, read the delivery log, prune it (the sender and the pruning run as loops of the
supervisor, see app.supervise).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from onlinesupport.core.conversations import InvalidCommand
from onlinesupport.integrations.guard import TargetGuard, TargetRefused
from onlinesupport.integrations.public_events import WEBHOOK_TYPES, new_msg_id, payload
from onlinesupport.integrations.sender import SECRET_PURPOSE, WebhookSender
from onlinesupport.integrations.signature import new_secret
from onlinesupport.lib.clock import Clock, to_db
from onlinesupport.lib.secretbox import SecretBox
from onlinesupport.store import Database, Transaction
from onlinesupport.store import agents as agents_repo
from onlinesupport.store import webhooks as webhooks_repo
from onlinesupport.store.webhooks import Attempt, Delivery, Endpoint

ROTATION_OVERLAP = timedelta(hours=24)
LOG_DAYS = 14
FEED_DAYS = 30
MAX_ENDPOINTS = 50
STOP_TIMEOUT = 20.0
"""Seconds a stopping server gives the sender to finish the deliveries in flight."""

Mail = Callable[[str, str, str], Awaitable[None]]
"""Send a mail now: (to, subject, body)."""


@dataclass(frozen=True)
class EndpointFields:
    """What an admin sets on an endpoint; None leaves a field as it is (on changes)."""

    url: str | None = None
    description: str | None = None
    event_types: Sequence[str] | None = None
    enabled: bool | None = None


class Webhooks:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        box: SecretBox,
        guard: TargetGuard,
        sender: WebhookSender,
        endpoints_changed: Callable[[], None],
    ) -> None:
        self._db = db
        self._endpoints_changed = endpoints_changed
        """Called inside every write that changes endpoints (see `PublicEvents`)."""
        self._clock = clock
        self._box = box
        self._guard = guard
        self.sender = sender

    def _now(self) -> str:
        return to_db(self._clock.now())

    def _checked(self, fields: EndpointFields) -> EndpointFields:
        url = fields.url
        if url is not None:
            url = url.strip()
            try:
                self._guard.check(url)
            except TargetRefused as exc:
                raise InvalidCommand(f"url: {exc}", "url") from None
        description = fields.description
        if description is not None:
            description = description.strip()
            if len(description) > 500:
                raise InvalidCommand("the description is longer than 500 characters", "description")
        types = fields.event_types
        if types is not None:
            unknown = [t for t in types if t not in WEBHOOK_TYPES]
            if unknown:
                raise InvalidCommand(
                    f"unknown event type {str(unknown[0])[:60]!r}; the types "
                    f"are {', '.join(WEBHOOK_TYPES)}",
                    "event_types",
                )
            types = tuple(dict.fromkeys(types))
        return EndpointFields(url, description, types, fields.enabled)

    async def add(self, fields: EndpointFields) -> int:
        fields = self._checked(fields)
        if not fields.url:
            raise InvalidCommand("url: enter the address to send events to", "url")
        secret = self._box.seal(new_secret(), SECRET_PURPOSE)
        now = self._now()

        def write(conn: Transaction) -> int:
            if len(webhooks_repo.enabled_endpoints(conn)) >= MAX_ENDPOINTS:
                raise InvalidCommand(f"at most {MAX_ENDPOINTS} enabled endpoints")
            self._endpoints_changed()
            return webhooks_repo.insert_endpoint(
                conn,
                url=fields.url or "",
                description=fields.description or "",
                event_types=fields.event_types or (),
                enabled=True if fields.enabled is None else fields.enabled,
                secret=secret,
                now=now,
            )

        return await self._db.write(write)

    async def change(self, endpoint_id: int, fields: EndpointFields) -> None:
        fields = self._checked(fields)
        now = self._now()

        def write(conn: Transaction) -> None:
            self._endpoints_changed()
            current = webhooks_repo.lock_endpoint(conn, endpoint_id)
            webhooks_repo.update_endpoint(
                conn,
                endpoint_id,
                now,
                url=fields.url or current.url,
                description=current.description
                if fields.description is None
                else fields.description,
                event_types=current.event_types
                if fields.event_types is None
                else fields.event_types,
                enabled=current.enabled if fields.enabled is None else fields.enabled,
            )

        await self._db.write(write)

    async def delete(self, endpoint_id: int) -> None:
        def write(conn: Transaction) -> None:
            self._endpoints_changed()
            webhooks_repo.delete_endpoint(conn, endpoint_id)

        await self._db.write(write)

    async def rotate_secret(self, endpoint_id: int) -> None:
        """A new secret; the old one signs too for 24 hours, so receivers can switch."""
        secret = self._box.seal(new_secret(), SECRET_PURPOSE)
        moment = self._clock.now()
        await self._db.write(
            lambda conn: webhooks_repo.rotate_secret(
                conn, endpoint_id, secret, to_db(moment + ROTATION_OVERLAP), to_db(moment)
            )
        )

    async def get(self, endpoint_id: int) -> Endpoint | None:
        return await webhooks_repo.get_endpoint(self._db, endpoint_id)

    async def list_all(self) -> list[Endpoint]:
        return await webhooks_repo.list_endpoints(self._db)

    def secrets_in_use(self, endpoint: Endpoint) -> list[str]:
        return self.sender.secrets_in_use(endpoint)

    async def send_test(self, endpoint_id: int) -> int:
        """Queue a `ping` to one endpoint; returns the delivery's id."""
        now = self._now()

        def write(conn: Transaction) -> int:
            endpoint = webhooks_repo.lock_endpoint(conn, endpoint_id)
            if not endpoint.enabled:
                raise InvalidCommand("the endpoint is disabled; enable it first")
            row_id = webhooks_repo.insert_event(
                conn,
                event_id=None,
                msg_id=new_msg_id(),
                type="ping",
                conversation_id=None,
                customer_id=None,
                now=now,
                payload=payload(
                    "ping",
                    now,
                    {
                        "endpoint_id": endpoint_id,
                        "message": "A test event from OnlineSupport: this endpoint works.",
                    },
                ),
            )
            return webhooks_repo.insert_delivery(conn, endpoint_id, row_id, None, now)

        delivery_id = await self._db.write(write)
        self.sender.wake()
        return delivery_id

    async def redeliver(self, endpoint_id: int, delivery_id: int) -> None:
        now = self._now()
        queued = await self._db.write(
            lambda conn: webhooks_repo.redeliver(conn, endpoint_id, delivery_id, now)
        )
        if not queued:
            # Asked while its attempt is under way: saying so beats silently doing nothing.
            raise InvalidCommand(
                "the delivery is being sent right now; redeliver it once it shows an outcome"
            )
        self.sender.wake()

    async def deliveries(
        self, endpoint_id: int, limit: int = 50, before: int | None = None
    ) -> list[Delivery]:
        return await webhooks_repo.deliveries(self._db, endpoint_id, limit, before)

    async def delivery(
        self, endpoint_id: int, delivery_id: int
    ) -> tuple[Delivery, list[Attempt]] | None:
        found = await webhooks_repo.get_delivery(self._db, endpoint_id, delivery_id)
        if found is None:
            return None
        return found, await webhooks_repo.attempts(self._db, delivery_id)

    async def prune(self) -> int:
        moment = self._clock.now()
        return await self._db.write(
            lambda conn: webhooks_repo.prune(
                conn,
                to_db(moment - timedelta(days=LOG_DAYS)),
                to_db(moment - timedelta(days=FEED_DAYS)),
            )
        )


def mail_admins(db: Database, mail: Mail) -> Callable[[str, str], Awaitable[None]]:
    """Tell every active admin by mail: (subject, body)."""

    async def notify(subject: str, body: str) -> None:
        for agent in await agents_repo.list_all(db):
            if agent.role == "admin" and agent.active:
                await mail(agent.email, subject, body)

    return notify
