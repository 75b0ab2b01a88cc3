"""Writing a message out as transports send it (Exim's transport_write_message()).

Every transport that copies the message somewhere (appendfile, pipe, smtp,
lmtp, the bounce writer) goes through ``write_message`` so the added and
removed headers, the rewriting and the line-start escaping are the same
everywhere.  The order is Exim's: Return-path:, Envelope-to:, Delivery-date:,
the message's headers (less deleted ones and those named by the router's and
transport's headers_remove, rewritten by headers_rewrite), the router's added
headers, the transport's headers_add, a blank line, then the body streamed in
chunks from the -D file.  ``transport_filter`` runs the whole of that through
a command first; the escaping and CRLF conversion apply to what it outputs.
"""

from __future__ import annotations

import errno as _errno
import os
import selectors
import signal
import subprocess
import time
from collections.abc import Callable, Iterator

from pexim.delivery import errors as E
from pexim.expand import ExpansionError, ForcedFail, expand_string
from pexim.expand.variables import tod
from pexim.lists import iter_list
from pexim.message.envelope import HTYPE_OLD
from pexim.message.ids import SPOOL_DATA_START_OFFSET

CHUNK = 65536                   # Exim's DELIVER_IN_BUFFER_SIZE is 8K; bigger is fine


class WriteError(Exception):
    """The message could not be written: Exim's FALSE return with errno set.

    ``basic_errno`` is a real errno or one of Exim's ERRNO_* (delivery.errors),
    ``more_errno`` e.g. the filter's exit status; ``str()`` says what failed."""

    def __init__(self, basic_errno: int, text: str = "", more_errno: int = 0):
        super().__init__(text)
        self.basic_errno = basic_errno
        self.more_errno = more_errno


def encode(text: str) -> bytes:
    """Header and option text is a byte string held in str (latin-1)."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape")


class LineWriter:
    """Exim's write_chunk(): CRLF conversion and start-of-line escaping.

    The check string (``From `` for mbox, ``.`` for SMTP) is replaced by the
    escape string wherever it starts a line while checking is active; a
    possible match cut by a chunk boundary is held back until the next chunk.
    """

    def __init__(self, out: Callable[[bytes], None], crlf: bool = False,
                 check: bytes = b"", escape: bytes = b""):
        self.out = out
        self.crlf = crlf
        self.check = check if check and escape else b""
        self.escape = escape
        self.active = False         # checking applies now (headers only for SMTP)
        self.bol = False            # the next byte starts a line that may be checked
        self.pending = b""          # a partial check match held back
        self.last = -1              # last byte written
        self.count = 0

    def start_body(self) -> None:
        """The body's first line is checked even when nothing precedes it."""
        self.active = True
        self.bol = True

    def stop(self) -> None:
        """End of escaping (before the SMTP terminating dot)."""
        self.flush_pending()
        self.active = False

    def flush_pending(self) -> None:
        if self.pending:
            p, self.pending = self.pending, b""
            self._emit([p])

    def _emit(self, parts: list[bytes]) -> None:
        data = b"".join(parts)
        if data:
            self.out(data)
            self.count += len(data)
            self.last = data[-1]

    def write(self, data: bytes) -> None:
        if not data:
            return
        check = self.check if self.active else b""
        if not check and not self.crlf:
            self._emit([data])
            self.bol = data[-1] == 0x0A
            return
        if self.pending:
            data, self.pending, self.bol = self.pending + data, b"", True
        parts: list[bytes] = []
        last = self.last
        i, n = 0, len(data)
        while i < n:
            if self.bol and check:
                self.bol = False
                if data.startswith(check, i):
                    parts.append(self.escape)
                    i += len(check)
                    continue
                if n - i < len(check) and check.startswith(data[i:]):
                    self.pending = data[i:]
                    break
            j = data.find(b"\n", i)
            if j < 0:
                parts.append(data[i:])
                last = data[-1]
                self.bol = False
                break
            seg = data[i:j]
            parts.append(seg)
            if self.crlf and (seg[-1] if seg else last) != 0x0D:
                parts.append(b"\r\n")
            else:
                parts.append(b"\n")
            last = 0x0A
            i = j + 1
            self.bol = True
        self._emit(parts)


# --- the header section -------------------------------------------------------

def _expand(text: str, ctx) -> str | None:
    """Expand one headers_add/headers_remove item; None for a forced failure."""
    try:
        return expand_string(text, ctx)
    except ForcedFail:
        return None
    except ExpansionError as e:
        raise WriteError(E.CHHEADER_FAIL, f"failed to expand headers_add or "
                         f"headers_remove: {e}") from e


def _removed(text: str, names: list[str]) -> bool:
    """headers_remove matching: a name (caseless, then optional space and a
    colon) or a prefix ending in ``*``."""
    low = text.lower()
    for name in names:
        if not name:
            continue
        if name.endswith("*"):
            if low.startswith(name[:-1].lower()):
                return True
            continue
        if low.startswith(name.lower()):
            rest = text[len(name):].lstrip(" \t")
            if rest.startswith(":"):
                return True
    return False


