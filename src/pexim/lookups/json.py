"""json: an element of a JSON file, selected by a list of keys.

Each list item selects from the element found so far: all digits index an
array (zero-based), anything else names an object member.  Strings are
returned de-quoted, integers in decimal, reals as ``%f``, true/false as
words; a null fails; objects and arrays come back as JSON text written the
way Jansson (Exim's library) writes it: ``{"a": 1, "b": [1, 2]}``, reals
with 17 significant digits, control characters as ``\\uXXXX``.  A file that
is not a JSON object or array (Jansson's default) makes every lookup fail.
"""

from __future__ import annotations

import json as _json
import os

from ..expand.errors import ExpansionError
from ..lists import iter_list
from . import register
from ._files import cached

_BAD = object()
_ESC = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r",
        "\t": "\\t"}
_INT_MIN, _INT_MAX = -(1 << 63), (1 << 63) - 1


def _reject_constant(name):
    raise ValueError("invalid token %s" % name)


def _check_ints(v):
    if isinstance(v, bool):
        return
    if isinstance(v, int):
        if not _INT_MIN <= v <= _INT_MAX:
            raise ValueError("too big integer")
    elif isinstance(v, list):
        for x in v:
            _check_ints(x)
    elif isinstance(v, dict):
        for x in v.values():
            _check_ints(x)


def _load(path: str, fd: int, st: os.stat_result):
    try:
        data = os.read(fd, st.st_size + 1)
        while True:
            more = os.read(fd, 65536)
            if not more:
                break
            data += more
        text = data.decode("utf-8")
        if "\0" in text:
            return _BAD
        doc = _json.loads(text, parse_constant=_reject_constant)
        if not isinstance(doc, (dict, list)):
            return _BAD
        _check_ints(doc)
        return doc
    except (ValueError, RecursionError, OSError):
        return _BAD


def real_dump(x: float) -> str:
    """Jansson's jsonp_dtostr() with its default precision (17)."""
    s = "%.17g" % x
    if "." not in s and "e" not in s:
        s += ".0"
    if "e" in s:
        mant, exp = s.split("e")
        sign = "-" if exp.startswith("-") else ""
        exp = exp.lstrip("+-").lstrip("0") or "0"
        s = mant + "e" + sign + exp
    return s


def _dump_str(s: str) -> str:
    out = ['"']
    for c in s:
        e = _ESC.get(c)
        if e is not None:
            out.append(e)
        elif c < " ":
            out.append("\\u%04X" % ord(c))
        else:
            out.append(c)
    out.append('"')
    return "".join(out)


def dumps(v) -> str:
    """json_dumps(j, 0)."""
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return real_dump(v)
    if isinstance(v, str):
        return _dump_str(v)
    if isinstance(v, list):
        return "[" + ", ".join(dumps(x) for x in v) + "]"
    return "{" + ", ".join(_dump_str(k) + ": " + dumps(x) for k, x in v.items()) + "}"


def _bytes_str(s: str) -> str:
    """A Python (Unicode) string as pexim's latin-1 byte string of its UTF-8."""
    return s.encode("utf-8", "surrogatepass").decode("latin-1")


def select(doc, key: str):
    """The element the key list selects, or _BAD."""
    j = doc
    for sel in iter_list(key):
        if all("0" <= c <= "9" for c in sel):
            if not isinstance(j, list):
                return _BAD
            idx = int(sel) if sel else 0
            if idx >= len(j):
                return _BAD
            j = j[idx]
        else:
            if not isinstance(j, dict):
                return _BAD
            name = sel.encode("latin-1").decode("utf-8", "surrogateescape")
            if name not in j:
                return _BAD
            j = j[name]
    return j


class Json:
    name = "json"
    query_style = False

    def _doc(self, filename):
        try:
            return cached("json", filename, _load)
        except OSError as e:
            raise ExpansionError("failed to open %s for json search: %s"
                                 % (filename, e.strerror)) from None

    def open_check(self, ctx, filename):
        self._doc(filename)

    def find(self, ctx, filename, key, opts):
        doc = self._doc(filename)
        if doc is _BAD:
            return None
        j = select(doc, key)
        if j is _BAD or j is None:
            return None
        if j is True:
            return "true"
        if j is False:
            return "false"
        if isinstance(j, int):
            return str(j)
        if isinstance(j, float):
            return "%f" % j
        if isinstance(j, str):
            return _bytes_str(j).split("\0", 1)[0]
        return _bytes_str(dumps(j))


register(Json())
