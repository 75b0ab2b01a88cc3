"""The SMTP server side as a sans-IO state machine (Exim's smtp_in.c).

Bytes go in through `feed()`/`feed_eof()`; reply bytes come out of `feed()`.
Everything that is policy or environment is asked of a *hooks* object, so the
machine itself does no I/O and holds only protocol state:

    hooks.check_host(option)     -> bool   host list option matches the client
    hooks.helo_lookup(name)      -> bool   name is in helo_lookup_domains
    hooks.acl(where, recipient)  -> (rc, user_msg, log_msg), or None if unset
    hooks.log(text, reject=False, panic=False, selector=None)
    hooks.debug(text)                       a `-bh` trace line
    hooks.set_vars(**values)                expansion variables of the session
    hooks.reset_message()                   forget per-message ACL state
    hooks.receive(envelope, data)  -> bytes the reply(ies) after the data
    hooks.vrfy(address)            -> bytes the VRFY reply
    hooks.expn(address)            -> bytes the EXPN output
    hooks.no_multiline()           -> bool  control = no_multiline_responses
    hooks.pipelining_disabled()    -> bool  control = no_pipelining
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pexim.acl import where as W
from pexim.message.address import Options as AddressOptions
from pexim.message.address import parse_extract_address
from pexim.smtp.replies import message_code, respond

CMD_BUFFER_SIZE = 16384
INT_MAX = 2**31 - 1

# Commands that do not count towards smtp_accept_max_nonmail (is_mail_cmd).
_MAIL_CMDS = {"auth", "mail from:", "rcpt to:", "data", "bdat", "quit"}
_COMMANDS = ("rset", "helo", "ehlo", "auth", "starttls", "mail from:", "rcpt to:", "data",
             "bdat", "quit", "noop", "etrn", "vrfy", "expn", "help")
_HAS_ARG = {"helo", "ehlo", "auth", "mail from:", "rcpt to:", "bdat", "noop", "etrn", "vrfy",
            "expn", "help"}
_HISTORY_NAMES = {"auth": "AUTH", "data": "DATA", "bdat": "BDAT", "ehlo": "EHLO",
                  "etrn": "ETRN", "expn": "EXPN", "helo": "HELO", "help": "HELP",
                  "mail from:": "MAIL", "noop": "NOOP", "quit": "QUIT", "rcpt to:": "RCPT",
                  "rset": "RSET", "starttls": "STARTTLS", "vrfy": "VRFY"}


@dataclass
class Settings:
    """The main options the session reads, already expanded/typed."""

    active_hostname: str
    host_address: str | None
    message_size_limit: int = 52428800
    accept_8bitmime: bool = True
    prdr_enable: bool = False
    max_unknown_commands: int = 3
    max_synprot_errors: int = 3
    accept_max_nonmail: int = 10
    accept_max_per_connection: int = 1000
    recipients_max: int = 50000
    recipients_max_reject: bool = False
    helo_allow_chars: str = ""
    etrn_command: str | None = None
    has_acl: dict[str, bool] = field(default_factory=dict)
    address_options: AddressOptions = field(default_factory=AddressOptions)


@dataclass
class Envelope:
    sender: str
    recipients: list[str]
    protocol: str
    helo_name: str | None
    size: int = -1
    body_type: int = 0
    smtputf8: bool = False
    dsn_ret: str | None = None
    dsn_envid: str | None = None
    chunking: bool = False          # received with BDAT (the K of the <= line)
    rcpt_dsn: list = field(default_factory=list)   # (RF_* NOTIFY flags, ORCPT) per recipient


def _notify_flags(notify: str | None) -> int:
    """NOTIFY= as the -H file's rf_notify_* bits."""
    from pexim.message.envelope import (
        RF_NOTIFY_DELAY,
        RF_NOTIFY_FAILURE,
        RF_NOTIFY_NEVER,
        RF_NOTIFY_SUCCESS,
    )
    if not notify:
        return 0
    bits = {"NEVER": RF_NOTIFY_NEVER, "SUCCESS": RF_NOTIFY_SUCCESS,
            "FAILURE": RF_NOTIFY_FAILURE, "DELAY": RF_NOTIFY_DELAY}
    flags = 0
    for part in notify.upper().split(","):
        flags |= bits.get(part, 0)
    return flags


def _strtoul(text: str) -> int | None:
    """strtoul(text, &end, 10) when it consumes the whole text, else None."""
    t = text.lstrip(" \t\n\r\v\f")
    neg = t[:1] == "-"
    if t[:1] in "+-" and t:
        t = t[1:]
    if not t or not t.isascii() or not t.isdigit():
        return None
    value = int(t)
    if value > 2**64 - 1:
        return 2**64 - 1
    return (2**64 - value) % 2**64 if neg else value


def _header_lf_fixup(lines: list[bytes], crlf: list[bool]) -> list[bytes]:
    """receive_msg()'s header loop: when the first line ended in CRLF, a line it
    reads that ends in a bare LF pushes a space back into the input, so the next
    line starts with one (a continuation, or the body's first line).  The loop
    reads up to the blank line or the first line that is no header."""
    if not lines or not crlf or not crlf[0]:
        return lines
    out = list(lines)
    for i in range(len(out)):
        line = out[i]
        if line == b"":
            ends = True
        elif line[:1] in (b" ", b"\t"):
            ends = i == 0
        else:
            name, colon, _ = line.partition(b":")
            ends = not (colon and name and all(33 <= c <= 126 for c in name))
        if not crlf[i] and i + 1 < len(out):
            out[i + 1] = b" " + out[i + 1]
        if ends:
            break
    return out


def _message_total(lines: list[bytes]) -> int:
    """receive_msg()'s message_size + message_linecount for LF-ended lines: a
    blank line is added when the body starts without one."""
    total = sum(len(line) + 1 for line in lines) + len(lines)
    seen_header = False
    for line in lines:
        if line == b"":
            break
        if line[:1] in (b" ", b"\t") and seen_header:
            continue
        name, colon, _ = line.partition(b":")
        if colon and name and all(33 <= c <= 126 for c in name):
            seen_header = True
            continue
        total += 1
        break
    return total


