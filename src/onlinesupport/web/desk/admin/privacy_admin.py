"""Admin page for customers' erasure requests: erase (anonymise) or decline."""

from __future__ import annotations

from aiohttp import web

from onlinesupport.web.auth import AGENT, form_data, requires
from onlinesupport.web.keys import SERVICES
from onlinesupport.web.responses import int_param, redirect
from onlinesupport.web.templates import render


@requires("admin")
async def privacy_page(request: web.Request) -> web.Response:
    notice = {
        "erased": "The customer's personal data was erased.",
        "declined": "The request was declined.",
    }.get(request.query.get("done", ""), "")
    return render(
        request,
        "admin/privacy.html",
        {
            "agent": request[AGENT],
            "notice": notice,
            "requests": await request.app[SERVICES].erasure.requests(),
        },
    )


@requires("admin")
async def decide(request: web.Request) -> web.Response:
    request_id = int_param(request.match_info["id"], "request", minimum=1)
    form = await form_data(request)
    decision = form.get("decision")
    if decision not in ("erase", "decline"):
        raise web.HTTPBadRequest(text="decide to erase or to decline")
    done = await request.app[SERVICES].erasure.decide(
        request_id, decision == "erase", request[AGENT]["id"]
    )
    if not done:
        raise web.HTTPConflict(text="That request was decided already.")
    return redirect(f"/admin/privacy?done={'erased' if decision == 'erase' else 'declined'}")
