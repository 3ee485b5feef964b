"""Where a reply's own words end: quoted history and signatures, collapsed in the desk."""

from __future__ import annotations

import re

_ATTRIBUTION = re.compile(
    r"^(On .{1,300} wrote:|Am .{1,300} schrieb .{1,200}:|Le .{1,300} a écrit ?:"
    r"|El .{1,300} escribió:|Op .{1,300} schreef .{1,200}:)\s*$",
    re.I,
)
_OUTLOOK = re.compile(
    r"^(-{3,} ?Original Message ?-{3,}|_{20,}"
    r"|-{3,} ?Forwarded message ?-{3,})\s*$",
    re.I,
)
_HEADER_BLOCK = re.compile(r"^(From|Von|De|Van):\s.+", re.I)
_HEADER_NEXT = re.compile(r"^(Sent|Date|Gesendet|Datum|Envoyé|To|An|À):\s", re.I)
_MOBILE = re.compile(r"^(Sent from my .{1,40}|Get Outlook for .{1,40})$", re.I)


def quote_start(text: str) -> int | None:
    """The offset where quoted history or the signature begins; None if the mail is all new."""
    lines = text.split("\n")
    offset = 0
    offsets = []
    for line in lines:
        offsets.append(offset)
        offset += len(line) + 1
    for index, line in enumerate(lines):
        stripped = line.strip()
        found = (
            line == "-- "
            or _ATTRIBUTION.match(stripped)
            or _OUTLOOK.match(stripped)
            or _MOBILE.match(stripped)
            or (
                _HEADER_BLOCK.match(stripped)
                and any(_HEADER_NEXT.match(n.strip()) for n in lines[index + 1 : index + 4])
            )
            or (stripped.startswith(">") and _only_quotes_follow(lines[index:]))
        )
        if found:
            return offsets[index] if offsets[index] > 0 and text[: offsets[index]].strip() else None
    return None


def _only_quotes_follow(lines: list[str]) -> bool:
    """A trailing quote block: nothing but quoted or empty lines until the end (no interleaving)."""
    return all(not line.strip() or line.lstrip().startswith(">") for line in lines)
