"""Envelope addresses from MAIL/RCPT/VRFY with parse_extract_address()'s
error texts (the tokenising helpers are the expansion engine's)."""

from __future__ import annotations

from pexim.expand.address import _domain, _find_angle, _local_part, _skip_ws


def _addr_spec(s: str, i: int):
    """(address, domain offset, end, error)."""
    local, j = _local_part(s, i)
    if not local and local != "" or local == "" and (j >= len(s) or s[j] != '"'):
        if local is None or local == "":
            return None, 0, j, "missing or malformed local part"
    if j < len(s) and s[j] == "@":
        dom, k = _domain(s, j + 1)
        if not dom:
            return None, 0, k, "domain missing or malformed"
        return local + "@" + dom, len(local) + 1, k, None
    return local, 0, j, None


def parse_envelope_address(s: str, allow_null: bool):
    """(address or None, error text, domain offset; 0 when unqualified)."""
    n = len(s)
    i = _skip_ws(s, 0)
    if i >= n:
        return None, "empty address", 0
    lt = _find_angle(s, i)
    if lt >= 0:
        j = _skip_ws(s, lt + 1)
        if j < n and s[j] == "@":
            k = s.find(":", j)
            if k < 0:
                return None, "domain missing in source-routed address", 0
            j = _skip_ws(s, k + 1)
        if j < n and s[j] == ">" and allow_null:
            addr, dom, j = "", 0, j
        else:
            addr, dom, j, err = _addr_spec(s, j)
            if addr is None:
                return None, err, 0
        j = _skip_ws(s, j)
        if j >= n or s[j] != ">":
            return None, "'>' missing at end of address", 0
        end = j + 1
        j = _skip_ws(s, end)
        if j < n:
            return None, "malformed address: %s may not follow %s" % (s[j:], s[:end]), 0
        return addr, "", dom
    addr, dom, j, err = _addr_spec(s, i)
    if addr is None:
        return None, err, 0
    k = _skip_ws(s, j)
    if k < n:
        return None, "malformed address: %s may not follow %s" % (s[k:], s[:j]), 0
    return addr, "", dom
