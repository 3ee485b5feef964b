"""Reading multipart uploads as a stream: small text fields, then the file, never all in memory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import BodyPartReader, web

from onlinesupport.core.attachments import INLINE_TYPES, FileStore
from onlinesupport.core.conversations import Actor, Conversations, Posted
from onlinesupport.store.attachments import ServedFile, StoredFile

MAX_FIELD = 1000


Check = Callable[[dict[str, str]], Awaitable[object]]
"""Sees the fields before the file is stored; raises to refuse it."""


async def _no_check(fields: dict[str, str]) -> None:
    return None


def _text(name: str, value: bytes) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        raise web.HTTPBadRequest(text=f"the field {name} is not UTF-8 text") from None


async def chunks(part: BodyPartReader) -> AsyncIterator[bytes]:
    while chunk := await part.read_chunk(64 * 1024):
        yield chunk


async def receive(
    request: web.Request, files: FileStore, check: Check = _no_check
) -> tuple[dict[str, str], StoredFile]:
    """The text fields sent before the file, and the file written to the data folder.

    `check` sees the fields before a byte of the file is stored, and raises to refuse it.
    Fields after the file are not read: clients send their fields first.
    """
    fields, stored = await receive_form(request, files, check)
    if stored is None:
        raise web.HTTPBadRequest(text="choose a file to send")
    return fields, stored


async def receive_form(
    request: web.Request, files: FileStore, check: Check = _no_check, *, max_field: int = MAX_FIELD
) -> tuple[dict[str, str], StoredFile | None]:
    """`receive` for a form whose file is optional (None when none was chosen)."""
    if request.content_type != "multipart/form-data":
        raise web.HTTPBadRequest(text="send the file as multipart/form-data")
    reader = await request.multipart()
    fields: dict[str, str] = {}
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader) or not part.name:
            raise web.HTTPBadRequest(text="nested multipart is not accepted")
        if part.filename is None:
            value = b""
            while len(value) <= max_field and (chunk := await part.read_chunk(1024)):
                value += chunk
            if len(value) > max_field:
                raise web.HTTPBadRequest(text=f"the field {part.name} is too long")
            fields[part.name] = _text(part.name, value)
            continue
        if not part.filename:
            continue  # a file input left empty
        await check(fields)
        return fields, await files.receive(part.filename, chunks(part))
    return fields, None


async def post_file(
    conversations: Conversations,
    files: FileStore,
    conversation_id: int,
    actor: Actor,
    stored: StoredFile,
    *,
    kind: str = "message",
    client_id: str | None = None,
) -> Posted:
    """Post a received file as a message; the stored bytes go if they end up in no message."""
    with files.kept_only_if_stored(stored):
        posted = await conversations.post(
            conversation_id, actor, stored.filename, kind=kind, client_id=client_id, files=[stored]
        )
    if posted.duplicate:
        files.discard(stored)
    return posted


def serve(files: FileStore, attachment: ServedFile, cache: str) -> web.FileResponse:
    """The stored file with its checked type; only images are shown inline."""
    inline = attachment["content_type"] in INLINE_TYPES
    disposition = "inline" if inline else "attachment"
    name = attachment["filename"].encode("ascii", "replace").decode("ascii")
    return web.FileResponse(
        files.path(attachment["storage_name"]),
        headers={
            "Content-Type": attachment["content_type"],
            "Content-Disposition": f'{disposition}; filename="{name}"',
            "Cache-Control": cache,
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )
