"""Which alerts each agent wants: a desktop notification and a sound, switched on or off for
new chats, chat offers, mentions and late answers. Kept on the agent, so they follow them to
any browser; the desk reads them and alerts accordingly (a sound only after the agent has
used the page: browsers block sound before that).
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from onlinesupport.store import Database
from onlinesupport.store import agents as agents_repo

KINDS = {
    "chat": "A new chat arrives",
    "offer": "A chat is offered to me",
    "mention": "A colleague mentions me in a note",
    "breach": "An answer I manage is due soon or late",
}
WAYS = {"desktop": "Desktop notification", "sound": "Sound"}
Choices = dict[str, dict[str, bool]]


def defaults() -> Choices:
    return {kind: dict.fromkeys(WAYS, True) for kind in KINDS}


def from_form(form: Mapping[str, str]) -> Choices:
    """Checkboxes named "<kind>.<way>": ticked is on, absent is off."""
    return {kind: {way: form.get(f"{kind}.{way}") == "on" for way in WAYS} for kind in KINDS}


def _merged(stored: str) -> Choices:
    choices = defaults()
    try:
        saved = json.loads(stored) if stored else {}
    except ValueError:
        saved = {}
    for kind, ways in saved.items() if isinstance(saved, dict) else ():
        if kind in choices and isinstance(ways, dict):
            for way, on in ways.items():
                if way in WAYS and isinstance(on, bool):
                    choices[kind][way] = on
    return choices


class Notifications:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def choices(self, agent_id: int) -> Choices:
        return _merged(await agents_repo.notifications(self._db, agent_id))

    async def save(self, agent_id: int, choices: Choices) -> None:
        text = json.dumps(choices, separators=(",", ":"))
        await self._db.write(lambda conn: agents_repo.set_notifications(conn, agent_id, text))
