"""The first-run wizard (after the setup link created the admin) and the desk's checklist.

Steps: company (name, logo, time zone, opening hours), website (allowed address, script tag,
test page), mailbox, team. Every step can be skipped; everything in it can be changed later in
the admin pages, which the wizard only fronts.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from onlinesupport.accounts import ROLES
from onlinesupport.core.branding import MAX_LOGO_BYTES
from onlinesupport.lib.errors import UserError
from onlinesupport.ops import health, setup_progress
from onlinesupport.web.auth import AGENT, form_data, posted_form, requires
from onlinesupport.web.desk.admin import mailbox_admin
from onlinesupport.web.desk.admin.widget_admin import public_base, script_tag
from onlinesupport.web.keys import SERVICES
from onlinesupport.web.responses import int_param, redirect
from onlinesupport.web.templates import render

STEPS = ("company", "website", "mailbox", "team")
TITLES = {
    "company": "Your company",
    "website": "Your website",
    "mailbox": "Support mailbox",
    "team": "Your team",
}


def _next(step: str) -> str:
    index = STEPS.index(step)
    return f"/welcome/{STEPS[index + 1]}" if index + 1 < len(STEPS) else "/welcome/done"


async def _page(
    request: web.Request,
    step: str,
    values: dict[str, Any],
    *,
    error: str = "",
    status: int = 200,
    mail_servers: dict[str, Any] | None = None,
    not_mailed: dict[str, Any] | None = None,
) -> web.Response:
    services = request.app[SERVICES]
    context: dict[str, Any] = {
        "agent": request[AGENT],
        "step": step,
        "steps": STEPS,
        "titles": TITLES,
        "next": _next(step),
        "values": values,
        "error": error,
        "company": services.branding.current,
    }
    if step == "website":
        context["script_tag"] = script_tag(request)
        context["test_page"] = public_base(request) + "/widget/test"
        context["origins"] = await services.first_run.allowed_origins()
    elif step == "mailbox":
        context["mailboxes"] = await services.email.mailboxes.list_all()
        context["states"] = services.email.states
        context["receiver"] = mail_servers or await mailbox_admin.receiver(
            request, "/welcome/mailbox"
        )
    elif step == "team":
        context["agents"] = await services.accounts.agents()
        context["roles"] = ROLES
        context["not_mailed"] = not_mailed
        shown = str((not_mailed or {}).get("agent_id", ""))
        context["pending"] = [
            {
                "agent_id": a.id,
                "name": a.name,
                "email": a.email,
                "role": a.role,
                "link": await services.first_run.invitation_link(a.id, _invitation_link(request)),
                "reason": await services.first_run.not_mailed_reason(a.id),
            }
            for a in await services.first_run.without_password()
            if str(a.id) != shown
        ]
    return render(request, "desk/welcome.html", context, status=status)


async def _defaults(request: web.Request, step: str) -> dict[str, Any]:
    first_run = request.app[SERVICES].first_run
    if step == "company":
        return await first_run.company()
    if step == "website":
        return await first_run.website()
    return {"email": "", "name": "", "role": "agent"}


@requires("admin")
async def welcome(request: web.Request) -> web.Response:
    return redirect(f"/welcome/{STEPS[0]}")


@requires("admin")
async def step_page(request: web.Request) -> web.Response:
    step = request.match_info["step"]
    if step == "done":
        services = request.app[SERVICES]
        return render(
            request,
            "desk/welcome_done.html",
            {
                "agent": request[AGENT],
                "steps": STEPS,
                "titles": TITLES,
                "items": await services.first_run.checklist(),
            },
        )
    return await _page(request, step, await _defaults(request, step))


async def _save_company(request: web.Request) -> web.Response:
    form = await posted_form(request)
    values = {k: str(form.get(k, ""))[:2000] for k in ("name", "timezone", "hours")}
    values["timezone"] = values["timezone"].strip()[:64] or "UTC"
    logo = form.get("logo")
    data = (
        await asyncio.to_thread(logo.file.read, MAX_LOGO_BYTES + 1)
        if isinstance(logo, web.FileField)
        else b""
    )
    try:
        await request.app[SERVICES].first_run.save_company(
            values["name"],
            values["timezone"],
            values["hours"],
            data or None,
            remove_logo=form.get("remove_logo") == "on",
        )
    except UserError as exc:
        return await _page(request, "company", values, error=exc.message, status=400)
    return redirect(_next("company"))


async def _save_website(request: web.Request) -> web.Response:
    form = await form_data(request)
    values = {"website": form.get("website", "")[:300], "title": form.get("title", "")[:100]}
    try:
        await request.app[SERVICES].first_run.save_website(values["website"], values["title"])
    except UserError as exc:
        return await _page(request, "website", values, error=exc.message, status=400)
    return redirect("/welcome/website?done=saved")


def _invitation_link(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}/invitation?token="


async def _add_colleague(request: web.Request) -> web.Response:
    """With a password: the account is ready. Without: they are mailed an invitation link to
    choose their own; when it cannot be mailed, the page gives the link to pass on and a way
    to set a password instead."""
    form = await form_data(request)
    if form.get("agent_id"):
        return await _set_colleague_password(request, form)
    values = {k: form.get(k, "")[:320] for k in ("email", "name", "role")}
    try:
        added = await request.app[SERVICES].first_run.add_colleague(
            values["email"],
            values["name"],
            values["role"],
            form.get("password", ""),
            inviter=request[AGENT]["name"],
            link=_invitation_link(request),
        )
    except UserError as exc:
        return await _page(request, "team", values, error=exc.message, status=400)
    if added.not_mailed:
        not_mailed = {**values, "agent_id": added.agent_id, "link": added.link}
        return await _page(
            request,
            "team",
            {"email": "", "name": "", "role": "agent"},
            not_mailed={**not_mailed, "reason": added.not_mailed},
        )
    return redirect(f"/welcome/team?done={'invited' if added.invited else 'added'}")


async def _set_colleague_password(request: web.Request, form: dict[str, str]) -> web.Response:
    """The way out when an invitation could not be mailed: a password the admin passes on."""
    first_run = request.app[SERVICES].first_run
    typed = {k: form.get(k, "")[:320] for k in ("agent_id", "email", "name", "role")}
    agent_id = int_param(typed["agent_id"], "agent_id", minimum=1)
    try:
        await first_run.set_colleague_password(agent_id, form.get("password", ""))
    except UserError as exc:
        link = await first_run.invitation_link(agent_id, _invitation_link(request))
        return await _page(
            request,
            "team",
            {"email": "", "name": "", "role": "agent"},
            status=400,
            not_mailed={
                **typed,
                "link": link,
                "reason": await first_run.not_mailed_reason(agent_id),
                "error": exc.message,
            },
        )
    return redirect("/welcome/team?done=password")


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
            return await _page(
                request,
                "mailbox",
                {},
                status=400,
                mail_servers=await mailbox_admin.receiver(
                    request, "/welcome/mailbox", typed=typed, error=error
                ),
            )
        return redirect("/welcome/mailbox?done=servers#mail-servers")
    raise web.HTTPNotFound(text=f"the step {step!r} has nothing to save")


@requires("admin")
async def finish(request: web.Request) -> web.Response:
    await request.app[SERVICES].first_run.mark(finished=True)
    return redirect("/inbox")


@requires("admin")
async def hide_checklist(request: web.Request) -> web.Response:
    await request.app[SERVICES].first_run.mark(checklist_hidden=True)
    return redirect("/inbox")


async def checklist_for(request: web.Request) -> dict[str, Any] | None:
    """What the inbox shows an admin: health warnings, and the setup checklist until it is done
    or hidden; None when there is nothing to show."""
    agent = request[AGENT]
    if agent["role"] != "admin":
        return None
    services = request.app[SERVICES]
    warnings = (await health.report(services))["warnings"]
    progress = await services.first_run.state()
    items: list[setup_progress.Item] = []
    if not progress["checklist_hidden"]:
        items = await services.first_run.checklist()
    unfinished = not progress["checklist_hidden"] and (items or not progress["finished"])
    if not warnings and not unfinished:
        return None
    return {
        "items": items,
        "wizard_finished": progress["finished"],
        "warnings": warnings,
        "unfinished": unfinished,
    }
