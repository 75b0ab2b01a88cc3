"""The per-message lock Exim uses: an fcntl write lock on the -D file's first line.

Whoever holds it (receiver, delivery process, queue runner, `exim -M*`) owns
the message; a real exim and pexim sharing a spool therefore never work on
the same message at once.  fcntl locks belong to the process and vanish when
*any* descriptor of the file in that process is closed, so pexim keeps exactly
one descriptor per -D file it owns and never opens a second one.
"""

from __future__ import annotations

import errno
import fcntl
import os

from pexim.message.ids import SPOOL_DATA_START_OFFSET


def lock_data_file(fd: int) -> bool:
    """Take the lock without waiting; False when another process holds it."""
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, SPOOL_DATA_START_OFFSET, 0, os.SEEK_SET)
    except OSError as err:
        if err.errno in (errno.EACCES, errno.EAGAIN):
            return False
        raise
    return True


def unlock_data_file(fd: int) -> None:
    fcntl.lockf(fd, fcntl.LOCK_UN, SPOOL_DATA_START_OFFSET, 0, os.SEEK_SET)


def is_locked(path: str) -> bool:
    """Whether another process holds the message lock (F_GETLK; takes no lock).

    Not for a process that holds the lock itself: closing the probe descriptor
    would release it (see above).
    """
    import struct

    fd = os.open(path, os.O_RDONLY)
    try:
        # struct flock on Linux: short l_type, short l_whence, off_t l_start, off_t l_len, pid_t
        req = struct.pack("hhqqi", fcntl.F_WRLCK, os.SEEK_SET, 0, SPOOL_DATA_START_OFFSET, 0)
        res = fcntl.fcntl(fd, fcntl.F_GETLK, req + b"\0" * 4)
        return struct.unpack("hhqqi", res[:struct.calcsize("hhqqi")])[0] != fcntl.F_UNLCK
    finally:
        os.close(fd)
