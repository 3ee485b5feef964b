"""Visitor tokens: a random visitor id signed with the instance's secret key.

The widget keeps its token in the visitor's localStorage; whoever holds it is that visitor and
can read only that visitor's conversations.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from onlinesupport.signing import same

_PREFIX = "v1"


def _signature(secret_key: bytes, visitor_id: str) -> str:
    digest = hmac.new(secret_key, f"visitor:{visitor_id}".encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode("ascii")


def issue(secret_key: bytes) -> tuple[str, str]:
    """A new (visitor id, token)."""
    visitor_id = secrets.token_urlsafe(16)
    return visitor_id, f"{_PREFIX}.{visitor_id}.{_signature(secret_key, visitor_id)}"


def verify(secret_key: bytes, token: object) -> str | None:
    """The visitor id the token was issued for, or None if it is not a valid token."""
    if not isinstance(token, str) or len(token) > 100 or not token.isascii():
        return None
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != _PREFIX:
        return None
    if not same(_signature(secret_key, parts[1]), parts[2]):
        return None
    return parts[1]
