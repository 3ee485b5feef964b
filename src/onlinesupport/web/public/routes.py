"""Every URL of the public listener on one screen. Desk and admin routes are never mounted here."""

from __future__ import annotations

from aiohttp import web

from onlinesupport.web import favicon, logo
from onlinesupport.web.health import healthz
from onlinesupport.web.public import callbacks, contact, help_center, my_page, widget
from onlinesupport.web.responses import static_file

JS = "application/javascript"


async def health(request: web.Request) -> web.Response:
    return healthz(request, "public")


def setup_routes(app: web.Application) -> None:
    app.router.add_routes(
        [
            web.get("/healthz", health, name="health"),
            web.get("/widget.js", widget.widget_script, name="widget_script"),
            web.get("/widget.css", widget.widget_stylesheet, name="widget_css"),
            web.get("/widget-call.js", widget.call_script),
            web.get(r"/widget-words/{lang:[a-z]{2}}.js", widget.words_script),
            web.get("/widget/test", widget.test_page, name="widget_test"),
            web.get("/logo", logo.logo),
            web.get("/widget/ws", widget.visitor_socket, name="visitor_socket"),
            web.post("/widget/upload", widget.visitor_upload),
            web.get(
                r"/widget/files/{id:\d+}/{expires:\d+}/{signature:[0-9a-f]{32}}",
                widget.visitor_file,
            ),
            web.get("/contact", contact.contact_page, name="contact"),
            web.post("/contact", contact.submit),
            web.post("/contact/answered", contact.answered),
            web.get("/contact.js", static_file("contact.js", JS), name="contact_js"),
            web.get("/contact/sent", contact.sent_page, name="contact_sent"),
            web.get("/contact.css", static_file("public.css", "text/css"), name="contact_css"),
            web.get("/contact/callback", callbacks.callback_page, name="callback"),
            web.post("/contact/callback", callbacks.request_callback),
            web.get("/contact/callback/sent", callbacks.sent_page, name="callback_sent"),
            web.get("/my", my_page.my_page, name="my"),
            web.post("/my/signin", my_page.ask_for_link),
            web.get(r"/my/link/{token:[A-Za-z0-9_-]{20,100}}", my_page.open_link),
            web.post("/my/link", my_page.use_link),
            web.post("/my/signout", my_page.sign_out),
            web.get("/my/data", my_page.download),
            web.post("/my/erase", my_page.ask_for_erasure),
            web.get(r"/my/conversations/{id:\d+}", my_page.conversation_page),
            web.post(r"/my/conversations/{id:\d+}", my_page.reply),
            web.get("/my/callback", my_page.callback_page),
            web.post("/my/callback", my_page.ask_for_callback),
            web.get("/times.js", static_file("times.js", JS)),
        ]
    )
    favicon.add_routes(app)
    widget.setup_chat(app)
    help_center.setup_help_center(app)