class SmtpServer:
    """One SMTP connection's protocol state."""

    def __init__(self, settings: Settings, hooks):
        self.s = settings
        self.h = hooks
        self._buf = b""
        self._out: list[bytes] = []
        self.closed = False
        self.in_data = False
        self._data_after_crlf = True
        self._data: list[bytes] = []
        self._data_crlf: list[bool] = []
        self.history: list[str] = []
        self.helo_name: str | None = None
        self.helo_seen = False
        self.esmtp = False
        self.helo_required = False
        self.helo_accept_junk = False
        self.allow_unqualified_sender = False
        self.allow_unqualified_recipient = False
        self.count_nonmail: bool | None = None
        self.nonmail_count = 0
        self.unknown_count = 0
        self.synprot_count = 0
        self.mail_count = 0
        self.pipelining_advertised = False
        self.dsn_advertised = False
        self.smtputf8_advertised = False
        self.chunking_advertised = False
        self.tls_advertised = False
        self._bdat_left = 0             # bytes of the current chunk still to come
        self._bdat_flush = False        # discarding them (refused BDAT)
        self._bdat_last = False
        self._bdat_size = 0
        self._bdat_chunks: list[bytes] = []
        self._bdat_wait: str | None = None   # "next" / "rset": a command between chunks
        self._bdat_fromline = False
        self.pipe_connect = False
        self.mail_cmds = set(_MAIL_CMDS)
        self.protocol = "smtp"
        self.last_was_rej_mail = False
        self.last_was_rcpt = False
        self._reset_message()
        self.mail_cmds.update({"rset", "helo", "ehlo", "starttls"})

    # --- I/O surface ----------------------------------------------------------

    def start(self) -> bytes:
        """Host checks, the connect ACL and the banner (smtp_start_session)."""
        h = self.h
        h.check_host("host_lookup")
        if h.check_host("host_reject_connection"):
            h.log("refused connection from %s (host_reject_connection)"
                  % self.host_and_ident(False), reject=True)
            self._send(b"554 SMTP service not available\r\n")
            self.closed = True
            return self._take()
        self.allow_unqualified_sender = h.check_host("sender_unqualified_hosts")
        self.allow_unqualified_recipient = h.check_host("recipient_unqualified_hosts")
        self.helo_required = h.check_host("helo_verify_hosts")
        self.helo_verify = False if self.helo_required else h.check_host("helo_try_verify_hosts")
        self.helo_accept_junk = h.check_host("helo_accept_junk_hosts")
        h.check_host("hosts_proxy")
        self.cmd_data = None
        outcome = h.acl(W.CONNECT, None)
        user_msg = None
        if outcome is not None:
            rc, user_msg, log_msg = outcome
            if rc != W.OK:
                self._acl_fail(W.CONNECT, rc, user_msg, log_msg)
                self.closed = True
                return self._take()
        code = "220"
        if user_msg is None:
            text = h.banner()
        else:
            code, text, _ = message_code(code, user_msg, True)
        text = text.rstrip(" \t\n\r\v\f")
        self.pipe_connect = h.check_host("pipelining_connect_advertise_hosts")
        lines = text.split("\n")
        out = []
        for i, line in enumerate(lines):
            sep = "-" if i < len(lines) - 1 else " "
            out.append("%s%s%s%s\r\n" % (code[:3], sep, code[4:] if len(code) > 4 else "",
                                          line))
        self._send("".join(out).encode("latin-1", "replace"))
        return self._take()

    def feed(self, data: bytes) -> bytes:
        self._buf += data
        while not self.closed:
            if self._bdat_left:
                if not self._buf:
                    break
                take = self._buf[:self._bdat_left]
                self._buf = self._buf[len(take):]
                self._bdat_left -= len(take)
                if not self._bdat_flush:
                    self._bdat_chunks.append(take)
                    if not self._bdat_fromline:
                        # receive_msg() looks for a "From " line once it has read
                        # the character after the first line
                        got = b"".join(self._bdat_chunks)
                        nl = got.find(b"\n")
                        if 0 <= nl < len(got) - 1:
                            self._bdat_fromline_check()
                            if not self._bdat_crlf_check():
                                continue
                if not self._bdat_left:
                    self._bdat_chunk_done()
                continue
            nl = self._buf.find(b"\n")
            if not self.in_data and (nl > CMD_BUFFER_SIZE
                                     or nl < 0 and len(self._buf) > CMD_BUFFER_SIZE):
                # smtp_read_command() gives up after 16384 characters (the next
                # one is consumed); the rest of the line is the next command.
                line, self._buf = self._buf[:CMD_BUFFER_SIZE], self._buf[CMD_BUFFER_SIZE + 1:]
                self._command(line, overlong=True)
                continue
            if nl < 0:
                break
            line, self._buf = self._buf[:nl], self._buf[nl + 1:]
            if self.in_data:
                self._data_line(line)
            elif self._bdat_wait:
                self._bdat_command(line)
            else:
                self._command(line)
        return self._take()

    def feed_eof(self) -> bytes:
        if not self.closed:
            if self._bdat_wait or self._bdat_left and not self._bdat_flush:
                self._bdat_abort()
                self.h.log("SMTP connection from %s lost while reading message data "
                           "(after header)" % self.host_and_ident(False),
                           selector="lost_incoming_connection")
                self._send(b"421 Lost incoming connection\r\n")
            elif self.in_data:
                self.h.log("SMTP data timeout (message abandoned) on connection from %s"
                           % self.host_and_ident(False))
            else:
                self._notquit("connection-lost", "421",
                              "%s lost input connection" % self.s.active_hostname)
                if self.sender is not None or self.recipients:
                    self.h.log("unexpected disconnection while reading SMTP command "
                               "from %s D=0s" % self.host_and_ident(False))
            self.closed = True
        return self._take()

    def _send(self, b: bytes) -> None:
        self._out.append(b)

    def _take(self) -> bytes:
        out = b"".join(self._out)
        self._out.clear()
        return out

    # --- helpers ----------------------------------------------------------------

    def fullhost(self) -> str:
        ip = self.s.host_address
        if ip is None:
            return ""
        if self.helo_name:
            return "(%s) [%s]" % (self.helo_name, ip)
        return "[%s]" % ip

    def host_and_ident(self, with_h: bool) -> str:
        """Exim's host_and_ident(): "H=(helo) [ip]", or "U=login" for a local session."""
        if self.s.host_address is None:
            return ("U=" if with_h else "") + (getattr(self.h, "ident", None) or "")
        return ("H=" if with_h else "") + self.fullhost()

    def _reset_message(self) -> None:
        self.sender: str | None = None
        self.recipients: list[str] = []
        self.rcpt_dsn: list[tuple[int, str | None]] = []
        self.rcpt_count = self.rcpt_fail_count = self.rcpt_defer_count = 0
        self.rcpt_response: str | None = None
        self.rcpt_response_same = True
        self.rcpt_in_progress = False
        self.toomany = False
        self.discarded = False
        self.recipients_discarded = False
        self.message_size = -1
        self.body_type = 0
        self.smtputf8 = False
        self.dsn_ret = None
        self.dsn_envid = None
        self.prdr_requested = False

    def _reset(self) -> None:
        self._reset_message()
        self.h.reset_message()
        self.h.set_vars(sender_address=None, recipients_count=0, rcpt_count=0)

    def _reply(self, b: bytes) -> None:
        """Every reply passes here so the "all RCPTs had the same error" check sees it."""
        if self.rcpt_in_progress:
            text = b.decode("latin-1")
            if self.rcpt_response is None:
                self.rcpt_response = text
            elif self.rcpt_response_same and self.rcpt_response != text:
                self.rcpt_response_same = False
            self.rcpt_in_progress = False
        self._send(b)

    def _respond(self, code: str, final: bool, msg: str) -> None:
        if self.rcpt_in_progress:
            if self.rcpt_response is None:
                self.rcpt_response = msg
            elif self.rcpt_response_same and self.rcpt_response != msg:
                self.rcpt_response_same = False
            self.rcpt_in_progress = False
        self._send(respond(code, final, msg, self.h.no_multiline()))

    def _user_msg(self, code: str, msg: str) -> None:
        code, msg, _ = message_code(code, msg, True)
        self._respond(code, True, msg)

    def _connhad(self) -> str:
        hist = self.history[-20:]
        sep = " C=..." if len(self.history) >= 20 else " C="
        return sep + ",".join(hist) if hist else "NULL"   # exim prints a NULL string

    def _synprot_error(self, syntax: bool, code: int, data: str | None, errmess: str) -> bool:
        """synprot_error(): True when the error limit is passed (connection drops)."""
        self.h.log('SMTP %s error in "%s" %s %s' % (
            "syntax" if syntax else "protocol", self.cmd_buffer,
            self.host_and_ident(True), errmess),
            selector="smtp_syntax_error" if syntax else "smtp_protocol_error")
        drop = False
        self.synprot_count += 1
        if self.synprot_count > self.s.max_synprot_errors:
            drop = True
            self.h.log('SMTP call from %s dropped: too many syntax or protocol errors '
                       '(last command was "%s", %s)' % (
                           self.host_and_ident(False), self.cmd_buffer, self._connhad()),
                       reject=True)
        if code > 0:
            self._reply(("%d%s%s%s\r\n" % (code, "-" if drop else " ",
                                           (data + ": ") if data else "", errmess)
                         ).encode("latin-1", "replace"))
            if drop:
                self._reply(b"%d Too many syntax or protocol errors\r\n" % code)
        if drop:
            self.closed = True
        return drop

    def _acl_fail(self, where: str, rc: str, user_msg, log_msg) -> bool:
        """smtp_handle_acl_fail(): reply and log a refusal; True if dropping."""
        drop = rc == W.FAIL_DROP
        if drop:
            rc = W.FAIL
        code = W.CODES[where] if rc == W.FAIL else "451"
        log_is_user = log_msg is not None and log_msg == user_msg
        code, user_msg2, panic = message_code(code, user_msg, where != W.VRFY)
        if panic:
            self.h.log(panic, panic=True)
            if log_is_user:
                log_msg = "%s %s" % (code, user_msg2)
        user_msg = user_msg2
        if where == W.PREDATA:
            what = "DATA"
        elif where == W.DATA:
            what = "after DATA"
        else:
            place = self.cmd_data if self.cmd_data is not None else 'in "connect" ACL'
            what = "%s %s" % (W.NAMES[where], place[:100])
        sender_info = ""
        if where in (W.RCPT, W.DATA):
            sender_info = "F=<%s> " % (self.sender or "")
        self.h.sender_verify_report(rc, code, self._respond)
        log_text = (": " + log_msg) if log_msg else ""
        log_text = log_text.split("\n", 1)[0]
        if rc == W.FAIL:
            self._respond(code, True, user_msg if user_msg else "Administrative prohibition")
        elif self.h.temp_details() and user_msg:
            self._respond(code, True, user_msg)
        else:
            self._respond(code, True, "Temporary local problem - please try later")
        self.h.log_reject("%s %s%srejected %s%s" % (
            self.host_and_ident(True), sender_info, "" if rc == W.FAIL else "temporarily ",
            what, log_text), where)
        if drop:
            self.h.log("%s closed by DROP in ACL" % self.connection_info(),
                       selector="smtp_connection")
            self._notquit("acl-drop", None, None)
            self.closed = True
        return drop

    def connection_info(self) -> str:
        return "SMTP connection from %s" % (self.fullhost() or self.s.host_address)

    def _notquit(self, reason: str | None, code: str | None, default: str | None) -> None:
        user_msg = None
        if reason is not None:
            self.h.set_vars(smtp_notquit_reason=reason)
            outcome = self.h.acl(W.NOTQUIT, None)
            if outcome is not None:
                rc, user_msg, log_msg = outcome
                if rc == W.ERROR:
                    self.h.log("ACL for not-QUIT returned ERROR: %s" % log_msg, panic=True)
        if code and default:
            if user_msg:
                self._respond(code, True, user_msg)
            else:
                self._send(("%s %s\r\n" % (code, default)).encode("latin-1", "replace"))

    # --- command reading ----------------------------------------------------------

    def _identify(self, raw: bytes, overlong: bool = False):
        """smtp_read_command(): (command key or special, argument text)."""
        if overlong:
            self.cmd_buffer = raw[:CMD_BUFFER_SIZE].decode("latin-1")
            return "OTHER", ""
        hadnull = b"\0" in raw
        text = raw.replace(b"\0", b"?").decode("latin-1").rstrip(" \t\n\r\v\f")
        self.cmd_buffer = text
        self.h.set_vars(smtp_command=text)
        if hadnull:
            return "BADCHAR", ""
        low = text.lower()
        for name in _COMMANDS:
            n = len(name)
            if low.startswith(name) and (name[-1] == ":" or len(text) == n or text[n] == " "):
                arg = text[n:].lstrip(" \t\n\r\v\f")
                self.h.set_vars(smtp_command_argument=arg)
                if name not in self.mail_cmds:
                    if self.count_nonmail is None:
                        self.count_nonmail = self.h.check_host("smtp_accept_max_nonmail_hosts")
                    if self.count_nonmail:
                        self.nonmail_count += 1
                        if self.nonmail_count > self.s.accept_max_nonmail:
                            return "TOO_MANY_NONMAIL", arg
                if name not in _HAS_ARG and arg:
                    return "BADARG", arg
                return name, arg
        return "OTHER", ""

    def _command(self, raw: bytes, overlong: bool = False) -> None:
        cmd, arg = self._identify(raw, overlong)
        self.cmd_data = arg
        was_rej_mail = was_rcpt = False
        if cmd in _HISTORY_NAMES:
            self.history.append(_HISTORY_NAMES[cmd])
        if cmd == "mail from:":
            was_rej_mail = self._cmd_mail(arg)
        elif cmd == "rcpt to:":
            was_rej_mail, was_rcpt = self._cmd_rcpt(arg)
        elif cmd in _COMMANDS:
            getattr(self, "_cmd_" + cmd)(arg)
        else:
            self._cmd_other(cmd, arg)
        self.last_was_rej_mail = was_rej_mail
        self.last_was_rcpt = was_rcpt

    def _cmd_other(self, cmd: str, arg: str) -> None:
        if cmd == "BADARG":
            self._synprot_error(True, 501, None, "unexpected argument data")
        elif cmd == "BADCHAR":
            self._synprot_error(True, 0, None, "NUL character(s) present (shown as '?')")
            self._reply(b"501 NUL characters are not allowed in SMTP commands\r\n")
        elif cmd == "TOO_MANY_NONMAIL":
            first = self.cmd_buffer.split(None, 1)[0] if self.cmd_buffer.strip() else ""
            self.h.log('SMTP call from %s dropped: too many nonmail commands (last was "%s")'
                       % (self.host_and_ident(False), first), reject=True)
            self._notquit("bad-commands", "554", "Too many nonmail commands")
            self.closed = True
        else:
            if self.unknown_count >= self.s.max_unknown_commands:
                self.unknown_count += 1
                self.h.log('SMTP syntax error in "%s" %s unrecognized command' % (
                    self.cmd_buffer, self.host_and_ident(True)), selector="smtp_syntax_error")
                self._notquit("bad-commands", "500", "Too many unrecognized commands")
                self.h.log('SMTP call from %s dropped: too many unrecognized commands '
                           '(last was "%s")' % (self.host_and_ident(False), self.cmd_buffer),
                           reject=True)
                self.closed = True
            else:
                self.unknown_count += 1
                self._synprot_error(True, 500, None, "unrecognized command")

    # --- HELO/EHLO ------------------------------------------------------------------

    def _check_helo(self, s: str) -> bool:
        self.helo_name = None
        ok = self.helo_accept_junk
        if not ok:
            if s.startswith("["):
                if s.endswith("]"):
                    from pexim.expand.ip import is_ip_address
                    inner = s[1:-1]
                    if inner[:5].lower() == "ipv6:":
                        ok = is_ip_address(inner[5:])[0] == 6
                    elif inner[:5].lower() == "ipv4:":
                        ok = is_ip_address(inner[5:])[0] == 4
                    else:
                        ok = bool(is_ip_address(inner)[0])
            elif s:
                ok = all(c.isalnum() and c.isascii() or c in ".-" or c in self.s.helo_allow_chars
                         for c in s)
        if ok:
            self.helo_name = s
        return ok

    def _cmd_helo(self, arg: str, hello: str = "HELO") -> None:
        self.esmtp = hello == "EHLO"
        self.mail_cmds.discard("helo")
        self.mail_cmds.discard("ehlo")
        h = self.h
        if not self._check_helo(arg):
            self._reply(("501 Syntactically invalid %s argument(s)\r\n" % hello).encode())
            h.log("rejected %s from %s: syntactically invalid argument(s): %s" % (
                hello, self.host_and_ident(False),
                self.cmd_argument_or_none()), reject=True)
            h.set_vars(sender_helo_name=None, sender_fullhost=self.fullhost())
            self.synprot_count += 1
            if self.synprot_count > self.s.max_synprot_errors:
                h.log('SMTP call from %s dropped: too many syntax or protocol errors '
                      '(last command was "%s", %s)' % (
                          self.host_and_ident(False), self.cmd_buffer, self._connhad()),
                      reject=True)
                self.closed = True
            return
        first = self.helo_name.split(None, 1)[0] if self.helo_name.strip() else ""
        self.helo_name = first
        h.helo_lookup(self.helo_name)
        h.set_vars(sender_helo_name=self.helo_name, sender_fullhost=self.fullhost(),
                   sender_rcvhost=self.rcvhost())
        h.helo_changed()
        if self.helo_required or self.helo_verify:
            verified = h.verify_helo()
            if not verified:
                if self.helo_required:
                    self._reply(("%d %s argument does not match calling host\r\n" % (
                        550, hello)).encode())
                    h.log('rejected "%s %s" from %s' % (hello, self.helo_name,
                                                        self.host_and_ident(False)),
                          reject=True)
                    return
                h.debug("%s verification failed but host is in helo_try_verify_hosts" % hello)
        outcome = h.acl(W.HELO, None)
        user_msg = None
        if outcome is not None:
            rc, user_msg, log_msg = outcome
            if rc != W.OK:
                self._acl_fail(W.HELO, rc, user_msg, log_msg)
                self.helo_name = None
                h.set_vars(sender_helo_name=None, sender_fullhost=self.fullhost(),
                           sender_rcvhost=self.rcvhost())
                return
        self.pipelining_advertised = self.dsn_advertised = False
        self.smtputf8_advertised = self.tls_advertised = False
        # (chunking stays offered after a later HELO, as in exim)
        if user_msg is None:
            ident = getattr(self.h, "ident", None)
            first_line = "250 %s Hello %s%s" % (self.s.active_hostname,
                                                 ident + " at " if ident else "", self.helo_name)
            if self.s.host_address:
                first_line += " [%s]" % self.s.host_address
            code = "250"
        else:
            code, msg, _ = message_code("250 ", user_msg, True)
            first_line = (code + msg).split("\r")[0].split("\n")[0]
            code = code[:3]
        lines = [first_line]
        if self.esmtp:
            ext = []
            limit = self.s.message_size_limit
            ext.append("SIZE %d" % limit if limit > 0 else "SIZE")
            if self.s.accept_8bitmime:
                ext.append("8BITMIME")
            if h.check_host("dsn_advertise_hosts"):
                ext.append("DSN")
                self.dsn_advertised = True
            for name in ("etrn", "vrfy", "expn"):
                if self.s.has_acl.get(name):
                    ext.append(name.upper())
            if not h.pipelining_disabled() and h.check_host("pipelining_advertise_hosts"):
                ext.append("PIPELINING")
                self.pipelining_advertised = True
                if self.pipe_connect:
                    ext.append("PIPECONNECT")
            auth = h.auth_mechanisms()
            if auth:
                ext.append("AUTH " + " ".join(auth))
            if h.check_host("chunking_advertise_hosts"):
                ext.append("CHUNKING")
                self.chunking_advertised = True
            if h.check_host("tls_advertise_hosts") and h.tls_available():
                ext.append("STARTTLS")
                self.tls_advertised = True
            if self.s.prdr_enable:
                ext.append("PRDR")
            if self.s.accept_8bitmime and h.check_host("smtputf8_advertise_hosts"):
                ext.append("SMTPUTF8")
                self.smtputf8_advertised = True
            ext.append("HELP")
            lines += ext
        out = []
        for i, line in enumerate(lines):
            text = line if i else line[4:]
            out.append("%s%s%s\r\n" % (code, "-" if i < len(lines) - 1 else " ", text))
        self._send("".join(out).encode("latin-1", "replace"))
        self.helo_seen = True
        self.protocol = "esmtp" if self.esmtp else "smtp"
        h.set_vars(received_protocol=self.protocol)
        self._reset()

    def _cmd_ehlo(self, arg: str) -> None:
        self._cmd_helo(arg, "EHLO")

    def cmd_argument_or_none(self) -> str:
        arg = self.cmd_data or ""
        return arg if arg else "(no argument given)"

    def rcvhost(self) -> str:
        ip = self.s.host_address
        if ip is None:
            return ""
        return "[%s]%s" % (ip, " (helo=%s)" % self.helo_name if self.helo_name else "")

    # --- MAIL ---------------------------------------------------------------------

    @staticmethod
    def _extract_option(data: str):
        """extract_option(): peel the last option off `data`.

        None, or (data before the option, name, value, had_equals); without
        "=" the name and the value are the same word, as in Exim."""
        data = data.rstrip(" \t\n\r\v\f")
        if not data:
            return None
        v = len(data) - 1
        while v > 0 and data[v] != "=" and not data[v].isspace():
            if data[v] == '"':
                v -= 1
                while v > 0 and data[v] != '"':
                    v -= 1
                if v <= 0:
                    return None
            v -= 1
        if v <= 0:
            return None
        n = v
        if data[v] == "=":
            while n > 0 and data[n - 1].isascii() and data[n - 1].isalpha():
                n -= 1
            if n <= 0 or not data[n - 1].isspace():
                return None
            return data[:n - 1], data[n:v], data[v + 1:], True
        return data[:v], data[v + 1:], data[v + 1:], False

    def _cmd_mail(self, arg: str) -> bool:
        h = self.h
        self.mail_count += 1
        if not self.helo_seen and (self.helo_required
                                   or self.h.check_host("hosts_require_helo")):
            self._reply(b"503 HELO or EHLO required\r\n")
            h.log("rejected MAIL from %s: no HELO/EHLO given" % self.host_and_ident(False),
                  reject=True)
            return True
        if self.sender is not None:
            self._synprot_error(False, 503, None, "sender already given")
            return True
        if not arg:
            self._synprot_error(False, 501, None, "MAIL must have an address operand")
            return True
        if 0 < self.s.accept_max_per_connection < self.mail_count:
            self._reply(b"421 too many messages in this connection\r\n")
            h.log("rejected MAIL command %s: too many messages in one connection"
                  % self.host_and_ident(True), reject=True)
            return True
        self._reset()
        data = arg
        if self.esmtp:
            seen_ret = seen_envid = False
            while True:
                opt = self._extract_option(data)
                if opt is None:
                    break
                rest, name, value, had_eq = opt
                uname = name.upper()
                known = {"SIZE": True, "BODY": True, "AUTH": True, "PRDR": False,
                         "RET": True, "ENVID": True, "SMTPUTF8": False}
                if uname not in known:
                    # put back the terminators (the name's last, as exim does)
                    data = rest + " " + name + ("=" + value if had_eq else "")
                    break
                if known[uname] and value == "":
                    data = rest
                    break
                if uname == "SIZE":
                    size = _strtoul(value)
                    if size is None:
                        data = rest
                        break
                    self.message_size = min(size, INT_MAX)
                elif uname == "BODY":
                    if not self.s.accept_8bitmime:
                        data = rest
                        break
                    if value.upper() == "8BITMIME":
                        self.body_type = 8
                    elif value.upper() == "7BIT":
                        self.body_type = 7
                    else:
                        self._synprot_error(True, 501, None, "invalid data for BODY")
                        return True
                elif uname == "RET":
                    if self.dsn_advertised:
                        if seen_ret:
                            self._synprot_error(True, 501, None,
                                                "RET can be specified once only")
                            return True
                        seen_ret = True
                        if value.upper() not in ("HDRS", "FULL"):
                            self._synprot_error(True, 501, None, "Value for RET is invalid")
                            return True
                        self.dsn_ret = value.upper()
                elif uname == "ENVID":
                    if self.dsn_advertised:
                        if seen_envid:
                            self._synprot_error(True, 501, None,
                                                "ENVID can be specified once only")
                            return True
                        seen_envid = True
                        self.dsn_envid = value
                elif uname == "AUTH":
                    if value != "<>":
                        h.log("ignoring AUTH=%s from %s (client not authenticated)" % (
                            value, self.host_and_ident(True)))
                elif uname == "PRDR":
                    if self.s.prdr_enable:
                        self.prdr_requested = True
                elif uname == "SMTPUTF8":
                    if not self.smtputf8_advertised:
                        self._synprot_error(True, 501, None,
                                            "SMTPUTF8 used when not advertised")
                        return True
                    self.smtputf8 = True
                    if not self.protocol.startswith("utf8"):
                        self.protocol = "utf8" + self.protocol
                        h.set_vars(received_protocol=self.protocol)
                data = rest
        self.cmd_data = data
        address, err, dom = self._parse_address(data, allow_null=True)
        if address is None:
            self._synprot_error(True, 501, data, err)
            return True
        limit = self.s.message_size_limit
        if limit > 0 and self.message_size > limit:
            self._reply(b"552 Message size exceeds maximum permitted\r\n")
            h.log("rejected MAIL FROM:<%s> %s: message too big: size%s=%d max=%d" % (
                address, self.host_and_ident(True),
                ">" if self.message_size == INT_MAX else "", self.message_size, limit),
                reject=True, selector="size_reject")
            return True
        if not dom and address:
            if self.allow_unqualified_sender:
                address = address + "@" + h.qualify_domain(False)
            else:
                self._reply(("501 %s: sender address must contain a domain\r\n" % data)
                            .encode("latin-1", "replace"))
                h.log("unqualified sender rejected: <%s> %s" % (
                    address, self.host_and_ident(True)), reject=True,
                    selector="smtp_syntax_error")
                return True
        self.sender = address
        h.set_vars(sender_address=address)
        outcome = h.acl(W.MAIL, None)
        rc, user_msg, log_msg = outcome if outcome is not None else (W.OK, None, None)
        if rc in (W.OK, W.DISCARD):
            prdr = ", PRDR Requested" if self.prdr_requested else ""
            if user_msg is None:
                self._reply(("250 OK%s\r\n" % prdr).encode())
            else:
                self._user_msg("250", user_msg + prdr)
            self.recipients_discarded = rc == W.DISCARD
            return False
        self._acl_fail(W.MAIL, rc, user_msg, log_msg)
        self.sender = None
        h.set_vars(sender_address=None)
        return True

    def _parse_address(self, data: str, allow_null: bool):
        """(address or None, error, domain offset) from parse_extract_address()."""
        addr, err, _start, _end, dom = parse_extract_address(
            data, allow_null, self.s.address_options)
        return addr, err, dom

    # --- RCPT -----------------------------------------------------------------------

    def _cmd_rcpt(self, arg: str):
        h = self.h
        self.rcpt_count += 1
        h.set_vars(rcpt_count=self.rcpt_count)
        self.rcpt_in_progress = True
        if self.sender is None:
            if self.pipelining_advertised and self.last_was_rej_mail:
                self._reply(b"503 sender not yet given\r\n")
                self.rcpt_fail_count += 1
                return True, True
            self._synprot_error(False, 503, None, "sender not yet given")
            self.rcpt_fail_count += 1
            return False, False
        if not arg:
            self._synprot_error(True, 501, None, "RCPT must have an address operand")
            self.rcpt_fail_count += 1
            return False, True
        data = arg
        notify = None
        orcpt = None
        if self.esmtp:
            while True:
                opt = self._extract_option(data)
                if opt is None:
                    break
                rest, name, value, had_eq = opt
                if self.dsn_advertised and name.upper() == "ORCPT":
                    if orcpt is not None:
                        self._synprot_error(True, 501, None, "ORCPT can be specified once only")
                        return False, True
                    orcpt = value
                elif self.dsn_advertised and name.upper() == "NOTIFY":
                    if notify is not None:
                        self._synprot_error(True, 501, None,
                                            "NOTIFY can be specified once only")
                        return False, True
                    if value.upper() != "NEVER":
                        parts = value.split(",")
                        if parts and parts[-1] == "":
                            parts.pop()             # "SUCCESS," ends the scan
                        for part in parts:
                            if part.upper() not in ("SUCCESS", "FAILURE", "DELAY"):
                                self._synprot_error(True, 501, None,
                                                    "Invalid value for NOTIFY parameter")
                                return False, True
                    notify = value or None
                else:
                    # put back the terminators (the value's last, as exim does)
                    data = rest + ("=" if not had_eq else " ") + name + (
                        "=" + value if had_eq else "")
                    break
                data = rest
        self.cmd_data = data
        address, err, dom = self._parse_address(data, allow_null=False)
        if address is None:
            self._synprot_error(True, 501, data, err)
            self.rcpt_fail_count += 1
            return False, True
        if not dom:
            if self.allow_unqualified_recipient or address.lower() == "postmaster":
                address = address + "@" + h.qualify_domain(True)
            else:
                self._reply(("501 %s: recipient address must contain a domain\r\n" % data)
                            .encode("latin-1", "replace"))
                h.log("unqualified recipient rejected: <%s> %s" % (
                    address, self.host_and_ident(True)), reject=True,
                    selector="smtp_syntax_error")
                self.rcpt_fail_count += 1
                return False, True
        if self.s.recipients_max > 0 and self.rcpt_count > self.s.recipients_max:
            if self.s.recipients_max_reject:
                self.rcpt_fail_count += 1
                self._reply(b"552 too many recipients\r\n")
                if not self.toomany:
                    h.log("too many recipients: message rejected: sender=<%s> %s" % (
                        self.sender, self.host_and_ident(True)), reject=True)
            else:
                self.rcpt_defer_count += 1
                self._reply(b"452 too many recipients\r\n")
                if not self.toomany:
                    h.log("too many recipients: excess temporarily rejected: sender=<%s> %s"
                          % (self.sender, self.host_and_ident(True)), reject=True)
            self.toomany = True
            return False, True
        if self.recipients_discarded:
            rc, user_msg, log_msg = W.DISCARD, None, None
        else:
            outcome = h.acl(W.RCPT, address)
            rc, user_msg, log_msg = outcome if outcome is not None else h.acl_missing(W.RCPT)
        if rc == W.OK:
            if user_msg:
                self._user_msg("250", user_msg)
            else:
                self._reply(b"250 Accepted\r\n")
            self.recipients.append(address)
            self.rcpt_dsn.append((_notify_flags(notify), orcpt))
            h.set_vars(recipients_count=len(self.recipients))
        elif rc == W.DISCARD:
            if user_msg:
                self._user_msg("250", user_msg)
            else:
                self._reply(b"250 Accepted\r\n")
            self.rcpt_fail_count += 1
            self.discarded = True
            h.log("%s F=<%s> RCPT %s: discarded by %s ACL%s" % (
                self.host_and_ident(True), self.sender, arg,
                "MAIL" if self.recipients_discarded else "RCPT",
                (": " + log_msg) if log_msg else ""), reject=True)
        else:
            if rc == W.FAIL:
                self.rcpt_fail_count += 1
            else:
                self.rcpt_defer_count += 1
            self._acl_fail(W.RCPT, rc, user_msg, log_msg)
        return False, True

    # --- DATA -------------------------------------------------------------------------

    def _cmd_data(self, arg: str) -> None:
        h = self.h
        self.pipe_connect = False
        if not self.discarded and not self.recipients:
            if self.rcpt_response_same and self.rcpt_response is not None:
                resp = self.rcpt_response
                self._send(respond("503", False, "All RCPT commands were rejected with "
                                   "this error:", h.no_multiline()))
                resp = resp[:-2] if resp.endswith("\r\n") else resp
                self._send(respond("503", False, resp, h.no_multiline()))
            if self.pipelining_advertised and self.last_was_rcpt:
                self._reply(b"503 Valid RCPT command must precede DATA\r\n")
            else:
                self._synprot_error(False, 503, None, "valid RCPT command must precede DATA")
            return
        if self.toomany and self.s.recipients_max_reject:
            self.sender = None
            self._reply(b"554 Too many recipients\r\n")
            return
        h.set_vars(recipients_list=list(self.recipients))
        outcome = h.acl(W.PREDATA, None)
        user_msg = None
        if outcome is not None:
            rc, user_msg, log_msg = outcome
            if rc != W.OK:
                self._acl_fail(W.PREDATA, rc, user_msg, log_msg)
                return
        if user_msg:
            self._user_msg("354", user_msg)
        else:
            self._reply(b'354 Enter message, ending with "." on a line by itself\r\n')
        self.in_data = True
        self._data_after_crlf = True
        self._data = []
        self._data_crlf: list[bool] = []

    def _data_line(self, line: bytes) -> None:
        # The SMTP-smuggling defence of Exim 4.97.1 (CVE-2023-51766), which 4.96
        # lacks: only CRLF "." CRLF ends the data.  A "." line after a bare LF,
        # or ended by one, is message data (kept as it is).  A local session
        # (-bs on a pipe, usually bare LFs) cannot smuggle: "." ends it either way.
        crlf = line.endswith(b"\r")
        if crlf:
            line = line[:-1]
        after_crlf, self._data_after_crlf = self._data_after_crlf, crlf
        if line == b"." and not (crlf and after_crlf) and self.s.host_address is not None:
            self._data.append(line)
            self._data_crlf.append(crlf)
            return
        if line == b".":
            self.in_data = False
            env = Envelope(self.sender or "", list(self.recipients), self.protocol,
                           self.helo_name, self.message_size, self.body_type, self.smtputf8,
                           self.dsn_ret, self.dsn_envid, rcpt_dsn=list(self.rcpt_dsn))
            if self._data:
                self.h.check_host("ignore_fromline_hosts")
            data = _header_lf_fixup(self._data, self._data_crlf)
            self._send(self.h.receive(env, data, self))
            self._data = []
            self._reset()
            self.mail_cmds.update({"rset", "helo", "ehlo", "starttls"})
            return
        if line.startswith(b"."):
            line = line[1:]
        self._data.append(line)
        self._data_crlf.append(crlf)

    @property
    def in_message(self) -> bool:
        """True while message data is being read (DATA, or BDAT chunks and the
        commands between them)."""
        return bool(self.in_data or self._bdat_wait or self._bdat_left and not self._bdat_flush)

    @staticmethod
    def _bdat_size_arg(arg: str):
        """sscanf("%u %n"): (size, rest) or None."""
        t = arg.lstrip(" \t\n\r\v\f")
        j = 0
        if t[:1] in ("+", "-") and t[:1]:
            j = 1
        k = j
        while k < len(t) and t[k].isascii() and t[k].isdigit():
            k += 1
        if k == j:
            return None
        size = int(t[j:k]) % 2**32
        if t[:1] == "-":
            size = (2**32 - size) % 2**32
        return size, t[k:].lstrip(" \t\n\r\v\f")

    def _cmd_bdat(self, arg: str) -> None:
        if not self.chunking_advertised:
            self._synprot_error(False, 503, None,
                                "BDAT command used when CHUNKING not advertised")
            return
        parsed = self._bdat_size_arg(arg)
        if parsed is None:
            self._synprot_error(False, 501, None, "missing size for BDAT command")
            return
        size, rest = parsed
        last = rest.lower() == "last"
        self.pipe_connect = False
        refused = False
        if not self.discarded and not self.recipients:
            if self.rcpt_response_same and self.rcpt_response is not None:
                resp = self.rcpt_response
                self._send(respond("503", False, "All RCPT commands were rejected with "
                                   "this error:", self.h.no_multiline()))
                resp = resp[:-2] if resp.endswith("\r\n") else resp
                self._send(respond("503", False, resp, self.h.no_multiline()))
            if self.pipelining_advertised and self.last_was_rcpt:
                self._reply(b"503 Valid RCPT command must precede BDAT\r\n")
            else:
                self._synprot_error(False, 503, None, "valid RCPT command must precede BDAT")
            refused = True
        elif self.toomany and self.s.recipients_max_reject:
            self.sender = None
            self._reply(b"554 Too many recipients\r\n")
            refused = True
        if refused:
            # bdat_flush_data(): the chunk's bytes are read and dropped
            self._bdat_flush = True
            self._bdat_left = size
            return
        self.h.set_vars(recipients_list=list(self.recipients))
        self._bdat_flush = False
        self._bdat_chunks = []
        self._bdat_fromline = False
        self._bdat_start(size, last)

    def _bdat_start(self, size: int, last: bool) -> None:
        self._bdat_size = size
        self._bdat_last = last
        self._bdat_wait = None
        self._bdat_left = size
        if not size:
            self._bdat_chunk_done()

    def _bdat_chunk_done(self) -> None:
        """bdat_getc() at the end of a chunk."""
        if self._bdat_flush:
            self._bdat_flush = False
            return
        if self._bdat_last:
            self._bdat_end(True)
            return
        self._reply(b"250 %d byte chunk received\r\n" % self._bdat_size)
        self._bdat_wait = "next"

    def _bdat_end(self, chunking: bool) -> None:
        """The message is complete (EOD, or EOF after QUIT as exim has it)."""
        self._bdat_wait = None
        raw = b"".join(self._bdat_chunks)
        self._bdat_chunks = []
        pieces = raw.split(b"\n")
        if pieces and pieces[-1] == b"":
            pieces.pop()
        crlf = [p.endswith(b"\r") for p in pieces]
        lines = [p[:-1] if c else p for p, c in zip(pieces, crlf, strict=True)]
        if not raw.endswith(b"\n") and crlf:
            crlf[-1] = True             # no line end at all: nothing pushed back
        lines = _header_lf_fixup(lines, crlf)
        env = Envelope(self.sender or "", list(self.recipients), self.protocol,
                       self.helo_name, self.message_size, self.body_type, self.smtputf8,
                       self.dsn_ret, self.dsn_envid, chunking, list(self.rcpt_dsn))
        if raw:
            self._bdat_fromline_check()
            self._bdat_chunks = [raw]
            if not self._bdat_crlf_check():
                return
        reply = self.h.receive(env, lines, self)
        if chunking and self.history and self.history[-1] == "BDAT" and \
                reply.startswith(b"250 OK id="):
            # receive.c prefixes its default OK reply with the chunk's (seen
            # when BDAT, not NOOP, was the last command)
            reply = b"250- %d byte chunk, total %d\r\n" % (
                self._bdat_size, _message_total(lines)) + reply
        self._send(reply)
        self._reset()
        self.mail_cmds.update({"rset", "helo", "ehlo", "starttls"})

    def _bdat_fromline_check(self) -> None:
        if not self._bdat_fromline:
            self._bdat_fromline = True
            self.h.check_host("ignore_fromline_hosts")

    def _bdat_crlf_check(self) -> bool:
        """receive_msg() refuses a chunked message whose first header line ends
        in a bare LF; the rest of the chunk is dropped.  False when refused."""
        raw = b"".join(self._bdat_chunks)
        nl = raw.find(b"\n")
        if nl < 0 or raw[nl - 1:nl] == b"\r" and nl > 0:
            return True
        name, colon, _ = raw[:nl].partition(b":")
        if not (colon and name and all(33 <= c <= 126 for c in name)):
            return True
        self.h.log("rejected from <%s>%s: Non-CRLF-terminated header, under CHUNKING: "
                   "message abandoned" % (
                       self.sender or "", (" " + self.host_and_ident(True))
                       if self.s.host_address else ""),
                   reject=True, selector="size_reject")
        self._send(b"552 Message header not CRLF terminated\r\n")
        self._bdat_chunks = []
        self._bdat_wait = None
        if self._bdat_left:
            self._bdat_flush = True
        self._reset()
        return False

    def _bdat_abort(self) -> None:
        if self._bdat_chunks:
            self._bdat_fromline_check()
        self._bdat_wait = None
        self._bdat_chunks = []

    def _bdat_command(self, raw: bytes) -> None:
        """A command between chunks (bdat_getc()'s next_cmd / repeat_until_rset)."""
        cmd, arg = self._identify(raw)
        self.cmd_data = arg
        if cmd == "quit":
            self._cmd_quit(arg)
            self.closed = False
            self._bdat_end(False)
            return
        if cmd == "rset":
            self._cmd_rset(arg)
            self._bdat_abort()
            return
        if self._bdat_wait == "next":
            if cmd == "noop":
                self.history.append("NOOP")
                self._reply(b"250 OK\r\n")
                return
            if cmd == "bdat":
                self.history.append("BDAT")
                parsed = self._bdat_size_arg(arg)
                if parsed is None:
                    self._bdat_abort()
                    self._synprot_error(False, 501, None, "missing size for BDAT command")
                    self._reset()
                    return
                size, rest = parsed
                last = rest.lower() == "last"
                if size == 0 and not last:
                    if self._synprot_error(False, 504, None, "zero size for BDAT command"):
                        return
                    self._bdat_wait = "rset"
                    return
                self._bdat_start(size, last)
                return
            if self._synprot_error(False, 503, None,
                                   "only BDAT permissible after non-LAST BDAT"):
                return
            self._bdat_wait = "rset"
            return
        if self._synprot_error(False, 503, None, "only RSET accepted now"):
            self._bdat_abort()

    # --- the rest -------------------------------------------------------------------

    def _cmd_rset(self, arg: str) -> None:
        self._reply(b"250 Reset OK\r\n")
        self.mail_cmds.discard("rset")
        self._reset()

    def _cmd_noop(self, arg: str) -> None:
        self._reply(b"250 OK\r\n")

    def _cmd_quit(self, arg: str) -> None:
        outcome = self.h.acl(W.QUIT, None)
        user_msg = None
        if outcome is not None:
            rc, user_msg, log_msg = outcome
            if rc == W.ERROR:
                self.h.log("ACL for QUIT returned ERROR: %s" % log_msg, panic=True)
        if user_msg:
            self._respond("221", True, user_msg)
        else:
            self._send(("221 %s closing connection\r\n" % self.s.active_hostname)
                       .encode("latin-1", "replace"))
        self.h.log("%s closed by QUIT" % self.connection_info(), selector="smtp_connection")
        self.closed = True

    def _cmd_help(self, arg: str) -> None:
        buf = " AUTH"
        if self.h.check_host("tls_advertise_hosts") and self.h.tls_available():
            buf += " STARTTLS"
        buf += " HELO EHLO MAIL RCPT DATA BDAT NOOP QUIT RSET HELP"
        for name in ("etrn", "expn", "vrfy"):
            if self.s.has_acl.get(name):
                buf += " " + name.upper()
        self._send(("214-Commands supported:\r\n214%s\r\n" % buf).encode())

    def _cmd_vrfy(self, arg: str) -> None:
        address, err, dom = self._parse_address(arg, allow_null=False)
        if address is None:
            self._reply(("501 %s\r\n" % err).encode("latin-1", "replace"))
            return
        if not dom:
            if self.allow_unqualified_recipient or address.lower() == "postmaster":
                address = address + "@" + self.h.qualify_domain(True)
            else:
                self._reply(("501 %s: recipient address must contain a domain\r\n" % arg)
                            .encode("latin-1", "replace"))
                self.h.log("unqualified verify rejected: <%s> %s" % (
                    address, self.host_and_ident(True)), reject=True,
                    selector="smtp_syntax_error")
                return
        outcome = self.h.acl(W.VRFY, address)
        rc, user_msg, log_msg = outcome if outcome is not None else self.h.acl_missing(W.VRFY)
        if rc != W.OK:
            self._acl_fail(W.VRFY, rc, user_msg, log_msg)
            return
        self._send(self.h.vrfy(address, arg, self))

    def _cmd_expn(self, arg: str) -> None:
        outcome = self.h.acl(W.EXPN, None)
        rc, user_msg, log_msg = outcome if outcome is not None else self.h.acl_missing(W.EXPN)
        if rc != W.OK:
            self._acl_fail(W.EXPN, rc, user_msg, log_msg)
            return
        self._send(self.h.expn(arg, self))

    def _cmd_etrn(self, arg: str) -> None:
        h = self.h
        if self.sender is not None:
            self._synprot_error(False, 503, None,
                                "ETRN is not permitted inside a transaction")
            return
        h.log("ETRN %s received from %s" % (arg, self.host_and_ident(False)), selector="etrn")
        outcome = h.acl(W.ETRN, None)
        rc, user_msg, log_msg = outcome if outcome is not None else h.acl_missing(W.ETRN)
        if rc != W.OK:
            self._acl_fail(W.ETRN, rc, user_msg, log_msg)
            return
        if self.s.etrn_command:
            command = self.s.etrn_command
            setup = getattr(h, "etrn_setup", None)
            error = setup(command, arg) if setup is not None else None
            if error is not None:
                h.log("failed to set up ETRN command: %s" % error, panic=True)
                self._reply(b"458 Internal failure\r\n")
                return
        else:
            if not arg.startswith("#"):
                self._synprot_error(True, 501, None, "argument must begin with #")
                return
            command = "exim -R"
        h.debug("ETRN command is: %s" % command)
        h.debug("ETRN command execution skipped")
        if user_msg is None:
            self._reply(b"250 OK\r\n")
        else:
            self._user_msg("250", user_msg)

    def _cmd_auth(self, arg: str) -> None:
        self.mail_cmds.discard("auth")
        self._synprot_error(False, 503, None, "AUTH command used when not advertised")

    def _cmd_starttls(self, arg: str) -> None:
        if not self.tls_advertised:
            self._synprot_error(False, 503, None, "STARTTLS command used when not advertised")
            return
        self._reply(b"454 TLS currently unavailable\r\n")
