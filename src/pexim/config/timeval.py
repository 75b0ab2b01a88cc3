"""Exim time values (`1d6h30m`): reading and printing, one implementation for all.

A leaf module (no pexim imports) so the configuration reader, the option
tables and the expansion language can all use it.
"""

from __future__ import annotations

_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}


def _wrap32(n: int) -> int:
    """C int arithmetic: Exim computes times in a signed 32-bit int."""
    n &= 0xFFFFFFFF
    return n - 2**32 if n & 0x80000000 else n


def read_time(s: str, terminator: str = "") -> int:
    """Seconds for `s`, or -1 if it is not a valid time (readconf_readtime).

    `terminator` is the character that must follow the value ("" = end of
    string). A bare number is not a time: every number needs a unit.
    """
    total, i, n = 0, 0, len(s)
    while True:
        j = i
        while j < n and "0" <= s[j] <= "9":
            j += 1
        if j == i:
            return -1
        unit = s[j:j + 1]
        if unit not in _UNITS or not unit:
            return -1
        total = _wrap32(total + _wrap32(_wrap32(int(s[i:j])) * _UNITS[unit]))
        i = j + 1
        if s[i:i + 1] == terminator:
            return total


def print_time(t: int) -> str:
    """Exim's readconf_printtime: `1w2d`, `30s`, `0s`; negative values get a `-`."""
    sign = "-" if t < 0 else ""
    t = abs(t)
    parts = []
    for unit, size in _UNITS.items():
        count, t = divmod(t, size)
        if count:
            parts.append(f"{count}{unit}")
    return sign + ("".join(parts) or "0s")
