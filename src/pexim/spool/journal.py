"""-J journal files and msglog files.

The journal records each address as soon as its delivery succeeded, one
address per line, fsync'd before the next step (DESIGN: "a delivery is
journalled before the spool is updated").  If delivery crashes, the next
attempt adds the journalled addresses to the non-recipients before routing
(as Exim does), so nothing is delivered twice except the one in flight.

The msglog (msglog/<id>) is the per-message log Exim keeps while a message is
on the queue: "YYYY-MM-DD HH:MM:SS text" lines.
"""

from __future__ import annotations

import os

from pexim.spool.paths import SPOOL_MODE, SpoolPaths


class Journal:
    """Open (create, O_EXCL as Exim) the -J file for one delivery attempt."""

    def __init__(self, paths: SpoolPaths, message_id: str,
                 owner: tuple[int, int] | None = None):
        self.path = paths.input_file(message_id, "-J")
        self.fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL
                          | os.O_CLOEXEC, SPOOL_MODE)
        if owner is not None:
            os.fchown(self.fd, *owner)

    def record(self, address: str) -> None:
        os.write(self.fd, (address + "\n").encode("latin-1"))
        os.fsync(self.fd)

    def close(self, remove: bool = True) -> None:
        """After the -H file has been rewritten the journal is no longer needed."""
        os.close(self.fd)
        if remove:
            os.unlink(self.path)


def read_journal(paths: SpoolPaths, message_id: str) -> list[str]:
    """Addresses a crashed delivery journalled (empty when there is no -J file)."""
    try:
        with open(paths.input_file(message_id, "-J"), "rb") as fh:
            data = fh.read().decode("latin-1")
    except FileNotFoundError:
        return []
    return [line for line in data.split("\n") if line]


def msglog_append(paths: SpoolPaths, message_id: str, text: str, stamp: str,
                  owner: tuple[int, int] | None = None) -> None:
    """Append "<stamp> <text>" to msglog/<id> (``stamp`` from log.timestamp)."""
    paths.ensure("msglog", message_id, owner)
    path = paths.msglog_file(message_id)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, SPOOL_MODE)
    try:
        if owner is not None:
            os.fchown(fd, *owner)
        os.write(fd, ("%s %s\n" % (stamp, text)).encode("latin-1", "replace"))
    finally:
        os.close(fd)
