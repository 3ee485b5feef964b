"""Admin pages for support mailboxes: add, edit, test the connection, see their state."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from onlinesupport.channels.email.acknowledgement import DEFAULT_BODY, DEFAULT_SUBJECT, PLACEHOLDERS
from onlinesupport.channels.email.mailboxes import FIELDS, SECURITY, Check, MailboxError
from onlinesupport.core.conversations import DEFAULT_QUEUE
from onlinesupport.web.auth import AGENT, form_data, requires
from onlinesupport.web.keys import SERVICES
from onlinesupport.web.responses import int_param, redirect
from onlinesupport.web.templates import render

NEW = {
    "address": "",
    "display_name": "",
    "active": 1,
    "imap_host": "",
    "imap_port": 993,
    "imap_security": "tls",
    "imap_user": "",
    "imap_folder": "INBOX",
    "imap_after": "seen",
    "imap_move_to": "",
    "smtp_receive": 0,
    "smtp_host": "",
    "smtp_port": 587,
    "smtp_security": "starttls",
    "smtp_user": "",
    "ack_enabled": 1,
    "ack_subject": DEFAULT_SUBJECT,
    "ack_body": DEFAULT_BODY,
    "queue_id": DEFAULT_QUEUE,
    "ack_articles": 0,
    "notify_link": "",
    "signed_return_path": 0,
}


def _without_secrets(values: Mapping[str, Any]) -> dict[str, Any]:
    """Never send a password back to the browser, not even encrypted; say whether one is set."""
    shown = {k: v for k, v in values.items() if not k.endswith("_password")}
    shown["has_imap_password"] = bool(values.get("imap_password"))
    shown["has_smtp_password"] = bool(values.get("smtp_password"))
    return shown


async def receiver(
    request: web.Request, action: str, *, typed: str | None = None, error: str = ""
) -> dict[str, Any]:
    """What the mail-servers form shows: who may hand mail to the SMTP receiver, and where it
    listens (the wizard's mailbox step shows the same form)."""
    services = request.app[SERVICES]
    return {
        "port": services.email.smtp_port,
        "host": services.config.email_smtp_host,
        "configured": services.config.email_smtp_allowed_hosts,
        "allowed": await services.email.mailboxes.mail_servers(),
        "action": action,
        "typed": typed,
        "error": error,
    }


async def save_mail_servers(request: web.Request) -> tuple[str, str]:
    """Save the mail servers of the form; returns what was typed and the error ('' if saved)."""
    typed = (await form_data(request)).get("mail_servers", "")[:2000]
    services = request.app[SERVICES]
    try:
        await services.email.mailboxes.save_mail_servers(typed)
    except MailboxError as exc:
        return typed, str(exc)
    await services.email.reload()
    return typed, ""


async def _list_page(
    request: web.Request,
    *,
    values: dict[str, Any] | None = None,
    error: str = "",
    notice: str = "",
    status: int = 200,
    mail_servers: dict[str, Any] | None = None,
) -> web.Response:
    services = request.app[SERVICES]
    return render(
        request,
        "admin/mailboxes.html",
        {
            "receiver": mail_servers or await receiver(request, _servers_action(request)),
            "agent": request[AGENT],
            "error": error,
            "notice": notice,
            "mailboxes": [_without_secrets(m) for m in await services.email.mailboxes.list_all()],
            "states": services.email.states,
            "outbox": await services.email.sender.counts(),
            "smtp_port": services.email.smtp_port,
            "values": _without_secrets(values or NEW),
            "security": SECURITY,
            "placeholders": PLACEHOLDERS,
            "queues": await services.queues.list_all(),
        },
        status=status,
    )


async def _edit_page(
    request: web.Request,
    mailbox_id: int,
    *,
    values: dict[str, Any] | None = None,
    error: str = "",
    notice: str = "",
    checks: list[Check] | None = None,
    status: int = 200,
) -> web.Response:
    services = request.app[SERVICES]
    stored = await services.email.mailboxes.get(mailbox_id)
    return render(
        request,
        "admin/mailbox.html",
        {
            "agent": request[AGENT],
            "mailbox": _without_secrets(stored),
            "values": _without_secrets(values or stored),
            "state": services.email.states.get(mailbox_id),
            "error": error,
            "notice": notice,
            "checks": checks or [],
            "security": SECURITY,
            "placeholders": PLACEHOLDERS,
            "queues": await services.queues.list_all(),
        },
        status=status,
    )


def _form_values(form: dict[str, str]) -> dict[str, Any]:
    """What the admin typed, to show again after an error (passwords are not shown back)."""
    return {k: form.get(k, "")[:5000] for k in FIELDS}


@requires("admin")
async def mailboxes_page(request: web.Request) -> web.Response:
    notice = {"added": "Mailbox added.", "deleted": "Mailbox removed."}
    return await _list_page(request, notice=notice.get(request.query.get("done", ""), ""))


@requires("admin")
async def mail_servers(request: web.Request) -> web.Response:
    """The mail servers that may hand mail to the built-in SMTP receiver."""
    typed, error = await save_mail_servers(request)
    if error:
        return await _list_page(
            request,
            status=400,
            mail_servers=await receiver(
                request, _servers_action(request), typed=typed, error=error
            ),
        )
    wizard = "&from=welcome" if request.query.get("from") == "welcome" else ""
    return redirect(f"/admin/mailboxes?done=servers{wizard}#mail-servers")


def _servers_action(request: web.Request) -> str:
    """Where the mail-servers form posts; opened from the setup steps, it keeps their way back."""
    wizard = "?from=welcome" if request.query.get("from") == "welcome" else ""
    return f"/admin/mailboxes/mail-servers{wizard}"


@requires("admin")
async def add_mailbox(request: web.Request) -> web.Response:
    form = await form_data(request)
    services = request.app[SERVICES]
    try:
        mailbox_id = await services.email.mailboxes.create(form)
    except MailboxError as exc:
        return await _list_page(request, values=_form_values(form), error=str(exc), status=400)
    await services.email.reload()
    wizard = "&from=welcome" if request.query.get("from") == "welcome" else ""
    return redirect(f"/admin/mailboxes/{mailbox_id}?done=added{wizard}")


def _mailbox_id(request: web.Request) -> int:
    return int_param(request.match_info["id"], "mailbox id", minimum=1)


@requires("admin")
async def mailbox_page(request: web.Request) -> web.Response:
    notice = {
        "added": "Mailbox added. Test the connection to check the settings.",
        "saved": "Changes saved.",
    }
    return await _edit_page(
        request, _mailbox_id(request), notice=notice.get(request.query.get("done", ""), "")
    )


@requires("admin")
async def update_mailbox(request: web.Request) -> web.Response:
    mailbox_id = _mailbox_id(request)
    form = await form_data(request)
    services = request.app[SERVICES]
    await services.email.mailboxes.get(mailbox_id)  # 404 before what was typed is checked
    try:
        await services.email.mailboxes.update(mailbox_id, form)
    except MailboxError as exc:
        return await _edit_page(
            request, mailbox_id, values=_form_values(form), error=str(exc), status=400
        )
    await services.email.reload()
    wizard = "&from=welcome" if request.query.get("from") == "welcome" else ""
    return redirect(f"/admin/mailboxes/{mailbox_id}?done=saved{wizard}")


@requires("admin")
async def test_mailbox(request: web.Request) -> web.Response:
    """Log in to the mailbox's servers with the saved settings and show each step's result."""
    mailbox_id = _mailbox_id(request)
    services = request.app[SERVICES]
    stored = await services.email.mailboxes.get(mailbox_id)
    return await _edit_page(request, mailbox_id, checks=await services.email.mailboxes.test(stored))


@requires("admin")
async def delete_mailbox(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    await services.email.mailboxes.delete(_mailbox_id(request))
    await services.email.reload()
    return redirect("/admin/mailboxes?done=deleted")
