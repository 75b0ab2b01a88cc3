"""SMTP reply formatting as smtp_respond()/smtp_message_code() do it."""

from __future__ import annotations

import re

# regex_smtp_code: a code, white space, and optionally an enhanced status code.
_CODE = re.compile(r"\d\d\d\s(?:\d\.\d\d?\d?\.\d\d?\d?\s)?")


def message_code(code: str, msg: str | None, check_valid: bool = True):
    """smtp_message_code(): (code incl. any ESC, message, panic text or None).

    A message that starts with its own code replaces the default unless the
    first digit differs (then the default stays and a panic is logged)."""
    if not msg:
        return code, msg, None
    m = _CODE.match(msg)
    if not m:
        return code, msg, None
    if check_valid and msg[0] != code[0]:
        panic = ('configured error code starts with incorrect digit (expected %s) in "%s"'
                 % (code[0], msg))
        return code, msg[m.end():], panic
    return msg[:m.end()], msg[m.end():], None


def respond(code: str, final: bool, msg: str, no_multiline: bool = False) -> bytes:
    """smtp_respond(): one reply, a line per newline in `msg`.

    `code` may carry an enhanced status code ("550 5.1.1 "); its three digits
    start every line and the ESC follows the separator."""
    if not final and no_multiline:
        return b""
    digits = code[:3]
    esc = code[4:] if len(code) > 4 else ""
    out = []
    while True:
        nl = msg.find("\n")
        if nl < 0:
            out.append("%s%s%s%s\r\n" % (digits, " " if final else "-", esc, msg))
            break
        if nl == len(msg) - 1 or no_multiline:
            out.append("%s%s%s%s\r\n" % (digits, " " if final else "-", esc, msg[:nl]))
            break
        out.append("%s-%s%s\r\n" % (digits, esc, msg[:nl]))
        msg = msg[nl + 1:].lstrip(" \t\n\r\v\f")
    return "".join(out).encode("latin-1", "replace")
