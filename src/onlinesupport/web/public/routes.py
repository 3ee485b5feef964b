"""Every URL of the public listener on one screen. Desk and admin routes are never mounted here."""

from __future__ import annotations

from aiohttp import web

from onlinesupport.web.public import contact, widget


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok", "listener": "public"})


def setup_routes(app: web.Application) -> None:
    app.router.add_routes([
        web.get("/healthz", health, name="health"),
        web.get("/widget.js", widget.widget_script, name="widget_script"),
        web.get("/widget/ws", widget.visitor_socket, name="visitor_socket"),
        web.post("/widget/upload", widget.visitor_upload),
        web.get(r"/widget/files/{id:\d+}/{signature:[0-9a-f]{32}}", widget.visitor_file),
        web.get("/contact", contact.contact_page, name="contact"),
        web.post("/contact", contact.submit),
        web.get("/contact/sent", contact.sent_page, name="contact_sent"),
        web.get("/contact.css", contact.stylesheet, name="contact_css"),
    ])
    widget.setup_chat(app)
    contact.setup_contact(app)
