"""lsearch, wildlsearch, nwildlsearch and iplsearch: linear file searches.

Files are parsed once into (key, line-rest, data) records and re-read only
when their mtime/size change, so repeated lookups cost a scan of a list.
"""

from __future__ import annotations

import os

from pexim.bytestr import SPACE, interpret_escape, lower

from ..expand.errors import ExpansionError, LookupDefer
from . import register

_CACHE: dict[str, tuple[tuple[int, int, int], list]] = {}


def _records(path: str) -> list[tuple[str, str, str]]:
    """(key, text after the key, data) for each keyed line, continuations joined."""
    try:
        st = os.stat(path)
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        cached = _CACHE.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        with open(path, "rb") as f:
            text = f.read().decode("latin-1")
    except OSError as e:
        raise ExpansionError("failed to open %s for linear search: %s"
                             % (path, e.strerror)) from None
    recs: list[list[str]] = []
    cur = None
    for line in text.split("\n"):
        if not line or line[0] == "#":
            continue
        if line[0] in SPACE:
            if cur is not None:
                s = line.strip(SPACE)
                if s:
                    cur[1] += " " + s
                    cur[2] += " " + s
            continue
        if line[0] == '"':
            out = []
            i = 1
            n = len(line)
            while i < n and line[i] != '"':
                if line[i] == "\\":
                    ch, i = interpret_escape(line, i)
                    out.append(ch)
                else:
                    out.append(line[i])
                    i += 1
            if i < n:
                i += 1
            key = "".join(out)
        else:
            i = 0
            n = len(line)
            while i < n and line[i] != ":" and line[i] not in SPACE:
                i += 1
            key = line[:i]
        rest = line[i:].rstrip(SPACE)
        j = i
        while j < n and line[j] in SPACE:
            j += 1
        if j < n and line[j] == ":":
            j += 1
            while j < n and line[j] in SPACE:
                j += 1
        cur = [key, rest, line[j:].rstrip(SPACE)]
        recs.append(cur)
    result = [tuple(r) for r in recs]
    _CACHE[path] = (stamp, result)
    return result


def _ret(key: str, rest: str, data: str, opts: str | None) -> str:
    if opts:
        for o in opts.split(","):
            if o == "ret=full":
                return key + rest
            if o == "ret=key":
                return key
    return data


class LSearch:
    name = "lsearch"
    query_style = False

    def find(self, ctx, filename, key, opts):
        lkey = lower(key)
        n = len(key)
        for k, rest, data in _records(filename):
            if len(k) == n and lower(k) == lkey:
                return _ret(k, rest, data, opts)
        return None


class WildLSearch:
    name = "wildlsearch"
    query_style = False
    expand = True

    def find(self, ctx, filename, key, opts):
        from ..lists import ListDefer, match_string_item
        for k, rest, data in _records(filename):
            try:
                ok = match_string_item(ctx, key, k, expand=self.expand)
            except ListDefer as e:
                raise LookupDefer(e.message) from None
            if ok:
                return _ret(k, rest, data, opts)
        return None


class NWildLSearch(WildLSearch):
    name = "nwildlsearch"
    expand = False


class IPLSearch:
    name = "iplsearch"
    query_style = False

    def find(self, ctx, filename, key, opts):
        from ..expand.ip import is_ip_address
        from ..lists import host_in_net
        if key != "*":
            version, maskoff = is_ip_address(key)
            if version == 0 or maskoff:
                raise LookupDefer(
                    '"%s" is not a valid iplsearch key (an IP address, with optional CIDR '
                    "mask, is wanted): in a host list, use net-iplsearch as the search type"
                    % key)
        for k, rest, data in _records(filename):
            if k == "*":
                if key != "*":
                    continue
            elif key == "*":
                continue
            else:
                version, maskoff = is_ip_address(k)
                if version == 0 or not host_in_net(key, k):
                    continue
            return _ret(k, rest, data, opts)
        return None


for _impl in (LSearch(), WildLSearch(), NWildLSearch(), IPLSearch()):
    register(_impl)
