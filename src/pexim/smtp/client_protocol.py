"""Sans-IO SMTP/LMTP client: the dialogue of Exim's smtp_deliver(), without sockets.

Bytes in (``receive_data``), bytes out (``data_to_send``), results on plain
objects; the caller owns the socket and the clocks (``timeout`` says which of
command/data/final timeout applies to the read it should do next).  The same
machine speaks LMTP (LHLO, one reply per accepted recipient after the data),
serves the smtp and lmtp transports and callouts.

    client = SmtpClient(ClientOptions(helo="me.example"))
    while not client.closed:
        out = client.data_to_send()        # send these bytes
        if client.state == READY:          # greeting and EHLO done: give it work
            client.start(Transaction(...)) or client.quit()
        elif client.wants_read:
            client.receive_data(await read())   # b"" = the peer closed
    tx.mail_reply, tx.recipients[i].reply, tx.final_reply, tx.failure ...

A dialogue is written as one generator (``_session``) that yields whenever it
needs a reply; the class turns received bytes into replies and feeds them in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Generator

from pexim.bytestr import printing

# Client states.
CONNECTED, READY, BUSY, CLOSED = "connected", "ready", "busy", "closed"

# Why a dialogue stopped (Failure.kind).
CLOSED_BY_PEER, FORMAT_ERROR, TIMEOUT, REPLY_ERROR = "closed", "format", "timeout", "reply"

# Recipient DSN flags (rf_* in macros.h, as message.envelope has them).
RF_DSNLASTHOP, RF_NOTIFY_NEVER, RF_NOTIFY_SUCCESS = 0x01, 0x02, 0x04
RF_NOTIFY_FAILURE, RF_NOTIFY_DELAY = 0x08, 0x10


@dataclass
class Reply:
    """One (possibly multi-line) reply; ``lines`` as received, without CR LF."""

    code: int
    lines: list[str]

    @property
    def text(self) -> str:
        """Exim's response buffer: the lines joined by newlines."""
        return "\n".join(self.lines)

    @property
    def kind(self) -> str:
        return str(self.code)[0]

    @property
    def positive(self) -> bool:
        return 200 <= self.code < 400

    def __str__(self) -> str:
        return printing(self.text)


class ProtocolError(Exception):
    """The peer's reply was not SMTP (Exim: ERRNO_SMTPFORMAT)."""