def _envelope_to(addrs) -> str:
    """Envelope-to: the top ancestors of the batch, each once (write_env_to())."""
    seen: list = []
    out: list[str] = []
    for a in addrs:
        top = a.top
        if any(top is s for s in seen):
            continue
        seen.append(top)
        out.append(top.address)
    return "Envelope-to: " + ",\n ".join(out) + "\n"


def header_section(tp, message, addrs, ctx, *, return_path: str,
                   extra_headers: list[str] | None = None, now: float | None = None
                   ) -> Iterator[str]:
    """The header lines as they go out, ending with the blank separator line
    (Exim's transport_headers_send() with the added lines before it)."""
    get = tp.get if tp is not None else (lambda _o: None)
    for h in extra_headers or ():
        yield h if h.endswith("\n") else h + "\n"
    if get("return_path_add"):
        yield f"Return-path: <{return_path}>\n"
    if get("envelope_to_add") and addrs:
        yield _envelope_to(addrs)
    if get("delivery_date_add"):
        yield f"Delivery-date: {tod('full', now)}\n"

    tp_remove: list[str] = []
    for item in iter_list(get("headers_remove") or "", ":"):
        s = _expand(item, ctx)
        if s:
            tp_remove.append(s)
    addr = addrs[0] if addrs else None
    addr_remove = [s for spec in (addr.remove_headers if addr else ())
                   for s in iter_list(spec, ":")]
    rewriter = _header_rewriter(tp, message) if get("headers_rewrite") else None
    for h in message.headers:
        if h.type == HTYPE_OLD:
            continue
        if _removed(h.text, tp_remove) or _removed(h.text, addr_remove):
            continue
        if rewriter is not None:
            from pexim.transports.header_rewrite import rewrite_header
            new = rewrite_header(h, rewriter)
            if new is not None:
                yield new
                continue
        yield h.text
    if addr is not None:
        for h in addr.extra_headers:
            yield h if h.endswith("\n") else h + "\n"
    for item in iter_list(get("headers_add") or "", "\n"):
        s = _expand(item, ctx)
        if s:
            yield s if s.endswith("\n") else s + "\n"
    yield "\n"


def _header_rewriter(tp, message):
    from pexim.config.rewrite import parse_rewrite_rule
    from pexim.message.rewrite import Rewriter

    rules = []
    for line in iter_list(tp.get("headers_rewrite"), ":"):
        rules.append(parse_rewrite_rule(line, lambda m: ValueError(m), is_global=False))
    config = message.config
    qualify = config.main.get("qualify_recipient") if config is not None else ""
    return Rewriter(rules, qualify or "", message.context() if config is not None else None)


# --- the body -------------------------------------------------------------------

def _body_chunks(message, size_limit: int = 0) -> Iterator[bytes]:
    """The body in chunks: straight from the -D file unless held in memory."""
    left = size_limit if size_limit > 0 else -1
    if message._body is not None:
        body = message._body if left < 0 else message._body[:left]
        for i in range(0, len(body), CHUNK):
            yield body[i:i + CHUNK]
        return
    with open(message.body_path, "rb") as fh:
        fh.seek(SPOOL_DATA_START_OFFSET)
        while left != 0:
            data = fh.read(CHUNK if left < 0 else min(CHUNK, left))
            if not data:
                return
            if left > 0:
                left -= len(data)
            yield data


def _write_internal(tp, message, addrs, ctx, w: LineWriter, *, escape_headers: bool,
                    end_dot: bool, return_path: str, extra_headers, size_limit: int,
                    now: float | None) -> None:
    get = tp.get if tp is not None else (lambda _o: None)
    w.active = escape_headers
    if not get("body_only"):
        for line in header_section(tp, message, addrs, ctx, return_path=return_path,
                                   extra_headers=extra_headers, now=now):
            w.write(encode(line))
    if not get("headers_only"):
        w.start_body()
        for chunk in _body_chunks(message, size_limit):
            w.write(chunk)
    w.stop()
    if end_dot:
        w.write(b".\n")


# --- transport_filter -------------------------------------------------------------

def filter_argv(tp, ctx, command: str) -> list[str]:
    """The filter command split into arguments, then each one expanded
    (transport_set_up_command())."""
    from pexim.transports.command import CommandError, set_up_command
    try:
        return set_up_command(command, ctx, f"{tp.name} transport")
    except CommandError as e:
        raise WriteError(E.EXPANDFAIL, str(e)) from e


