"""Locking a mailbox file as Exim's appendfile does.

A lock file ``<mailbox>.lock`` is made NFS-safely by hard-linking a unique
"hitching post" to it; then the opened mailbox gets a non-blocking (or
timed) fcntl() and/or flock() lock.  Failures are retried lock_retries
times, lock_interval apart, so two deliveries never interleave in an mbox.
"""

from __future__ import annotations

import fcntl
import os
import time


def make_lockfile(filename: str, hostname: str, retries: int, interval: float,
                  mode: int, timeout: int) -> tuple[str | None, str | None, int]:
    """Create ``filename.lock``; returns (lockname, error text, errno).

    On success the error is None.  When every try failed the errno is 0 and
    the caller reports Exim's "failed to lock mailbox ... (lock file)".
    """
    lockname = f"{filename}.lock"
    hitch = "%s.%s.%08x.%08x" % (lockname, hostname, int(time.time()) & 0xFFFFFFFF,
                                 os.getpid() & 0xFFFFFFFF)
    for i in range(retries):
        if i:
            time.sleep(interval)
        try:
            hd = os.open(hitch, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        except OSError as e:
            return None, (f"creating lock file hitching post {hitch} "
                          f"(euid={os.geteuid()} egid={os.getegid()})"), e.errno or 0
        linked = True
        nlink = 0
        try:
            os.link(hitch, lockname)
        except OSError:
            linked = False
            nlink = os.fstat(hd).st_nlink
        os.close(hd)
        try:
            os.unlink(hitch)
        except OSError:
            pass
        if linked or nlink == 2:
            return lockname, None, 0
        if timeout > 0:
            try:
                if time.time() - os.stat(lockname).st_ctime > timeout:
                    os.unlink(lockname)
            except OSError:
                pass
    return None, None, 0


def apply_lock(fd: int, write: bool, use_fcntl: bool, fcntl_timeout: int,
               use_flock: bool, flock_timeout: int) -> tuple[bool, bool]:
    """fcntl() and/or flock() lock ``fd``: (locked, a blocking wait timed out)."""
    timed_out = False
    try:
        if use_fcntl:
            kind = fcntl.F_WRLCK if write else fcntl.F_RDLCK
            if fcntl_timeout > 0:
                ok, timed_out = _blocking(
                    lambda: fcntl.lockf(fd, _lockf_op(kind) | fcntl.LOCK_NB), fcntl_timeout)
                if not ok:
                    return False, timed_out
            else:
                fcntl.lockf(fd, _lockf_op(kind) | fcntl.LOCK_NB)
        if use_flock:
            op = fcntl.LOCK_EX if write else fcntl.LOCK_SH
            if flock_timeout > 0:
                ok, timed_out = _blocking(lambda: fcntl.flock(fd, op | fcntl.LOCK_NB),
                                          flock_timeout)
                if not ok:
                    return False, timed_out
            else:
                fcntl.flock(fd, op | fcntl.LOCK_NB)
    except OSError:
        return False, timed_out
    return True, False


def _lockf_op(kind: int) -> int:
    return fcntl.LOCK_EX if kind == fcntl.F_WRLCK else fcntl.LOCK_SH


def _blocking(try_once, timeout: float) -> tuple[bool, bool]:
    """A blocking lock with a timeout.  Transports may run in a worker thread,
    where alarm() cannot be used, so poll the non-blocking call instead."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            try_once()
            return True, False
        except OSError:
            if time.monotonic() >= deadline:
                return False, True
            time.sleep(0.05)
