"""The desk's search: transcripts and customers."""

from __future__ import annotations

from aiohttp import web

from onlinesupport.store import search
from onlinesupport.web.auth import AGENT, requires
from onlinesupport.web.keys import SERVICES
from onlinesupport.web.templates import render


@requires("agent")
async def search_page(request: web.Request) -> web.Response:
    text = request.query.get("q", "")[:200]
    db = request.app[SERVICES].db
    return render(
        request,
        "desk/search.html",
        {
            "agent": request[AGENT],
            "q": text,
            "conversations": await search.conversations(db, text),
            "customers": await search.customers(db, text),
        },
    )
