"""Encrypts the secrets kept in the database (mailbox passwords) with the instance's key.

AES-256-GCM with a key derived from the secret key in the data folder, so a copy of the
database alone does not reveal them. The `purpose` is bound to the ciphertext as associated
data: a value sealed as one setting cannot be replayed as another.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_PREFIX = "v1:"


class SecretUnreadable(ValueError):
    """The stored value was sealed with another key (a restored database without its key)."""


class SecretBox:
    def __init__(self, secret_key: bytes) -> None:
        key = hmac.new(secret_key, b"onlinesupport stored secrets v1", hashlib.sha256).digest()
        self._aead = AESGCM(key)

    def seal(self, plaintext: str, purpose: str) -> str:
        if not plaintext:
            return ""
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), purpose.encode())
        return _PREFIX + base64.b64encode(nonce + sealed).decode()

    def open(self, stored: str, purpose: str) -> str:
        if not stored:
            return ""
        if not stored.startswith(_PREFIX):
            raise SecretUnreadable("the stored secret is not in a known format")
        blob = base64.b64decode(stored[len(_PREFIX) :])
        try:
            return self._aead.decrypt(blob[:12], blob[12:], purpose.encode()).decode()
        except InvalidTag:
            raise SecretUnreadable(
                "the stored secret was sealed with another secret key; enter the password again"
            ) from None
