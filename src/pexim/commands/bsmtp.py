"""-bS: batched SMTP on stdin (spec "Incoming batched SMTP").

No replies are written: commands are obeyed until the first error, which
is reported in Exim's stylized form on stdout and verbosely on stderr, and
the rest of the batch is abandoned.  HELO/EHLO act as RSET; VRFY, EXPN,
ETRN and HELP as NOOP.  A trusted caller's senders are believed; otherwise
the sender is the caller.  Exit code 0 without errors, else 1 when some
messages were accepted first, 2 when none were.
"""

from __future__ import annotations

import sys

from pexim.commands.submit import Caller, _caller, _qualify, is_trusted, spool_local
from pexim.expand import ExpandContext
from pexim.log import Logger
from pexim.message.address import parse_extract_address
from pexim.privileges import exim_ids
from pexim.smtp.receive import Receiver, ensure_log_dirs


class _BatchError(Exception):
    def __init__(self, reply: str, command: str | None):
        super().__init__(reply)
        self.reply = reply
        self.command = command


def run(config, inv, stdin=None, stdout=None, stderr=None) -> int:
    inp = getattr(stdin or sys.stdin, "buffer", stdin or sys.stdin)
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    login, uid, gid, gecos = _caller()
    trusted = is_trusted(config, uid, gid)
    ctx = ExpandContext(config=config)
    qualify_domain, qualify_recipient = _qualify(config, ctx)
    logger = Logger.from_config(config)
    ensure_log_dirs(logger, exim_ids(config))
    receiver = Receiver(config, logger, exim_ids(config))
    caller = Caller(login, uid, gid, gecos, trusted)
    state = {"line": 0, "txn": 0, "accepted": 0}
    sender: str | None = None
    helo: str | None = None
    recipients: list[str] = []

    def read() -> bytes | None:
        raw = inp.readline()
        state["line"] += 1              # exim counts the end of file as a line too
        if not raw:
            return None
        return raw.rstrip(b"\n").rstrip(b"\r")

    try:
        while (raw := read()) is not None:
            text = raw.decode("latin-1")
            verb = text.split(" ", 1)[0].upper()
            if verb in ("HELO", "EHLO", "RSET"):
                sender, recipients = None, []
                state["txn"] = state["line"]
                if verb != "RSET" and " " in text.strip():
                    helo = text.strip().split(" ", 1)[1]
            elif verb in ("VRFY", "EXPN", "ETRN", "HELP", "NOOP"):
                continue
            elif verb == "QUIT":
                break
            elif text[:10].upper() == "MAIL FROM:":
                if sender is not None:
                    raise _BatchError("503 Sender already given", text)
                addr = _address(text[10:], True, text)
                if not trusted:
                    addr = "%s@%s" % (login, qualify_domain)
                elif addr and "@" not in addr:
                    addr = "%s@%s" % (addr, qualify_domain)
                sender = addr
            elif text[:8].upper() == "RCPT TO:":
                if sender is None:
                    raise _BatchError("503 No sender yet given", text)
                addr = _address(text[8:], False, text)
                recipients.append(addr if "@" in addr else "%s@%s" % (addr, qualify_recipient))
            elif verb == "DATA":
                if sender is None:
                    raise _BatchError("503 MAIL FROM:<sender> command must precede DATA", text)
                if not recipients:
                    raise _BatchError("503 RCPT TO:<recipient> must precede DATA", text)
                lines = _data(read, logger, login)
                _, problem = spool_local(config, inv, ctx, caller, sender,
                                         sender if trusted else None, False, recipients,
                                         lines, "local-bsmtp", logger, receiver, helo)
                if problem is None:
                    state["accepted"] += 1
                sender, recipients = None, []
                state["txn"] = state["line"]
            else:
                raise _BatchError("500 Command unrecognized", text)
    except _BatchError as e:
        _report(e, state, out, err)
        return 1 if state["accepted"] else 2
    finally:
        receiver.close()
    return 0


def _address(text: str, allow_null: bool, command: str) -> str:
    addr, error, *_ = parse_extract_address(text.strip(), allow_null)
    if addr is None:
        raise _BatchError("501 " + error, command)
    return addr


def _data(read, logger, login: str) -> list[bytes]:
    lines = []
    while True:
        raw = read()
        if raw is None:
            logger.main(f"SMTP connection from {login} lost while reading message data")
            raise _BatchError("421 Lost incoming connection", None)
        if raw == b".":
            return lines
        lines.append(raw[1:] if raw.startswith(b".") else raw)


def _report(e: _BatchError, state, out, err) -> None:
    out.write(f"{e.reply}\nTransaction started in line {state['txn']}\n"
              f"Error detected in line {state['line']}\n")
    if e.command is not None:
        out.write(e.command + "\n")
    n = state["accepted"]
    text = ["An error was detected while processing a file of BSMTP input.",
            "The error message was:", "", "  " + e.reply, "",
            f"The SMTP transaction started in line {state['txn']}.",
            f"The error was detected in line {state['line']}."]
    if e.command is not None:
        text += ["The SMTP command at fault was:", "", "   " + e.command, ""]
    text += [f"{n} previous message{'' if n == 1 else 's'} "
             f"{'was' if n == 1 else 'were'} successfully processed.",
             "The rest of the batch was abandoned."]
    err.write("\n".join(text) + "\n")
