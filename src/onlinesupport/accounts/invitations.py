"""Invitations: a new colleague chooses their own password through a mailed link.

The account is made at once with a random password nobody knows. The link carries the agent's
id and an expiry, signed together with the account's current password hash: choosing the
password changes the hash, so the link works once, and it stops working after a week.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from onlinesupport.accounts.service import AccountError, Accounts
from onlinesupport.lib import signing
from onlinesupport.lib.clock import Clock
from onlinesupport.lib.inputs import row_id
from onlinesupport.store import Database
from onlinesupport.store import agents as agents_repo
from onlinesupport.store.agents import Agent, Credentials

VALID_FOR = timedelta(days=7)
_PURPOSE = "agent invitation"
USED_OR_EXPIRED = (
    "This invitation link has expired or has been used already. Ask your admin for a new one."
)


class Invitations:
    def __init__(self, accounts: Accounts, db: Database, clock: Clock, key: bytes) -> None:
        self._accounts = accounts
        self._db = db
        self._clock = clock
        self._key = key

    async def invite(self, email: str, name: str, role: str) -> tuple[int, str]:
        """Create the account; returns its id and the token for the invitation link."""
        agent_id = await self._accounts.create_agent(email, name, role, secrets.token_urlsafe(32))
        return agent_id, await self.token_for(agent_id)

    async def token_for(self, agent_id: int) -> str:
        agent = await self._with_hash(agent_id)
        if agent is None:
            raise AccountError(f"agent {agent_id} does not exist")
        expires = int((self._clock.now() + VALID_FOR).timestamp())
        signature = signing.sign(
            self._key, _PURPOSE, f"{agent_id}:{expires}:{agent.password_hash}", 32
        )
        return f"{agent_id}.{expires}.{signature}"

    async def _with_hash(self, agent_id: int) -> Credentials | None:
        agent = await agents_repo.get(self._db, agent_id)
        return None if agent is None else await agents_repo.credentials(self._db, agent.email)

    async def agent_for(self, token: str) -> Agent | None:
        """The invited agent, while the link is unused and unexpired."""
        parts = (token or "").split(".")
        if len(parts) != 3:
            return None
        agent_id, expires, signature = row_id(parts[0]), row_id(parts[1]), parts[2]
        if agent_id is None or expires is None or expires <= self._clock.now().timestamp():
            return None
        found = await self._with_hash(agent_id)
        if (
            found is None
            or not found.agent.active
            or not signing.verify(
                self._key, _PURPOSE, f"{agent_id}:{expires}:{found.password_hash}", signature, 32
            )
        ):
            return None
        return found.agent

    async def accept(self, token: str, password: str) -> int:
        """Set the invited agent's password; returns the agent's id."""
        agent = await self.agent_for(token)
        if agent is None:
            raise AccountError(USED_OR_EXPIRED)
        await self._accounts.set_password(agent.id, password)
        return agent.id
