"""The desk's inbox and conversation pages, and the commands an agent gives on a conversation.

Every command answers a browser form with a redirect and a script (Accept: application/json)
with JSON, so the desk works without JavaScript and live with it.
"""

from __future__ import annotations

import secrets
from typing import Any

from aiohttp import web

from onlinesupport.channels.phone import numbers
from onlinesupport.channels.phone.calls import LoggedCall
from onlinesupport.core import inbox_views
from onlinesupport.core.conversations import Actor
from onlinesupport.core.customers import TIERS
from onlinesupport.core.inbox_views import InboxQuery
from onlinesupport.lib.clock import to_db
from onlinesupport.lib.errors import UserError
from onlinesupport.lib.inputs import parse_json
from onlinesupport.store import conversations as conversations_repo
from onlinesupport.store import customers as customers_repo
from onlinesupport.store import email as email_repo
from onlinesupport.store import events as events_repo
from onlinesupport.store import messages as messages_repo
from onlinesupport.store import problems as problems_repo
from onlinesupport.store import scripts as scripts_repo
from onlinesupport.store.conversations import VIEWS
from onlinesupport.store.events import Event
from onlinesupport.web.auth import AGENT, form_data, has_role, requires
from onlinesupport.web.desk import extras
from onlinesupport.web.desk.admin import first_run
from onlinesupport.web.keys import SERVICES
from onlinesupport.web.responses import int_param, redirect
from onlinesupport.web.security import wants_json
from onlinesupport.web.templates import render

_CALL_FIELDS = ("name", "email", "phone", "country", "subject", "body")
VERIFICATION = {
    "identity.verified": True,
    "conversation.customer_verified": True,
    "identity.unverified": False,
}
"""Events that say whether a chat's visitor is a user the website vouched for."""
VIEW_LABELS = {
    "open": "Open",
    "mine": "Mine",
    "unassigned": "Unassigned",
    "snoozed": "Snoozed",
    "mentions": "Mentions",
    "resolved": "Resolved",
}


def actor(request: web.Request) -> Actor:
    agent = request[AGENT]
    return Actor.agent(agent["id"], agent["name"])


async def inbox_query(request: web.Request) -> InboxQuery:
    """The inbox a page or the live list asks for: a saved view (?saved=ID) or its own query."""
    saved = request.query.get("saved")
    if saved:
        return await request.app[SERVICES].saved_views.query(
            int_param(saved, "saved", minimum=1), request[AGENT]["id"]
        )
    return inbox_views.parse(request.query)


async def inbox_items(request: web.Request, query: InboxQuery) -> list[dict[str, Any]]:
    services = request.app[SERVICES]
    items = await conversations_repo.inbox(
        services.db,
        query.view,
        request[AGENT]["id"],
        sort=query.sort,
        narrow=query.narrow,
        now=to_db(services.clock.now()),
    )
    calls = await services.callbacks.due_labels([i["id"] for i in items if i["channel"] == "phone"])
    return [{**item, "callback_by": calls.get(item["id"], "")} for item in items]


def conversation_id(request: web.Request) -> int:
    return int_param(request.match_info["id"], "conversation id", minimum=1)


async def payload(request: web.Request) -> dict[str, Any]:
    """The fields of a command, from a JSON body or a form."""
    if request.content_type == "application/json":
        try:
            data = await request.json(loads=parse_json)
        except ValueError:
            raise web.HTTPBadRequest(text="the body is not valid JSON") from None
        if not isinstance(data, dict):
            raise web.HTTPBadRequest(text="the body must be a JSON object")
        return data
    return await form_data(request)


def _text_field(data: dict[str, Any], name: str, default: str = "") -> str:
    value = data.get(name, default)
    if value is None:
        return default
    if not isinstance(value, str):
        raise web.HTTPBadRequest(text=f"{name} must be text")
    return value


