"""Signatures made with the instance's secret key, each bound to what it is for."""

from __future__ import annotations

import hashlib
import hmac


def sign(key: bytes, purpose: str, value: object, length: int = 64) -> str:
    """HMAC-SHA256 of "purpose:value", as hex (its first `length` digits)."""
    return hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()[:length]


def verify(key: bytes, purpose: str, value: object, signature: str, length: int = 64) -> bool:
    """Whether `signature` is `sign(key, purpose, value, length)`, compared in constant time."""
    return same(sign(key, purpose, value, length), signature)


def same(expected: str, given: str) -> bool:
    """Whether a secret someone sent equals the expected one, compared in constant time.

    Any text may be compared (hmac.compare_digest raises TypeError for letters outside ASCII,
    which anyone can send in a form, a header or a websocket frame).
    """
    return hmac.compare_digest(
        expected.encode("utf-8", "surrogatepass"), given.encode("utf-8", "surrogatepass")
    )
