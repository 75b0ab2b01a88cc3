"""The `seen` ACL condition (Exim 4.96): was this key recorded since (or
before) a time offset?  Records live in the `seen` hints database.

    seen = [-]interval [/ key=string] [/ readonly] [/ write] [/ refresh=interval]

Behaviour and trace lines as real exim 4.96 shows them under -bh:
a "since" test always updates the record, a "before" test creates a missing
record and refreshes one older than refresh= (default 10 days) when it
succeeds; readonly never writes, write always does (the last one given wins).
"""

from __future__ import annotations

import struct
import time

from pexim import lists
from pexim.acl import where as W

_REC = struct.Struct("<q")
_DEFAULT_REFRESH = 10 * 24 * 3600


def run(engine, c, arg, res):
    from pexim.config.timeval import read_time
    items = list(lists.iter_list(arg, "/")) if arg else []
    first = items[0].strip() if items else ""
    before = first.startswith("-")
    interval = read_time(first[1:] if before else first) if first.lstrip("-") else -1
    if interval < 0:
        res.log = "failed to parse '%s'" % arg
        return W.ERROR
    key = None
    mode = None
    refresh = _DEFAULT_REFRESH
    for opt in items[1:]:
        if opt.startswith("key="):
            key = opt[4:]
        elif opt == "readonly":
            mode = "readonly"
        elif opt == "write":
            mode = "write"
        elif opt.startswith("refresh="):
            refresh = read_time(opt[8:])
            if refresh < 0:
                res.log = "failed to parse '%s'" % arg
                return W.ERROR
        else:
            res.log = "unrecognised option '%s' in '%s'" % (opt, arg)
            return W.ERROR
    if key is None:
        key = str(engine.ctx.values.get("sender_host_address") or "")
    trace = engine.hd
    from pexim.hints import open_store
    from pexim.hints.store import HintsUnavailable
    try:
        store = open_store(engine.config)
        with store.transaction("seen", write=mode != "readonly") as db:
            now = int(time.time())
            raw = db.get(key)
            stamp = _REC.unpack_from(raw)[0] if raw and len(raw) >= _REC.size else None
            written = None
            if stamp is None:
                rc = W.FAIL
                if mode != "readonly":
                    written = "create"
            else:
                since = now - interval
                ok = stamp < since if before else stamp >= since
                rc = W.OK if ok else W.FAIL
                if mode == "write" or (mode is None and not before):
                    written = "update"
                elif mode is None and before and ok and stamp < now - refresh:
                    written = "refresh"
            if written:
                db.put(key, _REC.pack(now))
    except HintsUnavailable:
        res.log = "database for 'seen' not available"
        return W.DEFER
    if trace:
        if written:
            trace.line("seen db written (%s)" % written)
        elif mode == "readonly":
            trace.line("seen db not written (readonly)")
    return rc
