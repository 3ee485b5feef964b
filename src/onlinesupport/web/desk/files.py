"""Agents send files into a conversation and open the files customers sent."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from onlinesupport.store import attachments as attachments_repo
from onlinesupport.store import conversations as conversations_repo
from onlinesupport.web import uploads
from onlinesupport.web.auth import requires
from onlinesupport.web.desk.inbox import actor, conversation_id, respond
from onlinesupport.web.keys import SERVICES
from onlinesupport.web.responses import int_param


@requires("agent")
async def upload(request: web.Request) -> web.Response:
    cid = conversation_id(request)
    services = request.app[SERVICES]

    async def conversation_exists(fields: dict[str, Any]) -> None:
        if await conversations_repo.get(services.db, cid) is None:
            raise web.HTTPNotFound(text=f"conversation {cid} does not exist")

    fields, stored = await uploads.receive(request, services.files, conversation_exists)
    posted = await uploads.post_file(
        services.conversations,
        services.files,
        cid,
        actor(request),
        stored,
        kind=fields.get("kind", "message"),
        client_id=fields.get("client_id") or None,
    )
    return respond(
        request, cid, {"message": posted.message.to_json(), "duplicate": posted.duplicate}
    )


@requires("agent")
async def download(request: web.Request) -> web.FileResponse:
    services = request.app[SERVICES]
    attachment_id = int_param(request.match_info["id"], "attachment id", minimum=1)
    attachment = await attachments_repo.get(services.db, attachment_id)
    if attachment is None:
        raise web.HTTPNotFound(text="that file does not exist")
    return uploads.serve(services.files, attachment, "private, max-age=3600")
