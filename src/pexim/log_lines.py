"""The text of Exim's standard log lines, fields in Exim's order.

Each function returns the text after the timestamp/pid/message-id prefix
(``Logger.write`` adds that).  ``sel`` is the set of enabled log selectors
(``Logger.selectors``), which decides the optional fields exactly as Exim's
LOGGING() tests do.  Sources: receive.c (<= lines), deliver.c (=>, ->, **,
==, Completed), smtp_in.c and daemon.c (connections), acl.c (rejections),
log.c (reject-log details).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pexim.bytestr import printing
from pexim.config.timeval import print_time


def timediff(seconds: float, sel) -> str:
    """string_timediff(): "0.123s" under +millisec for short times, else "1m5s"."""
    if seconds < 5 and "millisec" in sel:
        ms = int(round(seconds * 1000))
        return "%d.%03ds" % (ms // 1000, ms % 1000)
    return print_time(int(seconds))


@dataclass
class Peer:
    """What the logs say about the sending side of a connection."""

    # $sender_fullhost from hostinfo.sender_fullhost(..., log_port="incoming_port" in sel),
    # which carries the port when +incoming_port is set; None for local callers.
    fullhost: str | None = None
    interface_address: str | None = None
    interface_port: int = 0
    ident: str | None = None           # U=
    protocol: str | None = None        # P=
    pipelining: str | None = None      # "L", "L-", "L.", "L*" ... when advertised
    dnssec: bool = False


def host_info(peer: Peer, sel) -> str:
    """add_host_info_for_log(): " H=... I=... U=... P=... L"."""
    out = []
    if peer.fullhost:
        if "dnssec" in sel and peer.dnssec:
            out.append(" DS")
        out.append(" H=" + peer.fullhost)
    if "incoming_interface" in sel and peer.interface_address:
        out.append(" I=[%s]:%d" % (peer.interface_address, peer.interface_port))
    if peer.ident:
        out.append(" U=" + peer.ident)
    if peer.protocol:
        out.append(" P=" + peer.protocol)
    if "pipelining" in sel and peer.pipelining:
        out.append(" " + peer.pipelining)
    return "".join(out)


def host_and_ident(peer: Peer, sel, useflag: bool = True) -> str:
    """host_and_ident(): "H=fullhost [I=...] [U=ident]" (or "U=ident" when local)."""
    if not peer.fullhost:
        return "%s%s" % ("U=" if useflag else "", peer.ident or "unknown")
    out = ("H=" if useflag else "") + peer.fullhost
    if "incoming_interface" in sel and peer.interface_address:
        out += " I=[%s]:%d" % (peer.interface_address, peer.interface_port)
    if peer.ident:
        out += " U=" + peer.ident
    return out


@dataclass
class Arrival:
    """The facts a "<=" line reports (receive.c builds it at the end of DATA)."""

    sender: str
    size: int                                  # S= (SpoolMessage.message_size)
    peer: Peer = field(default_factory=Peer)
    message_reference: str | None = None       # R= (bounces)
    tls_cipher: str | None = None
    tls_resumed: bool = False
    tls_verified: bool = False
    tls_peerdn: str | None = None
    tls_sni: str | None = None
    auth: str | None = None                    # authenticator public name
    auth_id: str | None = None
    auth_sender: str | None = None
    prdr: bool = False
    proxy_local: str | None = None
    chunking: bool = False
    body_8bitmime: int = 0                     # M8S=
    dkim: str | None = None
    receive_time: float | None = None          # seconds, RT=
    queue_name: str = ""
    msgid: str | None = None                   # Message-ID: value (without <>)
    msgid_created: bool = False                # Exim added the Message-ID:
    subject: str | None = None                 # decoded Subject:
    recipients: list[str] = field(default_factory=list)
    fake_reject: bool = False                  # "(=" for fakereject


def arrival(a: Arrival, sel) -> str:
    out = ["(= " if a.fake_reject else "<= ", a.sender or "<>"]
    if a.message_reference:
        out.append(" R=" + a.message_reference)
    out.append(host_info(a.peer, sel))
    if "tls_cipher" in sel and a.tls_cipher:
        out.append(" X=" + a.tls_cipher + ("*" if "tls_resumption" in sel and a.tls_resumed
                                           else ""))
    if "tls_certificate_verified" in sel and a.tls_cipher:
        out.append(" CV=" + ("yes" if a.tls_verified else "no"))
    if "tls_peerdn" in sel and a.tls_peerdn:
        out.append(' DN="%s"' % printing(a.tls_peerdn))
    if "tls_sni" in sel and a.tls_sni:
        out.append(' SNI="%s"' % printing(a.tls_sni))
    if a.auth:
        out.append(" A=" + a.auth)
        if a.auth_id:
            out.append(":" + a.auth_id)
            if "smtp_mailauth" in sel and a.auth_sender:
                out.append(":" + a.auth_sender)
    if a.prdr:
        out.append(" PRDR")
    if a.proxy_local and "proxy" in sel:
        out.append(" PRX=" + a.proxy_local)
    if a.chunking:
        out.append(" K")
    out.append(" S=%d" % a.size)
    if "8bitmime" in sel:
        out.append(" M8S=%d" % a.body_8bitmime)
    if "dkim" in sel and a.dkim:
        out.append(" DKIM=" + a.dkim)
    if "receive_time" in sel and a.receive_time is not None:
        out.append(" RT=" + timediff(a.receive_time, sel))
    if a.queue_name:
        out.append(" Q=" + a.queue_name)
    if a.msgid and "msg_id" in sel and (not a.msgid_created or "msg_id_created" in sel):
        out.append(" id=" + printing(a.msgid))
    if "subject" in sel and a.subject is not None:
        out.append(' T="%s"' % printing(a.subject).replace('"', '\\"'))
    if "received_sender" in sel:
        out.append(" from <%s>" % a.sender)
    if "received_recipients" in sel:
        out.append(" for " + " ".join(a.recipients))
    return "".join(out)


@dataclass
class Delivery:
    """One address's delivery outcome (deliver.c delivery_log / post_process_one)."""

    address: str
    parents: list[str] = field(default_factory=list)   # nearest first; [-1] is top level
    router: str | None = None
    transport: str | None = None
    host: str | None = None            # "name [ip]" of the host used
    host_port: int = 25
    sender: str | None = None          # F= (sender_on_delivery)
    return_path: str | None = None     # P= (return_path_on_delivery)
    queue_name: str = ""
    size: int | None = None            # S= (delivery_size)
    tls_cipher: str | None = None
    tls_verified: bool = False
    tls_peerdn: str | None = None
    auth: str | None = None
    chunking: bool = False
    confirmation: str | None = None    # C= (remote server's reply)
    continued: bool = False            # "*" after H= on a reused connection
    queue_time: float | None = None    # QT=
    deliver_time: float | None = None  # DT=
    errno: int = 0
    message: str | None = None         # error text for ** and ==


