"""What -be/-bem set up before expanding: the -oM*/-f command-line values and
the test message of -bem, as exim.c and receive_msg()/read_message_body() do
in filter-test mode (headers read and fixed up, body only measured)."""

from __future__ import annotations

import os
import pwd
import re
import time

from pexim.expand import Tainted
from pexim.expand.address import extract_address
from pexim.expand.ip import is_ip_address
from pexim.message.envelope import HTYPE_OLD, Header, header_type
from pexim.message.headers import Submission, apply_local_fixups
from pexim.message.ids import format_id

UUCP_FROM_PATTERN = (r"^From\s+(\S+)\s+(?:[a-zA-Z]{3},?\s+)?(?:[a-zA-Z]{3}\s+\d?\d|"
                     r"\d?\d\s+[a-zA-Z]{3}\s+\d\d(?:\d\d)?)\s+\d\d?:\d\d?")
MESSAGE_BODY_VISIBLE = 500


def new_message_id(now: float) -> str:
    """The id -bem shows as $message_exim_id: this process, this moment."""
    return format_id(int(now), os.getpid(), int((now - int(now)) * 1e6))


class CommandLineError(Exception):
    """exim abandons the run; the text is what it prints on stderr."""


def extract_port(address: str) -> tuple[str, int]:
    """host_address_extract_port(): "a.b.c.d.port", "ipv6.port", "[addr]:port"."""
    if address.startswith("["):
        rb = address.find("]")
        if rb < 0:
            return address, 0
        rest = address[rb + 1:]
        port = 0
        if rest.startswith(":"):
            if not rest[1:].isdigit():
                return address, 0
            port = int(rest[1:])
        elif rest:
            return address, 0
        return address[1:rb], port
    skip = -3
    cut = -1
    for k, ch in enumerate(address):
        if ch == ":":
            skip = 0
        elif ch == ".":
            skip += 1
            if skip > 0:
                cut = k
                break
    if cut < 0:
        return address, 0
    digits = address[cut + 1:]
    m = re.match(r"[ \t\n]*[+-]?\d*", digits)
    if m.end() != len(digits) or not digits:
        return address, 0
    try:
        port = int(digits)
    except ValueError:
        port = 0
    return address[:cut], port


def _check_port(value: str) -> tuple[str, int]:
    addr, port = extract_port(value)
    if not is_ip_address(addr)[0]:
        raise CommandLineError('exim abandoned: "%s" is not an IP address' % addr)
    return addr, port


def originator() -> tuple[str, str]:
    """(login, gecos) of the caller."""
    try:
        pw = pwd.getpwuid(os.getuid())
        return pw.pw_name, pw.pw_gecos
    except KeyError:
        return str(os.getuid()), ""


def originator_name(ctx, login: str, gecos: str) -> str:
    """The caller's full name as exim.c derives it (gecos_pattern/gecos_name)."""
    name = gecos
    amp = name.find("&")
    if amp >= 0:
        name = name[:amp] + login[:1].upper() + login[1:] + name[amp + 1:]
    pattern = ctx.main_option("gecos_pattern")
    gname = ctx.main_option("gecos_name")
    if pattern is not None and gname is not None:
        from pexim.expand import ExpansionError, compile_cached
        try:
            m = re.search(pattern, name)
        except re.error:
            m = None
        if m:
            save = ctx.nvars
            ctx.nvars = (m.group(0),) + tuple(g or "" for g in m.groups())
            try:
                name = compile_cached(gname).evaluate(ctx)
            except ExpansionError:
                pass
            ctx.nvars = save
    return name


def apply_command_line(ctx, values: dict, qualify: str, login: str) -> dict:
    """Set the variables -oMa/-oMaa/-oMai/-oMas/-oMi/-oMr/-oMs/-oMt/-f give.

    Returns flags the message reader needs (sender_forced)."""
    v = ctx.values
    if "-oMa" in values:
        addr, port = _check_port(values["-oMa"])
        v["sender_host_address"] = Tainted(addr)
        v["sender_host_port"] = port
    if "-oMi" in values:
        addr, port = _check_port(values["-oMi"])
        v["interface_address"] = Tainted(addr)
        v["interface_port"] = port
    for flag, name in (("-oMaa", "sender_host_authenticated"), ("-oMai", "authenticated_id"),
                       ("-oMas", "authenticated_sender"), ("-oMr", "received_protocol"),
                       ("-oMs", "sender_host_name")):
        if flag in values:
            v[name] = Tainted(values[flag])
    if "-oMt" in values:
        v["sender_ident"] = Tainted(values["-oMt"])
    else:
        v["sender_ident"] = login
    forced = "-f" in values
    if forced:
        raw = values["-f"]
        if not raw.strip() or raw.strip() == "<>":
            sender = ""
        else:
            addr, err, dom = extract_address(raw)
            if addr is None:
                raise CommandLineError('exim: bad -f address "%s": %s' % (raw, err))
            sender = addr.rstrip(".") if addr.endswith(".") else addr
            if not dom and sender:
                sender = "%s@%s" % (sender, qualify)
        v["sender_address"] = Tainted(sender)
    else:
        v["sender_address"] = "%s@%s" % (login, qualify)
        # A local sender: authenticated_sender/id default to the caller.
        v.setdefault("authenticated_sender", "%s@%s" % (login, qualify))
        v.setdefault("authenticated_id", login)
    return {"sender_forced": forced}


