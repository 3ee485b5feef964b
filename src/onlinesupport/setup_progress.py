"""How far the first-run setup has come: the wizard's state and the desk's checklist.

The checklist is worked out from what is configured, not from what the wizard saw, so an item
set up later in the admin pages disappears from it too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
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
    value = {**(await settings_repo.get(db, SETTINGS_KEY) or {}), **changes}
    await db.write(lambda conn: settings_repo.put(conn, SETTINGS_KEY, value, to_db(clock.now())))


def _fingerprint(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


async def invitation_not_sent(db: Database, clock: Clock, agent_id: int) -> None:
    """An account was made but its invitation could not be mailed: nobody knows its password.
    The checklist names it until its password changes (an admin sets one)."""
    agent = await agents_repo.get(db, agent_id)
    credentials = agent and await agents_repo.credentials(db, agent["email"])
    if not credentials:
        return
    stored = await settings_repo.get(db, SETTINGS_KEY) or {}
    unsent = {**stored.get("unsent_invitations", {}),
              str(agent_id): _fingerprint(credentials["password_hash"])}
    await db.write(lambda conn: settings_repo.put(
        conn, SETTINGS_KEY, {**stored, "unsent_invitations": unsent}, to_db(clock.now())))


async def checklist(db: Database, company_name: str,
                    mailbox_states: Mapping[int, Any] | None = None) -> list[Item]:
    """What is not set up yet or not working, each with the page where it is done."""
    items = []
    if not company_name:
        items.append(Item("Give your company's name and logo", "/welcome/company"))
    if not any(q["hours"].strip() for q in await queues_repo.list_all(db)):
        items.append(Item("Set your opening hours and time zone (the chat and the answer "
                          "times follow them)", "/admin/queues"))
    if not (await widget_settings.load(db)).allowed_origins:
        items.append(Item("Add the chat to your website", "/welcome/website"))
    mailboxes = await mailboxes_repo.list_all(db)
    if not mailboxes:
        items.append(Item("Connect your support mailbox", "/admin/mailboxes"))
    for mailbox in mailboxes:
        state = (mailbox_states or {}).get(mailbox["id"])
        if not mailbox["active"] or not mailbox["imap_host"] or (state and state.connected):
            continue
        problem = f"is not working: {state.last_error}" if state and state.last_error \
            else "is not connected yet"
        items.append(Item(f"Your mailbox {mailbox['address']} {problem}",
                          f"/admin/mailboxes/{mailbox['id']}"))
    agents = await agents_repo.list_all(db)
    if len([a for a in agents if a["active"]]) < 2:
        items.append(Item("Add your colleagues", "/welcome/team"))
    unsent = ((await settings_repo.get(db, SETTINGS_KEY)) or {}).get("unsent_invitations", {})
    for agent in agents:
        fingerprint = unsent.get(str(agent["id"]))
        credentials = fingerprint and agent["active"] and \
            await agents_repo.credentials(db, agent["email"])
        if credentials and _fingerprint(credentials["password_hash"]) == fingerprint:
            items.append(Item(f"{agent['name']} ({agent['email']}) has no password: the "
                              "invitation could not be mailed. Set one for them under Agents",
                              "/admin/agents"))
    return items
