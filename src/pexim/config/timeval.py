"""Exim time values (`1d6h30m`): reading and printing, shared by every section."""

from __future__ import annotations

_UNITS = {"w": 7 * 24 * 3600, "d": 24 * 3600, "h": 3600, "m": 60, "s": 1}


def read_time(s: str, terminator: str = "") -> int:
    """Seconds for `s`, or -1 if it is not a valid time (readconf_readtime).

    `terminator` is the character that must follow the value ("" = end of string).
    """
    total, i, n = 0, 0, len(s)
    while True:
        if i >= n or not s[i].isdigit():
            return -1
        j = i
        while j < n and s[j].isdigit():
            j += 1
        value = int(s[i:j])
        unit = s[j] if j < n else ""
        if unit not in _UNITS:
            return -1
        total += value * _UNITS[unit]
        i = j + 1
        nxt = s[i] if i < n else ""
        if nxt == terminator:
            return total


def print_time(t: int) -> str:
    """Exim's readconf_printtime: `1w2d`, `30s`, `0s`; negative values get a `-`."""
    if t < 0:
        return "-" + print_time(-t)
    if t == 0:
        return "0s"
    out = []
    for unit, size in _UNITS.items():
        if t >= size:
            out.append(f"{t // size}{unit}")
            t %= size
    return "".join(out)