class TestMessage:
    """The message -bem reads: ``headers`` (Header objects) and body."""

    def __init__(self):
        self.headers: list[Header] = []
        self.body = ""
        self.body_end = ""
        self.recipients: list[str] = []


def read_message(data: bytes, ctx, flags: dict, qualify: str, login: str, name: str,
                 out) -> TestMessage:
    """receive_msg() in filter-test mode, then read_message_body()."""
    text = data.decode("latin-1")
    msg = TestMessage()
    v = ctx.values
    pos = 0
    n = len(text)
    size = 0
    linecount = 0
    first = True
    remote = bool(v.get("sender_host_address"))
    fixups = not remote
    dot_ended = False
    while pos < n:
        # One header (with its continuation lines), as receive_msg() assembles it.
        lines = []
        while pos < n:
            nl = text.find("\n", pos)
            line = text[pos:] if nl < 0 else text[pos:nl + 1]
            pos = n if nl < 0 else nl + 1
            if line.endswith("\r\n"):
                line = line[:-2] + "\n"
            linecount += 1
            size += len(line)
            lines.append(line)
            if line == ".\n" and len(lines) == 1:
                dot_ended = True
                break
            if pos < n and text[pos] in " \t" and line != "\n":
                continue
            break
        if dot_ended:
            size -= 2
            linecount -= 1
            break
        hdr = "".join(lines)
        if hdr == "\n":
            break                         # end of headers
        if first and not msg.headers and re.match(UUCP_FROM_PATTERN, hdr):
            first = False
            if not flags.get("sender_forced"):
                m = re.match(UUCP_FROM_PATTERN, hdr)
                new, _err, dom = extract_address(m.group(1))
                if new is not None:
                    if not dom and new:
                        new = "%s@%s" % (new, qualify)
                    v["sender_address"] = Tainted(new)
                    v["authenticated_sender"] = ""
                    name = ""
                    out.write(b'Sender taken from "From " line\n')
            continue
        first = False
        p = 0
        if hdr[:1].isspace():
            break
        while p < len(hdr) and "!" <= hdr[p] <= "~" and hdr[p] != ":":
            p += 1
        while p < len(hdr) and hdr[p] in " \t\n\r\v\f":
            p += 1
        if p >= len(hdr) or hdr[p] != ":":
            break                         # not a header: the body starts (unread)
        hdr = hdr.replace("\0", "?")
        # Trailing white-space-only continuation lines are dropped.
        while True:
            stripped = hdr[:-1].rstrip(" \t")
            if stripped.endswith("\n"):
                size -= len(hdr) - len(stripped)
                hdr = stripped
                continue
            break
        msg.headers.append(Header(Tainted(hdr)))
    if not msg.headers:
        out.write(b"Warning: no message headers read\n")
    resents = any(h.text[:7].lower() == "resent-" for h in msg.headers)
    for h in msg.headers:
        hname = h.text.split(":", 1)[0].rstrip(" \t").lower()
        is_resent = hname.startswith("resent-")
        base = hname[7:] if is_resent else hname
        h.type = header_type(h.text, resents)
        if base in ("delivery-date", "envelope-to"):
            h.type = HTYPE_OLD
        elif base == "return-path" and not is_resent:
            h.type = HTYPE_OLD
            rp = h.text[12:].strip(" \t\n\r\v\f")
            if rp.startswith("<") and rp.endswith(">"):
                rp = rp[1:-1]
            v["return_path"] = Tainted(rp)
            out.write(b'Return-path taken from "Return-path:" header line\n')
    now = time.time()
    mid = new_message_id(now)
    v["message_id"] = v["message_exim_id"] = mid
    if fixups:
        forced = bool(flags.get("sender_forced"))
        apply_local_fixups(msg.headers, Submission(
            message_id=mid, primary_hostname=ctx.main_option("primary_hostname") or "",
            qualify_domain=qualify, sender=v.get("sender_address") or "",
            originator_login=login, originator_name=name, trusted=True,
            sender_forced=forced, local_from_check=False, resent=resents), now)
    # read_message_body()
    header_size = size
    body_lines = 0
    zeros = 0
    body = []
    if not dot_ended and pos < n:
        state = 1
        k = pos
        while k < n:
            ch = text[k]
            k += 1
            if ch == "\0":
                zeros += 1
            if state == 0:
                if ch == "\n":
                    body_lines += 1
                    state = 1
            elif state == 1:
                if ch == ".":
                    state = 2
                    continue
                if ch != "\n":
                    state = 0
            else:
                if ch == "\n":
                    break
                body.append(".")
                size += 1
                state = 0
            body.append(ch)
            size += 1
        if not body or body[-1] != "\n":
            body_lines += 1
    full = "".join(body)
    visible = int(ctx.main_option("message_body_visible", MESSAGE_BODY_VISIBLE) or 0)
    msg.body = full[:visible].replace("\n", " ").replace("\0", " ")
    msg.body_end = full[-visible:].replace("\n", " ").replace("\0", " ") if visible else ""
    v["message_size"] = size
    v["message_body_size"] = size - header_size
    v["body_linecount"] = body_lines
    v["body_zerocount"] = zeros
    v["message_linecount"] = linecount + body_lines
    v["message_body"] = Tainted(msg.body)
    v["message_body_end"] = Tainted(msg.body_end)
    return msg


def _add(msg: TestMessage, at_end: bool, h: Header) -> None:
    if at_end:
        msg.headers.append(h)
    else:
        msg.headers.insert(0, h)