def log_address(d: Delivery, sel) -> str:
    """string_log_address(): "addr <top>" (all parents under +all_parents)."""
    if not d.parents:
        return d.address
    shown = d.parents if "all_parents" in sel else d.parents[-1:]
    return d.address + "".join(" <%s>" % p for p in shown)


def _route_fields(d: Delivery, sel) -> list[str]:
    out = []
    if d.router:
        out.append(" R=" + d.router)
    if d.transport:
        out.append(" T=" + d.transport)
    return out


def delivered(d: Delivery, sel, logchar: str = "=>") -> str:
    """"=>" (first), "->" (more addresses in the same delivery), "*>" (-N)."""
    out = [logchar, " ", log_address(d, sel)]
    if "sender_on_delivery" in sel and d.sender is not None:
        out.append(" F=<%s>" % d.sender)
    if d.queue_name:
        out.append(" Q=" + d.queue_name)
    if "return_path_on_delivery" in sel and d.return_path is not None:
        out.append(" P=<%s>" % d.return_path)
    out += _route_fields(d, sel)
    if "delivery_size" in sel and d.size is not None:
        out.append(" S=%d" % d.size)
    if d.host:
        out.append(" H=" + d.host)
        if "outgoing_port" in sel:
            out.append(":%d" % d.host_port)
        if d.continued:
            out.append("*")
    if d.tls_cipher and "tls_cipher" in sel:
        out.append(" X=" + d.tls_cipher)
    if d.tls_cipher and "tls_certificate_verified" in sel:
        out.append(" CV=" + ("yes" if d.tls_verified else "no"))
    if d.tls_peerdn and "tls_peerdn" in sel:
        out.append(' DN="%s"' % printing(d.tls_peerdn))
    if d.auth:
        out.append(" A=" + d.auth)
    if d.chunking:
        out.append(" K")
    if "smtp_confirmation" in sel and d.confirmation is not None:
        quoted = d.confirmation[:1024].replace("\\", "\\\\").replace('"', '\\"')
        out.append(' C="%s"' % quoted)
    if "queue_time" in sel and d.queue_time is not None:
        out.append(" QT=" + timediff(d.queue_time, sel))
    if "deliver_time" in sel and d.deliver_time is not None:
        out.append(" DT=" + timediff(d.deliver_time, sel))
    return "".join(out)