def _write_filtered(tp, message, addrs, ctx, w: LineWriter, argv: list[str], *,
                    end_dot: bool, return_path: str, extra_headers, size_limit: int,
                    now: float | None) -> None:
    """Run the message through the filter; its output goes through ``w``."""
    timeout = tp.get("transport_filter_timeout") or 300
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, close_fds=True,
                                start_new_session=True, cwd="/",
                                preexec_fn=lambda: os.umask(0o77))
    except OSError as e:
        raise WriteError(e.errno or _errno.ENOENT,
                         f"Failed to create child process for transport filter: "
                         f"{os.strerror(e.errno or 0)}") from e
    # The message goes in from a thread so a filter that writes before
    # reading everything cannot deadlock us (Exim forks a writer process).
    import threading

    feed_error: list[BaseException] = []

    def feed() -> None:
        inner = LineWriter(proc.stdin.write)
        try:
            _write_internal(tp, message, addrs, ctx, inner, escape_headers=False,
                            end_dot=False, return_path=return_path,
                            extra_headers=extra_headers, size_limit=size_limit, now=now)
        except BrokenPipeError:
            pass
        except BaseException as e:  # noqa: BLE001 - reported after the filter ends
            feed_error.append(e)
        finally:
            try:
                proc.stdin.close()
            except OSError:
                pass

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    w.active = True
    w.bol = False
    last_nl = True
    deadline = time.monotonic() + timeout
    fd = proc.stdout.fileno()
    sel = selectors.DefaultSelector()
    sel.register(fd, selectors.EVENT_READ)
    timed_out = False
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not sel.select(left):
                timed_out = True
                break
            data = os.read(fd, CHUNK)
            if not data:
                break
            w.write(data)
            last_nl = data.endswith(b"\n")
            deadline = time.monotonic() + timeout
    finally:
        sel.close()
        if timed_out:
            _kill(proc)
        proc.stdout.close()
    writer.join(30)
    rc = _reap(proc)
    if timed_out:
        raise WriteError(_errno.ETIMEDOUT, "transport filter timed out")
    if rc != 0:
        raise WriteError(E.FILTER_FAIL, f"transport filter process failed ({rc})",
                         more_errno=rc)
    if feed_error:
        e = feed_error[0]
        if isinstance(e, WriteError):
            raise e
        raise WriteError(getattr(e, "errno", 0) or E.FILTER_FAIL, str(e)) from e
    w.stop()
    if end_dot:
        w.write(b".\n" if last_nl else b"\n.\n")


def _kill(proc) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass


def _reap(proc) -> int:
    """The exit status as child_close() gives it: negative for a signal."""
    try:
        rc = proc.wait(30)
    except subprocess.TimeoutExpired:
        _kill(proc)
        rc = proc.wait()
    return rc


# --- the entry point ------------------------------------------------------------------

def transport_return_path(tp, message, addr, ctx=None) -> str:
    """$return_path for this delivery: the transport's return_path, expanded,
    or the address's errors_to, or the sender."""
    rp = (addr.errors_address if addr is not None and addr.errors_address is not None
          else message.sender)
    opt = tp.get("return_path") if tp is not None else None
    if opt:
        c = ctx if ctx is not None else message.context(addr)
        c.values["return_path"] = rp
        try:
            rp = expand_string(opt, c)
        except ForcedFail:
            pass
        except ExpansionError as e:
            raise WriteError(E.EXPANDFAIL, f'Failed to expand return path "{opt}" in '
                             f"{tp.name} transport: {e}") from e
    return rp


def write_message(tp, message, addrs, tctx, out: Callable[[bytes], None], *,
                  crlf: bool = False, dot_stuff: bool = False,
                  escape: tuple[bytes, bytes] | None = None,
                  extra_headers: list[str] | None = None,
                  return_path: str | None = None, ctx=None, size_limit: int = 0,
                  escape_headers: bool = False) -> int:
    """Write the message to ``out`` as transport ``tp`` sends it; returns the
    number of bytes written.

    ``escape`` is (check_string, escape_string) for the body (mbox From
    escaping, BSMTP dots).  ``dot_stuff`` is SMTP DATA: leading dots doubled in
    headers and body, and the terminating ``.`` line added.  ``extra_headers``
    are written before everything else (e.g. a DKIM-Signature:).
    ``return_path`` defaults to transport_return_path(); ``ctx`` is the
    expansion context for headers_add/headers_remove (default: the message's,
    for the first address).  ``escape_headers`` applies ``escape`` to the
    header lines too (BSMTP).  Raises WriteError (Exim's errno) on failure;
    errors from ``out`` itself propagate.
    """
    addr = addrs[0] if addrs else None
    if ctx is None:
        ctx = message.context(addr)
    if return_path is None:
        return_path = transport_return_path(tp, message, addr, ctx)
    ctx.values.setdefault("return_path", return_path)
    now = getattr(tctx, "now", None)
    if dot_stuff:
        check, esc = b".", b".."
    elif escape:
        check, esc = escape
    else:
        check, esc = b"", b""
    w = LineWriter(out, crlf, check, esc)
    kw = dict(return_path=return_path, extra_headers=extra_headers,
              size_limit=size_limit, now=now)
    command = tp.get("transport_filter") if tp is not None else None
    if command:
        argv = filter_argv(tp, ctx, command)
        if argv:
            _write_filtered(tp, message, addrs, ctx, w, argv, end_dot=dot_stuff, **kw)
            return w.count
    _write_internal(tp, message, addrs, ctx, w, escape_headers=dot_stuff or escape_headers,
                    end_dot=dot_stuff, **kw)
    return w.count
