"""Per-process cache of opened lookup files, re-opened when they change.

Exim keeps single-key lookup files open for the life of a process; pexim
processes live longer, so an entry is also dropped when the file's
(mtime, size, inode) changes, as a file rebuilt by renaming does.
"""

from __future__ import annotations

import mmap
import os

_CACHE: dict[tuple[str, str], tuple[tuple[int, int, int], object]] = {}


def stamp(st: os.stat_result) -> tuple[int, int, int]:
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def cached(kind: str, path: str, opener):
    """``opener(path, fd, st)`` builds the handle; the same handle while unchanged.

    Raises OSError (with errno) when the file cannot be opened.
    """
    fd = os.open(path, os.O_RDONLY)
    try:
        st = os.fstat(fd)
        key = (kind, path)
        hit = _CACHE.get(key)
        if hit is not None and hit[0] == stamp(st):
            return hit[1]
        handle = opener(path, fd, st)
        _CACHE[key] = (stamp(st), handle)
        return handle
    finally:
        os.close(fd)


def map_file(fd: int, size: int):
    """The file's bytes: an mmap, or b"" for an empty file."""
    if size == 0:
        return b""
    return mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
