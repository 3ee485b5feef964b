"""How far the first-run setup has come, and the wizard's steps: the company, the website and
the team.

The checklist is worked out from what is configured, not from what the wizard saw, so an item
set up later in the admin pages disappears from it too. Every step only fronts what the admin
pages change later: the general queue's hours, the widget's settings, agents.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from onlinesupport.accounts import AccountError, Accounts
from onlinesupport.accounts.invitations import Invitations
from onlinesupport.channels.chat import widget_settings
from onlinesupport.channels.chat.widget_settings import InvalidSettings, normalise_origin
from onlinesupport.channels.email.connect import explain
from onlinesupport.channels.email.service import EmailChannel
from onlinesupport.core.branding import Branding
from onlinesupport.lib.clock import Clock, to_db
from onlinesupport.routing.queue_admin import Queues
from onlinesupport.store import agents as agents_repo
from onlinesupport.store import mailboxes as mailboxes_repo
from onlinesupport.store import queues as queues_repo
from onlinesupport.store import settings as settings_repo
from onlinesupport.store.agents import Agent
from onlinesupport.store.database import Database

SETTINGS_KEY = "first_run"
GENERAL_QUEUE = 1
SUGGESTED_HOURS = "mon-fri 09:00-17:00"


@dataclass(frozen=True)
class Item:
    text: str
    href: str


@dataclass(frozen=True)
class Colleague:
    """A colleague's new account: ready with a password, or invited to choose one."""

    agent_id: int
    invited: bool
    link: str = ""
    """The invitation link, when invited."""
    not_mailed: str = ""
    """Why the invitation could not be mailed ("" when it was): the admin passes the link on
    or sets a password instead."""


def website_origin(text: str) -> str:
    """The origin of what people type for their website: "shop.example.com/contact" is taken
    as https://shop.example.com; raises InvalidSettings for what is no address at all."""
    text = text.strip()
    if "://" not in text:
        text = "https://" + text
    parts = urlsplit(text)
    return normalise_origin(f"{parts.scheme}://{parts.netloc}")


