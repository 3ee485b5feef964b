"""Files customers and agents send: checked by their content, size-limited, kept in the data folder.

A file's type is what its first bytes say, never what the sender claims, and only images, PDF
and plain text are taken. The bytes are written and flushed to disk before the message that
carries them is committed. Visitors reach their files through capability URLs (the id and
an expiry signed with the instance's secret key), handed out only inside their own conversation.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from onlinesupport.core.conversations import InvalidCommand
from onlinesupport.lib.signing import sign, verify
from onlinesupport.store.attachments import StoredFile
from onlinesupport.store.errors import StorageFull, is_full

MAX_SIZE = 10 * 1024 * 1024
LINK_DAYS = 7
INLINE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")


class FileTooLarge(InvalidCommand):
    """The upload is over MAX_SIZE."""


def sniff(head: bytes) -> str | None:
    """The content type the first bytes prove, or None for anything not accepted."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if b"\x00" not in head:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            # A multi-byte character cut by the end of the sample is still text.
            if exc.start < len(head) - 3:
                return None
        return "text/plain"
    return None


def clean_filename(name: str) -> str:
    """A file name safe to show and to put in a header: no path, no control characters."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '"<>:|?*').strip(" .")
    return name[:120] or "file"


class FileStore:
    def __init__(self, folder: Path, secret_key: bytes) -> None:
        self.folder = folder
        self._secret_key = secret_key

    def path(self, storage_name: str) -> Path:
        return self.folder / storage_name

    async def receive(self, filename: str, chunks: AsyncIterator[bytes]) -> StoredFile:
        """Write an upload to the data folder; refuses unknown types and files over MAX_SIZE."""
        self.folder.mkdir(parents=True, exist_ok=True)
        storage_name = secrets.token_hex(16)
        path = self.path(storage_name)
        digest = hashlib.sha256()
        size = 0
        head = b""
        try:
            with open(path, "wb") as out:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > MAX_SIZE:
                        raise FileTooLarge(f"files can be at most {MAX_SIZE // (1024 * 1024)} MB")
                    if len(head) < 512:
                        head += chunk[: 512 - len(head)]
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                await asyncio.to_thread(os.fsync, out.fileno())
            if size == 0:
                raise InvalidCommand("the file is empty")
            content_type = sniff(head)
            if content_type is None:
                raise InvalidCommand(
                    "only images (PNG, JPEG, GIF, WebP), PDF and text files can be sent"
                )
        except BaseException as exc:
            path.unlink(missing_ok=True)
            if is_full(exc):
                raise StorageFull() from exc
            raise
        return StoredFile(
            storage_name, clean_filename(filename), content_type, size, digest.hexdigest()
        )

    async def keep(self, filename: str, data: bytes) -> StoredFile:
        """Store a file that arrived inside a mail (already size-limited by the mail).

        Any type is kept, since mail carries documents of every kind; the type is still what
        the bytes prove, and anything unproven is served only as a download.
        """
        self.folder.mkdir(parents=True, exist_ok=True)
        storage_name = secrets.token_hex(16)
        path = self.path(storage_name)

        def write() -> None:
            try:
                with open(path, "wb") as out:
                    out.write(data)
                    out.flush()
                    os.fsync(out.fileno())
            except BaseException as exc:
                path.unlink(missing_ok=True)  # a full disk leaves no half-written file
                if is_full(exc):
                    raise StorageFull() from exc
                raise

        await asyncio.to_thread(write)
        content_type = sniff(data[:512]) if data else None
        return StoredFile(
            storage_name,
            clean_filename(filename),
            content_type or "application/octet-stream",
            len(data),
            hashlib.sha256(data).hexdigest(),
        )

    def discard(self, stored: StoredFile) -> None:
        self.path(stored.storage_name).unlink(missing_ok=True)

    @contextmanager
    def kept_only_if_stored(self, *stored: StoredFile) -> Iterator[None]:
        """Discard the files when the block fails: their row was never committed."""
        try:
            yield
        except BaseException:
            for item in stored:
                self.discard(item)
            raise

    def visitor_link(self, attachment_id: int, now: datetime) -> str:
        """The address a visitor opens a file of their own conversation by.

        It works for LINK_DAYS to LINK_DAYS + 1 days: the expiry is a whole day, so a file
        keeps one address (and its place in the browser's cache) all day. Every delivery of
        the message (a page load, a reconnect) hands out a current one.
        """
        day = 24 * 3600
        expires = (int(now.timestamp()) // day + LINK_DAYS + 1) * day
        signature = sign(self._secret_key, "attachment", f"{attachment_id}:{expires}", 32)
        return f"/widget/files/{attachment_id}/{expires}/{signature}"

    def link_ok(self, attachment_id: int, expires: int, signature: str) -> bool:
        """Whether the address was made by `visitor_link` (expired or not)."""
        return verify(self._secret_key, "attachment", f"{attachment_id}:{expires}", signature, 32)
