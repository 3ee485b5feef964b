"""Admin page for proactive messages: the balloon the widget shows on matching pages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from onlinesupport.channels.chat.proactive import AUDIENCES, InvalidProactive
from onlinesupport.core.customers import TIERS
from onlinesupport.web.auth import AGENT, form_data, requires
from onlinesupport.web.keys import SERVICES
from onlinesupport.web.responses import int_param, redirect
from onlinesupport.web.templates import render

BLANK = {
    "id": None,
    "active": 1,
    "url_pattern": "*",
    "seconds_on_page": 20,
    "audience": "all",
    "tier": "",
    "business_hours_only": 1,
    "text": "",
    "button": "",
    "shown": 0,
    "clicked": 0,
    "dismissed": 0,
    "chat_started": 0,
}


async def _page(
    request: web.Request, *, error: str = "", edited: dict | None = None, status: int = 200
) -> web.Response:
    messages: list[Mapping[str, Any]] = list(await request.app[SERVICES].proactive.list_all())
    if edited is not None:
        messages = [edited if m["id"] == edited["id"] else m for m in messages]
    return render(
        request,
        "admin/proactive.html",
        {
            "agent": request[AGENT],
            "messages": messages,
            "error": error,
            "new": edited if edited is not None and edited["id"] is None else BLANK,
            "audiences": AUDIENCES,
            "tiers": TIERS,
            "notice": "Saved." if request.query.get("done") == "saved" else "",
        },
        status=status,
    )


@requires("admin")
async def proactive_page(request: web.Request) -> web.Response:
    return await _page(request)


@requires("admin")
async def save(request: web.Request) -> web.Response:
    raw = request.match_info.get("id")
    message_id = int_param(raw, "message", minimum=1) if raw else None
    form = await form_data(request)
    try:
        await request.app[SERVICES].proactive.save(message_id, form)
    except InvalidProactive as exc:
        edited = {
            **BLANK,
            **{k: form.get(k, "") for k in BLANK if k in form},
            "id": message_id,
            "active": form.get("active") == "on",
            "business_hours_only": form.get("business_hours_only") == "on",
        }
        return await _page(request, error=str(exc), edited=edited, status=400)
    return redirect("/admin/proactive?done=saved")


@requires("admin")
async def delete(request: web.Request) -> web.Response:
    message_id = int_param(request.match_info["id"], "message", minimum=1)
    await request.app[SERVICES].proactive.delete(message_id)
    return redirect("/admin/proactive?done=saved")
