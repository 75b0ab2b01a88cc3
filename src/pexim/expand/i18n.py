"""Character-set operators: from_utf8, utf8clean, IDNA A-labels and
IMAP modified UTF-7 folder names."""

from __future__ import annotations

import unicodedata

from .errors import ExpansionError


def from_utf8(s: str) -> str:
    """UTF-8 to ISO-8859-1, characters beyond 255 become '_' (Exim's GETUTF8INC)."""
    b = s.encode("latin-1")
    out = []
    i = 0
    n = len(b)
    table1 = [1] * 32 + [2] * 16 + [3] * 8 + [4] * 4 + [5] * 4
    mask = [0xFF, 0x1F, 0x0F, 0x07, 0x03, 0x01]
    while i < n:
        c = b[i]
        i += 1
        if (c & 0xC0) == 0xC0:
            a = table1[c & 0x3F]
            shift = 6 * a
            c = (c & mask[a]) << shift
            while a > 0:
                shift -= 6
                c |= ((b[i] if i < n else 0) & 0x3F) << shift
                i += 1
                a -= 1
        out.append(chr(c) if c <= 255 else "_")
    return "".join(out)


def utf8clean(s: str) -> str:
    """Replace invalid UTF-8 sequences by '?', byte by byte as Exim does."""
    b = s.encode("latin-1")
    out = bytearray()
    seq = bytearray()
    left = 0
    cp = 0
    for c in b:
        bad = 0
        if left:
            if (c & 0xC0) != 0x80:
                bad = 1
            else:
                cp = (cp << 6) | (c & 0x3F)
                seq.append(c)
                left -= 1
                if left == 0:
                    if cp > 0x10FFFF:
                        bad = -1
                    else:
                        out += seq
                        seq = bytearray()
        else:
            if not c & 0x80:
                out.append(c)
                continue
            if (c & 0xE0) == 0xC0:
                if c in (0xC0, 0xC1):
                    bad = -1
                else:
                    left, cp = 1, c & 0x1F
            elif (c & 0xF0) == 0xE0:
                left, cp = 2, c & 0x0F
            elif (c & 0xF8) == 0xF0:
                left, cp = 3, c & 0x07
            else:
                bad = -1
            seq = bytearray([c])
        if bad:
            left = 0
            seq = bytearray()
            out += b"?"
            if bad == 1 and not c & 0x80:
                out.append(c)
    if left:
        out += b"?"
    return out.decode("latin-1")


def _u(s: str) -> str:
    try:
        return s.encode("latin-1").decode("utf-8")
    except UnicodeDecodeError as e:
        raise ExpansionError(str(e)) from None


def _b(s: str) -> str:
    return s.encode("utf-8").decode("latin-1")


def _label_to_alabel(label: str) -> str:
    if label.isascii():
        return label
    label = unicodedata.normalize("NFC", label.lower())
    return "xn--" + label.encode("punycode").decode("ascii")


def _label_from_alabel(label: str) -> str:
    if label[:4].lower() == "xn--":
        try:
            return label[4:].encode("ascii").decode("punycode")
        except (UnicodeError, ValueError) as e:
            raise ExpansionError(str(e)) from None
    return label


def domain_to_alabel(s: str) -> str:
    return _b(".".join(_label_to_alabel(x) for x in _u(s).split(".")))


def domain_from_alabel(s: str) -> str:
    return _b(".".join(_label_from_alabel(x) for x in _u(s).split(".")))


def localpart_to_alabel(s: str) -> str:
    u = _u(s)
    if u.isascii():
        return s
    return "xn--" + u.encode("punycode").decode("ascii")


def localpart_from_alabel(s: str) -> str:
    if s[:4].lower() != "xn--":
        return s
    return _b(_label_from_alabel(s))


_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,"


def _mod_b64(chars: list[str]) -> str:
    data = "".join(chars).encode("utf-16-be")
    out = []
    bits = 0
    nbits = 0
    for byte in data:
        bits = (bits << 8) | byte
        nbits += 8
        while nbits >= 6:
            nbits -= 6
            out.append(_B64[(bits >> nbits) & 63])
    if nbits:
        out.append(_B64[(bits << (6 - nbits)) & 63])
    return "&" + "".join(out) + "-"


def imap_utf7_encode(s: str, charset: str, sep: str, specials: str | None) -> str:
    """${imapfolder}: the folder name in IMAP modified UTF-7, '.' as separator."""
    specials = specials or ""
    try:
        text = s.encode("latin-1").decode(charset)
    except LookupError:
        raise ExpansionError("imapfolder: iconv_open(\"UTF-16BE\", \"%s\") failed"
                             % charset) from None
    except UnicodeDecodeError:
        raise ExpansionError("imapfolder: iconv() failed to convert from %s: Invalid or "
                             "incomplete multibyte or wide character" % charset) from None
    out = []
    pending: list[str] = []
    for k, ch in enumerate(text):
        if k == 0 and ch == sep:
            continue
        o = ord(ch)
        if ch == sep:
            plain = "."
        elif ch in "./" and ch not in specials:
            raise ExpansionError("imapfolder: illegal character '%s'" % ch)
        elif ch == "&":
            plain = "&-"
        elif 0x20 <= o < 0x7F and ch not in "./" and ch not in specials:
            plain = ch
        else:
            pending.append(ch)
            continue
        if pending:
            out.append(_mod_b64(pending))
            pending = []
        out.append(plain)
    if pending:
        out.append(_mod_b64(pending))
    return "".join(out)
