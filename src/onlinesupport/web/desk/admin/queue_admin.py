"""Admin page for queues (response-time targets, business hours) and the contact form's choices."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from onlinesupport.channels.forms.contact import FormRejected
from onlinesupport.lib.clock import to_db
from onlinesupport.routing.queue_admin import InvalidQueue, typed_hours
from onlinesupport.web.auth import AGENT, form_data, posted_form, requires
from onlinesupport.web.keys import SERVICES
from onlinesupport.web.responses import int_param, redirect
from onlinesupport.web.templates import render


async def _page(
    request: web.Request,
    *,
    error: str = "",
    notice: str = "",
    edited: dict[str, Any] | None = None,
    status: int = 200,
) -> web.Response:
    services = request.app[SERVICES]
    return render(
        request,
        "admin/queues.html",
        {
            "agent": request[AGENT],
            "queues": await services.queues.overview(edited),
            "error": error,
            "notice": notice,
            "agents": [a for a in await services.accounts.agents() if a.active],
            "question_types": "\n".join(await services.contact.question_types()),
        },
        status=status,
    )


@requires("admin")
async def queues_page(request: web.Request) -> web.Response:
    return await _page(request, notice="Saved." if request.query.get("done") == "saved" else "")


@requires("admin")
async def save_queue(request: web.Request) -> web.Response:
    queue_id = int_param(request.match_info["id"], "queue id", minimum=1)
    form = await form_data(request)
    # Checkbox lists repeat their name: read all of them (request.post() is cached).
    posted = await posted_form(request)
    try:
        await request.app[SERVICES].queues.save(
            queue_id, form, posted.getall("member", []), posted.getall("manager", [])
        )
    except InvalidQueue as exc:
        edited = None if exc.field == "member" else {"id": queue_id, **typed_hours(form)}
        return await _page(request, error=exc.message, edited=edited, status=400)
    return redirect("/admin/queues?done=saved")


@requires("admin")
async def add_queue(request: web.Request) -> web.Response:
    form = await form_data(request)
    try:
        await request.app[SERVICES].queues.add(form.get("name", ""))
    except InvalidQueue as exc:
        return await _page(request, error=exc.message, status=400)
    return redirect("/admin/queues?done=saved")


@requires("admin")
async def save_question_types(request: web.Request) -> web.Response:
    """The choices of "What is your question about?" on the public contact form."""
    form = await form_data(request)
    services = request.app[SERVICES]
    try:
        await services.contact.set_question_types(
            form.get("question_types", "")[:5000], to_db(services.clock.now())
        )
    except FormRejected as exc:
        return await _page(request, error=str(exc), status=400)
    return redirect("/admin/queues?done=saved")