class ReplyParser:
    """Cuts a byte stream into replies (smtp_read_response's line handling)."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self._lines: list[str] = []

    def feed(self, data: bytes) -> None:
        self.buffer += data

    def next_reply(self) -> Reply | None:
        while True:
            nl = self.buffer.find(b"\n")
            if nl < 0:
                return None
            raw = bytes(self.buffer[:nl]).rstrip(b"\r")
            del self.buffer[:nl + 1]
            line = raw.decode("utf-8", "surrogateescape")
            if (len(line) < 3 or not line[:3].isdigit()
                    or (len(line) > 3 and line[3] not in "- ")):
                self._lines.append(line)
                bad = "\n".join(self._lines)
                self._lines = []
                raise ProtocolError(bad)
            self._lines.append(line)
            if len(line) == 3 or line[3] == " ":
                lines, self._lines = self._lines, []
                return Reply(int(line[:3]), lines)


def capabilities(reply: Reply) -> dict[str, str]:
    """EHLO keywords (upper case) to their parameters."""
    caps: dict[str, str] = {}
    for line in reply.lines[1:]:
        words = line[4:].strip().split(None, 1)
        if words:
            caps[words[0].upper()] = words[1] if len(words) > 1 else ""
    return caps


@dataclass
class ClientOptions:
    """What the transport decided for this host (hosts_avoid_*, hosts_try_*)."""

    helo: str
    lmtp: bool = False
    esmtp: bool = True                 # not hosts_avoid_esmtp
    pipelining: bool = True            # not hosts_avoid_pipelining
    chunking: bool = False             # hosts_try_chunking matched
    prdr: bool = False                 # hosts_try_prdr matched
    ignore_quota: bool = False         # lmtp_ignore_quota
    size_addition: int | None = 1024   # None: never send SIZE= (lmtp transport)
    # Hooks for later: called with the client at their step; None skips the step.
    starttls: Callable[[SmtpClient], bool] | None = None
    auth: Callable[[SmtpClient], bool] | None = None


@dataclass
class Recipient:
    address: str
    dsn_flags: int = 0
    orcpt: str | None = None           # "rfc822;..." as in the -H file
    command: str = ""                  # the RCPT command as sent
    reply: Reply | None = None         # reply to RCPT
    data_reply: Reply | None = None    # LMTP: this recipient's reply after the data


@dataclass
class Failure:
    """What ended a transaction or session early."""

    kind: str                          # CLOSED_BY_PEER / FORMAT_ERROR / TIMEOUT / REPLY_ERROR
    command: str                       # Exim's name for the step ("MAIL FROM:<a@b>", ...)
    reply: Reply | None = None
    text: str = ""                     # the bad line of a FORMAT_ERROR


@dataclass
class Transaction:
    """One message to one set of recipients.

    ``message(chunking)`` returns the message as it goes on the wire: CRLF
    lines, dot-stuffed and ending ".\\r\\n" for DATA, raw for BDAT.
    """

    sender: str
    recipients: list[Recipient]
    message: Callable[[bool], bytes]
    size: int | None = None            # $message_size, for SIZE=
    body_8bit: bool = False            # received with BODY=8BITMIME
    utf8: bool = False                 # needs SMTPUTF8
    dsn_ret: str | None = None         # "FULL" / "HDRS"
    dsn_envid: str | None = None
    # Results.
    mail_command: str = ""
    mail_reply: Reply | None = None
    data_reply: Reply | None = None    # reply to the DATA command
    final_reply: Reply | None = None   # after the data (SMTP; LMTP: the first recipient's)
    failure: Failure | None = None
    chunking: bool = False             # sent with BDAT
    dsn_passed: bool = False           # the server took our DSN parameters
    prdr: bool = False
    done: bool = False
    probe: bool = False                # callouts: stop after the RCPT replies (no DATA)

    @property
    def accepted(self) -> list[Recipient]:
        return [r for r in self.recipients if r.reply is not None and r.reply.code // 100 == 2]


def notify_param(flags: int) -> str:
    if flags & RF_NOTIFY_NEVER:
        return "NEVER"
    names = [n for bit, n in ((RF_NOTIFY_SUCCESS, "SUCCESS"), (RF_NOTIFY_FAILURE, "FAILURE"),
                              (RF_NOTIFY_DELAY, "DELAY")) if flags & bit]
    return ",".join(names)


_NEED = object()    # what the dialogue yields when it wants the next reply


class SmtpClient:
    """One connection's client side.  See the module docstring for the loop."""

    def __init__(self, options: ClientOptions):
        self.options = options
        self.state = CONNECTED
        self.greeting: Reply | None = None
        self.ehlo_reply: Reply | None = None
        self.caps: dict[str, str] = {}
        self.esmtp = False
        self.failure: Failure | None = None      # session-level failure (greeting, EHLO)
        self.timeout = "command"                 # which timeout governs the next read
        self.transcript: list[tuple[str, str]] = []   # (">"/"<", text) for debugging
        self._out = bytearray()
        self._parser = ReplyParser()
        self._replies: list[Reply] = []
        self._tx: Transaction | None = None
        self._quit = False
        self._eof = False
        self._gen = self._session()
        self._advance(None)

    # -- the caller's side ---------------------------------------------------
    @property
    def closed(self) -> bool:
        return self.state == CLOSED

    @property
    def wants_read(self) -> bool:
        return self.state in (CONNECTED, BUSY) and not self._eof

    def data_to_send(self) -> bytes:
        out, self._out = bytes(self._out), bytearray()
        return out

    def receive_data(self, data: bytes) -> None:
        if not data:
            self._eof = True
            if self.state in (CONNECTED, BUSY):
                self._fail(CLOSED_BY_PEER)
            return
        self._parser.feed(data)
        self._pump()

    def timed_out(self) -> None:
        """The read the caller was doing timed out."""
        self._fail(TIMEOUT)

    def start(self, tx: Transaction) -> None:
        """Send one message (state must be READY)."""
        assert self.state == READY, self.state
        self._tx = tx
        self.state = BUSY
        if self._eof:
            self._fail(CLOSED_BY_PEER)
            return
        self._advance(None)

    def quit(self) -> None:
        """Send QUIT and close (the reply is not waited for, as Exim does)."""
        if self.state == READY:
            self._send("QUIT")
        self.state = CLOSED
        self._gen.close()

    # -- plumbing --------------------------------------------------------------
    def _send(self, command: str) -> None:
        self.transcript.append((">", command))
        self._out += command.encode("utf-8", "surrogateescape") + b"\r\n"

    def _pump(self) -> None:
        while self.state in (CONNECTED, BUSY):
            try:
                reply = self._parser.next_reply()
            except ProtocolError as err:
                self._fail(FORMAT_ERROR, str(err))
                return
            if reply is None:
                return
            self.transcript.append(("<", reply.text))
            self._advance(reply)

    def _advance(self, reply: Reply | None) -> None:
        try:
            if self._started:
                self._gen.send(reply)
            else:
                self._started = True
                next(self._gen)
        except StopIteration:
            self.state = CLOSED

    _started = False
    _need_rset = False
    _drop = False           # DATA was accepted with nothing to send: QUIT, close

    def _fail(self, kind: str, text: str = "") -> None:
        """The read could not complete: record where, and close."""
        step = self._step
        failure = Failure(kind, step, None, text)
        if self._tx is not None and not self._tx.done:
            self._tx.failure = failure
            self._tx.done = True
        else:
            self.failure = failure
        self.state = CLOSED
        self._gen.close()

    _step = "initial connection"

    def _reply(self, step: str) -> Generator[object, Reply, Reply]:
        """Wait for the reply to ``step`` (Exim's name for it, used in errors)."""
        self._step = step
        reply = yield _NEED
        return reply

    # -- the dialogue ----------------------------------------------------------
    def _session(self) -> Generator[object, Reply, None]:
        o = self.options
        self.greeting = yield from self._reply("initial connection")
        if self.greeting.kind != "2":
            self.failure = Failure(REPLY_ERROR, "initial connection", self.greeting)
            self._send("QUIT")
            return
        yield from self._hello()
        if self.failure is not None:
            return
        if o.starttls is not None and "STARTTLS" in self.caps:
            o.starttls(self)            # hook: TLS is not implemented yet
        if o.auth is not None and "AUTH" in self.caps:
            o.auth(self)                # hook: client AUTH is not implemented yet
        while True:
            self.state = READY
            self.timeout = "command"
            yield None                  # the caller calls start() or quit()
            tx = self._tx
            if tx is None:
                return
            yield from self._transaction(tx)
            tx.done = True
            if self._drop:
                self._send("QUIT")          # what exim does, rather than send a message
            if self.state == CLOSED or self._drop:
                self.state = CLOSED
                return
            self._tx = None

    def _hello(self) -> Generator[object, Reply, None]:
        o = self.options
        verb = "LHLO" if o.lmtp else "EHLO"
        if o.esmtp or o.lmtp:
            self._send(f"{verb} {o.helo}")
            reply = yield from self._reply(f"{verb} {o.helo}")
            if reply.kind == "2":
                self.ehlo_reply, self.esmtp = reply, True
                self.caps = capabilities(reply)
                return
            if o.lmtp:
                self.failure = Failure(REPLY_ERROR, f"{verb} {o.helo}", reply)
                self._send("QUIT")
                return
        self._send(f"HELO {o.helo}")
        reply = yield from self._reply(f"HELO {o.helo}")
        if reply.kind != "2":
            self.failure = Failure(REPLY_ERROR, f"HELO {o.helo}", reply)
            self._send("QUIT")
            return
        self.ehlo_reply = reply

    def offers(self, keyword: str) -> bool:
        return self.esmtp and keyword in self.caps

    def _mail_command(self, tx: Transaction) -> str:
        o = self.options
        cmd = f"MAIL FROM:<{tx.sender}>"
        if self.offers("SIZE") and tx.size is not None and o.size_addition is not None:
            cmd += f" SIZE={tx.size + o.size_addition}"
        if self.offers("8BITMIME") and tx.body_8bit:
            cmd += " BODY=8BITMIME"
        if o.prdr and self.offers("PRDR") and len(tx.recipients) > 1:
            cmd += " PRDR"
            tx.prdr = True
        if tx.utf8 and self.offers("SMTPUTF8"):
            cmd += " SMTPUTF8"
        if self.offers("DSN"):
            tx.dsn_passed = True
            if tx.dsn_ret:
                cmd += f" RET={tx.dsn_ret}"
            if tx.dsn_envid:
                cmd += f" ENVID={tx.dsn_envid}"
        return cmd

    def _rcpt_command(self, tx: Transaction, r: Recipient) -> str:
        cmd = f"RCPT TO:<{r.address}>"
        if self.options.lmtp and self.options.ignore_quota and self.offers("IGNOREQUOTA"):
            cmd += " IGNOREQUOTA"
        if tx.dsn_passed and not r.dsn_flags & RF_DSNLASTHOP:
            notify = notify_param(r.dsn_flags)
            if notify:
                cmd += f" NOTIFY={notify}"
            if r.orcpt:
                cmd += f" ORCPT={r.orcpt}"
        return cmd

    def _transaction(self, tx: Transaction) -> Generator[object, Reply, None]:
        o = self.options
        if self._need_rset:
            self._need_rset = False
            yield from self._reset()
            if self.state == CLOSED:
                tx.failure = self.failure
                return
        pipelining = o.pipelining and self.offers("PIPELINING")
        tx.chunking = o.chunking and self.offers("CHUNKING")
        tx.mail_command = self._mail_command(tx)
        pl = "pipelined " if pipelining else ""
        self._send(tx.mail_command)
        for r in tx.recipients:
            r.command = self._rcpt_command(tx, r)
        if not pipelining:
            tx.mail_reply = yield from self._reply(tx.mail_command)
            if tx.mail_reply.kind != "2":
                self._need_rset = True
                return
        for r in tx.recipients:
            self._send(r.command)
            if not pipelining:
                r.reply = yield from self._reply(r.command)
        data_sent = False
        if tx.probe:
            if pipelining:
                tx.mail_reply = yield from self._reply(pl + tx.mail_command)
                for r in tx.recipients:
                    r.reply = yield from self._reply(pl + r.command)
            self._need_rset = True
            return
        if pipelining and not tx.chunking:
            self._send("DATA")
            data_sent = True
        if pipelining:
            tx.mail_reply = yield from self._reply(pl + tx.mail_command)
            for r in tx.recipients:
                r.reply = yield from self._reply(pl + r.command)
            if tx.mail_reply.kind != "2":
                if data_sent:
                    tx.data_reply = yield from self._reply("pipelined DATA")
                    self._drop = tx.data_reply.kind == "3"
                self._need_rset = True
                return
        if not tx.accepted:
            if data_sent:
                tx.data_reply = yield from self._reply("pipelined DATA")
                if tx.data_reply.kind == "3":
                    self._drop = True
                    return
            self._need_rset = True
            return
        if tx.chunking:
            body = tx.message(True)
            self.transcript.append((">", f"BDAT {len(body)} LAST"))
            self._out += b"BDAT %d LAST\r\n" % len(body) + body
            self.timeout = "final"
            yield from self._final_replies(tx, pl + "end of data")
            self.timeout = "command"
        else:
            if not data_sent:
                self._send("DATA")
            tx.data_reply = yield from self._reply(pl + "DATA")
            if tx.data_reply.kind != "3":
                self._need_rset = True
                return
            self.transcript.append((">", "<message>"))
            self._out += tx.message(False)
            self.timeout = "final"
            yield from self._final_replies(tx, "end of data")
            self.timeout = "command"

    def _final_replies(self, tx: Transaction, step: str) -> Generator[object, Reply, None]:
        """SMTP: one reply; LMTP: one per accepted recipient."""
        if self.options.lmtp:
            for r in tx.accepted:
                r.data_reply = yield from self._reply(step)
            tx.final_reply = tx.accepted[0].data_reply
        else:
            tx.final_reply = yield from self._reply(step)

    def _reset(self) -> Generator[object, Reply, None]:
        """Before reusing a connection whose last transaction was refused."""
        self._send("RSET")
        reply = yield from self._reply("RSET")
        if reply.kind != "2":
            self.failure = Failure(REPLY_ERROR, "RSET", reply)
            self._send("QUIT")
            self.state = CLOSED


def error_text(step: str, reply: Reply | None,
               prefix: str = "SMTP error from remote mail server") -> str:
    """Exim's message for a refusal: "SMTP error from remote mail server after ..."
    (the lmtp transport says "LMTP error")."""
    return f"{prefix} after {step}: {reply}"
