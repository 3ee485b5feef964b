"""Agents and mail: the original of a mail, its formatting, resending, a chat's transcript."""

from __future__ import annotations

import re

from aiohttp import web

from onlinesupport.store import email as email_repo
from onlinesupport.store import outbox as outbox_repo
from onlinesupport.web.auth import AGENT, requires
from onlinesupport.web.desk.inbox import actor, conversation_id, payload, respond
from onlinesupport.web.keys import SERVICES
from onlinesupport.web.responses import int_param

# The mail's own HTML, sanitised when it arrived, shown in a sandbox: no scripts, no remote
# images (tracking pixels), nothing but its inline images from this server.
_FORMATTED_CSP = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox"
_CID = re.compile(r'src="cid:([^"]+)"')


@requires("agent")
async def original(request: web.Request) -> web.Response:
    """The mail exactly as it arrived, to open in a mail program or forward."""
    message_id = int_param(request.match_info["id"], "message id", minimum=1)
    raw = await email_repo.raw(request.app[SERVICES].db, message_id)
    if raw is None:
        raise web.HTTPNotFound(text="that message did not come by mail")
    return web.Response(
        body=raw,
        headers={
            "Content-Type": "message/rfc822",
            "Content-Disposition": f'attachment; filename="message-{message_id}.eml"',
            "Cache-Control": "private, no-store",
        },
    )


@requires("agent")
async def formatted(request: web.Request) -> web.Response:
    message_id = int_param(request.match_info["id"], "message id", minimum=1)
    db = request.app[SERVICES].db
    html = await email_repo.html(db, message_id)
    if not html:
        raise web.HTTPNotFound(text="that message has no formatted version")
    inline = await email_repo.inline_files(db, message_id)
    html = _CID.sub(
        lambda m: f'src="/attachments/{inline[m.group(1)]}"' if m.group(1) in inline else 'src=""',
        html,
    )
    page = (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Formatted mail</title>'
        "</head><body>" + html + "</body></html>"
    )
    return web.Response(
        text=page,
        content_type="text/html",
        headers={"Content-Security-Policy": _FORMATTED_CSP, "Cache-Control": "private, no-store"},
    )


@requires("agent")
async def resend(request: web.Request) -> web.Response:
    """Queue a failed mail again (after the address or the mail server was fixed)."""
    services = request.app[SERVICES]
    outbox_id = int_param(request.match_info["id"], "outbox id", minimum=1)
    row = await outbox_repo.get(services.db, outbox_id)
    if row is None:
        raise web.HTTPNotFound(text="that mail does not exist")
    # Only a conversation's mail is sent again: a customer asks for a new sign-in link.
    conversation = row.conversation_id
    if conversation is None or not await services.email.sender.resend(
        outbox_id, request[AGENT]["id"]
    ):
        raise web.HTTPConflict(text="only a failed mail can be sent again")
    return respond(request, conversation, {"queued": True, "outbox_id": outbox_id})


@requires("agent")
async def transcript(request: web.Request) -> web.Response:
    """Mail the chat's transcript to the customer."""
    cid = conversation_id(request)
    to = await request.app[SERVICES].email.transcripts.send(cid, actor(request))
    return respond(request, cid, {"queued": True, "to": to})


@requires("agent")
async def reply_to(request: web.Request) -> web.Response:
    """Send the conversation's replies to the customer or to someone else on its mail."""
    cid = conversation_id(request)
    address = (await payload(request)).get("address", "")
    if not isinstance(address, str):
        raise web.HTTPBadRequest(text="address must be text")
    await request.app[SERVICES].email.recipients.choose(cid, address, actor(request))
    return respond(request, cid, {"reply_to": address.strip().lower()})
