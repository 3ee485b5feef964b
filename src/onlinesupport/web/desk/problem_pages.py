"""Escalating a conversation to the back office, and the back office's list of problems."""

from __future__ import annotations

from aiohttp import web

from onlinesupport.store import problems as problems_repo
from onlinesupport.web.auth import AGENT, form_data, requires
from onlinesupport.web.desk.inbox import actor, conversation_id
from onlinesupport.web.keys import SERVICES
from onlinesupport.web.responses import int_param, redirect
from onlinesupport.web.templates import render


@requires("agent")
async def escalate(request: web.Request) -> web.Response:
    cid = conversation_id(request)
    form = await form_data(request)
    queue_id = int_param(form.get("queue_id"), "queue", minimum=1)
    await request.app[SERVICES].escalations.escalate(cid, queue_id, form, actor(request))
    return redirect(f"/conversations/{cid}")


@requires("agent")
async def problems_page(request: web.Request) -> web.Response:
    db = request.app[SERVICES].db
    return render(
        request,
        "desk/problems.html",
        {
            "agent": request[AGENT],
            "problems": await problems_repo.open_ones(db),
            "types": problems_repo.TYPES,
            "statuses": problems_repo.STATUSES,
            "queues": [q for q in await request.app[SERVICES].queues.list_all() if q.internal],
        },
    )


@requires("agent")
async def update(request: web.Request) -> web.Response:
    problem_id = int_param(request.match_info["id"], "problem", minimum=1)
    form = await form_data(request)
    await request.app[SERVICES].escalations.update(problem_id, form, actor(request))
    return redirect(f"/problems#problem-{problem_id}")
