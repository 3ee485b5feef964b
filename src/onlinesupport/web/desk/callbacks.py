"""The desk's side of callback requests: an agent logs how a call went."""

from __future__ import annotations

from aiohttp import web

from onlinesupport.web.auth import requires
from onlinesupport.web.desk.inbox import _text_field, actor, conversation_id, payload, respond
from onlinesupport.web.keys import SERVICES


@requires("agent")
async def log_call(request: web.Request) -> web.Response:
    """Reached (with notes), no answer (and when to try again) or wrong number."""
    cid = conversation_id(request)
    data = await payload(request)
    attempt = await request.app[SERVICES].callbacks.log_call(
        cid,
        actor(request),
        _text_field(data, "outcome"),
        notes=_text_field(data, "notes"),
        retry_at=_text_field(data, "retry_at"),
        resolve=data.get("resolve") in ("on", True),
    )
    return respond(request, cid, {"attempt": attempt})
