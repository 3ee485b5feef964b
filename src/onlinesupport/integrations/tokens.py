"""API tokens: admins create them (name, scope, optional expiry, optionally acting as an agent);
the secret is shown once and kept as a hash; a revoked or expired token stops at once.

Scopes nest: `read` reads everything, `write` also changes conversations, customers and
articles, `admin` also manages webhook endpoints.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from onlinesupport.core.conversations import Actor, InvalidCommand
from onlinesupport.lib.clock import Clock, from_db, to_db
from onlinesupport.store import Database
from onlinesupport.store import agents as agents_repo
from onlinesupport.store import api_tokens as tokens_repo
from onlinesupport.store.api_tokens import ApiToken

SCOPES = ("read", "write", "admin")
PREFIX = "ost_"
TOUCH_EVERY = timedelta(minutes=1)
"""`last_used_at` is written at most this often per token (a write per request would cost)."""


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def expiry_of(day: str, zone: str, now: datetime) -> datetime | None:
    """When a token chosen to expire on `day` (YYYY-MM-DD; empty: never) stops: at the end of
    that day in the business's time zone, so "expires 1 December" works all that day."""
    if not day.strip():
        return None
    try:
        chosen = date.fromisoformat(day.strip())
    except ValueError:
        raise InvalidCommand("the expiry is not a date", "expires") from None
    local = _zone(zone)
    if chosen < now.astimezone(local).date():
        raise InvalidCommand(
            "the expiry is a day that has passed; choose today or later", "expires"
        )
    end = datetime.combine(chosen + timedelta(days=1), time(), local)
    return end.astimezone(UTC)


def expiry_label(expires_at: str, zone: str) -> str:
    """A token's expiry as the business reads it, with its zone: "end of 2026-12-01
    (Europe/Berlin)", or the minute when it is not at a day's end."""
    local = from_db(expires_at).astimezone(_zone(zone))
    name = zone or "UTC"
    if local.time() == time():
        return f"end of {(local - timedelta(days=1)).date().isoformat()} ({name})"
    return f"{local:%Y-%m-%d %H:%M} ({name})"


@dataclass(frozen=True)
class Caller:
    """Who makes an API request: a token, or a desk session (with its CSRF token)."""

    name: str
    scope: str
    agent_id: int | None
    agent_name: str
    token_id: int | None = None

    def allows(self, scope: str) -> bool:
        return SCOPES.index(self.scope) >= SCOPES.index(scope)

    def actor(self) -> Actor:
        """Whom the model records: the acting agent, or the integration by its token's name."""
        if self.agent_id is not None:
            return Actor.agent(self.agent_id, self.agent_name)
        return Actor("system", None, self.name)

    def author(self) -> Actor:
        """Who writes an agent's message or note: the acting agent, else the integration."""
        if self.agent_id is not None:
            return Actor.agent(self.agent_id, self.agent_name)
        return Actor("agent", None, self.name)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()


class ApiTokens:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def create(
        self,
        *,
        name: str,
        scope: str,
        agent_id: int | None,
        expires_at: datetime | None,
        created_by: int | None,
    ) -> tuple[int, str]:
        """A new token; returns its id and its secret (shown once, never stored)."""
        name = (name or "").strip()
        if not name or len(name) > 100:
            raise InvalidCommand("give the token a name of at most 100 characters")
        if scope not in SCOPES:
            raise InvalidCommand(f"scope must be one of {', '.join(SCOPES)}")
        now = self._clock.now()
        if expires_at is not None and expires_at <= now:
            raise InvalidCommand("the expiry must be in the future")
        if agent_id is not None:
            agent = await agents_repo.get(self._db, agent_id)
            if agent is None or not agent.active:
                raise InvalidCommand("the token can act only as an active agent")
        secret = PREFIX + secrets.token_urlsafe(32)
        token_id = await self._db.write(
            lambda conn: tokens_repo.insert(
                conn,
                name=name,
                token_hash=_hash(secret),
                prefix=secret[: len(PREFIX) + 6],
                scope=scope,
                agent_id=agent_id,
                created_by=created_by,
                expires_at=to_db(expires_at) if expires_at else None,
                now=to_db(now),
            )
        )
        return token_id, secret

    async def revoke(self, token_id: int) -> None:
        now = to_db(self._clock.now())
        await self._db.write(lambda conn: tokens_repo.revoke(conn, token_id, now))

    async def list_all(self) -> list[ApiToken]:
        return await tokens_repo.list_all(self._db)

    async def caller(self, secret: str) -> tuple[Caller | None, str]:
        """The caller a bearer secret stands for, or None and why not (said to the caller:
        it names nothing the caller did not send)."""
        if not secret.startswith(PREFIX) or len(secret) > 200:
            return None, "the token is not valid"
        token = await tokens_repo.by_hash(self._db, _hash(secret))
        if token is None:
            return None, "the token is not valid"
        now = self._clock.now()
        if token.revoked_at is not None:
            return None, "the token was revoked"
        if token.expires_at is not None and from_db(token.expires_at) <= now:
            return None, "the token has expired"
        if token.agent_id is not None and not token.agent_active:
            return None, "the agent this token acts as is disabled"
        if token.last_used_at is None or now - from_db(token.last_used_at) >= TOUCH_EVERY:
            await self._db.write(lambda conn: tokens_repo.touch(conn, {token.id: to_db(now)}))
        return Caller(token.name, token.scope, token.agent_id, token.agent_name or "", token.id), ""
