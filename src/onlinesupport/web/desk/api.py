"""The desk's JSON reads (commands live beside their pages in `inbox`)."""

from __future__ import annotations

from aiohttp import web

from onlinesupport.store import conversations as conversations_repo
from onlinesupport.store import messages as messages_repo
from onlinesupport.web.auth import AGENT, requires
from onlinesupport.web.desk.inbox import conversation_id, inbox_items, inbox_query
from onlinesupport.web.keys import SERVICES
from onlinesupport.web.responses import int_param


@requires("agent")
async def list_conversations(request: web.Request) -> web.Response:
    db, agent = request.app[SERVICES].db, request[AGENT]
    query = await inbox_query(request)
    return web.json_response(
        {
            "view": query.view,
            "conversations": await inbox_items(request, query),
            "counts": await conversations_repo.view_counts(db, agent["id"]),
        }
    )


@requires("agent")
async def get_conversation(request: web.Request) -> web.Response:
    """The conversation and its messages after `after` (a seq), for catching up."""
    db = request.app[SERVICES].db
    cid = conversation_id(request)
    found = await conversations_repo.get(db, cid)
    if found is None:
        raise web.HTTPNotFound(text=f"conversation {cid} does not exist")
    after = int_param(request.query.get("after"), "after", default=0)
    messages = await messages_repo.after(db, cid, after)
    return web.json_response(
        {
            "conversation": found,
            "messages": [m.to_json() for m in messages],
            "participants": await conversations_repo.participants(db, cid),
        }
    )
