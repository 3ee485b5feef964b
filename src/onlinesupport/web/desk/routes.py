"""Every URL of the desk listener on one screen."""

from __future__ import annotations

from importlib import resources

from aiohttp import web

from onlinesupport.web import logo
from onlinesupport.web.desk import (
    admin,
    api,
    canned_pages,
    files,
    first_run,
    health_page,
    inbox,
    mailbox_admin,
    mail_views,
    queue_admin,
    script_pages,
    search_page,
    signin,
    socket,
    widget_admin,
)


def setup_routes(app: web.Application) -> None:
    app.router.add_routes([
        web.get("/healthz", signin.health, name="health"),
        web.get("/signin", signin.signin_page, name="signin"),
        web.post("/signin", signin.signin),
        web.post("/signout", signin.signout, name="signout"),
        web.get("/setup", signin.setup_page, name="setup"),
        web.post("/setup", signin.setup),
        web.get("/logo", logo.logo),
        web.get("/welcome", first_run.welcome, name="welcome"),
        web.get("/welcome/{step:company|website|mailbox|team|done}", first_run.step_page),
        web.post("/welcome/{step:company|website|team}", first_run.save_step),
        web.post("/welcome/finish", first_run.finish),
        web.post("/welcome/hide-checklist", first_run.hide_checklist),
        web.get("/", inbox.home, name="home"),
        web.get("/inbox", inbox.inbox, name="inbox"),
        web.get("/conversations/new", inbox.new_conversation_page, name="new_conversation"),
        web.post("/conversations", inbox.create_conversation),
        web.get(r"/conversations/{id:\d+}", inbox.conversation, name="conversation"),
        web.post(r"/conversations/{id:\d+}/messages", inbox.post_message),
        web.post(r"/conversations/{id:\d+}/assign", inbox.assign),
        web.post(r"/conversations/{id:\d+}/attachments", files.upload),
        web.get(r"/attachments/{id:\d+}", files.download, name="attachment"),
        web.post(r"/conversations/{id:\d+}/transfer", inbox.transfer),
        web.post(r"/conversations/{id:\d+}/invite", inbox.invite),
        web.post(r"/conversations/{id:\d+}/resolve", inbox.resolve),
        web.post(r"/conversations/{id:\d+}/move", inbox.move),
        web.post(r"/conversations/{id:\d+}/reopen", inbox.reopen),
        web.post(r"/customers/{id:\d+}", inbox.update_customer),
        web.get("/search", search_page.search_page, name="search"),
        web.get("/scripts", script_pages.scripts_page, name="scripts"),
        web.post("/scripts", script_pages.add_script),
        web.post(r"/scripts/{id:\d+}/delete", script_pages.delete_script),
        web.post(r"/conversations/{id:\d+}/script/{step:start|next|stop}", script_pages.run_script),
        web.get("/canned", canned_pages.canned_page, name="canned"),
        web.post("/canned", canned_pages.add_canned),
        web.post(r"/canned/{id:\d+}/delete", canned_pages.delete_canned),
        web.get("/api/canned", canned_pages.canned_list),
        web.get("/api/conversations", api.list_conversations),
        web.get(r"/api/conversations/{id:\d+}", api.get_conversation),
        web.get("/api/ws", socket.desk_socket, name="socket"),
        web.get("/admin/agents", admin.agents_page, name="admin_agents"),
        web.post("/admin/agents", admin.add_agent),
        web.post(r"/admin/agents/{id:\d+}", admin.update_agent),
        web.post(r"/admin/agents/{id:\d+}/password", admin.reset_password),
        web.get("/admin/widget", widget_admin.widget_page, name="admin_widget"),
        web.post("/admin/widget", widget_admin.save_widget),
        web.get("/admin/health", health_page.health_page, name="admin_health"),
        web.get("/admin/queues", queue_admin.queues_page, name="admin_queues"),
        web.post(r"/admin/queues/{id:\d+}", queue_admin.save_queue),
        web.post("/admin/contact-form", queue_admin.save_question_types),
        web.post("/admin/queues", queue_admin.add_queue),
        web.get("/admin/mailboxes", mailbox_admin.mailboxes_page, name="admin_mailboxes"),
        web.post("/admin/mailboxes", mailbox_admin.add_mailbox),
        web.get(r"/admin/mailboxes/{id:\d+}", mailbox_admin.mailbox_page, name="admin_mailbox"),
        web.post(r"/admin/mailboxes/{id:\d+}", mailbox_admin.update_mailbox),
        web.post(r"/admin/mailboxes/{id:\d+}/test", mailbox_admin.test_mailbox),
        web.post(r"/admin/mailboxes/{id:\d+}/delete", mailbox_admin.delete_mailbox),
        web.get(r"/mail/{id:\d+}/original", mail_views.original, name="mail_original"),
        web.get(r"/mail/{id:\d+}/formatted", mail_views.formatted, name="mail_formatted"),
        web.post(r"/outbox/{id:\d+}/resend", mail_views.resend),
        web.post(r"/conversations/{id:\d+}/transcript", mail_views.transcript),
    ])
    app[socket.ENCODED] = socket.EncodedEvents()
    static = resources.files("onlinesupport").joinpath("static")
    app.router.add_static("/static", str(static), name="static", append_version=True)
