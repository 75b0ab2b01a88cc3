"""Byte-string helpers (C ctype rules, escapes, dequoting, printing) used across pexim.

Convention: expansion strings are str holding one char per byte (latin-1),
so lengths, hashes and escapes are byte-exact as in Exim.  ``to_bytestr``
converts text that arrived as real Unicode.
"""

from __future__ import annotations

_OCT = "01234567"
_HEX = "0123456789abcdefABCDEF"
_ESC = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
SPACE = " \t\n\r\v\f"


def to_bytestr(s: str) -> str:
    """Text with characters beyond latin-1 -> its UTF-8 bytes as a byte string."""
    try:
        s.encode("latin-1")
        return s
    except UnicodeEncodeError:
        return s.encode("utf-8").decode("latin-1")


def interpret_escape(s: str, i: int) -> tuple[str, int]:
    """string_interpret_escape(): s[i] is the backslash; returns (char, next index)."""
    i += 1
    if i >= len(s):
        return "\\", i
    ch = s[i]
    if ch in _OCT:
        v = ord(ch) - 48
        for _ in range(2):
            if i + 1 < len(s) and s[i + 1] in _OCT:
                i += 1
                v = v * 8 + ord(s[i]) - 48
        return chr(v & 255), i + 1
    if ch == "x":
        v = 0
        for _ in range(2):
            if i + 1 < len(s) and s[i + 1] in _HEX:
                i += 1
                v = v * 16 + int(s[i], 16)
        return chr(v), i + 1
    return _ESC.get(ch, ch), i + 1


def printing(s: str) -> str:
    """string_printing(): escape non-printing bytes (tab is left alone)."""
    out = []
    for ch in s:
        c = ord(ch)
        if 32 <= c < 127 or ch == "\t":
            out.append(ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\b":
            out.append("\\b")
        elif ch == "\v":
            out.append("\\v")
        elif ch == "\f":
            out.append("\\f")
        else:
            out.append("\\%03o" % c)
    return "".join(out)


def isalnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def isalpha(ch: str) -> bool:
    return ch.isascii() and ch.isalpha()


def isdigit(ch: str) -> bool:
    return "0" <= ch <= "9" and len(ch) == 1


def isgraph(ch: str) -> bool:
    return "!" <= ch <= "~" and len(ch) == 1


def ispunct(ch: str) -> bool:
    return isgraph(ch) and not ch.isalnum()


def iscntrl(ch: str) -> bool:
    return len(ch) == 1 and (ord(ch) < 32 or ord(ch) == 127)


def lower(s: str) -> str:
    """ASCII-only lower-casing, as C tolower() in the C locale."""
    return s.lower() if s.isascii() else "".join(c.lower() if c.isascii() else c for c in s)


def upper(s: str) -> str:
    return s.upper() if s.isascii() else "".join(c.upper() if c.isascii() else c for c in s)


def strcmpic(a: str, b: str) -> int:
    """Case-independent compare returning <0, 0, >0 like strcmpic()."""
    a, b = lower(a), lower(b)
    return (a > b) - (a < b)


def dequote(s: str, i: int) -> tuple[str, int]:
    """string_dequote(): a "quoted" or plain word starting at i."""
    out = []
    n = len(s)
    if i < n and s[i] == '"':
        i += 1
        while i < n and s[i] != '"':
            if s[i] == "\\":
                ch, i = interpret_escape(s, i)
                out.append(ch)
            else:
                out.append(s[i])
                i += 1
        if i < n:
            i += 1
    else:
        while i < n and s[i] not in SPACE:
            out.append(s[i])
            i += 1
    return "".join(out), i
