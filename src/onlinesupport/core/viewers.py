"""Collision detection: which agents have which conversation open on their desk right now.

Each desk socket says which conversation its page shows when it connects; the socket closing
ends it. A change is published on the hub as a transient `viewers` notice (not an event: it
matters only while someone is watching), and a desk that connects gets the current state
first, so a reconnecting desk is never stale. Typing is the desk's existing `typing` notice.
"""

from __future__ import annotations

from typing import Any

from onlinesupport.core.hub import Hub, Notice


class Viewers:
    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self._open: dict[object, tuple[int, int, str]] = {}
        """Per desk socket: (conversation id, agent id, agent name)."""

    def open(self, desk: object, conversation_id: int, agent_id: int, name: str) -> None:
        self._open[desk] = (conversation_id, agent_id, name)
        self._publish(conversation_id)

    def close(self, desk: object) -> None:
        left = self._open.pop(desk, None)
        if left is not None:
            self._publish(left[0])

    def of(self, conversation_id: int) -> list[dict[str, Any]]:
        """The agents viewing the conversation, each once, in the order they came."""
        agents: dict[int, dict[str, Any]] = {}
        for cid, agent_id, name in self._open.values():
            if cid == conversation_id:
                agents.setdefault(agent_id, {"id": agent_id, "name": name})
        return list(agents.values())

    def notices(self) -> list[Notice]:
        """The current state, one notice per conversation someone views."""
        return [self._notice(cid) for cid in dict.fromkeys(v[0] for v in self._open.values())]

    def _notice(self, conversation_id: int) -> Notice:
        return Notice(conversation_id, "viewers", {"agents": self.of(conversation_id)})

    def _publish(self, conversation_id: int) -> None:
        self._hub.publish([self._notice(conversation_id)])