def _fingerprint(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


class FirstRun:
    """The first-run wizard's steps and the desk's setup checklist."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        branding: Branding,
        queues: Queues,
        accounts: Accounts,
        invitations: Invitations,
        email: EmailChannel,
    ) -> None:
        self._db = db
        self._clock = clock
        self._branding = branding
        self._queues = queues
        self._accounts = accounts
        self._invitations = invitations
        self._email = email

    async def state(self) -> dict[str, Any]:
        """{"finished": bool, "checklist_hidden": bool}"""
        stored = await settings_repo.get(self._db, SETTINGS_KEY) or {}
        return {
            "finished": bool(stored.get("finished")),
            "checklist_hidden": bool(stored.get("checklist_hidden")),
        }

    async def mark(self, **changes: bool) -> None:
        value = {**(await settings_repo.get(self._db, SETTINGS_KEY) or {}), **changes}
        await self._db.write(
            lambda conn: settings_repo.put(conn, SETTINGS_KEY, value, to_db(self._clock.now()))
        )

    async def company(self) -> dict[str, str]:
        """What the company step shows first: the name, and the general queue's hours."""
        general = await queues_repo.get(self._db, GENERAL_QUEUE)
        return {
            "name": self._branding.current.name,
            "timezone": general.timezone if general else "UTC",
            "hours": (general.hours if general else "") or SUGGESTED_HOURS,
        }

    async def save_company(
        self, name: str, timezone: str, hours: str, logo: bytes | None, remove_logo: bool
    ) -> None:
        """The company's name and logo, and the general queue's opening hours; nothing is kept
        when the hours do not parse."""
        await self._queues.check_hours(GENERAL_QUEUE, timezone, hours)  # before anything is kept
        await self._branding.save(name, logo, remove_logo=remove_logo)
        await self._queues.set_hours(GENERAL_QUEUE, timezone, hours)

    async def website(self) -> dict[str, str]:
        """What the website step shows first: no address, and the chat's title."""
        current = await widget_settings.load(self._db)
        name = self._branding.current.name
        title = (
            current.title
            if current.title != widget_settings.WidgetSettings.title or not name
            else f"Chat with {name}"
        )
        return {"website": "", "title": title}

    async def allowed_origins(self) -> tuple[str, ...]:
        return (await widget_settings.load(self._db)).allowed_origins

    async def save_website(self, website: str, typed_title: str) -> None:
        """Allow the website's origin for the chat and give the chat its title."""
        origin = website_origin(website)
        title = " ".join(typed_title.split())
        if not title or len(title) > 60:
            raise InvalidSettings("the chat title must be 1 to 60 characters", "title")
        current = await widget_settings.load(self._db)
        origins = current.allowed_origins + (
            (origin,) if origin not in current.allowed_origins else ()
        )
        await widget_settings.save(
            self._db,
            self._clock,
            dataclasses.replace(current, allowed_origins=origins, title=title),
        )

    async def add_colleague(
        self, email: str, name: str, role: str, password: str, *, inviter: str, link: str
    ) -> Colleague:
        """An account for a colleague: ready with a password, or an invitation mailed to them
        with `link` + its token. Raises AccountError when neither can be done; when the account
        was made but the mail could not go out, the result says why (`not_mailed`)."""
        if password:
            agent_id = await self._accounts.create_agent(email, name, role, password)
            return Colleague(agent_id, invited=False)
        if await mailboxes_repo.sender(self._db, None) is None:
            # Nothing can mail it (the mailbox step skipped, most likely): the account is made
            # all the same, and the admin passes the link on or sets a password.
            reason = (
                "no mailbox can send mail yet"
                if await mailboxes_repo.list_all(self._db)
                else "no mailbox is set up yet"
            )
            agent_id, token = await self._invitations.invite(email, name, role)
            await self._invitation_not_sent(agent_id, reason)
            return Colleague(agent_id, invited=True, link=link + token, not_mailed=reason)
        agent_id, token = await self._invitations.invite(email, name, role)
        company = self._branding.current.name or "your company"
        try:
            await self._email.sender.send_now(
                email.strip(),
                f"{inviter} invited you to OnlineSupport",
                f"Hello {name.strip()},\n\n{inviter} made you an account to answer "
                f"{company}'s customers. Open this link on the office network to choose your "
                f"password:\n\n{link}{token}\n\nIt works once, within the next 7 days.\n",
            )
        except Exception as exc:  # noqa: BLE001 - any failure is the admin's to see and fix
            reason = explain(exc, "the outgoing mail server")
            await self._invitation_not_sent(agent_id, reason)
            return Colleague(agent_id, invited=True, link=link + token, not_mailed=reason)
        return Colleague(agent_id, invited=True, link=link + token)

    async def invitation_link(self, agent_id: int, link: str) -> str:
        """The link of a colleague's invitation that could not be mailed, drawn again."""
        return link + await self._invitations.token_for(agent_id)

    async def set_colleague_password(self, agent_id: int, password: str) -> None:
        """A password for a colleague whose invitation could not be mailed (the wizard's way
        out); any other account's is changed under Agents."""
        if not await self._not_mailed(agent_id):
            raise AccountError(
                "that colleague has a password already: change it under Agents", "password"
            )
        await self._accounts.set_password(agent_id, password)

    async def not_mailed_reason(self, agent_id: int) -> str:
        """Why the agent's invitation could not be mailed ("" when it was, or when they have a
        password since)."""
        if not await self._not_mailed(agent_id):
            return ""
        stored = await settings_repo.get(self._db, SETTINGS_KEY) or {}
        return str(stored.get("unsent_reasons", {}).get(str(agent_id), "")) or "unknown"

    async def without_password(self) -> list[Agent]:
        """The active colleagues whose invitation could not be mailed and who have no password
        yet: the team step and the Agents page offer the way out for each."""
        return await _without_password(self._db, await agents_repo.list_all(self._db))

    async def _not_mailed(self, agent_id: int) -> bool:
        """Whether the agent's invitation could not be mailed and nobody set a password since."""
        stored = await settings_repo.get(self._db, SETTINGS_KEY) or {}
        agent = await agents_repo.get(self._db, agent_id)
        return agent is not None and await _has_no_password(
            self._db, agent, stored.get("unsent_invitations", {})
        )

    async def _invitation_not_sent(self, agent_id: int, reason: str) -> None:
        """An account was made but its invitation could not be mailed: nobody knows its
        password. The checklist names it until its password changes (an admin sets one)."""
        agent = await agents_repo.get(self._db, agent_id)
        credentials = agent and await agents_repo.credentials(self._db, agent.email)
        if not credentials:
            return
        stored = await settings_repo.get(self._db, SETTINGS_KEY) or {}
        unsent = {
            **stored.get("unsent_invitations", {}),
            str(agent_id): _fingerprint(credentials.password_hash),
        }
        await self._db.write(
            lambda conn: settings_repo.put(
                conn,
                SETTINGS_KEY,
                {
                    **stored,
                    "unsent_invitations": unsent,
                    "unsent_reasons": {
                        **stored.get("unsent_reasons", {}),
                        str(agent_id): reason,
                    },
                },
                to_db(self._clock.now()),
            )
        )

    async def checklist(self) -> list[Item]:
        """What is not set up yet or not working, each with the page where it is done."""
        return await _checklist(self._db, self._branding.current.name, self._email.states)


async def _has_no_password(db: Database, agent: Agent, unsent: dict[str, str]) -> bool:
    """Whether the agent's invitation could not be mailed (`unsent`: agent id → fingerprint
    of the password nobody knows) and their password is still that one."""
    fingerprint = unsent.get(str(agent.id))
    if not fingerprint:
        return False
    credentials = await agents_repo.credentials(db, agent.email)
    return credentials is not None and _fingerprint(credentials.password_hash) == fingerprint


async def _without_password(db: Database, agents: Sequence[Agent]) -> list[Agent]:
    """The active ones of `agents` whose invitation could not be mailed and who have no
    password yet."""
    unsent = ((await settings_repo.get(db, SETTINGS_KEY)) or {}).get("unsent_invitations", {})
    return [a for a in agents if a.active and await _has_no_password(db, a, unsent)]


async def _checklist(
    db: Database, company_name: str, mailbox_states: Mapping[int, Any] | None = None
) -> list[Item]:
    """What is not set up yet or not working, each with the page where it is done."""
    items = []
    if not company_name:
        items.append(Item("Give your company's name and logo", "/welcome/company"))
    if not any(q.hours.strip() for q in await queues_repo.list_all(db)):
        items.append(
            Item(
                "Set your opening hours and time zone (the chat and the answer times follow them)",
                "/admin/queues",
            )
        )
    if not (await widget_settings.load(db)).allowed_origins:
        items.append(Item("Add the chat to your website", "/welcome/website"))
    mailboxes = await mailboxes_repo.list_all(db)
    if not mailboxes:
        items.append(Item("Connect your support mailbox", "/admin/mailboxes"))
    for mailbox in mailboxes:
        state = (mailbox_states or {}).get(mailbox["id"])
        if not mailbox["active"] or not mailbox["imap_host"] or (state and state.connected):
            continue
        problem = (
            f"is not working: {state.last_error}"
            if state and state.last_error
            else "is not connected yet"
        )
        items.append(
            Item(
                f"Your mailbox {mailbox['address']} {problem}", f"/admin/mailboxes/{mailbox['id']}"
            )
        )
    agents = await agents_repo.list_all(db)
    if len([a for a in agents if a.active]) < 2:
        items.append(Item("Add your colleagues", "/welcome/team"))
    for agent in await _without_password(db, agents):
        items.append(
            Item(
                f"{agent.name} ({agent.email}) has no password: the "
                "invitation could not be mailed. Set one for them under Agents",
                "/admin/agents",
            )
        )
    return items
