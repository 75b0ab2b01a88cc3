"""Hints databases: ratelimit now; retry, callout and wait use the same store.

Exim keeps each hints database as a DBM file under spool_directory/db/ (with a
`.lockfile` beside it that serialises writers).  pexim keeps the same logical
layout -- one database per name, records addressed by a string key, each
record carrying the time it was written -- behind a small interface:

    store = hints.open_store(config)            # embedded (SQLite) by default
    with store.transaction("ratelimit") as db:  # exclusive: read-modify-write
        raw = db.get(key)                       # bytes or None
        db.put(key, value_bytes)
    store.get("ratelimit", key); store.items("ratelimit"); store.delete(...)

Why SQLite in WAL mode (sqlite.py) rather than a DBM file with fcntl locks:

* several receiving workers and several delivery workers update the same keys;
  SQLite gives atomic read-modify-write transactions (BEGIN IMMEDIATE) with
  cross-process locking that is correct on every local filesystem, and a crash
  mid-write never leaves a torn file (the WAL is replayed), whereas a DBM file
  updated in place needs its own lock file and can be corrupted by a crash;
* in WAL mode readers never block the writer and the writer never blocks readers,
  so `readonly` ratelimit checks and exim_dumpdb-style listings cost no locking;
* it is in the standard library (no new dependency) and survives restarts;
* measured on this machine (tests/hints/test_store.py::test_speed keeps a floor):
  about 10-20k read-modify-write transactions/s with synchronous=NORMAL, far
  above what one SMTP worker needs per ratelimit check.

The files are spool_directory/db/NAME.sqlite, so they never collide with real
Exim's own files (spool_directory/db/NAME, Berkeley DB) when both run on one
spool.  A Redis backend only has to provide the same Store interface
(transaction() would map to WATCH/MULTI or a Lua script per record).
"""

from __future__ import annotations

from pexim.hints.store import Store, Transaction, open_store, store_for_directory

__all__ = ["Store", "Transaction", "open_store", "store_for_directory"]
