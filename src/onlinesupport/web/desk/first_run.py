"""The first-run wizard (after the setup link created the admin) and the desk's checklist.

Steps: company (name, logo, time zone, opening hours), website (allowed address, script tag,
test page), mailbox, team. Every step can be skipped; everything in it can be changed later in
the admin pages, which the wizard only fronts.
"""

from __future__ import annotations

import dataclasses
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from onlinesupport import health, setup_progress
from onlinesupport.accounts import AccountError
from onlinesupport.branding import InvalidBranding
from onlinesupport.channels.chat import widget_settings
from onlinesupport.channels.chat.widget_settings import InvalidSettings, normalise_origin
from onlinesupport.channels.email.connect import explain
from onlinesupport.routing.hours import BusinessHours, InvalidHours
from onlinesupport.store import agents as agents_repo
from onlinesupport.store import mailboxes as mailboxes_repo
from onlinesupport.store import queues as queues_repo
from onlinesupport.store.agents import ROLES
from onlinesupport.web.auth import AGENT, form_data, posted_form, requires
from onlinesupport.web.desk import mailbox_admin
from onlinesupport.web.desk.widget_admin import public_base, script_tag
from onlinesupport.web.keys import SERVICES
from onlinesupport.web.responses import redirect
from onlinesupport.web.templates import render

STEPS = ("company", "website", "mailbox", "team")
TITLES = {"company": "Your company", "website": "Your website", "mailbox": "Support mailbox",
          "team": "Your team"}
GENERAL_QUEUE = 1
SUGGESTED_HOURS = "mon-fri 09:00-17:00"


def _next(step: str) -> str:
    index = STEPS.index(step)
    return f"/welcome/{STEPS[index + 1]}" if index + 1 < len(STEPS) else "/welcome/done"


async def _page(request: web.Request, step: str, values: dict[str, Any], *, error: str = "",
                status: int = 200, mail_servers: dict[str, Any] | None = None) -> web.Response:
    services = request.app[SERVICES]
    context: dict[str, Any] = {
        "agent": request[AGENT], "step": step, "steps": STEPS, "titles": TITLES,
        "next": _next(step), "values": values, "error": error,
        "company": services.branding.current}
    if step == "website":
        context["script_tag"] = script_tag(request)
        context["test_page"] = public_base(request) + "/widget/test"
        context["origins"] = (await widget_settings.load(services.db)).allowed_origins
    elif step == "mailbox":
        context["mailboxes"] = await mailboxes_repo.list_all(services.db)
        context["states"] = services.email.states
        context["receiver"] = mail_servers or await mailbox_admin.receiver(request, "/welcome/mailbox")
    elif step == "team":
        context["agents"] = await agents_repo.list_all(services.db)
        context["roles"] = ROLES
    return render(request, "desk/welcome.html", context, status=status)


async def _defaults(request: web.Request, step: str) -> dict[str, Any]:
    services = request.app[SERVICES]
    if step == "company":
        general = await queues_repo.get(services.db, GENERAL_QUEUE) or {}
        return {"name": services.branding.current.name,
                "timezone": general.get("timezone", "UTC"),
                "hours": general.get("hours") or SUGGESTED_HOURS}
    if step == "website":
        current = await widget_settings.load(services.db)
        name = services.branding.current.name
        title = current.title if current.title != widget_settings.WidgetSettings.title or not name \
            else f"Chat with {name}"
        return {"website": "", "title": title}
    return {"email": "", "name": "", "role": "agent"}


@requires("admin")
async def welcome(request: web.Request) -> web.Response:
    return redirect(f"/welcome/{STEPS[0]}")


@requires("admin")
async def step_page(request: web.Request) -> web.Response:
    step = request.match_info["step"]
    if step == "done":
        services = request.app[SERVICES]
        return render(request, "desk/welcome_done.html", {
            "agent": request[AGENT], "steps": STEPS, "titles": TITLES,
            "items": await setup_progress.checklist(services.db, services.branding.current.name,
                                                    services.email.states)})
    return await _page(request, step, await _defaults(request, step))


