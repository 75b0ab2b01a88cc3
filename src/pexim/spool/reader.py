"""Reading -H files back (spool_in.c): ours and those real Exim wrote.

Text is returned as byte strings in str (latin-1), the expansion engine's
convention; values Exim marked tainted ("--name") come back as ``Tainted``.
Unknown "-name" lines are kept in ``SpoolMessage.unknown`` rather than
rejected, so a newer spool is still readable.
"""

from __future__ import annotations

from pexim.expand.taint import Tainted
from pexim.message.envelope import Header, Recipient, SpoolMessage
from pexim.message.ids import SPOOL_DATA_START_OFFSET
from pexim.spool.paths import SpoolPaths


class SpoolFormatError(ValueError):
    """The -H file is not in Exim's format (Exim: "Format error in spool file")."""


_FLAGS = {
    "allow_unqualified_recipient": "allow_unqualified_recipient",
    "allow_unqualified_sender": "allow_unqualified_sender",
    "deliver_firsttime": "deliver_firsttime", "N": "dont_deliver",
    "host_lookup_deferred": "host_lookup_deferred",
    "host_lookup_failed": "host_lookup_failed", "local": "local", "localerror": "localerror",
    "manual_thaw": "manual_thaw", "sender_set_untrusted": "sender_set_untrusted",
    "tls_certificate_verified": "tls_certificate_verified", "smtputf8": "smtputf8",
    "spool_file_wireformat": "spool_file_wireformat",
}
_STRINGS = {
    "helo_name", "host_name", "host_auth", "host_auth_pubname", "active_hostname", "ident",
    "received_protocol", "auth_id", "auth_sender", "local_scan", "spam_bar", "spam_score",
    "spam_score_int", "tls_cipher", "tls_peercert", "tls_peerdn", "tls_sni", "tls_ourcert",
    "tls_ver", "dsn_envid", "tls_resumption",
}
_INTS = {"body_linecount": "body_linecount", "max_received_linelength":
         "max_received_linelength", "body_zerocount": "body_zerocount",
         "frozen": "frozen_at", "tls_ocsp": "tls_ocsp", "dsn_ret": "dsn_ret"}


def read_header(paths: SpoolPaths, message_id: str) -> SpoolMessage:
    with open(paths.input_file(message_id, "-H"), "rb") as fh:
        return parse_header_file(fh.read(), message_id)


def read_body(paths: SpoolPaths, message_id: str) -> bytes:
    """The -D file's content after its "<id>-D" line."""
    with open(paths.input_file(message_id, "-D"), "rb") as fh:
        return fh.read()[SPOOL_DATA_START_OFFSET:]


def _split_address_port(text: str) -> tuple[str, int]:
    """ "[ip]:port" (4.96) or the older "ip.port"."""
    if text.startswith("["):
        addr, _, port = text[1:].rpartition("]:")
    else:
        addr, _, port = text.rpartition(".")
    return addr, int(port or 0)


