"""RFC 2047 encoded words: ${rfc2047:}, ${rfc2047d:} and header decoding.

Strings are byte strings held in str (one char per byte, latin-1).
"""

from __future__ import annotations

import base64
import binascii
import re

_SPECIALS = set('?=()<>@,;:\\".[]_')
_WORD = re.compile(r"=\?([^?\s]+)\?([QqBb])\?([^?]*?)\?=")
_WS_ONLY = re.compile(r"[ \t\r\n]*\Z")


def encode(s: str, charset: str | None, fold: bool = False) -> str:
    """Exim's parse_quote_2047(): Q-encode if anything needs it."""
    head = "=?%s?Q?" % (charset or "iso-8859-1")
    out = [head]
    size = len(head)
    line_off = size
    coded = False
    first_byte = False
    for ch in s:
        if size - line_off > 67 and not first_byte:
            sep = "?=\n " if fold else "?= "
            out.append(sep)
            size += len(sep)
            line_off = size
            out.append(head)
            size += len(head)
        c = ord(ch)
        if c < 33 or c > 126 or ch in _SPECIALS:
            if ch == " ":
                out.append("_")
                size += 1
                first_byte = False
            else:
                out.append("=%02X" % c)
                size += 3
                coded = True
                first_byte = not first_byte if c >= 0x80 else False
        else:
            out.append(ch)
            size += 1
            first_byte = False
    if not coded:
        return s
    out.append("?=")
    return "".join(out)


def _convert(raw: bytes, charset: str, target: str | None) -> str:
    if target is None or target.lower() == charset.lower():
        return raw.decode("latin-1")
    try:
        text = raw.decode(charset)
    except (LookupError, UnicodeDecodeError):
        return raw.decode("latin-1")
    try:
        return text.encode(target).decode("latin-1")
    except (LookupError, UnicodeEncodeError):
        return raw.decode("latin-1")


def _decode_word(m: re.Match, target: str | None) -> str | None:
    charset, enc, text = m.group(1), m.group(2).upper(), m.group(3)
    charset = charset.split("*", 1)[0]
    if enc == "Q":
        raw = bytearray()
        i = 0
        b = text.encode("latin-1")
        while i < len(b):
            c = b[i]
            if c == 0x5F:
                raw.append(0x20)
            elif c == 0x3D and i + 2 < len(b) + 0 and re.match(rb"[0-9A-Fa-f]{2}", b[i + 1:i + 3]):
                raw.append(int(b[i + 1:i + 3], 16))
                i += 2
            else:
                raw.append(c)
            i += 1
        data = bytes(raw)
    else:
        try:
            data = base64.b64decode(text.encode("latin-1") + b"===")
        except (binascii.Error, ValueError):
            return None
    return _convert(data, charset, target)


def decode(s: str, target: str | None, zeroval: str = "?") -> str:
    """Exim's rfc2047_decode(): decode words, dropping white space between them."""
    if "=?" not in s:
        return s
    out: list[str] = []
    pos = 0
    prev_word = False
    for m in _WORD.finditer(s):
        if len(m.group(0)) > 75:
            continue
        gap = s[pos:m.start()]
        decoded = _decode_word(m, target)
        if decoded is None:
            continue
        if not (prev_word and _WS_ONLY.match(gap)):
            out.append(gap)
        out.append(decoded.replace("\0", zeroval))
        pos = m.end()
        prev_word = True
    out.append(s[pos:])
    return "".join(out)


def decode_header(s: str, charset: str | None) -> str:
    return decode(s, charset)
