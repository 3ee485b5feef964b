"""The company's name and logo, shown on the customer-facing pages and in the desk.

Both are set in the first-run wizard (or later in Admin -> Company). The name is a setting in
the database; the logo is a small image file in the data folder's branding/ folder, checked by
its first bytes so only real images are ever served back.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from onlinesupport.core.attachments import INLINE_TYPES, sniff
from onlinesupport.lib.clock import Clock, to_db
from onlinesupport.lib.errors import UserError
from onlinesupport.store import settings as settings_repo
from onlinesupport.store.database import Database

SETTINGS_KEY = "company"
MAX_LOGO_BYTES = 256 * 1024
MAX_NAME = 100


class InvalidBranding(UserError):
    """The name or logo cannot be used; the message says why."""


def image_type(data: bytes) -> str:
    """The content type of a PNG, JPEG, GIF or WebP image, else InvalidBranding."""
    content_type = sniff(data[:512])
    if content_type not in INLINE_TYPES:
        raise InvalidBranding("the logo must be a PNG, JPEG, GIF or WebP image")
    return content_type


@dataclass(frozen=True)
class Company:
    name: str = ""
    logo_type: str = ""
    logo_version: str = ""
    """A short hash of the logo, so its URL changes when the image does."""

    @property
    def logo_url(self) -> str:
        return f"/logo?v={self.logo_version}" if self.logo_type else ""


class Branding:
    def __init__(self, db: Database, folder: Path, clock: Clock) -> None:
        self._db = db
        self._logo = folder / "logo"
        self._clock = clock
        self.current = Company()
        self._logo_data: bytes | None = None
        """The logo's bytes (at most MAX_LOGO_BYTES), read at start-up: served without a file
        read on the event loop."""

    async def load(self) -> Company:
        stored = await settings_repo.get(self._db, SETTINGS_KEY) or {}
        self.current = Company(
            name=str(stored.get("name", "")),
            logo_type=str(stored.get("logo_type", "")),
            logo_version=str(stored.get("logo_version", "")),
        )
        self._logo_data = (
            await asyncio.to_thread(self._read_logo) if self.current.logo_type else None
        )
        return self.current

    async def save(
        self, name: str, logo: bytes | None = None, *, remove_logo: bool = False
    ) -> Company:
        """Set the name; replace the logo when one is given, drop it when asked."""
        name = " ".join(name.split())
        if len(name) > MAX_NAME:
            raise InvalidBranding(f"the company name is longer than {MAX_NAME} characters")
        logo_type, version = self.current.logo_type, self.current.logo_version
        if logo:
            if len(logo) > MAX_LOGO_BYTES:
                raise InvalidBranding(f"the logo is larger than {MAX_LOGO_BYTES // 1024} KB")
            logo_type, version = image_type(logo), hashlib.sha256(logo).hexdigest()[:12]
            await asyncio.to_thread(self._write_logo, logo)
        elif remove_logo:
            logo_type = version = ""
            await asyncio.to_thread(self._logo.unlink, missing_ok=True)
        value = {"name": name, "logo_type": logo_type, "logo_version": version}
        await self._db.write(
            lambda conn: settings_repo.put(conn, SETTINGS_KEY, value, to_db(self._clock.now()))
        )
        if logo:
            self._logo_data = logo
        elif remove_logo:
            self._logo_data = None
        self.current = Company(name, logo_type, version)
        return self.current

    def _write_logo(self, data: bytes) -> None:
        self._logo.parent.mkdir(parents=True, exist_ok=True)
        partial = self._logo.with_suffix(".partial")
        partial.write_bytes(data)
        os.replace(partial, self._logo)

    def _read_logo(self) -> bytes | None:
        try:
            return self._logo.read_bytes()[:MAX_LOGO_BYTES]
        except FileNotFoundError:
            return None

    def logo(self) -> bytes | None:
        return self._logo_data if self.current.logo_type else None
