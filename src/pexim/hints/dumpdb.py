"""`python -m pexim.hints.dumpdb <spool-directory> <database-name>`: list a
pexim hints database in exim_dumpdb's format (ratelimit, retry and seen)."""

from __future__ import annotations

import os
import sys
import time

from pexim.hints.store import SqliteStore


def print_time(t: float) -> str:
    return time.strftime("%d-%b-%Y %H:%M:%S", time.localtime(t))


def format_record(name: str, key: str, value: bytes) -> str | None:
    if name == "ratelimit":
        from pexim.acl.ratelimit import _Rec
        rec = _Rec.decode(value)
        if rec is None:
            return None
        head = "%s.%06d rate: %10.3f" % (print_time(rec.stamp), rec.usec, rec.rate)
        if "/unique/" in key and rec.bloom is not None:
            return "%s epoch: %s size: %u key: %s" % (head, print_time(rec.epoch),
                                                     len(rec.bloom), key)
        return "%s key: %s" % (head, key)
    if name == "retry":
        from pexim.delivery.retry import format_record as retry_record
        return retry_record(key, value)
    if name == "seen":
        import struct
        (stamp,) = struct.unpack_from("<q", value)
        return "%s\t%s" % (key, print_time(stamp))
    return None


USAGE = """Usage: exim_dumpdb [-z] [-k]  <spool-directory> <database-name>
  <database-name> = retry | misc | wait-<transport-name> | callout | ratelimit | tls | seen"""


def main(argv: list[str] | None = None) -> int:
    args = [a for a in (sys.argv[1:] if argv is None else argv) if a not in ("-z", "-k")]
    if len(args) != 2:
        print(USAGE, file=sys.stderr)
        return 1
    spool, name = args
    directory = os.path.join(spool, "db")
    path = os.path.join(directory, name + ".sqlite")
    if not os.path.exists(path):
        print("** Failed to open database lock file %s/%s.lockfile: No such file or "
              "directory" % (directory, name))
        return 1
    store = SqliteStore(directory)
    for key, value, _stamp in store.items(name):
        line = format_record(name, key, value)
        if line is not None:
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
