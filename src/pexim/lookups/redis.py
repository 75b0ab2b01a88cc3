"""redis: a Redis command, sent to the servers of ``redis_servers`` (or of the
``servers=`` option) in turn until one answers (redis-py connections).

A server is ``host/db/password`` (db and password may be empty; the host may
be ``host:port`` or ``(unix socket)``).  The command is split at white space,
a backslash protecting the next character (``${quote_redis:}`` adds them).
Replies: a string or status as is; an integer as ``true``/``false``; nil as an
empty string (not cached); an array as its elements, one per line (integers
as numbers, one level of nested arrays); an empty array fails; an error
defers (not cached), a ``MOVED`` error or a connection failure moves on to the
next server.
"""

from __future__ import annotations

import redis as _redis
from redis._parsers import _RESP2Parser as _BaseParser
from redis.exceptions import ConnectionError as _RConnError
from redis.exceptions import RedisError, ResponseError

from pexim.bytestr import SPACE

from ..expand.errors import LookupDefer
from ..expand.taint import is_tainted
from ..lists import iter_list
from . import NoCache, register


class _ExactParser(_BaseParser):
    """Keep Redis error replies whole ("ERR ...", "MOVED ...") as Exim shows them."""

    @classmethod
    def parse_error(cls, response):
        return ResponseError(response)


_CONNS: dict[str, object] = {}
# hiredis (Exim's client) speaks RESP2; redis-py >= 5 would negotiate RESP3.
_PROTO = {"protocol": 2}
_MAX_ARGS = 32
_TIMEOUT = 60.0


class _Fail(Exception):
    """(message, defer_break)"""

    def __init__(self, message: str, defer_break: bool):
        super().__init__(message)
        self.message = message
        self.defer_break = defer_break


def split_command(command: str) -> list[bytes]:
    """Exim's argv split: white space separates, backslash protects a character."""
    s = command
    n = len(s)
    i = 0
    while i < n and s[i] in SPACE:
        i += 1
    args: list[bytes] = []
    while i < n and len(args) < _MAX_ARGS:
        out = []
        while i < n and s[i] not in SPACE:
            if s[i] == "\\":
                i += 1
                if i < n:
                    out.append(s[i])
                    i += 1
                continue
            out.append(s[i])
            i += 1
        args.append("".join(out).encode("latin-1"))
        while i < n and s[i] in SPACE:
            i += 1
    return args


def _reason(e: Exception) -> str:
    """hiredis-style error text: the system error behind a connection failure."""
    cause = e
    while cause is not None:
        if isinstance(cause, OSError) and cause.strerror:
            return cause.strerror
        cause = cause.__cause__ or cause.__context__
    text = str(e)
    if text.endswith(".") and ". " in text:
        text = text.rsplit(". ", 1)[-1][:-1]
    return text or "Server closed the connection"


def _connect(server_copy: str, host: str):
    conn = _CONNS.get(server_copy)
    if conn is not None:
        return conn
    if "(" in host:
        sock = host[host.index("(") + 1:]
        sock = sock.split(")", 1)[0]
        conn = _redis.UnixDomainSocketConnection(path=sock, parser_class=_ExactParser,
                                                 socket_timeout=_TIMEOUT, **_PROTO)
    else:
        port = 6379
        if ":" in host:
            host, p = host.split(":", 1)
            port = _atoi(p)
        conn = _redis.Connection(host=host, port=port, parser_class=_ExactParser,
                                 socket_timeout=_TIMEOUT, socket_connect_timeout=_TIMEOUT,
                                 **_PROTO)
    _CONNS[server_copy] = conn
    return conn


def _atoi(s: str) -> int:
    k = 0
    while k < len(s) and s[k].isdigit():
        k += 1
    return int(s[:k]) if k else 0


def _call(conn, args):
    conn.send_command(*args)
    return conn.read_response(disable_decoding=True)


def _text(b) -> str:
    return b.decode("latin-1") if isinstance(b, bytes) else str(b)