def _outcome_tail(d: Delivery, sel) -> list[str]:
    out = []
    if d.host:
        out.append(" H=" + d.host)
        if "outgoing_port" in sel:
            out.append(":%d" % d.host_port)
    if "deliver_time" in sel and d.deliver_time is not None:
        out.append(" DT=" + timediff(d.deliver_time, sel))
    return out


def failed(d: Delivery, sel) -> str:
    """"** addr <top> R= T=: message" (permanent failure)."""
    import os

    out = ["** ", log_address(d, sel)]
    if "return_path_on_delivery" in sel and d.return_path is not None:
        out.append(" P=<%s>" % d.return_path)
    out += _route_fields(d, sel) + _outcome_tail(d, sel)
    if d.errno > 0:
        out.append(": " + os.strerror(d.errno))
    if d.message:
        out.append(": " + d.message)
    return "".join(out)


def deferred(d: Delivery, sel) -> str:
    """"== addr R= T= defer (errno)[: strerror] H=host: message" (temporary failure)."""
    import os

    out = ["== ", log_address(d, sel)]
    if "return_path_on_delivery" in sel and d.return_path is not None:
        out.append(" P=<%s>" % d.return_path)
    out += _route_fields(d, sel)
    out.append(" defer (%d)" % d.errno)
    if d.errno > 0:
        out.append(": " + os.strerror(d.errno))
    out += _outcome_tail(d, sel)
    if d.message:
        out.append(": " + d.message)
    return "".join(out)


def completed(sel, queue_time: float | None = None) -> str:
    if "queue_time_overall" in sel and queue_time is not None:
        return "Completed QT=" + timediff(queue_time, sel)
    return "Completed"


def smtp_connection(peer: Peer, sel, count: int | None = None) -> str:
    """Logged with +smtp_connection when a connection is accepted."""
    if not peer.fullhost:
        return "SMTP connection from " + (peer.ident or "unknown")
    who = peer.fullhost
    if "incoming_interface" in sel and peer.interface_address:
        who += " I=[%s]:%d" % (peer.interface_address, peer.interface_port)
    if count is not None:
        return "SMTP connection from %s (TCP/IP connection count = %d)" % (who, count)
    return "SMTP connection from " + who


def smtp_closed(peer: Peer, sel, how: str = "closed by QUIT") -> str:
    return "SMTP connection from %s %s" % (host_and_ident(peer, sel, False), how)


def no_mail(peer: Peer, sel, duration: float, commands: list[str]) -> str:
    """+smtp_no_mail: "no MAIL in SMTP connection from ... D=2s C=EHLO,QUIT"."""
    tail = " C=" + ",".join(commands) if commands else ""
    return "no MAIL in SMTP connection from %s D=%s%s" % (
        host_and_ident(peer, sel, False), timediff(duration, sel), tail)


def rejection(peer: Peer, sel, what: str, sender: str | None = None,
              reason: str | None = None) -> str:
    """ACL rejections: "H=... F=<s> rejected RCPT <r>: reason", "... rejected after DATA: ..."."""
    out = host_and_ident(peer, sel)
    if sender is not None:
        out += " F=<%s>" % sender
    out += " rejected " + what
    if reason:
        out += ": " + reason
    return out


def reject_details(sender: str | None, recipients: list[str], headers, sel) -> str:
    """What log.c appends to reject-log entries: envelope, then typed header lines."""
    if "rejected_header" not in sel:
        return ""
    out = []
    if sender is not None:
        out.append("Envelope-from: <%s>\n" % sender)
    for i, r in enumerate(recipients):
        out.append(("Envelope-to: <%s>\n" if i == 0 else "    <%s>\n") % r)
    for h in headers:
        out.append("%s %s" % (h.type, h.text))
    return "".join(out)
