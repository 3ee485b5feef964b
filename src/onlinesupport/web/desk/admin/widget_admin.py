"""Admin page for the website widget: allowed websites, texts, colour, pre-chat fields; the
secret that signs website users (shown, rotatable) and callback requests (on/off, queue)."""

from __future__ import annotations

from aiohttp import web

from onlinesupport.channels.chat import widget_settings
from onlinesupport.channels.chat.widget_settings import FIELD_MODES, InvalidSettings
from onlinesupport.channels.phone import numbers
from onlinesupport.core.conversations import InvalidCommand
from onlinesupport.web.auth import AGENT, form_data, requires
from onlinesupport.web.keys import SERVICES
from onlinesupport.web.responses import redirect
from onlinesupport.web.templates import render

DONE = {
    "saved": "Saved.",
    "rotated": "A new secret is in force: put it into your website now.",
    "callbacks": "Callback requests saved.",
}


def public_base(request: web.Request) -> str:
    """The public listener's address, on the host name the desk was reached by."""
    services = request.app[SERVICES]
    host = request.url.host or "localhost"
    scheme = "https" if services.config.public_tls_cert else "http"
    return f"{scheme}://{host}:{services.public_port}"


def script_tag(request: web.Request) -> str:
    """The tag to paste into the website, pointing at the public listener."""
    return f'<script src="{public_base(request)}/widget.js" async></script>'


async def _page(
    request: web.Request,
    values: dict[str, str],
    *,
    error: str = "",
    notice: str = "",
    status: int = 200,
) -> web.Response:
    services = request.app[SERVICES]
    return render(
        request,
        "admin/widget.html",
        {
            "agent": request[AGENT],
            "values": values,
            "modes": FIELD_MODES,
            "error": error,
            "notice": notice,
            "script_tag": script_tag(request),
            "identity": services.identity,
            "public_base": public_base(request),
            "callbacks": await services.callbacks.settings(),
            "queues": await services.queues.list_all(),
            "countries": numbers.choices(),
        },
        status=status,
    )


async def _saved(request: web.Request) -> dict[str, str]:
    """The widget's settings as its form shows them."""
    current = await widget_settings.load(request.app[SERVICES].db)
    return {**current.for_visitor(), "allowed_origins": "\n".join(current.allowed_origins)}


@requires("admin")
async def widget_page(request: web.Request) -> web.Response:
    return await _page(
        request, await _saved(request), notice=DONE.get(request.query.get("done", ""), "")
    )


@requires("admin")
async def save_widget(request: web.Request) -> web.Response:
    form = await form_data(request)
    try:
        parsed = widget_settings.parse(form)
    except InvalidSettings as exc:
        return await _page(
            request,
            {
                k: form.get(k, "")
                for k in (
                    "allowed_origins",
                    "title",
                    "greeting",
                    "color",
                    "ask_name",
                    "ask_email",
                    "offline_text",
                )
            },
            error=str(exc),
            status=400,
        )
    services = request.app[SERVICES]
    await widget_settings.save(services.db, services.clock, parsed)
    return redirect("/admin/widget?done=saved")


@requires("admin")
async def rotate_identity_secret(request: web.Request) -> web.Response:
    """A new secret for signing website users; the old one stops working at once."""
    await request.app[SERVICES].identity.rotate()
    return redirect("/admin/widget?done=rotated#identity")


@requires("admin")
async def save_callbacks(request: web.Request) -> web.Response:
    try:
        await request.app[SERVICES].callbacks.save_settings(await form_data(request))
    except InvalidCommand as exc:
        return await _page(request, await _saved(request), error=str(exc), status=400)
    return redirect("/admin/widget?done=callbacks#callbacks")