def parse_header_file(data: bytes, message_id: str | None = None) -> SpoolMessage:
    text = data.decode("latin-1")
    pos = 0

    def line() -> str:
        nonlocal pos
        end = text.find("\n", pos)
        if end < 0:
            raise SpoolFormatError("unexpected end of spool file")
        s = text[pos:end]
        pos = end + 1
        return s

    first = line()
    if not first.endswith("-H") or (message_id is not None and first != message_id + "-H"):
        raise SpoolFormatError("spool file has wrong name line: %r" % first)
    msg = SpoolMessage(id=first[:-2], sender="")
    login, uid, gid = line().rsplit(" ", 2)
    msg.originator_login, msg.originator_uid, msg.originator_gid = login, int(uid), int(gid)
    sender = line()
    if not (sender.startswith("<") and sender.endswith(">")):
        raise SpoolFormatError("malformed sender line: %r" % sender)
    msg.sender = sender[1:-1]
    sec, warnings = line().split()
    msg.received_time = (int(sec), 0)
    msg.warning_count = int(warnings)

    while text.startswith("-", pos):
        item = line()
        tainted = item.startswith("--")
        item = item[2:] if tainted else item[1:]
        name, _, value = item.partition(" ")
        if name.startswith("(") and ")" in name:     # quoted-for-lookup marker
            name = name[name.index(")") + 1:]
        val = Tainted(value) if tainted else value
        if name in ("aclc", "aclm"):
            var, _, length = value.rpartition(" ")
            n = int(length)
            body = text[pos:pos + n]
            pos += n + 1
            store = msg.acl_c if name == "aclc" else msg.acl_m
            store["acl_" + name[3] + var] = Tainted(body) if tainted else body
        elif name == "received_time_usec":
            msg.received_time = (msg.received_time[0], int(value.lstrip(".")))
        elif name == "received_time_complete":
            s, _, us = value.partition(".")
            msg.received_time_complete = (int(s), int(us or 0))
        elif name in ("host_address", "interface_address"):
            addr, port = _split_address_port(value)
            prefix = name.split("_")[0]
            setattr(msg, name, Tainted(addr) if tainted else addr)
            setattr(msg, prefix + "_port", port)
        elif name in _FLAGS:
            setattr(msg, _FLAGS[name], True)
        elif name in _INTS:
            setattr(msg, _INTS[name], int(value))
        elif name in _STRINGS:
            setattr(msg, name, val)
        elif name in ("utf8_downcvt", "utf8_optdowncvt"):
            msg.utf8_downconvert = 1 if name == "utf8_downcvt" else -1
        else:
            msg.unknown.append(item)

    msg.nonrecipients = set()
    _read_tree(line, msg.nonrecipients)
    count = int(line())
    for _ in range(count):
        msg.recipients.append(_parse_recipient(line()))
    if line() != "":
        raise SpoolFormatError("no blank line before the headers")
    while pos < len(text):
        i = pos
        while i < len(text) and text[i].isdigit():
            i += 1
        if i == pos or i + 2 > len(text):
            raise SpoolFormatError("malformed header length")
        n = int(text[pos:i])
        htype = text[i]
        start = i + 2
        msg.headers.append(Header(text[start:start + n], htype))
        pos = start + n
    return msg


def _read_tree(line, out: set[str]) -> None:
    """read_nonrecipients_tree(): "XX" or Y/N-prefixed nodes, root first."""
    pending = 1
    while pending:
        item = line()
        pending -= 1
        if item == "XX":
            continue
        if len(item) < 3 or item[0] not in "YN" or item[1] not in "YN":
            raise SpoolFormatError("malformed non-recipients tree")
        out.add(item[3:])
        pending += (item[0] == "Y") + (item[1] == "Y")


def _parse_recipient(item: str) -> Recipient:
    """A recipient line: plain, "addr pno" (old one_time), or the DSN "...#3" form."""
    head, hash_, flags = item.rpartition("#")
    if hash_ and flags.isdigit():
        bits = int(flags)
        r = Recipient("")
        rest = head
        if bits & 1:
            rest, _, nums = rest.rpartition(" ")
            length, _, pno = nums.partition(",")
            n = int(length)
            r.pno = int(pno)
            errors_to = rest[len(rest) - n:] if n else ""
            rest = rest[:len(rest) - n - 1] if n else rest[:-1]
            r.errors_to = errors_to or None
        if bits & 2:
            rest, _, nums = rest.rpartition(" ")
            length, _, dsn = nums.partition(",")
            n = int(length)
            r.dsn_flags = int(dsn)
            orcpt = rest[len(rest) - n:] if n else ""
            rest = rest[:len(rest) - n - 1] if n else rest[:-1]
            r.orcpt = orcpt or None
        r.address = rest
        return r
    addr, sp, pno = item.rpartition(" ")
    if sp and pno.lstrip("-").isdigit():
        return Recipient(addr, pno=int(pno))
    return Recipient(item)
