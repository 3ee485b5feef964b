"""Which agents are connected to the desk and available for chats."""

from __future__ import annotations

import time
from typing import Protocol

STATUSES = ("online", "away")


class PresenceHook(Protocol):
    def __call__(self, *, agent_id: int, status: str) -> None: ...


class Presence:
    """An agent is online while at least one desk socket is open and they have not chosen away."""

    def __init__(self) -> None:
        self._sockets: dict[int, int] = {}
        self._away: set[int] = set()
        self._gone: dict[int, float] = {}
        self.changed: tuple[PresenceHook, ...] = ()
        """Called whenever an agent's status changes (reports); set by `wire_hooks`."""

    def _tell(self, agent_id: int, before: str) -> None:
        after = self.status(agent_id)
        if after != before:
            for hook in self.changed:
                hook(agent_id=agent_id, status=after)

    def connected(self, agent_id: int) -> None:
        before = self.status(agent_id)
        self._sockets[agent_id] = self._sockets.get(agent_id, 0) + 1
        self._gone.pop(agent_id, None)
        self._tell(agent_id, before)

    def disconnected(self, agent_id: int) -> None:
        before = self.status(agent_id)
        left = self._sockets.get(agent_id, 0) - 1
        if left > 0:
            self._sockets[agent_id] = left
        else:
            self._sockets.pop(agent_id, None)
            self._gone[agent_id] = time.monotonic()
        self._tell(agent_id, before)

    def gone_for(self, seconds: float) -> list[int]:
        """Agents whose last desk closed at least `seconds` ago (and who have not come back);
        each is reported once."""
        now = time.monotonic()
        gone = [agent for agent, since in self._gone.items() if now - since >= seconds]
        for agent in gone:
            del self._gone[agent]
        return gone

    def set_status(self, agent_id: int, status: str) -> None:
        if status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}")
        before = self.status(agent_id)
        if status == "away":
            self._away.add(agent_id)
        else:
            self._away.discard(agent_id)
        self._tell(agent_id, before)

    def status(self, agent_id: int) -> str:
        if agent_id not in self._sockets:
            return "offline"
        return "away" if agent_id in self._away else "online"

    def online(self) -> set[int]:
        """The agents online now (connected and not away)."""
        return {agent for agent in self._sockets if agent not in self._away}

    def anyone_online(self) -> bool:
        return any(agent not in self._away for agent in self._sockets)
