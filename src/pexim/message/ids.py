"""Exim 4.96 message ids: ``TTTTTT-PPPPPP-FF`` in base 62.

TTTTTT is the time in seconds, PPPPPP the process id, FF the sub-second
fraction: microseconds / 5000 (0..199), plus 200 * N when ``localhost_number``
N is set (so N <= 16 fits two digits).  Measured on Exim 4.96: the tick is
5 ms with and without localhost_number.

Uniqueness.  Exim forks per message and, after taking an id, waits for the
clock to pass the id's tick so that a later process with the same pid cannot
repeat it.  pexim takes many ids in one process (DESIGN: no fork per message),
so ``MessageIdGenerator`` keeps the last tick it issued and, when the clock has
not yet moved past it, issues the next tick instead (a virtual clock running
ahead of the real one by at most a few ticks under load).  Ids therefore stay
strictly increasing within the process and keep exactly Exim's format; the
generator sleeps only when it would run more than ``max_ahead`` seconds ahead,
and ``close()`` waits until the real clock has passed the last issued tick,
as Exim does before exiting, so a successor with the same pid is safe too.
(A crash while ahead could in theory meet a reused pid within those seconds:
the spool writer creates -D files with O_EXCL, so that shows up as an error
on which the caller takes a fresh id.)
"""

from __future__ import annotations

import os
import re
import threading
import time

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
LOCALHOST_MAX = 16
MESSAGE_ID_LENGTH = 16
SPOOL_DATA_START_OFFSET = MESSAGE_ID_LENGTH + 3   # "<id>-D\n"

ID_RE = re.compile(r"[0-9A-Za-z]{6}-[0-9A-Za-z]{6}-[0-9A-Za-z]{2}\Z")


def base62(value: int, width: int = 6) -> str:
    """string_base62(): the low ``width`` base-62 digits of ``value``."""
    out = []
    for _ in range(width):
        value, r = divmod(value, 62)
        out.append(BASE62[r])
    return "".join(reversed(out))


def unbase62(text: str) -> int:
    n = 0
    for ch in text:
        n = n * 62 + BASE62.index(ch)
    return n


def is_message_id(text: str) -> bool:
    return bool(ID_RE.match(text))


RESOLUTION_USEC = 5000


def format_id(seconds: int, pid: int, usec: int, localhost_number: int | None = None) -> str:
    """The id Exim gives a message taken at ``seconds``.``usec`` by ``pid``."""
    frac = usec // RESOLUTION_USEC
    if localhost_number is not None:
        frac += localhost_number * (1_000_000 // RESOLUTION_USEC)
    return "%s-%s-%s" % (base62(seconds), base62(pid), base62(frac, 2))


def id_time(message_id: str) -> int:
    """The arrival second encoded in an id (what `exim -bp` ages are based on)."""
    return unbase62(message_id[:6])


class MessageIdGenerator:
    """Issues process-unique ids (see the module docstring for the guarantee)."""

    def __init__(self, localhost_number: int | None = None, pid: int | None = None,
                 clock=time.time_ns, max_ahead: float = 2.0, sleep=time.sleep):
        if localhost_number is not None and not 0 <= localhost_number <= LOCALHOST_MAX:
            raise ValueError("localhost_number is greater than the maximum allowed value "
                             f"({LOCALHOST_MAX})")
        self.localhost_number = localhost_number
        self.pid = os.getpid() if pid is None else pid
        self._res_ns = RESOLUTION_USEC * 1000
        self._clock = clock
        self._sleep = sleep
        self._max_ahead_ns = int(max_ahead * 1e9)
        self._last_tick = -1
        self._lock = threading.Lock()

    def new_id(self) -> str:
        with self._lock:
            now = self._clock()
            tick = max(now // self._res_ns, self._last_tick + 1)
            ahead = tick * self._res_ns - now
            if ahead > self._max_ahead_ns:
                self._sleep((ahead - self._max_ahead_ns) / 1e9)
            self._last_tick = tick
        ns = tick * self._res_ns
        return format_id(ns // 1_000_000_000, self.pid, (ns % 1_000_000_000) // 1000,
                         self.localhost_number)

    def close(self) -> None:
        """Wait until the real clock has passed the last id's tick (exim_wait_tick)."""
        if self._last_tick < 0:
            return
        wait = (self._last_tick + 1) * self._res_ns - self._clock()
        if wait > 0:
            self._sleep(wait / 1e9)
