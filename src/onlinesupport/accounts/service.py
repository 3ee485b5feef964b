"""Agents and their desk sessions: create, change role, disable, authenticate, sign in and out."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from onlinesupport.accounts.passwords import check_strength, hash_password, verify_password
from onlinesupport.lib.clock import Clock, from_db, to_db
from onlinesupport.lib.errors import UserError
from onlinesupport.lib.inputs import InvalidAddress, email_address
from onlinesupport.store import Conflict, Database, StorageFull, Transaction
from onlinesupport.store import agents as agents_repo
from onlinesupport.store import sessions as sessions_repo
from onlinesupport.store.agents import ROLES, Agent, AgentLoad
from onlinesupport.store.sessions import SignedInAgent

SESSION_LIFETIME = timedelta(hours=12)
MAX_CAPACITY = 50


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the address is unknown: a wrong address takes as long as a wrong
    password."""
    return hash_password(secrets.token_urlsafe(16))


class AccountError(UserError):
    """The request about an account is not acceptable; the message is safe to show."""


@dataclass(frozen=True)
class SignedIn:
    token: str
    csrf_token: str


@dataclass(frozen=True)
class Revoked:
    """What the desk must stop serving at once: one session, or everything of one agent."""

    agent_id: int | None = None
    session_id: str | None = None


def _valid_email(email: str) -> str:
    try:
        return email_address(email or "").lower()
    except InvalidAddress as exc:
        raise AccountError(f"enter a valid email address: {exc}", "email") from None


def _valid_role(role: str) -> str:
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    return role


def _valid_password(password: str) -> str:
    problem = check_strength(password or "")
    if problem:
        raise AccountError(problem)
    return password


class Accounts:
    def __init__(self, db: Database, clock: Clock, secret_key: bytes) -> None:
        self._db = db
        self._clock = clock
        self._secret_key = secret_key
        self.revoked: list[Callable[[Revoked], None]] = []
        """Called after a session ended or an agent's rights changed (sockets close)."""

    def _revoke(self, revoked: Revoked) -> None:
        for hook in self.revoked:
            hook(revoked)

    def _now(self) -> str:
        return to_db(self._clock.now())

    async def create_agent(self, email: str, name: str, role: str, password: str) -> int:
        return await self._create(email, name, role, password, first_admin=False)

    async def create_first_admin(self, email: str, name: str, password: str) -> int:
        """Create the first admin; refused once an active admin exists (the setup link is
        one-time)."""
        return await self._create(email, name, "admin", password, first_admin=True)

    async def _create(
        self, email: str, name: str, role: str, password: str, first_admin: bool
    ) -> int:
        email = _valid_email(email)
        name = (name or "").strip()
        if not name or len(name) > 200:
            raise AccountError("enter a name of at most 200 characters")
        role = _valid_role(role)
        password_hash = await asyncio.to_thread(hash_password, _valid_password(password))
        now = self._now()

        def write(conn: Transaction) -> int:
            if first_admin and agents_repo.active_admins(conn) > 0:
                raise AccountError("setup is finished already: sign in instead")
            try:
                return agents_repo.create(
                    conn, email=email, name=name, role=role, password_hash=password_hash, now=now
                )
            except Conflict:
                raise AccountError(f"an agent with the address {email} exists already") from None

        return await self._db.write(write)

    async def set_password(self, agent_id: int, password: str) -> None:
        """Change the password and end every session of that agent."""
        password_hash = await asyncio.to_thread(hash_password, _valid_password(password))

        def write(conn: Transaction) -> None:
            agents_repo.update(conn, agent_id, password_hash=password_hash)
            sessions_repo.delete_for_agent(conn, agent_id)

        await self._db.write(write)
        self._revoke(Revoked(agent_id=agent_id))

    async def update_agent(
        self, agent_id: int, *, role: str, active: bool, capacity: int | None = None
    ) -> None:
        """Change role, active flag and capacity (most chats at once).

        The last active admin cannot be demoted or disabled.
        """
        role = _valid_role(role)
        changes: dict[str, object] = {"role": role, "active": int(active)}
        if capacity is not None:
            if not 1 <= capacity <= MAX_CAPACITY:
                raise AccountError(f"capacity must be from 1 to {MAX_CAPACITY} chats")
            changes["capacity"] = capacity

        def write(conn: Transaction) -> bool:
            before = agents_repo.lock(conn, agent_id)
            agents_repo.update(conn, agent_id, **changes)
            if agents_repo.active_admins(conn) == 0:
                raise AccountError("at least one active admin must remain")
            if not active:
                sessions_repo.delete_for_agent(conn, agent_id)
            return before.role != role or bool(before.active) != active

        if await self._db.write(write):
            self._revoke(Revoked(agent_id=agent_id))

    async def agents(self) -> list[AgentLoad]:
        """Every agent (active or not) with their open chats now, for the desk's pages."""
        return await agents_repo.list_all(self._db)

    async def admin_exists(self) -> bool:
        """Whether an active admin exists (before one does, the setup link is the way in)."""
        return await agents_repo.admin_exists(self._db)

    async def authenticate(self, email: str, password: str) -> Agent | None:
        """The active agent with these credentials, or None."""
        found = await agents_repo.credentials(self._db, (email or "").strip().lower())
        stored = found.password_hash if found else _dummy_hash()
        ok = await asyncio.to_thread(verify_password, password or "", stored)
        if not ok or found is None or not found.agent.active:
            return None
        return found.agent

    def _session_id(self, token: str) -> str:
        digest = hmac.new(self._secret_key, token.encode("ascii", "replace"), hashlib.sha256)
        return digest.hexdigest()

    async def start_session(self, agent_id: int, address: str) -> SignedIn:
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = self._clock.now()
        await self._db.write(
            lambda conn: sessions_repo.create(
                conn,
                session_id=self._session_id(token),
                agent_id=agent_id,
                csrf_token=csrf,
                address=address[:64],
                now=to_db(now),
                expires_at=to_db(now + SESSION_LIFETIME),
            )
        )
        return SignedIn(token, csrf)

    async def session(self, token: str, *, renew: bool = True) -> SignedInAgent | None:
        """The signed-in agent for a session token; sliding expiry, renewed past half-life
        (unless `renew` is False: a check that is not the agent's own activity)."""
        if not token or len(token) > 100:
            return None
        now = self._clock.now()
        session_id = self._session_id(token)
        found = await sessions_repo.active(self._db, session_id, to_db(now))
        if renew and found and from_db(found["expires_at"]) - now < SESSION_LIFETIME / 2:
            # A full disk must not sign anyone out: the session is still good for hours.
            with contextlib.suppress(StorageFull):
                await self._db.write(
                    lambda conn: sessions_repo.extend(
                        conn, session_id, to_db(now + SESSION_LIFETIME)
                    )
                )
        return found

    async def end_session(self, token: str) -> None:
        session_id = self._session_id(token)
        await self._db.write(lambda conn: sessions_repo.delete(conn, session_id))
        self._revoke(Revoked(session_id=session_id))

    async def purge_expired_sessions(self) -> int:
        now = self._now()
        return await self._db.write(lambda conn: sessions_repo.delete_expired(conn, now))
