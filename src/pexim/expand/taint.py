"""Taint tracking: data from outside is a ``Tainted`` str.

A str subclass costs nothing for clean data (the common case) and survives
being passed around; composite results are re-wrapped when any part was
tainted (see ``join``).
"""

from __future__ import annotations


class Tainted(str):
    """A string whose content came from outside (envelope, headers, DNS...)."""

    __slots__ = ()


def is_tainted(s: object) -> bool:
    return isinstance(s, Tainted)


def taint(s: str) -> Tainted:
    return s if isinstance(s, Tainted) else Tainted(s)


def like(src: str, result: str) -> str:
    """``result`` derived from ``src``: tainted if ``src`` was."""
    if isinstance(src, Tainted) and not isinstance(result, Tainted):
        return Tainted(result)
    return result


def join(parts: list[str]) -> str:
    """Concatenate, keeping taint if any part is tainted."""
    out = "".join(parts)
    for p in parts:
        if isinstance(p, Tainted):
            return Tainted(out)
    return out
