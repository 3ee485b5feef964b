"""Admin page for queues (response-time targets, business hours) and the contact form's choices."""

from __future__ import annotations

import sqlite3

from aiohttp import web

from onlinesupport.channels.forms.contact import FormRejected
from onlinesupport.clock import to_db
from onlinesupport.inputs import row_id, whole_number
from onlinesupport.routing.due import calendar
from onlinesupport.routing.hours import BusinessHours, InvalidHours
from onlinesupport.store import agents as agents_repo
from onlinesupport.store import queues as queues_repo
from onlinesupport.web.auth import AGENT, form_data, posted_form, requires
from onlinesupport.web.keys import SERVICES
from onlinesupport.web.responses import int_param, redirect
from onlinesupport.web.templates import render

MAX_MINUTES = 60 * 24 * 60


async def _page(request: web.Request, *, error: str = "", notice: str = "",
                edited: dict | None = None, status: int = 200) -> web.Response:
    services = request.app[SERVICES]
    queues = await queues_repo.list_all(services.db)
    now = services.clock.now()
    for queue in queues:
        if edited is not None and queue["id"] == edited["id"]:
            queue.update(edited)  # show what the admin typed, with the error
        queue["open_now"] = calendar(queue).is_open(now)
    members = await queues_repo.members(services.db)
    managers = await queues_repo.managers(services.db)
    for queue in queues:
        queue["members"] = members.get(queue["id"], set())
        queue["managers"] = managers.get(queue["id"], set())
    return render(request, "admin/queues.html", {
        "agent": request[AGENT], "queues": queues, "error": error, "notice": notice,
        "agents": [a for a in await agents_repo.list_all(services.db) if a["active"]],
        "question_types": "\n".join(await services.contact.question_types())}, status=status)


@requires("admin")
async def queues_page(request: web.Request) -> web.Response:
    return await _page(request, notice="Saved." if request.query.get("done") == "saved" else "")


def _minutes(form: dict[str, str], name: str, label: str) -> int:
    minutes = whole_number(form.get(name, "").strip(), 1, MAX_MINUTES)
    if minutes is None:
        raise InvalidHours(f"{label} must be a number of minutes from 1 to {MAX_MINUTES}")
    return minutes


@requires("admin")
async def save_queue(request: web.Request) -> web.Response:
    queue_id = int_param(request.match_info["id"], "queue id", minimum=1)
    form = await form_data(request)
    services = request.app[SERVICES]
    if await queues_repo.get(services.db, queue_id) is None:
        raise web.HTTPNotFound(text=f"queue {queue_id} does not exist")
    values = {"timezone": form.get("timezone", "UTC").strip()[:64] or "UTC",
              "hours": form.get("hours", "")[:2000], "holidays": form.get("holidays", "")[:5000]}
    try:
        BusinessHours.parse(values["timezone"], values["hours"], values["holidays"])
        first = _minutes(form, "first_response_minutes", "The first answer target")
        following = _minutes(form, "next_response_minutes", "The next answer target")
    except InvalidHours as exc:
        return await _page(request, error=str(exc), edited={"id": queue_id, **values}, status=400)
    # Checkbox lists repeat their name: read all of them (request.post() is cached).
    posted = await posted_form(request)

    def ids(name: str) -> list[int]:
        return sorted({i for i in map(row_id, posted.getall(name, [])) if i is not None})

    agent_ids, manager_ids = ids("member"), ids("manager")
    chat_hours = form.get("chat_hours", "")[:2000]
    try:
        BusinessHours.parse(values["timezone"], chat_hours, values["holidays"])
    except InvalidHours as exc:
        return await _page(request, error=f"Chat hours: {exc}",
                           edited={"id": queue_id, **values}, status=400)
    seconds = whole_number(form.get("offer_seconds", "30").strip(), 5, 600)
    if seconds is None:
        return await _page(request, error="an offer lasts 5 to 600 seconds",
                           edited={"id": queue_id, **values}, status=400)
    target = row_id(form.get("breach_queue_id", ""))
    breach_queue = target if target != queue_id else None

    def save(conn) -> None:
        queues_repo.update(conn, queue_id, first_response_minutes=first,
                           next_response_minutes=following, **values)
        queues_repo.set_members(conn, queue_id, agent_ids, manager_ids)
        queues_repo.set_internal(conn, queue_id, form.get("internal") == "on")
        queues_repo.set_escalation(conn, queue_id, breach_queue, chat_hours)
        queues_repo.set_offers(conn, queue_id, form.get("chat_offers") == "on", seconds,
                               form.get("release_offline") == "on",
                               "round-robin" if form.get("assignment") == "round-robin"
                               else "least-loaded")

    try:
        await services.db.write(save)
    except sqlite3.IntegrityError:
        return await _page(request, error="a member chosen is not an agent", status=400)
    return redirect("/admin/queues?done=saved")


@requires("admin")
async def add_queue(request: web.Request) -> web.Response:
    form = await form_data(request)
    name = " ".join(form.get("name", "").split())[:100]
    services = request.app[SERVICES]
    if not name:
        return await _page(request, error="give the new queue a name", status=400)
    try:
        await services.db.write(lambda conn: queues_repo.insert(conn, name,
                                                                to_db(services.clock.now())))
    except sqlite3.IntegrityError:
        return await _page(request, error=f"a queue named {name!r} exists already", status=400)
    return redirect("/admin/queues?done=saved")


@requires("admin")
async def save_question_types(request: web.Request) -> web.Response:
    """The choices of "What is your question about?" on the public contact form."""
    form = await form_data(request)
    services = request.app[SERVICES]
    try:
        await services.contact.set_question_types(form.get("question_types", "")[:5000],
                                                  to_db(services.clock.now()))
    except FormRejected as exc:
        return await _page(request, error=str(exc), status=400)
    return redirect("/admin/queues?done=saved")