async def _save_company(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    form = await posted_form(request)
    values = {k: str(form.get(k, ""))[:2000] for k in ("name", "timezone", "hours")}
    values["timezone"] = values["timezone"].strip()[:64] or "UTC"
    logo = form.get("logo")
    data = logo.file.read(256 * 1024 + 1) if isinstance(logo, web.FileField) else b""
    general = await queues_repo.get(services.db, GENERAL_QUEUE)
    try:
        BusinessHours.parse(values["timezone"], values["hours"], general["holidays"])
        await services.branding.save(values["name"], data or None,
                                     remove_logo=form.get("remove_logo") == "on")
    except (InvalidHours, InvalidBranding) as exc:
        return await _page(request, "company", values, error=str(exc), status=400)
    await services.db.write(lambda conn: queues_repo.update(
        conn, GENERAL_QUEUE, first_response_minutes=general["first_response_minutes"],
        next_response_minutes=general["next_response_minutes"], timezone=values["timezone"],
        hours=values["hours"], holidays=general["holidays"]))
    return redirect(_next("company"))


def website_origin(text: str) -> str:
    """The origin of what people type for their website: "shop.example.com/contact" is taken
    as https://shop.example.com; raises InvalidSettings for what is no address at all."""
    text = text.strip()
    if "://" not in text:
        text = "https://" + text
    parts = urlsplit(text)
    return normalise_origin(f"{parts.scheme}://{parts.netloc}")


async def _save_website(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    form = await form_data(request)
    values = {"website": form.get("website", "")[:300], "title": form.get("title", "")[:100]}
    current = await widget_settings.load(services.db)
    try:
        origin = website_origin(values["website"])
        title = " ".join(values["title"].split())
        if not title or len(title) > 60:
            raise InvalidSettings("the chat title must be 1 to 60 characters")
    except InvalidSettings as exc:
        return await _page(request, "website", values, error=str(exc), status=400)
    origins = current.allowed_origins + ((origin,) if origin not in current.allowed_origins else ())
    await widget_settings.save(services.db, services.clock,
                               dataclasses.replace(current, allowed_origins=origins, title=title))
    return redirect("/welcome/website?done=saved")


async def _add_colleague(request: web.Request) -> web.Response:
    """With a password: the account is ready. Without: they are mailed an invitation link to
    choose their own."""
    form = await form_data(request)
    values = {k: form.get(k, "")[:320] for k in ("email", "name", "role")}
    password = form.get("password", "")
    services = request.app[SERVICES]
    try:
        if password:
            await services.accounts.create_agent(values["email"], values["name"], values["role"],
                                                 password)
            return redirect("/welcome/team?done=added")
        if await mailboxes_repo.sender(services.db, None) is None:
            raise AccountError("no mailbox can send the invitation yet: give a password "
                               "instead, or connect the support mailbox first")
        agent_id, token = await services.invitations.invite(values["email"], values["name"],
                                                            values["role"])
    except AccountError as exc:
        return await _page(request, "team", values, error=str(exc), status=400)
    inviter = request[AGENT]["name"]
    company = services.branding.current.name or "your company"
    link = f"{request.scheme}://{request.host}/invitation?token={token}"
    try:
        await services.email.sender.send_now(
            values["email"].strip(), f"{inviter} invited you to OnlineSupport",
            f"Hello {values['name'].strip()},\n\n{inviter} made you an account to answer "
            f"{company}'s customers. Open this link on the office network to choose your "
            f"password:\n\n{link}\n\nIt works once, within the next 7 days.\n")
    except Exception as exc:  # noqa: BLE001 - any failure is the admin's to see and fix
        reason = explain(exc, "the outgoing mail server")
        await setup_progress.invitation_not_sent(services.db, services.clock, agent_id)
        return await _page(request, "team", {"email": "", "name": "", "role": "agent"},
                           status=502, error=f"The account for {values['email']} was made, but "
                           f"the invitation could not be mailed ({reason}). Set a password for "
                           "it under Agents instead.")
    return redirect("/welcome/team?done=invited")


@requires("admin")
async def save_step(request: web.Request) -> web.Response:
    step = request.match_info["step"]
    if step == "company":
        return await _save_company(request)
    if step == "website":
        return await _save_website(request)
    if step == "team":
        return await _add_colleague(request)
    if step == "mailbox":
        typed, error = await mailbox_admin.save_mail_servers(request)
        if error:
            return await _page(request, "mailbox", {}, status=400, mail_servers=await
                               mailbox_admin.receiver(request, "/welcome/mailbox", typed=typed,
                                                      error=error))
        return redirect("/welcome/mailbox?done=servers#mail-servers")
    raise web.HTTPNotFound(text=f"the step {step!r} has nothing to save")


@requires("admin")
async def finish(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    await setup_progress.mark(services.db, services.clock, finished=True)
    return redirect("/inbox")


@requires("admin")
async def hide_checklist(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    await setup_progress.mark(services.db, services.clock, checklist_hidden=True)
    return redirect("/inbox")


async def checklist_for(request: web.Request) -> dict[str, Any] | None:
    """What the inbox shows an admin: health warnings, and the setup checklist until it is done
    or hidden; None when there is nothing to show."""
    agent = request[AGENT]
    if agent["role"] != "admin":
        return None
    services = request.app[SERVICES]
    warnings = (await health.report(services))["warnings"]
    progress = await setup_progress.state(services.db)
    items: list[setup_progress.Item] = []
    if not progress["checklist_hidden"]:
        items = await setup_progress.checklist(services.db, services.branding.current.name,
                                               services.email.states)
    unfinished = not progress["checklist_hidden"] and (items or not progress["finished"])
    if not warnings and not unfinished:
        return None
    return {"items": items, "wizard_finished": progress["finished"], "warnings": warnings,
            "unfinished": unfinished}
