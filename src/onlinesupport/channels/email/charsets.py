"""Text of a mail in the charset its sender meant, whatever its label says.

Mail programs label text with a charset and then write a superset of it (most "GB2312" mail is
GBK, most "ISO-8859-1" is Windows-1252), leave 7-bit ISO-2022-JP unlabelled, or label Shift_JIS
as ISO-2022-JP. So a label is read as its well-known superset, a failed label tries its likely
neighbours, and only then UTF-8 and Windows-1252. One bad byte in UTF-8 text is shown as U+FFFD
rather than re-reading the whole text as Windows-1252. Pure functions, no I/O.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re

UTF8_REPLACED = "Some bytes of the text were not valid UTF-8; they are shown as \ufffd."
_CP50220 = "cp50220"

# Labels read as the superset that mail programs actually write.
_SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "euc-cn": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "iso8859-1": "cp1252",
    "euc_kr": "cp949",
    "big5": "big5hkscs",
    "shift_jis": "cp932",
    "iso2022_jp": _CP50220,
}
# Labels Python does not know by that name.
_ALIASES = {
    "x-sjis": "shift_jis",
    "windows-31j": "cp932",
    "cp50221": _CP50220,
    "cp50222": _CP50220,
    "csiso2022jp": _CP50220,
    "windows-874": "cp874",
    "iso-8859-8-i": "iso8859-8",
    "iso-8859-6-i": "iso8859-6",
    "x-mac-roman": "mac-roman",
    "ks_c_5601": "cp949",
    "x-euc-jp": "euc_jp",
    "x-unicode-2-0-utf-7": "utf-7",
}
# When the (superset of the) label fails: the charsets such text really is, most likely first.
_NEIGHBOURS = {
    _CP50220: (
        "iso2022_jp_2004",
        "iso2022_jp_2",
        "iso2022_jp_ext",
        "utf-8",
        "euc_jis_2004",
        "cp932",
    ),
    "cp932": ("shift_jis_2004", "euc_jis_2004", "utf-8"),
    "euc_jp": ("euc_jis_2004", "cp932", "utf-8"),
    "gb18030": ("utf-8", "big5hkscs"),
    "big5hkscs": ("cp950", "utf-8", "gb18030"),
    "cp949": ("utf-8", "iso2022_kr"),
    "koi8-r": ("koi8-u", "utf-8", "cp1251"),
    "koi8-u": ("koi8-r", "utf-8", "cp1251"),
    "ascii": ("utf-8",),
    "cp1252": ("utf-8", "latin-1"),
}
# Escape sequences of the 7-bit ISO-2022 encodings (RFC 1468, RFC 1557).
_ISO2022_JP = re.compile(rb"\x1b(\$[@B]|\$\(D|\([BJI])")
_ISO2022_KR = re.compile(rb"\x1b\$\)C")
_UNDECLARED = {
    "",
    "unknown-8bit",
    "x-unknown",
    "unknown",
    "default",
    "x-user-defined",
    "_autodetect_all",
    "_iso-2022-jp$esc",
}


def decode(data: bytes, label: str | None) -> tuple[str, str]:
    """`data` as text, and a warning ('' when none) if it was not what its label said."""
    label = (label or "").strip().strip('"').lower()
    if label in _UNDECLARED:
        return _undeclared(data)
    charset = _codec(label)
    if charset is None:
        return _undeclared(data, label)
    if charset == "utf-8":
        return _utf8(data, label)
    if charset == "ascii" and data.isascii():
        return _undeclared(data)  # also 7-bit ISO-2022-JP labelled as the RFC's default
    try:
        return _decode_as(data, charset), ""
    except UnicodeDecodeError:
        pass
    for neighbour in _NEIGHBOURS.get(charset, ()) + ("utf-8",):
        try:
            text = _decode_as(data, neighbour)
        except UnicodeDecodeError:
            continue
        return text, _mislabelled(label, neighbour)
    return data.decode("cp1252", "replace"), _mislabelled(label, "cp1252")


def _mislabelled(label: str, read_as: str) -> str:
    return f"The text said it was {label[:40]} but was not; it was read as {read_as}."


def _codec(label: str) -> str | None:
    """The codec to read `label` with (its superset where there is one), or None if unknown."""
    label = _ALIASES.get(label, label)
    if label == _CP50220:
        return label
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    return _SUPERSETS.get(name, name)


def _decode_as(data: bytes, charset: str) -> str:
    if charset == _CP50220:
        return _iso2022jp_windows(data)
    return data.decode(charset)


def _undeclared(data: bytes, unknown_label: str = "") -> tuple[str, str]:
    """Text without a usable label: ASCII, 7-bit ISO-2022, UTF-8, or else Windows-1252."""
    if data.isascii():
        if b"\x1b" in data:
            for pattern, charset in ((_ISO2022_JP, _CP50220), (_ISO2022_KR, "iso2022_kr")):
                if pattern.search(data):
                    try:
                        return _decode_as(data, charset), ""
                    except UnicodeDecodeError:
                        continue
        return data.decode("ascii"), ""
    text, warning = _utf8(data, unknown_label)
    if unknown_label and not warning:
        warning = (
            f"The text named an unknown character set ({unknown_label[:40]}); it was read as UTF-8."
        )
    return text, warning


def _utf8(data: bytes, label: str) -> tuple[str, str]:
    """UTF-8; a few bad sequences in otherwise UTF-8 text are replaced (and said so), but text
    with more bad sequences than good multi-byte ones is not UTF-8: it is read as cp1252."""
    try:
        return data.decode("utf-8"), ""
    except UnicodeDecodeError:
        pass
    text = data.decode("utf-8", "replace")
    bad = text.count("\ufffd")
    good = sum(1 for ch in text if ch > "\x7f" and ch != "\ufffd")
    if good >= bad:
        return text, UTF8_REPLACED
    if label:
        return data.decode("cp1252", "replace"), _mislabelled(label, "cp1252")
    return data.decode(
        "cp1252", "replace"
    ), "The text did not name its character set and is not UTF-8; it was read as cp1252."


def _iso2022jp_windows(data: bytes) -> str:
    """ISO-2022-JP as Windows writes it (CP50220 family): JIS X 0208 with the NEC and IBM
    extension rows, and half-width katakana. Each JIS pair is turned into its Shift_JIS bytes
    and read as cp932, which holds exactly those extensions."""
    out = bytearray()
    mode = "ascii"
    i = 0
    while i < len(data):
        byte = data[i]
        if byte == 0x1B:
            sequence = data[i + 1 : i + 3]
            if sequence in (b"$@", b"$B"):
                mode, i = "jis", i + 3
            elif sequence in (b"(B", b"(J"):
                mode, i = "ascii", i + 3
            elif sequence == b"(I":
                mode, i = "kana", i + 3
            else:
                raise UnicodeDecodeError("iso2022_jp", data, i, i + 1, "unsupported escape")
            continue
        if byte in (0x0E, 0x0F):  # SO/SI: half-width katakana in the 7-bit form
            mode, i = ("kana" if byte == 0x0E else "ascii"), i + 1
            continue
        if byte > 0x7F:
            raise UnicodeDecodeError("iso2022_jp", data, i, i + 1, "8-bit byte")
        if mode == "jis" and byte not in (0x0A, 0x0D):
            if i + 1 >= len(data) or not (0x21 <= byte <= 0x7E and 0x21 <= data[i + 1] <= 0x7E):
                raise UnicodeDecodeError("iso2022_jp", data, i, i + 1, "broken JIS pair")
            out += _jis_to_sjis(byte, data[i + 1])
            i += 2
            continue
        out.append(byte + 0x80 if mode == "kana" and 0x21 <= byte <= 0x5F else byte)
        i += 1
    return bytes(out).decode("cp932")


def _jis_to_sjis(first: int, second: int) -> bytes:
    lead = (first + 1) // 2 + (0x70 if first <= 0x5E else 0xB0)
    if first % 2:
        trail = second + (0x1F if second <= 0x5F else 0x20)
    else:
        trail = second + 0x7E
    return bytes((lead, trail))


# RFC 2047 encoded words; RFC 2231 allows a language after the charset (=?utf-8*de?Q?...?=).
# Spaces inside Q text are not allowed but some mailers write them.
_WORD = re.compile(r"=\?([^?*\s]+)(?:\*[^?\s]*)?\?([qQbB])\?([^?\r\n]*?)\?=")
_BETWEEN_WORDS = re.compile(r"[ \t\r\n]*")


def decode_words(value: str) -> str:
    """A header's text with its RFC 2047 encoded words decoded.

    Words next to each other in one charset are joined before decoding, so a character split
    across two words (which the RFC forbids but mailers do) comes out whole. A word that cannot
    be decoded stays as it was written.
    """
    if "=?" not in value:
        return value
    out: list[str] = []
    pending: list[tuple[str, bytes]] = []  # (charset, bytes) of adjacent words
    position = 0
    for found in _WORD.finditer(value):
        between = value[position : found.start()]
        if not (pending and _BETWEEN_WORDS.fullmatch(between)):
            # Whitespace between two encoded words is dropped (RFC 2047, 6.2); other text stays.
            if pending:
                out.append(_flush(pending))
            out.append(between)
        data = _word_bytes(found.group(2), found.group(3))
        charset = found.group(1).lower()
        if data is None:
            if pending:
                out.append(_flush(pending))
            out.append(found.group(0))
        else:
            if pending and pending[-1][0] != charset:
                out.append(_flush(pending))
            pending.append((charset, data))
        position = found.end()
    if pending:
        out.append(_flush(pending))
    out.append(value[position:])
    return "".join(out)


def _flush(pending: list[tuple[str, bytes]]) -> str:
    text, _ = decode(b"".join(data for _, data in pending), pending[0][0])
    pending.clear()
    return text


def _word_bytes(encoding: str, text: str) -> bytes | None:
    try:
        if encoding in "qQ":
            raw = text.replace("_", " ").encode("ascii", "surrogateescape")
            return binascii.a2b_qp(raw)
        cleaned = re.sub(r"[^A-Za-z0-9+/]", "", text)
        return base64.b64decode(cleaned + "=" * (-len(cleaned) % 4))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return None
