"""The `ratelimit` ACL condition, as acl.c's acl_ratelimit() computes it.

State lives in the `ratelimit` hints database (pexim.hints) so that every
receiving process sees the same rates; per_conn, per_mail and per_cmd results
are also remembered in the session (Exim's ratelimiters_conn/_mail/_cmd trees),
so a second check of the same key in the same connection/message/command uses
the "pre-computed rate".

Record layout (little-endian): time_stamp q, time_usec q, rate d; a record of
a `unique=`/per_addr key adds bloom_epoch q and the Bloom filter bytes.
"""

from __future__ import annotations

import hashlib
import math
import re
import struct
import time

from pexim.acl import where as W

_ORDER = [W.RCPT, W.MAIL, W.PREDATA, W.MIME, W.DKIM, W.DATA, W.PRDR, W.NOTSMTP, W.AUTH,
          W.CONNECT, W.ETRN, W.EXPN, W.HELO, W.MAILAUTH, W.NOTSMTP_START, W.NOTQUIT,
          W.QUIT, W.STARTTLS, W.VRFY, W.DELIVERY, W.UNKNOWN]
_RANK = {w: i for i, w in enumerate(_ORDER)}

# ratelimit_option_string[] indexed by mode
_WHAT, _CLASH, _ADDR, _BYTE, _CMD, _CONN, _MAIL, _RCPT, _ALLRCPTS = (
    "?", "!", "per_addr", "per_byte", "per_cmd", "per_conn", "per_mail", "per_rcpt", "per_rcpt")

_BASIC = struct.Struct("<qqd")
_UNIQUE = struct.Struct("<qqdqi")
_BLOOM_MIN = 40          # sizeof(dbdb->bloom)

