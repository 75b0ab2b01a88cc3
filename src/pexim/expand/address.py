"""Address lists for ${address}, ${domain}, ${local_part} and ${addresses}:
parse_find_address_end() here, parse_extract_address() from
pexim.message.address."""

from __future__ import annotations

from functools import lru_cache

from pexim.message.address import GroupState, parse_extract_address

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


@lru_cache(maxsize=4096)
def extract_address(s: str, allow_group: bool = False) -> tuple[str | None, str, int]:
    """(address or None, error, domain offset): Exim's parse_extract_address()
    (pexim.message.address) with null addresses refused.  Results are plain
    str (callers re-apply taint), so they are cached."""
    addr, err, _start, _end, dom = parse_extract_address(
        str(s), False, group=GroupState(allow=allow_group))
    return addr, err, dom


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
