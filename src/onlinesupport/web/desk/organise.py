"""Organising conversations from the desk: merge, split, snooze, and actions on selected rows.

Like the other commands these answer a browser form with a redirect and a script with JSON;
what the pages show of them is prepared in `extras`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from aiohttp import web

from onlinesupport.core.conversations import bulk, merging, snooze
from onlinesupport.core.conversations.service import DEFAULT_QUEUE
from onlinesupport.web.auth import AGENT, has_role, posted_form, requires
from onlinesupport.web.desk.inbox import (
    _text_field,
    actor,
    assignee,
    conversation_id,
    payload,
    respond,
)
from onlinesupport.web.keys import SERVICES
from onlinesupport.web.responses import int_param, redirect, safe_next
from onlinesupport.web.security import wants_json


async def _business_zone(request: web.Request) -> str:
    queue = await request.app[SERVICES].queues.get(DEFAULT_QUEUE)
    return queue.timezone if queue else "UTC"


async def snooze_until(request: web.Request, data: dict[str, Any]) -> datetime | None:
    """The end of a snooze from a form: a preset, or a time (None: until the customer answers)."""
    until = _text_field(data, "until")
    zone = await _business_zone(request)
    if until:
        return snooze.parse_until(until, zone)
    return snooze.preset_until(
        _text_field(data, "preset", "reply"), request.app[SERVICES].clock.now(), zone
    )


@requires("agent")
async def merge(request: web.Request) -> web.Response:
    """Merge this conversation into another (`target`: its number, "#" allowed)."""
    cid = conversation_id(request)
    data = await payload(request)
    target = int_param(_text_field(data, "target").strip().lstrip("#"), "target", minimum=1)
    await merging.merge(request.app[SERVICES].conversations, cid, target, actor(request))
    return respond(request, target, {"into": target})


@requires("agent")
async def split(request: web.Request) -> web.Response:
    """Copy one of the customer's messages into a new conversation."""
    cid = conversation_id(request)
    data = await payload(request)
    message = int_param(str(data.get("message_id", "")), "message_id", minimum=1)
    new = await merging.split(
        request.app[SERVICES].conversations,
        cid,
        message,
        _text_field(data, "subject"),
        actor(request),
    )
    return respond(request, new, {"conversation_id": new})


@requires("agent")
async def snooze_conversation(request: web.Request) -> web.Response:
    cid = conversation_id(request)
    data = await payload(request)
    until = await snooze_until(request, data)
    changed = await snooze.snooze(request.app[SERVICES].conversations, cid, until, actor(request))
    return respond(
        request, cid, {"changed": changed, "until": until.isoformat() if until else None}
    )


@requires("agent")
async def wake(request: web.Request) -> web.Response:
    cid = conversation_id(request)
    changed = await snooze.wake(request.app[SERVICES].conversations, cid, actor(request))
    return respond(request, cid, {"changed": changed})


async def _bulk_fields(request: web.Request) -> tuple[list[int], dict[str, Any]]:
    """The selected ids and the other fields, from JSON ({"ids": [...]}) or a form (ids=…)."""
    if request.content_type == "application/json":
        data = await payload(request)
        raw = data.get("ids")
        if not isinstance(raw, list):
            raise web.HTTPBadRequest(text="ids must be a list of conversation numbers")
        return [int_param(str(i), "ids", minimum=1) for i in raw[: bulk.MAX_SELECTED + 1]], data
    form = await posted_form(request)
    ids = [
        int_param(str(i), "ids", minimum=1) for i in form.getall("ids", [])[: bulk.MAX_SELECTED + 1]
    ]
    return ids, {k: v for k, v in form.items() if isinstance(v, str) and k != "ids"}


@requires("agent")
async def bulk_action(request: web.Request) -> web.Response:
    """One action on the selected conversations: assign, move, tag, resolve or snooze."""
    ids, data = await _bulk_fields(request)
    agent = request[AGENT]
    action = _text_field(data, "action")
    what = bulk.BulkAction(action)
    if action == "assign":
        agent_id = assignee(request, data)
        if agent_id is None and not has_role(agent, "manager"):
            raise web.HTTPForbidden(text="Only managers release several conversations at once.")
        what = bulk.BulkAction(action, agent_id=agent_id)
    elif action == "move":
        if not has_role(agent, "manager"):
            raise web.HTTPForbidden(text="Only managers move conversations between queues.")
        what = bulk.BulkAction(
            action, queue_id=int_param(str(data.get("queue_id", "")), "queue_id", minimum=1)
        )
    elif action == "tag":
        what = bulk.BulkAction(action, tag=_text_field(data, "tag"))
    elif action == "snooze":
        what = bulk.BulkAction(action, until=await snooze_until(request, data))
    applied = await bulk.apply(request.app[SERVICES].conversations, ids, what, actor(request))
    if wants_json(request):
        return web.json_response(
            {
                "changed": applied.changed,
                "selected": len(ids),
                "skipped": [
                    {"id": cid, "merged_into": into} for cid, into in applied.skipped.items()
                ],
            }
        )
    return redirect(with_skipped(safe_next(_text_field(data, "back")), applied.skipped))


def with_skipped(back: str, skipped: dict[int, int]) -> str:
    """The inbox to go back to, saying which merged conversations were skipped (`skipped=4:1,…`:
    #4, merged into #1); an earlier action's list is dropped."""
    parts = urlsplit(back)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "skipped"]
    if skipped:
        query.append(("skipped", ",".join(f"{cid}:{into}" for cid, into in skipped.items())))
    return urlunsplit(parts._replace(query=urlencode(query, safe=":,")))
