"""The queue as `exim -bp` sees it: which messages are there, what each looks like.

Shared by -bp and friends, the -M admin actions and pexim-exiqgrep, so the
three agree on sizes, ages, delivered marks and the lock.  Texts and numbers
follow Exim 4.96's queue_list() (queue.c) and string_format_size().
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from dataclasses import dataclass, field

from pexim.message.envelope import HTYPE_OLD, SpoolMessage
from pexim.message.ids import SPOOL_DATA_START_OFFSET, id_time
from pexim.spool.locking import lock_data_file
from pexim.spool.paths import SpoolPaths, _listdir
from pexim.spool.reader import SpoolFormatError, parse_header_file

# queue_list() options: what the recipient lines show.
ALL, UNDELIVERED, WITH_GENERATED = 0, 1, 2


class MessageLocked(Exception):
    """Another process (a delivery, a queue runner, another -M) holds the message."""


def format_size(size: int) -> str:
    """string_format_size(): five columns, K and M with one decimal below ten."""
    if size == 0:
        return "     "
    if size < 1024:
        return "%5d" % size
    if size < 10 * 1024:
        return "%4.1fK" % (size / 1024.0)
    if size < 1024 * 1024:
        return "%4dK" % ((size + 512) // 1024)
    if size < 10 * 1024 * 1024:
        return "%4.1fM" % (size / (1024.0 * 1024.0))
    return "%4dM" % ((size + 512 * 1024) // (1024 * 1024))


def _cdiv(a: int, b: int) -> int:
    """C's integer division (truncates towards zero), as Exim's arithmetic."""
    q = abs(a) // b
    return q if a >= 0 else -q


def format_age(seconds: int) -> str:
    """Minutes up to 90, then hours up to 72, then days: "25m", " 3h", "12d"."""
    i = _cdiv(seconds, 60)
    if i > 90:
        i = _cdiv(i + 30, 60)
        if i > 72:
            return "%2dd" % _cdiv(i + 12, 24)
        return "%2dh" % i
    return "%2dm" % i


@dataclass
class QueuedMessage:
    """One message as listed: its envelope (None if unreadable) and its -bp size."""

    id: str
    msg: SpoolMessage | None = None
    size: int = 0
    error: str | None = None                  # the "*** ... ***" text
    delivered: set[str] = field(default_factory=set)   # non-recipients + -J entries

    @property
    def frozen(self) -> bool:
        return self.msg is not None and self.msg.frozen_at is not None

    @property
    def arrival(self) -> int:
        return self.msg.received_time[0] if self.msg is not None else id_time(self.id)

    def undelivered(self) -> list[str]:
        if self.msg is None:
            return []
        return [r.address for r in self.msg.recipients if r.address not in self.delivered]


def message_ids(paths: SpoolPaths, sorted_: bool = True) -> list[str]:
    """Ids with a -H file: in arrival (id) order, or as the directories give them (-bpr)."""
    if sorted_:
        return paths.message_ids()
    base = paths.directory("input")
    dirs = [base]
    if paths.split:
        dirs = [os.path.join(base, d) for d in _listdir(base) if len(d) == 1] + [base]
    from pexim.message.ids import is_message_id

    seen: dict[str, None] = {}
    for d in dirs:
        for name in _listdir(d):
            if name.endswith("-H") and is_message_id(name[:-2]):
                seen.setdefault(name[:-2])
    return list(seen)


def find_file(paths: SpoolPaths, message_id: str, suffix: str, purpose: str = "input") -> str:
    """The file in the split subdirectory or the top directory, whichever exists
    (Exim looks in both, so a queue written before split_spool_directory changed works)."""
    names = [os.path.join(paths.directory(purpose, message_id),
                          message_id + suffix)]
    flat = os.path.join(paths.directory(purpose), message_id + suffix)
    if flat not in names:
        names.append(flat)
    for name in names:
        if os.path.exists(name):
            return name
    return names[0]


def load(paths: SpoolPaths, message_id: str) -> QueuedMessage:
    """Read one message for listing: envelope, -J entries, size (header texts + body + 1)."""
    entry = QueuedMessage(message_id)
    hpath = find_file(paths, message_id, "-H")
    try:
        with open(hpath, "rb") as fh:
            data = fh.read()
    except OSError as err:
        entry.error = "*** spool read error: %s ***" % os.strerror(err.errno or 0)
        return entry
    try:
        entry.msg = parse_header_file(data, message_id)
    except (SpoolFormatError, ValueError):
        entry.error = "*** spool format error: size=%d ***" % len(data)
        return entry
    msg = entry.msg
    entry.delivered = set(msg.nonrecipients)
    try:                    # a crashed delivery's -J file: those count as delivered
        with open(hpath[:-1] + "J", "rb") as fh:
            entry.delivered.update(a for a in fh.read().decode("latin-1").split("\n") if a)
    except OSError:
        pass
    headers = sum(len(h.text.encode("latin-1", "replace")) for h in msg.headers
                  if h.type != HTYPE_OLD)
    try:
        body = os.stat(hpath[:-1] + "D").st_size
        entry.size = headers + body - SPOOL_DATA_START_OFFSET + 1
    except OSError:
        entry.size = 0
    return entry


def format_entry(entry: QueuedMessage, option: int = ALL, now: float | None = None) -> str:
    """One message as queue_list() prints it, blank line included."""
    msg = entry.msg
    out = []
    if msg is not None:
        now = time.time() if now is None else now
        out.append(format_age(int(now) - msg.received_time[0]) + " ")
    out.append(format_size(entry.size) + " " + entry.id)
    if msg is not None:
        out.append(" <%s>" % msg.sender)
        if msg.sender_set_untrusted:
            out.append(" (%s)" % msg.originator_login)
    if entry.error is not None:
        return "".join(out) + "\n    " + entry.error + "\n\n"
    if msg.frozen_at is not None:
        out.append(" *** frozen ***")
    out.append("\n")
    if msg.recipients:
        listed = set()
        for r in msg.recipients:
            done = r.address in entry.delivered
            if not done or option != UNDELIVERED:
                out.append("        %s %s\n" % ("D" if done else " ", r.address))
            if done:
                listed.add(r.address)
        if option == WITH_GENERATED:
            for a in sorted(entry.delivered, key=lambda s: s.encode("latin-1", "replace")):
                if a not in listed:
                    out.append("       +D %s\n" % a)
        out.append("\n")
    return "".join(out)


# --- selection (exiqgrep's criteria) -------------------------------------------

@dataclass
class Selection:
    """exiqgrep's -f/-r/-s/-y/-o/-z/-x: regexes are Perl-style, sender and
    recipients matched case-insensitively, the sender inside its "<>"."""

    sender: str | None = None
    recipient: str | None = None
    size: str | None = None
    younger: int | None = None
    older: int | None = None
    frozen: bool | None = None
    all_recipients: bool = False       # -a: delivered ones count (with their "D ")

    def recipients(self, entry: QueuedMessage) -> list[str]:
        if entry.msg is None:
            return []
        if not self.all_recipients:
            return entry.undelivered()
        return [("D " if r.address in entry.delivered else "") + r.address
                for r in entry.msg.recipients]

    def matches(self, entry: QueuedMessage, now: float) -> bool:
        if entry.msg is None:
            return False
        if self.sender and not re.search(self.sender, "<%s>" % entry.msg.sender, re.I):
            return False
        if self.recipient and not any(re.search(self.recipient, r, re.I)
                                      for r in self.recipients(entry)):
            return False
        if self.size and not re.search(self.size, format_size(entry.size).strip()):
            return False
        age = int(now) - id_time(entry.id)
        if self.younger and not age < self.younger:
            return False
        if self.older and not age > self.older:
            return False
        return self.frozen is None or self.frozen == entry.frozen


# --- the message lock for admin actions ----------------------------------------

@contextlib.contextmanager
def locked(paths: SpoolPaths, message_id: str):
    """Open and lock the -D file as delivery does; yields its path.

    Raises FileNotFoundError when there is no -D file, MessageLocked when
    another process owns the message.  The lock lasts until the block ends.
    """
    path = find_file(paths, message_id, "-D")
    fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    try:
        if not lock_data_file(fd):
            raise MessageLocked(message_id)
        yield path
    finally:
        os.close(fd)