_NUM = re.compile(r"\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


class _Rec:
    __slots__ = ("stamp", "usec", "rate", "epoch", "bloom")

    def __init__(self, stamp, usec, rate, epoch=None, bloom=None):
        self.stamp, self.usec, self.rate, self.epoch, self.bloom = stamp, usec, rate, epoch, bloom

    def encode(self) -> bytes:
        if self.bloom is None:
            return _BASIC.pack(self.stamp, self.usec, self.rate)
        return _UNIQUE.pack(self.stamp, self.usec, self.rate, self.epoch,
                            len(self.bloom)) + bytes(self.bloom)

    @classmethod
    def decode(cls, raw: bytes):
        if len(raw) >= _UNIQUE.size:
            stamp, usec, rate, epoch, size = _UNIQUE.unpack_from(raw)
            return cls(stamp, usec, rate, epoch, bytearray(raw[_UNIQUE.size:_UNIQUE.size + size]))
        if len(raw) >= _BASIC.size:
            return cls(*_BASIC.unpack_from(raw))
        return None


class Trees:
    """ratelimiters_conn / _mail / _cmd of one connection."""

    def __init__(self):
        self.conn: dict[str, _Rec] = {}
        self.mail: dict[str, _Rec] = {}
        self.cmd: dict[str, _Rec] = {}


def trees_of(engine) -> Trees:
    t = getattr(engine, "_ratelimit_trees", None)
    if t is None:
        t = engine._ratelimit_trees = Trees()
        hooks = getattr(getattr(engine.host, "state", None), "warn_logged", None)
        if hooks is not None and hasattr(hooks, "on_clear"):
            hooks.on_clear.append(t.mail.clear)
    return t


def _strtod(s: str):
    m = _NUM.match(s)
    if not m:
        return 0.0, s.lstrip() if not s.strip() else s
    return float(m.group(0)), s[m.end():]


def _items(arg: str):
    """string_nextinlist() with '/' (no doubling escape needed here)."""
    out = []
    i, n = 0, len(arg)
    while i < n or (not out and n == 0):
        j = i
        buf = []
        while j < n:
            if arg[j] == "/":
                if j + 1 < n and arg[j + 1] == "/":
                    buf.append("/")
                    j += 2
                    continue
                break
            buf.append(arg[j])
            j += 1
        out.append("".join(buf).strip())
        i = j + 1
        if j >= n:
            break
    return out


def _error(res, text: str):
    res.log = 'error in arguments to "ratelimit" condition: ' + text
    return W.ERROR


def _message_size(engine) -> int:
    v = engine.ctx.values.get("message_size")
    if v not in (None, ""):
        try:
            return int(v)
        except (TypeError, ValueError):
            pass
    server = getattr(getattr(engine, "host", None), "server", None)
    size = getattr(server, "message_size", -1)
    return size if isinstance(size, int) else -1


def run(engine, c, arg, res):
    from pexim.config.timeval import read_time
    ctx = engine.ctx
    v = ctx.values
    where = engine.where
    rank = _RANK.get(where, _RANK[W.UNKNOWN])
    nsmtp = _RANK[W.NOTSMTP]
    items = _items(arg) if arg else []
    if not items or (len(items) == 1 and items[0] == "" and not arg):
        return _error(res, "sender rate limit not set")
    limit_s = items[0]
    v["sender_rate_limit"] = limit_s
    limit, rest = _strtod(limit_s)
    if rest[:1].lower() == "k":
        limit, rest = limit * 1024.0, rest[1:]
    elif rest[:1].lower() == "m":
        limit, rest = limit * 1024.0 * 1024.0, rest[1:]
    elif rest[:1].lower() == "g":
        limit, rest = limit * 1024.0 ** 3, rest[1:]
    if limit < 0.0 or rest != "":
        return _error(res, '"%s" is not a positive number' % limit_s)
    if len(items) < 2:
        v["sender_rate_period"] = None
        return _error(res, '"(null)" is not a time value')
    period_s = items[1]
    v["sender_rate_period"] = period_s
    period = float(read_time(period_s))
    if period <= 0.0:
        return _error(res, '"%s" is not a time value' % period_s)

    count = 1.0
    leaky = strict = readonly = noupdate = badacl = False
    mode = _WHAT
    key = unique = None

    def setmode(m):
        nonlocal mode
        mode = m if mode == _WHAT else _CLASH

    for ss in items[2:]:
        low = ss.lower()
        if low == "leaky":
            leaky = True
        elif low == "strict":
            strict = True
        elif low == "noupdate":
            noupdate = True
        elif low == "readonly":
            readonly = True
        elif low == "per_cmd":
            setmode(_CMD)
        elif low == "per_conn":
            setmode(_CONN)
            if where in (W.NOTSMTP, W.NOTSMTP_START):
                badacl = True
        elif low == "per_mail":
            setmode(_MAIL)
            if rank > nsmtp:
                badacl = True
        elif low == "per_rcpt":
            if where == W.RCPT:
                setmode(_RCPT)
            elif _RANK[W.PREDATA] <= rank <= nsmtp:
                setmode("per_allrcpts")
                count = float(int(v.get("recipients_count") or 0))
            elif where == W.MAIL or rank > nsmtp:
                setmode(_RCPT)
                badacl = True
        elif low == "per_byte":
            setmode(_MAIL)               # acl.c: per_byte is keyed as per_mail
            if rank > nsmtp:
                badacl = True
            else:
                size = _message_size(engine)
                count = 0.0 if size < 0 else float(size)
        elif low == "per_addr":
            setmode(_RCPT)               # acl.c: per_addr is keyed as per_rcpt
            if where != W.RCPT:
                badacl, unique = True, "*"
            else:
                unique = "%s@%s" % (v.get("local_part") or "", v.get("domain") or "")
        elif low.startswith("count="):
            num, tail = _strtod(ss[6:])
            if not _NUM.match(ss[6:]):
                num, tail = 0.0, ss[6:]
            if num < 0.0 or tail != "":
                return _error(res, '"%s" is not a positive number' % ss)
            count = num
        elif low.startswith("unique="):
            unique = ss[7:]
        elif key is None:
            key = ss
        else:
            key = "%s/%s" % (key, ss)

    if mode == _CLASH:
        return _error(res, "conflicting per_* options")
    if leaky + strict + readonly > 1:
        return _error(res, "conflicting update modes")
    shown_mode = "per_rcpt" if mode == "per_allrcpts" else mode
    if badacl and (leaky or strict) and not noupdate:
        return _error(res, '"%s" must not have /leaky or /strict option, or cannot be used '
                      'in %s ACL' % (shown_mode, W.NAMES.get(where, where)))
    if noupdate:
        readonly, leaky, strict = True, False, False
    if badacl:
        readonly = True
    if readonly:
        count = 0.0
    if not strict and not readonly:
        leaky = True
    if mode == _WHAT:
        mode = _MAIL
    shown_mode = "per_rcpt" if mode == "per_allrcpts" else mode

    if key is None:
        key = str(v.get("sender_host_address") or "")
    key = "%s/%s/%s%s" % (period_s, shown_mode, "" if unique is None else "unique/", key)

    trace = engine.hd
    if trace:
        trace.line("ratelimit condition count=%.0f %.1f/%s" % (count, limit, key))

    trees = trees_of(engine)
    if readonly:
        anchor = trees.cmd
    elif mode == _CONN:
        anchor = trees.conn
    elif mode in (_BYTE, _MAIL, "per_allrcpts"):
        anchor = trees.mail
    else:
        anchor = trees.cmd

    found = anchor.get(key)
    if found is not None:
        rc = W.FAIL if found.rate < limit else W.OK
        v["sender_rate"] = "%.1f" % found.rate
        if trace:
            trace.line("ratelimit found pre-computed rate %s" % v["sender_rate"])
        return rc

    from pexim.hints import open_store
    from pexim.hints.store import HintsUnavailable
    try:
        store = open_store(engine.config)
        txn_cm = store.transaction("ratelimit", write=not readonly)
        db = txn_cm.__enter__()
    except HintsUnavailable:
        v["sender_rate"] = None
        if trace:
            trace.line("ratelimit database not available")
        res.log = "ratelimit database not available"
        return W.DEFER
    ok = False
    try:
        now = time.time()
        tv_sec = int(now)
        tv_usec = int((now - tv_sec) * 1e6)
        raw = db.get(key)
        dbd = _Rec.decode(raw) if raw else None
        rec = dbd
        if dbd is not None:
            if trace:
                trace.line("ratelimit found key in database")
            if unique is not None and dbd.bloom is not None and tv_sec > dbd.epoch + period:
                if trace:
                    trace.line("ratelimit discarding old Bloom filter")
                rec = None
            elif unique is not None and dbd.bloom is None:
                if trace:
                    trace.line("ratelimit discarding undersize Bloom filter")
                rec = None
        if rec is None:
            if unique is None:
                if trace:
                    trace.line("ratelimit creating new rate data block")
                rec = _Rec(0, 0, 0.0) if dbd is None else dbd
            else:
                if trace:
                    trace.line("ratelimit creating new Bloom filter")
                extra = max(int(limit) * 2 - _BLOOM_MIN, 0)
                if dbd is not None:
                    rec = _Rec(dbd.stamp, dbd.usec, dbd.rate)
                else:
                    rec = _Rec(0, 0, 0.0)
                rec.epoch = tv_sec
                rec.bloom = bytearray(_BLOOM_MIN + extra)
        if unique is not None and not readonly:
            digest = hashlib.md5(unique.encode("utf-8", "surrogateescape")).digest()
            h = int.from_bytes(digest[0:4], "little")
            hinc = int.from_bytes(digest[4:8], "little")
            if trace:
                trace.line("ratelimit checking uniqueness of %s" % unique)
            seen = True
            size = len(rec.bloom)
            for _ in range(8):
                bit = 1 << (h % 8)
                byte = (h // 8) % size
                if not rec.bloom[byte] & bit:
                    rec.bloom[byte] |= bit
                    seen = False
                h = (h + hinc) & 0xFFFFFFFF
            if seen:
                if trace:
                    trace.line("ratelimit event found in Bloom filter")
                count = 0.0
            elif trace:
                trace.line("ratelimit event added to Bloom filter")
        if dbd is None:
            if trace:
                trace.line("ratelimit initializing new key's rate data")
            rec.stamp, rec.usec, rec.rate = tv_sec, tv_usec, count
        else:
            this_time = tv_sec + tv_usec / 1e6
            prev_time = rec.stamp + rec.usec / 1e6
            interval = this_time - prev_time
            if interval <= 0.0:
                interval = 1e-9
            i_over_p = interval / period
            a = math.exp(-i_over_p)
            rec.stamp, rec.usec = tv_sec, tv_usec
            rec.rate = (1 - a) * count / i_over_p + a * rec.rate
            if rec.rate < count:
                rec.rate = count
        rc = W.FAIL if rec.rate < limit else W.OK
        if (rc == W.FAIL and leaky) or strict:
            db.put(key, rec.encode())
            if trace:
                trace.line("ratelimit db updated")
        elif trace:
            trace.line("ratelimit db not updated: %s" % (
                "readonly mode" if readonly else "over the limit, but leaky"))
        ok = True
    finally:
        if ok:
            txn_cm.__exit__(None, None, None)
        else:
            import sys
            txn_cm.__exit__(*sys.exc_info())
    anchor[key] = rec
    v["sender_rate"] = "%.1f" % rec.rate
    if trace:
        trace.line("ratelimit computed rate %s" % v["sender_rate"])
    return rc