async def _page(request: web.Request, selected: int | None) -> web.Response:
    services = request.app[SERVICES]
    db, agent = services.db, request[AGENT]
    # Read the event position first: anything committed after it reaches the page over the socket.
    since = await events_repo.latest_id(db)
    query = await inbox_query(request)
    view, sort = query.view, query.sort
    context: dict[str, Any] = {
        "agent": agent,
        "view": view,
        "views": VIEW_LABELS,
        "since": since,
        "sort": sort,
        "queue_filter": query.narrow.queue_id,
        "all_queues": await services.queues.list_all(),
        "items": await inbox_items(request, query),
        **await extras.inbox_context(request, query),
        "counts": await conversations_repo.view_counts(db, agent["id"]),
        "conversation": None,
        "messages": [],
        "customer": None,
        "trail": [],
        "history": [],
        "rating": None,
        "routed": [],
        "participants": [],
        "colleagues": [],
        "script": None,
        "scripts": [],
        "queues": [],
        "problems": [],
        "callback": None,
        "verification": None,
        "mail": None,
        "tiers": TIERS,
        "offer": services.offers.pending_for(agent["id"]),
        "setup": None if selected is not None else await first_run.checklist_for(request),
        # A fresh id per rendered form: submitting the same form twice adds one message.
        "client_id": secrets.token_urlsafe(12),
    }
    if selected is not None:
        conversation = await conversations_repo.get(db, selected)
        if conversation is None:
            raise web.HTTPNotFound(text=f"conversation {selected} does not exist")
        events = await events_repo.for_conversation(db, selected)
        context.update(
            conversation=conversation,
            messages=await messages_repo.after(db, selected),
            customer=await customers_repo.get(db, conversation["customer_id"]),
            history=await customers_repo.conversations(db, conversation["customer_id"]),
            participants=await conversations_repo.participants(db, selected),
            script=await scripts_repo.progress(db, selected),
            scripts=await scripts_repo.list_all(db),
            queues=await services.queues.list_all(),
            problems=await problems_repo.for_conversation(db, selected),
            callback=await services.callbacks.for_desk(selected),
            mail=await email_repo.recipients(db, selected),
            colleagues=[
                a for a in await services.accounts.agents() if a.active and a.id != agent["id"]
            ],
            **_from_events(events),
        )
        context.update(await extras.conversation_context(request, context, events))
    return render(request, "desk/inbox.html", context)


@requires("agent")
async def home(request: web.Request) -> web.Response:
    return redirect("/inbox")


@requires("agent")
async def inbox(request: web.Request) -> web.Response:
    return await _page(request, None)


@requires("agent")
async def conversation(request: web.Request) -> web.Response:
    return await _page(request, conversation_id(request))


def _from_events(events: list[Event]) -> dict[str, Any]:
    """What the conversation view shows from the event log: the page trail, the latest rating,
    whether the website vouched for the visitor."""
    ratings = [e.data for e in events if e.type == "conversation.rated"]
    checks = [e for e in events if e.type in VERIFICATION]
    return {
        "trail": [e.data for e in events if e.type == "page.viewed"],
        "routed": [e.data for e in events if e.type == "rule.fired"],
        "rating": ratings[-1] if ratings else None,
        "verification": {"verified": VERIFICATION[checks[-1].type], **checks[-1].data}
        if checks
        else None,
    }


def respond(request: web.Request, cid: int, body: dict[str, Any]) -> web.Response:
    if wants_json(request):
        return web.json_response(body)
    view = request.query.get("view", "open")
    return redirect(f"/conversations/{cid}?view={view if view in VIEWS else 'open'}")


@requires("agent")
async def post_message(request: web.Request) -> web.Response:
    cid = conversation_id(request)
    data = await payload(request)
    kind = _text_field(data, "kind", "message")
    services = request.app[SERVICES]
    posted = await services.conversations.post(
        cid,
        actor(request),
        _text_field(data, "body"),
        kind=kind,
        client_id=_text_field(data, "client_id") or None,
        take=services.config.desk_assign_on_reply,
    )
    return respond(
        request, cid, {"message": posted.message.to_json(), "duplicate": posted.duplicate}
    )


def assignee(request: web.Request, data: dict[str, Any]) -> int | None:
    """Whom an assignment names (`agent_id`): "me" (the default), "" (nobody) or an agent's id;
    giving conversations to someone else is for managers."""
    agent = request[AGENT]
    target = str(data.get("agent_id", "me"))
    agent_id = (
        agent["id"]
        if target == "me"
        else (None if target == "" else int_param(target, "agent_id", minimum=1))
    )
    if agent_id not in (agent["id"], None) and not has_role(agent, "manager"):
        raise web.HTTPForbidden(text="Only managers assign conversations to other agents.")
    return agent_id


