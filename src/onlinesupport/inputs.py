"""Checks of what arrives from outside, shared by every layer: ids, numbers, JSON text.

Forms, websocket frames, API bodies and mail all carry text anyone can write. These functions
say whether it is a row id or a number in range, or turn it into text that is safe to store.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_ID = 2**62
"""Above any row id we will ever have, below SQLite's largest integer (2**63 - 1)."""

_SURROGATE = re.compile("[\ud800-\udfff]")
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")


def whole_number(value: object, low: int, high: int) -> int | None:
    """`value` (text of ASCII digits, or an int that is not a bool) if low <= it <= high."""
    if isinstance(value, str):
        # isdigit alone lets "²" and "١" through; int() refuses the first and reads the second.
        if not value.isascii() or not value.isdigit() or len(value) > len(str(high)):
            return None
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    return value if low <= value <= high else None


def row_id(value: object) -> int | None:
    """A row id (1 up to MAX_ID) from a form field, path part or frame field, else None."""
    return whole_number(value, 1, MAX_ID)


def without_surrogates(text: str) -> str:
    """`text` with each lone UTF-16 surrogate replaced by U+FFFD.

    JavaScript strings may hold them (half of an emoji cut in two); they cannot be stored or
    sent as UTF-8, and the rest of what the person typed is worth keeping.
    """
    return _SURROGATE.sub("\ufffd", text)


def parse_json(text: str | bytes) -> Any:
    """JSON that came from outside, with every lone surrogate in its texts made U+FFFD.

    JSON's "\\ud800" escapes are the one way such text gets past a UTF-8 decoder; raises
    ValueError for anything that is not JSON.
    """
    value = json.loads(text)
    escaped = text if isinstance(text, str) else text.decode("utf-8", "replace")
    return _without_surrogates(value) if _ESCAPED_SURROGATE.search(escaped) else value


def _without_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return without_surrogates(value)
    if isinstance(value, list):
        return [_without_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {without_surrogates(k): _without_surrogates(v) for k, v in value.items()}
    return value
