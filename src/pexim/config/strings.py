"""Quoted strings in the configuration: Exim's string_dequote and escapes."""

from __future__ import annotations

_SIMPLE_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
_OCTAL = "01234567"
_HEX = "0123456789abcdefABCDEF"


def interpret_escape(s: str, i: int) -> tuple[str, int]:
    """Decode the escape whose backslash is at s[i]; return (char, index after it)."""
    i += 1
    if i >= len(s):
        return "\\", i
    c = s[i]
    if c in _OCTAL:
        j = i
        while j < len(s) and j < i + 3 and s[j] in _OCTAL:
            j += 1
        return chr(int(s[i:j], 8) & 0xFF), j
    if c == "x" and i + 1 < len(s) and s[i + 1] in _HEX:
        j = i + 1
        while j < len(s) and j < i + 3 and s[j] in _HEX:
            j += 1
        return chr(int(s[i + 1:j], 16)), j
    return _SIMPLE_ESCAPES.get(c, c), i + 1


def dequote(s: str, i: int = 0) -> tuple[str, int]:
    """Read a quoted string (with escapes) or a white-space terminated word at s[i].

    Returns the text and the index just after it (after the closing quote).
    """
    n = len(s)
    if i < n and s[i] == '"':
        i += 1
        out = []
        while i < n and s[i] != '"':
            if s[i] == "\\":
                ch, i = interpret_escape(s, i)
                out.append(ch)
            else:
                out.append(s[i])
                i += 1
        if i < n:
            i += 1
        return "".join(out), i
    j = i
    while j < n and s[j] not in " \t\n\r\f\v":
        j += 1
    return s[i:j], j
