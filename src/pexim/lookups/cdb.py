"""cdb: D. J. Bernstein's constant databases, read directly (as Exim does).

Layout: 256 (position, length) pairs of little-endian u32 pointing at hash
tables; the key's hash ``h`` (djb: h = 5381; h = (h * 33) ^ c) selects table
``h & 255`` and starting slot ``(h >> 8) % length``; slots are (hash,
record position) pairs, probed with wrap-around until an empty slot; a record
is key length, data length, key, data.  The key is used without a
terminating zero.
"""

from __future__ import annotations

import os
import stat
import struct

from ..expand.errors import ExpansionError, LookupDefer
from . import register
from ._files import cached, map_file

HASH_TABLE = 256 * 8
_U32X2 = struct.Struct("<II")


def cdb_hash(key: bytes) -> int:
    h = 5381
    for c in key:
        h = (((h << 5) + h) & 0xFFFFFFFF) ^ c
    return h


class _CdbFile:
    __slots__ = ("data", "size")

    def __init__(self, data, size: int):
        self.data = data
        self.size = size

    def get(self, filename: str, key: bytes) -> bytes | None:
        data = self.data
        h = cdb_hash(key)
        pos, slots = _U32X2.unpack_from(data, (h & 255) * 8)
        if slots == 0:
            return None
        if pos + slots * 8 > self.size:
            raise LookupDefer("cdb: corrupt cdb file %s (too short)" % filename)
        slot = (h >> 8) % slots
        for _ in range(slots):
            off = pos + slot * 8
            item_hash, item_pos = _U32X2.unpack_from(data, off)
            if item_pos == 0:
                return None
            if item_hash == h and item_pos + 8 <= self.size:
                klen, dlen = _U32X2.unpack_from(data, item_pos)
                if klen == len(key) and data[item_pos + 8:item_pos + 8 + klen] == key:
                    start = item_pos + 8 + klen
                    value = bytes(data[start:start + dlen])
                    return value.split(b"\0", 1)[0]
            slot += 1
            if slot == slots:
                slot = 0
        return None


def _open(path: str, fd: int, st: os.stat_result) -> _CdbFile:
    if st.st_size < HASH_TABLE:
        raise ExpansionError("failed to open %s too short for cdb lookup: Success" % path)
    if not stat.S_ISREG(st.st_mode):
        try:
            os.read(fd, HASH_TABLE)
            err = "Input/output error"
        except OSError as e:
            err = e.strerror
        raise ExpansionError("failed to open cannot read header from %s for cdb lookup: %s"
                             % (path, err))
    return _CdbFile(map_file(fd, st.st_size), st.st_size)


def open_cdb(path: str) -> _CdbFile:
    try:
        return cached("cdb", path, _open)
    except OSError as e:
        raise ExpansionError("failed to open %s for cdb lookup: %s"
                             % (path, e.strerror)) from None


class Cdb:
    name = "cdb"
    query_style = False

    def open_check(self, ctx, filename):
        open_cdb(filename)

    def find(self, ctx, filename, key, opts):
        value = open_cdb(filename).get(filename, key.encode("latin-1"))
        return None if value is None else value.decode("latin-1")


register(Cdb())
