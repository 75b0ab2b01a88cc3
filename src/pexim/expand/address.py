"""RFC 2822 address extraction (Exim's parse_extract_address and
parse_find_address_end) for ${address}, ${domain}, ${local_part} and
${addresses}."""

from __future__ import annotations

import re
from functools import lru_cache

_SPECIALS = '()<>@,;:\\".[]'
_SPACE = " \t\n\r"


def _skip_comment(s: str, i: int) -> int:
    """s[i] opens an RFC 822 comment; the index after its (nested) close."""
    n, depth = len(s), 1
    i += 1
    while i < n and depth:
        if s[i] == "\\":
            i += 1
        elif s[i] == "(":
            depth += 1
        elif s[i] == ")":
            depth -= 1
        i += 1
    return i


def _skip_ws(s: str, i: int) -> int:
    """Skip white space and (nested) comments."""
    n = len(s)
    while i < n:
        c = s[i]
        if c in _SPACE:
            i += 1
        elif c == "(":
            i = _skip_comment(s, i)
        else:
            break
    return i


_ATOM = re.compile(r'[^()<>@,;:\\".\[\] \t\n\r\x00-\x1f]*')


def _atom(s: str, i: int) -> tuple[str, int]:
    j = _ATOM.match(s, i).end()
    return s[i:j], j


def _quoted(s: str, i: int) -> tuple[str | None, int]:
    """A quoted string starting at s[i] == '"', kept with its quotes."""
    out = ['"']
    i += 1
    n = len(s)
    while i < n and s[i] != '"':
        if s[i] == "\\" and i + 1 < n:
            out.append(s[i:i + 2])
            i += 2
        else:
            out.append(s[i])
            i += 1
    if i >= n:
        return None, i
    out.append('"')
    return "".join(out), i + 1


def _local_part(s: str, i: int) -> tuple[str | None, int]:
    parts = []
    while True:
        i = _skip_ws(s, i)
        if i < len(s) and s[i] == '"':
            word, i = _quoted(s, i)
            if word is None:
                return None, i
        else:
            word, i = _atom(s, i)
            if not word:
                return None, i
        parts.append(word)
        i = _skip_ws(s, i)
        if i < len(s) and s[i] == ".":
            parts.append(".")
            i += 1
            continue
        return "".join(parts), i


def _domain(s: str, i: int) -> tuple[str | None, int]:
    i = _skip_ws(s, i)
    if i < len(s) and s[i] == "[":
        j = s.find("]", i)
        if j < 0:
            return None, i
        return s[i:j + 1], _skip_ws(s, j + 1)
    parts = []
    while True:
        i = _skip_ws(s, i)
        word, i = _atom(s, i)
        if not word:
            return None, i
        parts.append(word)
        i = _skip_ws(s, i)
        if i < len(s) and s[i] == ".":
            parts.append(".")
            i += 1
            continue
        return "".join(parts), i


def _addr_spec(s: str, i: int) -> tuple[str | None, int, int]:
    """local-part[@domain]; returns (address, domain offset or 0, end)."""
    local, i = _local_part(s, i)
    if local is None:
        return None, 0, i
    if i < len(s) and s[i] == "@":
        dom, i = _domain(s, i + 1)
        if dom is None:
            return None, 0, i
        return local + "@" + dom, len(local) + 1, i
    return local, 0, i


@lru_cache(maxsize=4096)
def extract_address(s: str, allow_group: bool = False) -> tuple[str | None, str, int]:
    """(address or None, error, domain offset) for one address with optional
    phrase and <route-addr>, like parse_extract_address().  Results are plain
    str (callers re-apply taint), so they are cached."""
    return _extract_address(str(s), allow_group)


def _extract_address(s: str, allow_group: bool) -> tuple[str | None, str, int]:
    n = len(s)
    i = _skip_ws(s, 0)
    if i >= n:
        return None, "empty address", 0
    lt = _find_angle(s, i)
    if lt >= 0:
        if not _is_phrase(s[i:lt]):
            return None, "malformed address", 0
        j = lt + 1
        j = _skip_ws(s, j)
        if j < n and s[j] == "@":         # source route: skip to ':'
            k = s.find(":", j)
            if k < 0:
                return None, "malformed address", 0
            j = k + 1
        if j < n and s[j] == ">":
            addr, dom, j = "", 0, j
        else:
            addr, dom, j = _addr_spec(s, j)
            if addr is None:
                return None, "malformed address", 0
        j = _skip_ws(s, j)
        if j >= n or s[j] != ">":
            return None, "missing > in address", 0
        j = _skip_ws(s, j + 1)
        if j < n:
            return None, "malformed address: %s may not follow %s" % (s[j:], s[:j]), 0
        return addr, "", dom
    addr, dom, j = _addr_spec(s, i)
    if addr is None:
        return None, "malformed address", 0
    j = _skip_ws(s, j)
    if j < n:
        return None, "malformed address: %s may not follow %s" % (s[j:], s[:j]), 0
    return addr, "", dom


def _is_phrase(s: str) -> bool:
    """Words, quoted strings, comments and dots only (no other specials)."""
    i = 0
    n = len(s)
    while i < n:
        i = _skip_ws(s, i)
        if i >= n:
            break
        if s[i] == '"':
            word, i = _quoted(s, i)
            if word is None:
                return False
        elif s[i] == ".":
            i += 1
        else:
            word, i = _atom(s, i)
            if not word:
                return False
    return True


def _find_angle(s: str, i: int) -> int:
    """Index of a '<' outside quotes and comments, or -1."""
    n = len(s)
    while i < n:
        c = s[i]
        if c == '"':
            _, i = _quoted(s, i)
            continue
        if c == "(":
            i = _skip_ws(s, i)
            continue
        if c == "\\":
            i += 2
            continue
        if c == "<":
            return i
        i += 1
    return -1


def find_address_end(s: str, i: int, allow_group: bool) -> int:
    """parse_find_address_end(): index of the ',' (or ';' in a group) ending
    the address starting at i, or len(s)."""
    n = len(s)
    while i < n:
        c = s[i]
        if c == "," or (allow_group and c == ";"):
            return i
        if c == '"':
            _, i = _quoted(s, i)
            continue
        if c == "(":
            i = _skip_comment(s, i)
            continue
        if c == "<":
            j = s.find(">", i)
            i = n if j < 0 else j + 1
            continue
        if c == "\\":
            i += 2
            continue
        i += 1
    return n


def split_addresses(s: str) -> list[str]:
    """The addresses of a header-style list, groups flattened (empty skipped)."""
    out = []
    i = 0
    n = len(s)
    while True:
        j = find_address_end(s, i, True)
        piece = s[i:j]
        colon = _group_colon(piece)
        if colon >= 0:
            piece = piece[colon + 1:]
        out.append(piece)
        if j >= n:
            break
        i = j + 1
    return out


def _group_colon(piece: str) -> int:
    """Position of a group-introducing ':' (a phrase then ':'), or -1."""
    i = _skip_ws(piece, 0)
    while i < len(piece):
        c = piece[i]
        if c == ":":
            return i
        if c == '"':
            _, i = _quoted(piece, i)
            continue
        if c in "<@,;>[]":
            return -1
        i += 1
    return -1
