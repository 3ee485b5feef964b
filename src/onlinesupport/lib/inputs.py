"""Checks of what arrives from outside, shared by every layer: ids, one-line text, addresses.

Forms, websocket frames, API bodies and mail all carry text anyone can write. These functions
say whether it is a row id, a number in range, one email address, or turn it into text that is
safe to store and to put in a mail header (or a phone number into the form it is stored in).
Refusals are `UserError`s, shown to the sender.
"""

from __future__ import annotations

import json
import re
from typing import Any

from onlinesupport.lib.errors import UserError

MAX_ID = 2**62
"""Above any row id we will ever have, below SQLite's largest integer (2**63 - 1)."""

MAX_ADDRESS = 254
"""The longest address SMTP can carry (RFC 5321: a 256-octet path, with its angle brackets)."""

_SURROGATE = re.compile("[\ud800-\udfff]")
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_PHONE_SEPARATORS = re.compile(r"[\s\-./()]")
_ATEXT = frozenset("!#$%&'*+/=?^_`{|}~-")
_NOT_ONE = "give one email address, such as name@example.com"
_NOT_AN_ADDRESS = "this does not look like an email address (such as name@example.com)"


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
    ValueError for anything that is not JSON, or nests deeper than Python's parser goes.
    """
    try:
        value = json.loads(text)
    except RecursionError:
        raise ValueError("the JSON is nested too deeply") from None
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


def one_line(text: str) -> str:
    """`text` without control characters or line breaks (each run becomes one space), as a
    subject must be to go into a mail header."""
    return " ".join(_CONTROL.sub(" ", text).split()) if _CONTROL.search(text) else text


class InvalidAddress(UserError):
    """Not exactly one plain email address."""


def email_address(text: str, field: str = "email") -> str:
    """`text` as exactly one plain email address (surrounding spaces removed).

    Refused: lists ("a@x.example, b@y.example"), display names and angle brackets, spaces and
    control characters (a line break in an address breaks every mail sent to it), quoted local
    parts and IP literals, and anything longer than SMTP allows. Letters outside ASCII are
    accepted in both parts (internationalised addresses).
    """
    address = text.strip()
    if not address:
        raise InvalidAddress("give an email address", field)
    if len(address) > MAX_ADDRESS:
        raise InvalidAddress(f"an email address has at most {MAX_ADDRESS} characters", field)
    if address.count("@") > 1 or any(ch in address for ch in ",;<>"):
        raise InvalidAddress(_NOT_ONE, field)
    local, _, domain = address.partition("@")
    # Spaces, line breaks and control characters fail here too: they are in neither part.
    if not _dot_atoms(local, _ATEXT, 64) or not _domain(domain):
        raise InvalidAddress(_NOT_AN_ADDRESS, field)
    return address


def phone_number(typed: str) -> str:
    """How a customer's phone number is stored and found, whoever typed it and however: its
    digits, after a `+` when it was written internationally (`+49 (0)30 123-456` and
    `0049 30 123456` are both `+4930123456`, the E.164 that callback requests store). A
    number typed nationally stays its digits: without a country, its calling code is unknown.
    Checks nothing (what may be typed is the caller's rule); only separators stay as typed."""
    text = (typed or "").strip()
    if text.startswith("+"):
        found = "+" + _PHONE_SEPARATORS.sub("", text[1:].replace("(0)", ""))
    else:
        digits = _PHONE_SEPARATORS.sub("", text)
        found = "+" + digits[2:] if digits.startswith("00") else digits
    return found if found.strip("+") else text


def is_email_address(text: str) -> bool:
    try:
        email_address(text)
    except InvalidAddress:
        return False
    return True


def _dot_atoms(text: str, extra: frozenset[str] | str, limit: int) -> bool:
    """Words of letters, digits and `extra`, joined by single dots, at most `limit` long."""
    return 0 < len(text) <= limit and all(
        atom and all(ch.isalnum() or ch in extra for ch in atom) for atom in text.split(".")
    )


def _domain(domain: str) -> bool:
    labels = domain.split(".")
    return (
        len(labels) >= 2
        and len(domain) <= 253
        and _dot_atoms(domain, "-", 253)
        and all(len(label) <= 63 and label[0] != "-" and label[-1] != "-" for label in labels)
        and not labels[-1].isdigit()
    )