@requires("agent")
async def assign(request: web.Request) -> web.Response:
    """Take a conversation (`agent_id` "me"), give it away (managers), or release it ("")."""
    cid = conversation_id(request)
    agent = request[AGENT]
    agent_id = assignee(request, await payload(request))
    services = request.app[SERVICES]
    if agent_id is None and not has_role(agent, "manager"):
        current = await conversations_repo.get(services.db, cid)
        if current is not None and current["assignee_id"] not in (agent["id"], None):
            raise web.HTTPForbidden(text="Only managers release another agent's conversation.")
    changed = await services.conversations.assign(cid, agent_id, actor(request))
    return respond(request, cid, {"changed": changed, "assignee_id": agent_id})


@requires("agent")
async def transfer(request: web.Request) -> web.Response:
    """Hand a conversation to a colleague with a note only agents see."""
    cid = conversation_id(request)
    data = await payload(request)
    to = int_param(str(data.get("agent_id", "")), "agent_id", minimum=1)
    await request.app[SERVICES].conversations.transfer(
        cid, to, actor(request), _text_field(data, "note")
    )
    return respond(request, cid, {"assignee_id": to})


@requires("agent")
async def invite(request: web.Request) -> web.Response:
    """Bring a second agent into the conversation."""
    cid = conversation_id(request)
    data = await payload(request)
    who = int_param(str(data.get("agent_id", "")), "agent_id", minimum=1)
    joined = await request.app[SERVICES].conversations.invite(cid, who, actor(request))
    return respond(request, cid, {"joined": joined})


@requires("manager")
async def move(request: web.Request) -> web.Response:
    """Move a conversation to another queue (managers balance the work between queues)."""
    cid = conversation_id(request)
    data = await payload(request)
    queue = int_param(str(data.get("queue_id", "")), "queue_id", minimum=1)
    changed = await request.app[SERVICES].conversations.move(cid, queue, actor(request))
    return respond(request, cid, {"changed": changed, "queue_id": queue})


@requires("agent")
async def answer_offer(request: web.Request) -> web.Response:
    """Accept or decline a chat offered to this agent."""
    cid = conversation_id(request)
    data = await payload(request)
    action = data.get("action")
    if action not in ("accept", "decline"):
        raise web.HTTPBadRequest(text="action must be accept or decline")
    done = await request.app[SERVICES].offers.answer(cid, actor(request), action == "accept")
    if not done:
        raise web.HTTPConflict(text="This chat is no longer offered to you.")
    return respond(request, cid, {"action": action})


@requires("agent")
async def resolve(request: web.Request) -> web.Response:
    cid = conversation_id(request)
    changed = await request.app[SERVICES].conversations.resolve(cid, actor(request))
    return respond(request, cid, {"changed": changed, "status": "resolved"})


@requires("agent")
async def reopen(request: web.Request) -> web.Response:
    cid = conversation_id(request)
    changed = await request.app[SERVICES].conversations.reopen(cid, actor(request))
    return respond(request, cid, {"changed": changed, "status": "open"})


async def _call_form(
    request: web.Request, values: dict[str, str], error: str = "", status: int = 200
) -> web.Response:
    return render(
        request,
        "desk/new_conversation.html",
        {
            "agent": request[AGENT],
            "values": values,
            "countries": numbers.choices(),
            "error": error,
        },
        status=status,
    )


@requires("agent")
async def new_conversation_page(request: web.Request) -> web.Response:
    values = dict.fromkeys(_CALL_FIELDS, "")
    values["country"] = await request.app[SERVICES].phone_calls.country()
    return await _call_form(request, values)


@requires("agent")
async def create_conversation(request: web.Request) -> web.Response:
    """Log a phone call or walk-in as a conversation, assigned to the agent who took it."""
    data = await payload(request)
    values = {k: _text_field(data, k) for k in _CALL_FIELDS}
    try:
        cid = await request.app[SERVICES].phone_calls.log(LoggedCall(**values), actor(request))
    except UserError as exc:
        if wants_json(request):
            raise
        return await _call_form(request, values, exc.message, exc.status)
    return respond(request, cid, {"conversation_id": cid})


@requires("agent")
async def update_customer(request: web.Request) -> web.Response:
    """Edit the customer's profile from the conversation view, then go back to it."""
    customer_id = int_param(request.match_info["id"], "customer id", minimum=1)
    data = await payload(request)
    await request.app[SERVICES].customers.update_profile(
        customer_id,
        name=_text_field(data, "name"),
        email=_text_field(data, "email"),
        tier=_text_field(data, "tier"),
        tags=_text_field(data, "tags"),
        actor=actor(request),
    )
    back = int_param(_text_field(data, "conversation_id"), "conversation_id", minimum=1)
    return respond(request, back, {"customer_id": customer_id})
