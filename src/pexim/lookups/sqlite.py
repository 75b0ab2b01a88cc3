"""sqlite: an SQL query against an SQLite database file (Python's sqlite3).

The file comes from the ``file=`` option (4.96), else a leading absolute
path in the query (deprecated form), else the ``sqlite_dbfile`` main option;
it must be absolute.  Each statement of the query is run in turn, as
sqlite3_exec() does; a row with one column gives its value, a row with
several gives ``name=value `` pairs (values with white space, or empty, are
double-quoted with backslash escapes); rows are joined by newlines and NULL
is ``<NULL>``.  A query that returns no rows fails and is not cached; an SQL
error fails.  Values are text as SQLite renders it (reals as ``%!.15g``).
"""

from __future__ import annotations

import sqlite3

from pexim.bytestr import SPACE

from ..expand.errors import ExpansionError
from . import NoCache, register, taint_check

_CONNS: dict[str, sqlite3.Connection] = {}


def _lock_timeout(ctx) -> float:
    v = ctx.main_option("sqlite_lock_timeout", 5)
    if isinstance(v, str):
        from ..config.timeval import read_time
        try:
            return float(read_time(v))
        except Exception:  # noqa: BLE001 - validated when the config was read
            return 5.0
    return float(v)


def _connect(ctx, path: str) -> sqlite3.Connection:
    conn = _CONNS.get(path)
    if conn is None:
        try:
            conn = sqlite3.connect(path, timeout=_lock_timeout(ctx), isolation_level=None,
                                   check_same_thread=False)
        except sqlite3.Error as e:
            raise ExpansionError(str(e)) from None
        conn.text_factory = bytes
        _CONNS[path] = conn
    return conn


def real_text(x: float) -> str:
    """SQLite's REAL-to-text conversion, printf("%!.15g")."""
    if x != x:
        return ""
    if x in (float("inf"), float("-inf")):
        return "Inf" if x > 0 else "-Inf"
    s = "%.15g" % x
    if "e" in s:
        mant, exp = s.split("e")
        if "." not in mant:
            mant += ".0"
        return mant + "e" + exp
    if "." not in s:
        s += ".0"
    return s


def _text(v) -> str:
    if v is None:
        return "<NULL>"
    if isinstance(v, bytes):
        return v.split(b"\0", 1)[0].decode("latin-1")
    if isinstance(v, float):
        return real_text(v)
    return str(v)


def lf_quote(name: str, value: str) -> str:
    """lf_quote(): ``name=value `` with the value quoted when empty or spaced."""
    if value == "" or any(c in value for c in " \t\n\r"):
        value = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return name + "=" + value + " "


def _statements(query: str):
    """Split like sqlite3_exec(): complete statements, one at a time."""
    rest = query
    while rest.strip(SPACE):
        cut = -1
        start = 0
        while True:
            j = rest.find(";", start)
            if j < 0:
                break
            if sqlite3.complete_statement(rest[:j + 1]):
                cut = j + 1
                break
            start = j + 1
        if cut < 0:
            yield rest
            return
        yield rest[:cut]
        rest = rest[cut:]


def split_file(ctx, query: str, opts: str | None) -> tuple[str | None, str]:
    """search_args() for sqlite: (file name or None, query)."""
    from ..lists import iter_list
    q = query.lstrip(SPACE)
    if opts:
        for o in iter_list(opts, ","):
            if o.startswith("file="):
                return o[5:], q
    if q.startswith("/"):
        i = 0
        while i < len(q) and q[i] not in SPACE:
            i += 1
        return q[:i], q[i:].lstrip(SPACE)
    return None, q


class SQLite:
    name = "sqlite"
    query_style = True

    def find(self, ctx, filename, query, opts):
        path, query = split_file(ctx, query, opts)
        if not path:
            path = ctx.main_option("sqlite_dbfile")
        else:
            taint_check(path)
        if not path or not path.startswith("/"):
            raise ExpansionError('absolute file name expected for "sqlite" lookup')
        if not query:
            return None
        conn = _connect(ctx, path)
        rows: list[str] = []
        try:
            for stmt in _statements(query.encode("latin-1").decode("utf-8", "surrogateescape")):
                cur = conn.execute(stmt)
                names = None
                for row in cur:
                    if len(row) > 1:
                        if names is None:
                            names = [d[0].encode("utf-8", "surrogateescape").decode("latin-1")
                                     for d in cur.description]
                        rows.append("".join(lf_quote(n, _text(v)) for n, v in zip(names, row, strict=True)))
                    else:
                        rows.append(_text(row[0]))
        except (sqlite3.Error, UnicodeError, ValueError):
            return None
        if not rows:
            return NoCache(None)
        return "\n".join(rows)

    def quote(self, s, opt):
        if opt:
            return None
        return s.replace("'", "''")


register(SQLite())
