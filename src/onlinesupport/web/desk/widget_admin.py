"""Admin page for the website widget: allowed websites, texts, colour, pre-chat fields."""

from __future__ import annotations

from aiohttp import web

from onlinesupport.channels.chat import widget_settings
from onlinesupport.channels.chat.widget_settings import FIELD_MODES, InvalidSettings
from onlinesupport.web.auth import AGENT, form_data, requires
from onlinesupport.web.keys import SERVICES
from onlinesupport.web.responses import redirect
from onlinesupport.web.templates import render


def public_base(request: web.Request) -> str:
    """The public listener's address, on the host name the desk was reached by."""
    services = request.app[SERVICES]
    host = request.url.host or "localhost"
    scheme = "https" if services.config.public_tls_cert else "http"
    return f"{scheme}://{host}:{services.public_port}"


def script_tag(request: web.Request) -> str:
    """The tag to paste into the website, pointing at the public listener."""
    return f'<script src="{public_base(request)}/widget.js" async></script>'


async def _page(request: web.Request, values: dict[str, str], *, error: str = "",
                notice: str = "", status: int = 200) -> web.Response:
    return render(request, "admin/widget.html", {
        "agent": request[AGENT], "values": values, "modes": FIELD_MODES, "error": error,
        "notice": notice, "script_tag": script_tag(request)}, status=status)


@requires("admin")
async def widget_page(request: web.Request) -> web.Response:
    current = await widget_settings.load(request.app[SERVICES].db)
    values = {**current.for_visitor(), "allowed_origins": "\n".join(current.allowed_origins)}
    return await _page(request, values,
                       notice="Saved." if request.query.get("done") == "saved" else "")


@requires("admin")
async def save_widget(request: web.Request) -> web.Response:
    form = await form_data(request)
    try:
        parsed = widget_settings.parse(form)
    except InvalidSettings as exc:
        return await _page(request, {k: form.get(k, "") for k in (
            "allowed_origins", "title", "greeting", "color", "ask_name", "ask_email",
            "offline_text")}, error=str(exc), status=400)
    services = request.app[SERVICES]
    await widget_settings.save(services.db, services.clock, parsed)
    return redirect("/admin/widget?done=saved")
