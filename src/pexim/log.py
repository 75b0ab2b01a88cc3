"""Exim's three logs (main, reject, panic): files, syslog, selectors, line prefixes.

One ``Logger`` per process, built from the configuration.  Files are opened
O_APPEND and each entry goes out in one write(), so the worker processes of
one daemon can share them as Exim's processes do.  ``log_file_path`` items
are paths with ``%s`` (main/reject/panic) and optionally ``%D`` (YYYYMMDD,
reopened when the day changes) or ``%M`` (YYYYMM), or ``syslog``; an empty
item is the compiled-in default.  Line formats for the standard events live
in log_lines.py.
"""

from __future__ import annotations

import enum
import os
import sys
import time

from pexim.config.builtin_macros import LOG_SELECTORS

DEFAULT_LOG_FILE_PATH = "/var/log/exim4/%slog"       # Debian's LOG_FILE_PATH
LOG_MODE = 0o640
MAX_SYSLOG_LEN = 870

# Marked with an asterisk in the spec's table ("default selection").
DEFAULT_SELECTORS = frozenset({
    "acl_warn_skipped", "connection_reject", "delay_delivery", "dkim", "dnslist_defer",
    "etrn", "host_lookup_failed", "lost_incoming_connection", "msg_id", "queue_run",
    "rejected_header", "retry_defer", "sender_verify_fail", "size_reject", "skip_delivery",
    "smtp_confirmation", "tls_certificate_verified", "tls_cipher",
})
_SYNONYMS = {"rejected_headers": "rejected_header"}
ALL_SELECTORS = frozenset(_SYNONYMS.get(s, s) for s in LOG_SELECTORS if s != "all")


class Flags(enum.IntFlag):
    MAIN = 1
    REJECT = 2
    PANIC = 4


def parse_log_selector(text: str | None) -> frozenset[str]:
    """The enabled selector names: Exim's defaults, then +name/-name in order.

    The text has been validated when the configuration was read (main_checks).
    """
    enabled = set(DEFAULT_SELECTORS)
    for item in (text or "").split():
        sign, name = item[0], _SYNONYMS.get(item[1:], item[1:])
        names = ALL_SELECTORS if name == "all" else {name}
        if sign == "+":
            enabled |= names
        else:
            enabled -= names
    return frozenset(enabled)


