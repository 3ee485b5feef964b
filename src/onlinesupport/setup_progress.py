"""How far the first-run setup has come: the wizard's state and the desk's checklist.

The checklist is worked out from what is configured, not from what the wizard saw, so an item
set up later in the admin pages disappears from it too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from onlinesupport.channels.chat import widget_settings
from onlinesupport.clock import Clock, to_db
from onlinesupport.store import agents as agents_repo
from onlinesupport.store import mailboxes as mailboxes_repo
from onlinesupport.store import queues as queues_repo
from onlinesupport.store import settings as settings_repo
from onlinesupport.store.database import Database

SETTINGS_KEY = "first_run"


@dataclass(frozen=True)
class Item:
    text: str
    href: str


async def state(db: Database) -> dict[str, Any]:
    """{"finished": bool, "checklist_hidden": bool}"""
    stored = await settings_repo.get(db, SETTINGS_KEY) or {}
    return {"finished": bool(stored.get("finished")),
            "checklist_hidden": bool(stored.get("checklist_hidden"))}


async def mark(db: Database, clock: Clock, **changes: bool) -> None:
    value = {**await state(db), **changes}
    await db.write(lambda conn: settings_repo.put(conn, SETTINGS_KEY, value, to_db(clock.now())))


async def checklist(db: Database, company_name: str) -> list[Item]:
    """What is not set up yet, each with the page where it is done."""
    items = []
    if not company_name:
        items.append(Item("Give your company's name and logo", "/welcome/company"))
    if not any(q["hours"].strip() for q in await queues_repo.list_all(db)):
        items.append(Item("Set your opening hours and time zone (the chat and the answer "
                          "times follow them)", "/admin/queues"))
    if not (await widget_settings.load(db)).allowed_origins:
        items.append(Item("Add the chat to your website", "/welcome/website"))
    if not await mailboxes_repo.list_all(db):
        items.append(Item("Connect your support mailbox", "/admin/mailboxes"))
    if len([a for a in await agents_repo.list_all(db) if a["active"]]) < 2:
        items.append(Item("Add your colleagues", "/welcome/team"))
    return items