def format_reply(reply):
    """The lookup result for a reply (None: empty array, fails); NoCache for nil."""
    if reply is None:
        return NoCache("")
    if isinstance(reply, bool):
        reply = int(reply)
    if isinstance(reply, int):
        return "true" if reply != 0 else "false"
    if isinstance(reply, (bytes, str)):
        return _text(reply)
    result: list[str] | None = None

    def add(piece: str | None):
        nonlocal result
        if result is not None:
            result.append("\n")
        if piece is not None:
            if result is None:
                result = []
            result.append(piece)

    for entry in reply:
        if isinstance(entry, list):
            if result is not None:
                result.append("\n")
            for sub in entry:
                if isinstance(sub, list) or sub is None:
                    add(None)
                elif isinstance(sub, int):
                    add("%d" % sub)
                else:
                    add(_text(sub))
        elif entry is None:
            add(None)
        elif isinstance(entry, int):
            add("%d" % entry)
        else:
            add(_text(entry))
    return None if result is None else "".join(result)


def perform(command: str, server: str):
    """perform_redis_search(): a result, None (no data), or raises _Fail."""
    pieces = server.rsplit("/", 2)
    if len(pieces) < 3:
        # Exim names the server without its password once that is cut off.
        raise _Fail("incomplete Redis server data: %s" % pieces[0], True)
    host, db, password = pieces
    server_copy = host + "/" + db
    if "/" in host:
        raise _Fail("unexpected slash in Redis server hostname: %s" % host, True)
    conn = _connect(server_copy, host)
    stage = "query"
    try:
        if password:
            stage = "auth"
            try:
                _call(conn, [b"AUTH", password.encode("latin-1")])
            except ResponseError:
                pass
        if db:
            stage = "select"
            try:
                _call(conn, [b"SELECT", db.encode("latin-1")])
            except ResponseError:
                pass
        stage = "query"
        reply = _call(conn, split_command(command))
    except ResponseError as e:
        text = str(e)
        raise _Fail("REDIS: lookup result failed: %s\n" % text,
                    not text.startswith("MOVED")) from None
    except (_RConnError, RedisError, OSError) as e:
        _CONNS.pop(server_copy, None)
        try:
            conn.disconnect()
        except Exception:  # noqa: BLE001 - best effort
            pass
        reason = _reason(e)
        if stage == "auth":
            msg = "REDIS Authentication failed: %s\n" % reason
        elif stage == "select":
            msg = "REDIS: Selecting database=%s failed: %s\n" % (db, reason)
        else:
            msg = "REDIS: query failed: %s\n" % reason
        raise _Fail(msg, False) from None
    return format_reply(reply)


def _servers(ctx, opts):
    """lf_sqlperform(): the server specifications to try, in order."""
    optlist = ctx.main_option("redis_servers")
    serverlist = None
    if opts:
        for o in iter_list(opts, ","):
            if o.startswith("servers="):
                serverlist = o[8:]
                break
    if serverlist is None:
        serverlist = optlist
    if not serverlist:
        raise LookupDefer("no Redis servers defined (redis_servers option)")
    for server in iter_list(serverlist):
        if "/" not in server:
            for ele in iter_list(optlist):
                if ele.startswith(server) and ele[len(server):len(server) + 1] == "/":
                    server = ele
                    break
            else:
                raise LookupDefer('Redis server "%s" not found in redis_servers' % server)
        if is_tainted(server):
            raise LookupDefer('Redis server "%s" is tainted' % server)
        yield server


class Redis:
    name = "redis"
    query_style = True

    def find(self, ctx, filename, command, opts):
        message = None
        for server in _servers(ctx, opts):
            try:
                return perform(command, server)
            except _Fail as f:
                message = f.message
                if f.defer_break:
                    break
        raise LookupDefer(message or "no Redis servers defined (redis_servers option)")

    def quote(self, s, opt):
        if opt:
            return None
        return "".join("\\" + c if c in SPACE or c == "\\" else c for c in s)


register(Redis())