def timestamp(now: float, millisec: bool = False, zone: bool = False) -> str:
    """tod_log: "YYYY-MM-DD HH:MM:SS[.mmm][ +hhmm]" in local time."""
    lt = time.localtime(now)
    s = time.strftime("%Y-%m-%d %H:%M:%S", lt)
    if millisec:
        s += ".%03d" % (int(now * 1000) % 1000)
    if zone:
        off = lt.tm_gmtoff // 60
        s += " %s%02d%02d" % ("-" if off < 0 else "+", abs(off) // 60, abs(off) % 60)
    return s


def render_stderr(flags: Flags, text: str) -> str:
    """How Exim shows a log entry when it is not logging for real (-bP, -bV...)."""
    names = [n for f, n in ((Flags.MAIN, "MAIN"), (Flags.PANIC, "PANIC"),
                            (Flags.REJECT, "REJECT")) if flags & f]
    return "LOG: %s\n  %s\n" % (" ".join(names), text)


def syslog_parts(text: str, limit: int = MAX_SYSLOG_LEN) -> list[str]:
    """Split an entry for syslog: at newlines ("[n\\m]") and every ``limit`` chars ("[n/m]")."""
    chunks: list[tuple[str, bool]] = []         # (text, ends at an internal newline)
    lines = text.rstrip("\n").split("\n")
    for i, line in enumerate(lines):
        pieces = [line[j:j + limit] for j in range(0, len(line), limit)] or [""]
        for k, piece in enumerate(pieces):
            chunks.append((piece, k == len(pieces) - 1 and i < len(lines) - 1))
    if len(chunks) == 1:
        return [chunks[0][0]]
    n = len(chunks)
    return ["[%d%s%d] %s" % (i + 1, "\\" if nl else "/", n, piece)
            for i, (piece, nl) in enumerate(chunks)]


class LogFailure(RuntimeError):
    """Neither the wanted log nor the panic log could be written (Exim dies)."""


class Logger:
    """Writes entries to the logs the configuration names.

    ``write(flags, text, message_id)`` is the one entry point; ``main``,
    ``reject`` and ``panic`` are shorthands.  ``reject_details`` (see
    log_lines.reject_details) is appended to reject-log entries only.
    """

    def __init__(self, file_path: str | None = None, selector: str | None = None,
                 timezone: bool = False, write_rejectlog: bool = True,
                 syslog_facility: str | None = None, syslog_processname: str = "exim",
                 syslog_pid: bool = True, syslog_timestamp: bool = True,
                 syslog_duplication: bool = True, pid: int | None = None,
                 clock=time.time, stderr=None, testing: bool = False):
        self.selectors = parse_log_selector(selector)
        self.timezone = timezone
        self.write_rejectlog = write_rejectlog
        self.syslog_pid = syslog_pid
        self.syslog_timestamp = syslog_timestamp
        self.syslog_duplication = syslog_duplication
        self.pid = os.getpid() if pid is None else pid
        self.clock = clock
        self.stderr = stderr or sys.stderr
        self.testing = testing          # not logging for real: entries go to stderr
        self.paths: list[str] = []
        self.use_syslog = False
        for item in (file_path if file_path is not None else "").split(":"):
            item = item.strip()
            if item == "syslog":
                self.use_syslog = True
            elif item:
                self.paths.append(item)
            elif not self.paths:
                self.paths.append(DEFAULT_LOG_FILE_PATH)
        if not self.paths and not self.use_syslog:
            self.paths.append(DEFAULT_LOG_FILE_PATH)
        self._files: dict[str, tuple[str, int]] = {}     # kind -> (path, fd)
        self._syslog = None
        if self.use_syslog:
            import syslog

            self._syslog = syslog
            syslog.openlog(syslog_processname[:32], syslog.LOG_PID if syslog_pid else 0,
                           _facility(syslog, syslog_facility))

    @classmethod
    def from_config(cls, config, ctx=None, **kw) -> Logger:
        """Built from the main options (log_file_path is expanded if it holds a '$')."""
        get = config.main.get
        path = get("log_file_path")
        if path and "$" in path:
            from pexim.expand import ExpandContext, expand_string

            path = expand_string(path, ctx or ExpandContext(config))
        return cls(path, get("log_selector"), bool(get("log_timezone")),
                   bool(get("write_rejectlog")), get("syslog_facility"),
                   get("syslog_processname") or "exim", bool(get("syslog_pid")),
                   bool(get("syslog_timestamp")), bool(get("syslog_duplication")), **kw)

    def enabled(self, selector: str) -> bool:
        return selector in self.selectors

    # --- entry points ---------------------------------------------------------

    def main(self, text: str, message_id: str | None = None) -> None:
        self.write(Flags.MAIN, text, message_id)

    def reject(self, text: str, message_id: str | None = None,
               reject_details: str = "") -> None:
        self.write(Flags.MAIN | Flags.REJECT, text, message_id, reject_details)

    def panic(self, text: str, message_id: str | None = None) -> None:
        self.write(Flags.MAIN | Flags.PANIC, text, message_id)

    def prefix(self, now: float | None = None, message_id: str | None = None,
               with_time: bool = True) -> str:
        """What precedes the text: time, [pid], message id."""
        out = []
        if with_time:
            out.append(timestamp(self.clock() if now is None else now,
                                 "millisec" in self.selectors, self.timezone) + " ")
        if "pid" in self.selectors:
            out.append("[%d] " % self.pid)
        if message_id:
            out.append(message_id + " ")
        return "".join(out)

    def write(self, flags: Flags, text: str, message_id: str | None = None,
              reject_details: str = "") -> None:
        if self.testing:
            self.stderr.write(render_stderr(flags, text))
            return
        now = self.clock()
        line = self.prefix(now, message_id) + text + "\n"
        if flags & Flags.REJECT and not self.write_rejectlog:
            flags &= ~Flags.REJECT
        if self.paths:
            if flags & Flags.MAIN:
                self._write_file("main", line, now)
            if flags & Flags.REJECT:
                self._write_file("reject", line + reject_details, now)
            if flags & Flags.PANIC:
                self._write_file("panic", line, now)
        if self._syslog is not None:
            self._write_syslog(flags, text, message_id, now, reject_details)

    # --- files ---------------------------------------------------------------

    def file_name(self, kind: str, now: float) -> str:
        lt = time.localtime(now)
        path = self.paths[0].replace("%s", kind, 1)
        return path.replace("%D", time.strftime("%Y%m%d", lt)).replace(
            "%M", time.strftime("%Y%m", lt))

    def _fd(self, kind: str, now: float) -> int:
        name = self.file_name(kind, now)
        cached = self._files.get(kind)
        if cached and cached[0] == name:
            return cached[1]
        if cached:
            os.close(cached[1])     # a new day (%D) or month (%M): switch files
            del self._files[kind]
        fd = os.open(name, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, LOG_MODE)
        self._files[kind] = (name, fd)
        return fd

    def _write_file(self, kind: str, data: str, now: float) -> None:
        try:
            fd = self._fd(kind, now)
            os.write(fd, _encode(data))
        except OSError as err:
            if kind == "panic":
                self.stderr.write(data)
                raise LogFailure("exim: could not open panic log - aborting: "
                                 "see message(s) above") from err
            what = "main" if kind == "main" else "reject"
            reason = ('Cannot open %s log file "%s": %s: euid=%d egid=%d'
                      % (what, self.file_name(kind, now), os.strerror(err.errno or 0),
                         os.geteuid(), os.getegid()))
            self.stderr.write(self.prefix(now) + reason + "\n")
            self._write_file("panic", self.prefix(now) + reason + "\n", now)

    def _write_syslog(self, flags: Flags, text: str, message_id: str | None, now: float,
                      reject_details: str) -> None:
        sl = self._syslog
        body = self.prefix(now, message_id, self.syslog_timestamp)
        if "pid" in self.selectors and self.syslog_pid:
            body = body.replace("[%d] " % self.pid, "", 1)
        body += text
        jobs = []
        if flags & Flags.MAIN:
            jobs.append((sl.LOG_INFO, body))
        if flags & Flags.REJECT and (self.syslog_duplication or not flags & Flags.MAIN):
            jobs.append((sl.LOG_NOTICE, body + ("\n" + reject_details if reject_details
                                                 else "")))
        if flags & Flags.PANIC and (self.syslog_duplication or not flags & Flags.MAIN):
            jobs.append((sl.LOG_ALERT, body))
        for priority, entry in jobs:
            for part in syslog_parts(entry):
                sl.syslog(priority, part)

    def close(self) -> None:
        for _name, fd in self._files.values():
            os.close(fd)
        self._files.clear()


def _encode(text: str) -> bytes:
    """Log text is a byte string in str (latin-1); real Unicode goes out as UTF-8."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape")


def _facility(syslog_mod, name: str | None) -> int:
    if not name:
        return syslog_mod.LOG_MAIL
    name = name[4:] if name[:4].lower() == "log_" else name
    return getattr(syslog_mod, "LOG_" + name.upper())
