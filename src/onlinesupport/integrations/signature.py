"""Standard Webhooks 1.0 signatures: `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`.

Secrets are `whsec_` and base64 of 24 random bytes; the HMAC key is the decoded bytes. While a
rotated secret is still valid, both sign and the header carries both, space-separated, as the
specification allows, so a receiver that has either verifies.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterable

PREFIX = "whsec_"


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(PREFIX))


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(
    secrets_in_use: Iterable[str], msg_id: str, timestamp: int, body: bytes
) -> str:
    return " ".join(sign(s, msg_id, timestamp, body) for s in secrets_in_use)
