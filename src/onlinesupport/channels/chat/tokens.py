"""Visitor tokens: a random visitor id and an expiry, signed with the instance's secret key.

The widget keeps its token in the visitor's localStorage; whoever holds it is that visitor and
can read only that visitor's conversations. A token lasts LIFETIME, and every connection is
answered with a fresh one (the widget keeps the newest), so a visitor who comes back within
that time keeps their conversations for good, while a token copied out of a browser long ago
stops working. An older token stays valid until its own expiry: a second tab, or a welcome
lost on the way, never locks a visitor out of their chat.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from onlinesupport.lib.inputs import MAX_ID, whole_number
from onlinesupport.lib.signing import same

LIFETIME = timedelta(days=30)
_PREFIX = "v2"
_UNEXPIRING = "v1"
"""Tokens from before tokens expired: accepted, so no visitor loses their chat to an upgrade,
and replaced by an expiring one at that very connection."""


def _signature(secret_key: bytes, visitor_id: str, expires: int | None) -> str:
    signed = f"visitor:{visitor_id}" if expires is None else f"visitor:{visitor_id}:{expires}"
    digest = hmac.new(secret_key, signed.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode("ascii")


def issue(secret_key: bytes, now: datetime, visitor_id: str | None = None) -> tuple[str, str]:
    """A (visitor id, token) valid for LIFETIME from `now`: a new visitor, or `visitor_id`'s
    next token."""
    visitor_id = visitor_id or secrets.token_urlsafe(16)
    expires = int((now + LIFETIME).timestamp())
    return visitor_id, (
        f"{_PREFIX}.{visitor_id}.{expires}.{_signature(secret_key, visitor_id, expires)}"
    )


def verify(secret_key: bytes, token: object, now: datetime) -> str | None:
    """The visitor id the token was issued for, or None if it is not a valid, current token."""
    if not isinstance(token, str) or len(token) > 100 or not token.isascii():
        return None
    parts = token.split(".")
    expires: int | None = None
    if len(parts) == 4 and parts[0] == _PREFIX:
        expires = whole_number(parts[2], 0, MAX_ID)
        if expires is None or expires <= now.timestamp():
            return None
    elif len(parts) != 3 or parts[0] != _UNEXPIRING:
        return None
    visitor_id, signature = parts[1], parts[-1]
    return visitor_id if same(_signature(secret_key, visitor_id, expires), signature) else None
