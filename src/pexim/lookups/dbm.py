"""dbm, dbmnz and dbmjz: Berkeley DB hash files (Debian's exim uses libdb 5.3
through its native interface, so the file name is used unchanged).

dbm adds a terminating zero to the key (as exim_dbmbuild writes keys), dbmnz
does not, dbmjz joins the elements of the key (an Exim list) with zeros.
The data is returned up to its first zero.
"""

from __future__ import annotations

import errno
import os
import stat

from ..expand.errors import ExpansionError
from ..lists import iter_list
from . import register
from ._files import cached, map_file
from .bdb import BDBError, HashDB

DBTYPE = "db (v4.1+)"


def _open(path: str, fd: int, st: os.stat_result) -> HashDB:
    if stat.S_ISDIR(st.st_mode):
        raise OSError(errno.EISDIR, os.strerror(errno.EISDIR))
    try:
        return HashDB(map_file(fd, st.st_size))
    except BDBError:
        # libdb reports the format problem itself; Exim then shows ENOENT.
        raise OSError(errno.ENOENT, os.strerror(errno.ENOENT)) from None


def open_db(path: str) -> HashDB:
    try:
        return cached("dbm", path, _open)
    except OSError as e:
        raise ExpansionError("failed to open %s as a %s file: %s"
                             % (path, DBTYPE, e.strerror)) from None


def _get(filename: str, key: bytes) -> str | None:
    try:
        value = open_db(filename).get(key)
    except BDBError:
        return None
    if value is None:
        return None
    return value.split(b"\0", 1)[0].decode("latin-1")


def joined_key(key: str) -> bytes | None:
    """dbmjz: the list's items joined with NULs, as Exim's buffer walk makes it."""
    buf = bytearray()
    for item in iter_list(key):
        b = item.encode("latin-1")
        if not b and not buf:
            buf += b"\0\0"
        else:
            buf += b + b"\0"
    if not buf:
        return None
    return bytes(buf[:-1])


class Dbm:
    name = "dbm"
    query_style = False
    zero = b"\0"

    def open_check(self, ctx, filename):
        open_db(filename)

    def find(self, ctx, filename, key, opts):
        return _get(filename, key.encode("latin-1") + self.zero)


class DbmNZ(Dbm):
    name = "dbmnz"
    zero = b""


class DbmJZ(Dbm):
    name = "dbmjz"

    def find(self, ctx, filename, key, opts):
        k = joined_key(key)
        return None if k is None else _get(filename, k)


for _impl in (Dbm(), DbmNZ(), DbmJZ()):
    register(_impl)
