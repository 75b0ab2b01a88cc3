"""lmdb: a key in an LMDB database file (py-lmdb), read-only.

The file is opened as Exim does (no sub-directory, read-only, with its
``-lock`` file); the key has no terminating zero; the value is returned up to
its first zero.  An oversized key defers with LMDB's error text.
"""

from __future__ import annotations

import lmdb as _lmdb

from ..expand.errors import ExpansionError, LookupDefer
from . import register

_ENVS: dict[str, object] = {}


def _errtext(e: Exception, path: str) -> str:
    text = str(e)
    if text.startswith(path + ": "):
        text = text[len(path) + 2:]
    return text


def _env(path: str):
    env = _ENVS.get(path)
    if env is None:
        try:
            env = _lmdb.open(path, subdir=False, readonly=True, lock=True, create=False,
                             max_dbs=0)
        except _lmdb.Error as e:
            raise ExpansionError("LMDB: Unable to open environment with %s: %s"
                                 % (path, _errtext(e, path))) from None
        _ENVS[path] = env
    return env


class Lmdb:
    name = "lmdb"
    query_style = False

    def open_check(self, ctx, filename):
        _env(filename)

    def find(self, ctx, filename, key, opts):
        env = _env(filename)
        k = key.encode("latin-1")
        if len(k) > env.max_key_size():
            # py-lmdb answers "not found"; the C library (and so Exim) refuses.
            raise LookupDefer("LMDB: lookup error: MDB_BAD_VALSIZE: Unsupported size of "
                              "key/DB name/data, or wrong DUPFIXED size")
        try:
            with env.begin(buffers=False) as txn:
                value = txn.get(k)
        except _lmdb.Error as e:
            raise LookupDefer("LMDB: lookup error: %s" % _errtext(e, filename)) from None
        if value is None:
            return None
        return value.split(b"\0", 1)[0].decode("latin-1")


register(Lmdb())
