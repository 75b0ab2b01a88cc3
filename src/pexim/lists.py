"""Exim lists: splitting (string_nextinlist) and matching domain, local-part,
address and host lists, including named lists (``+name``), negation,
lookups (``lsearch;/file``), regexes and wildcards.
"""

from __future__ import annotations

from typing import Iterator

from .expand.strings import SPACE, iscntrl, ispunct


def list_separator(s: str, sep: str | None = None) -> tuple[str, int]:
    """The separator in force for list ``s`` and where the items start."""
    i = 0
    n = len(s)
    if sep is None:
        while i < n and s[i] in SPACE:
            i += 1
        if i + 1 < n and s[i] == "<" and (ispunct(s[i + 1]) or iscntrl(s[i + 1])):
            sep = s[i + 1]
            i += 2
            while i < n and s[i] in SPACE and s[i] != sep:
                i += 1
        else:
            sep = ":"
    return sep, i


def iter_list(s: str | None, sep: str | None = None, start: int | None = None) -> Iterator[str]:
    """Yield the items of list ``s`` exactly as string_nextinlist() does."""
    if not s:
        return
    if start is None:
        sep, i = list_separator(s, sep)
    else:
        i = start
    n = len(s)
    special = iscntrl(sep)
    while True:
        while i < n and s[i] in SPACE and s[i] != sep:
            i += 1
        if i >= n:
            return
        if s[i] == sep:
            i += 1
            if i >= n or s[i] != sep or special:
                yield ""
                continue
        parts = []
        while True:
            j = s.find(sep, i + 1)
            if j < 0:
                parts.append(s[i:])
                i = n
                break
            parts.append(s[i:j])
            i = j + 1
            if i >= n or s[i] != sep or special:
                break
        item = "".join(parts)
        yield item.rstrip(SPACE)


def split_list(s: str | None, sep: str | None = None) -> list[str]:
    return list(iter_list(s, sep))


def list_sep_of(s: str) -> str:
    return list_separator(s)[0]
