"""API handlers for conversations, their messages and files: parse, call one service, answer."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from onlinesupport.core.conversations import Actor, Conversations
from onlinesupport.core.conversations.bulk import BulkAction, apply
from onlinesupport.core.customers import CustomerChanges
from onlinesupport.integrations import objects
from onlinesupport.integrations.tokens import Caller
from onlinesupport.store import attachments as attachments_repo
from onlinesupport.store import integration_reads
from onlinesupport.store import messages as messages_repo
from onlinesupport.store.integration_reads import ConversationFilter
from onlinesupport.web import uploads
from onlinesupport.web.api.auth import CALLER
from onlinesupport.web.api.errors import ApiError
from onlinesupport.web.api.spec import Call
from onlinesupport.web.keys import SERVICES

MESSAGES_PAGE = 100


def caller(call: Call) -> Caller:
    return call.request[CALLER]


def encode_cursor(kind: str, *parts: object) -> str:
    return base64.urlsafe_b64encode(f"{kind}|{'|'.join(map(str, parts))}".encode()).decode()


def decode_cursor(cursor: str, kind: str) -> list[str]:
    """The parts of a cursor this listing handed out, or 422 naming the cursor."""
    try:
        text = base64.urlsafe_b64decode(cursor.encode("ascii")).decode()
    except (binascii.Error, UnicodeError, ValueError):
        text = ""
    found, _, rest = text.partition("|")
    if found != kind or not rest:
        raise ApiError(422, "the cursor is not one this listing gave out", field="cursor")
    return rest.split("|")


def _cursor_id(cursor: str, kind: str) -> int:
    [value] = decode_cursor(cursor, kind)[:1]
    if not value.isdigit() or len(value) > 19:
        raise ApiError(422, "the cursor is not one this listing gave out", field="cursor")
    return int(value)


async def _conversation(call: Call, conversation_id: int) -> dict[str, Any]:
    found = await integration_reads.conversation(call.request.app[SERVICES].db, conversation_id)
    if found is None:
        raise ApiError(404, f"conversation {conversation_id} does not exist")
    return objects.conversation(found)


async def list_conversations(call: Call) -> web.Response:
    q = call.query
    db = call.request.app[SERVICES].db
    assignee = q.get("assignee_id")
    narrow = ConversationFilter(
        status=q.get("status"),
        queue_id=q.get("queue_id"),
        assignee_id=None if assignee in (None, 0) else assignee,
        unassigned=assignee == 0,
        channel=q.get("channel"),
        tag=q.get("tag"),
        customer_id=q.get("customer_id"),
        updated_since=q.get("updated_since"),
    )
    limit = q.get("limit", 25)
    cursor = q.get("cursor")
    if q.get("sort", "newest") == "updated":
        after = None
        if cursor:
            parts = decode_cursor(cursor, "u")
            if len(parts) != 2 or not parts[1].isdigit() or len(parts[1]) > 19:
                raise ApiError(422, "the cursor is not one this listing gave out", field="cursor")
            after = (parts[0], int(parts[1]))
        found = await integration_reads.conversations_updated(db, narrow, after, limit + 1)
        more = len(found) > limit
        found = found[:limit]
        next_cursor = encode_cursor("u", found[-1].updated_at, found[-1].id) if more else None
    else:
        before = _cursor_id(cursor, "n") if cursor else None
        found = await integration_reads.conversations_newest(db, narrow, before, limit + 1)
        more = len(found) > limit
        found = found[:limit]
        next_cursor = encode_cursor("n", found[-1].id) if more else None
    return web.json_response(
        {"conversations": [objects.conversation(c) for c in found], "next_cursor": next_cursor}
    )


async def get_conversation(call: Call) -> web.Response:
    cid = call.path["id"]
    conversation = await _conversation(call, cid)
    messages = await messages_repo.after(call.request.app[SERVICES].db, cid, 0, MESSAGES_PAGE + 1)
    return web.json_response(
        {
            "conversation": conversation,
            "messages": [objects.message(m) for m in messages[:MESSAGES_PAGE]],
            "has_more": len(messages) > MESSAGES_PAGE,
        }
    )


async def list_messages(call: Call) -> web.Response:
    cid = call.path["id"]
    await _conversation(call, cid)
    limit = call.query.get("limit", MESSAGES_PAGE)
    messages = await messages_repo.after(
        call.request.app[SERVICES].db, cid, call.query.get("after", 0), limit + 1
    )
    return web.json_response(
        {
            "messages": [objects.message(m) for m in messages[:limit]],
            "has_more": len(messages) > limit,
        }
    )


async def get_message(call: Call) -> web.Response:
    cid, seq = call.path["id"], call.path["seq"]
    await _conversation(call, cid)
    found = await messages_repo.after(call.request.app[SERVICES].db, cid, seq - 1, 1)
    if not found or found[0].seq != seq:
        raise ApiError(404, f"conversation {cid} has no message {seq}")
    return web.json_response({"message": objects.message(found[0])})


async def create_conversation(call: Call) -> web.Response:
    data = call.body
    services = call.request.app[SERVICES]
    who = caller(call)
    given = data["customer"]
    customer_id = await services.customers.identify(
        CustomerChanges(
            name=given.get("name"),
            email=given.get("email"),
            phone=given.get("phone"),
            external_id=given.get("external_id"),
        ),
        given.get("id"),
        who.actor(),
    )
    opened = await services.conversations.open(
        channel=data["channel"],
        customer_name=given.get("name", ""),
        customer_id=customer_id,
        subject=data.get("subject", ""),
        body=data["body"],
        client_id=data.get("client_id"),
        actor=who.actor(),
    )
    if not opened.duplicate:
        if data.get("queue_id") is not None:
            await services.conversations.move(opened.conversation_id, data["queue_id"], who.actor())
        if data.get("assignee_id") is not None:
            await services.conversations.assign(
                opened.conversation_id, data["assignee_id"], who.actor()
            )
    message = None
    if opened.message is not None:
        stored = await messages_repo.after(
            services.db, opened.conversation_id, opened.message.seq - 1, 1
        )
        message = objects.message(stored[0]) if stored else None
    return web.json_response(
        {
            "conversation": await _conversation(call, opened.conversation_id),
            "message": message,
            "duplicate": opened.duplicate,
        },
        status=200 if opened.duplicate else 201,
    )


async def _author(call: Call, conversation: dict[str, Any], author: str) -> Actor:
    if author == "customer":
        return Actor.customer(conversation["customer"]["id"], conversation["customer"]["name"])
    return caller(call).author()


async def post_message(call: Call) -> web.Response:
    cid = call.path["id"]
    conversation = await _conversation(call, cid)
    data = call.body
    kind = data.get("kind", "message")
    author = data.get("author", "agent")
    if kind == "note" and author != "agent":
        raise ApiError(422, "internal notes are written by agents", field="author")
    posted = await call.request.app[SERVICES].conversations.post(
        cid,
        await _author(call, conversation, author),
        data["body"],
        kind=kind,
        client_id=data.get("client_id"),
    )
    return await _posted(call, posted.message.conversation_id, posted.message.seq, posted.duplicate)


async def _posted(call: Call, cid: int, seq: int, duplicate: bool) -> web.Response:
    stored = await messages_repo.after(call.request.app[SERVICES].db, cid, seq - 1, 1)
    return web.json_response(
        {"message": objects.message(stored[0]), "duplicate": duplicate},
        status=200 if duplicate else 201,
    )


async def upload(call: Call) -> web.Response:
    cid = call.path["id"]
    services = call.request.app[SERVICES]
    conversation = await _conversation(call, cid)

    async def fields_ok(fields: dict[str, str]) -> None:
        if fields.get("kind", "message") not in ("message", "note"):
            raise ApiError(422, "kind must be message or note", field="kind")
        if fields.get("author", "agent") not in ("agent", "customer"):
            raise ApiError(422, "author must be agent or customer", field="author")

    try:
        fields, stored = await uploads.receive(call.request, services.files, fields_ok)
    except (ValueError, HttpProcessingError):
        raise ApiError(
            400, "send the file as multipart/form-data (fields first, then the file)"
        ) from None
    kind = fields.get("kind", "message")
    author = fields.get("author", "agent")
    if kind == "note" and author != "agent":
        services.files.discard(stored)
        raise ApiError(422, "internal notes are written by agents", field="author")
    posted = await uploads.post_file(
        services.conversations,
        services.files,
        cid,
        await _author(call, conversation, author),
        stored,
        kind=kind,
        client_id=fields.get("client_id") or None,
    )
    return await _posted(call, cid, posted.message.seq, posted.duplicate)


async def download(call: Call) -> web.StreamResponse:
    services = call.request.app[SERVICES]
    attachment = await attachments_repo.get(services.db, call.path["id"])
    if attachment is None:
        raise ApiError(404, f"attachment {call.path['id']} does not exist")
    return uploads.serve(services.files, attachment, "private, max-age=3600")


Change = Callable[[Conversations, int, Actor], Awaitable[object]]


async def _command(call: Call, change: Change) -> web.Response:
    """Run one conversation command; answer with the conversation and whether it changed."""
    cid = call.path["id"]
    changed = await change(call.request.app[SERVICES].conversations, cid, caller(call).actor())
    return web.json_response(
        {"conversation": await _conversation(call, cid), "changed": bool(changed)}
    )


async def assign(call: Call) -> web.Response:
    return await _command(call, lambda c, cid, who: c.assign(cid, call.body["agent_id"], who))


async def move(call: Call) -> web.Response:
    return await _command(call, lambda c, cid, who: c.move(cid, call.body["queue_id"], who))


async def add_tags(call: Call) -> web.Response:
    tags = call.body["tags"]
    return await _command(call, lambda c, cid, who: _tag_each(c, cid, tags, who))


async def _tag_each(conversations: Conversations, cid: int, tags: list[str], who: Actor) -> int:
    changed = 0
    for tag in tags:
        changed += (await apply(conversations, [cid], BulkAction("tag", tag=tag), who)).changed
    return changed


async def set_priority(call: Call) -> web.Response:
    return await _command(call, lambda c, cid, who: c.set_priority(cid, call.body["priority"], who))


async def resolve(call: Call) -> web.Response:
    return await _command(call, lambda c, cid, who: c.resolve(cid, who))


async def reopen(call: Call) -> web.Response:
    return await _command(call, lambda c, cid, who: c.reopen(cid, who))
