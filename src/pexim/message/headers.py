"""Headers Exim adds on reception: Received:, and the local-submission fix-ups.

``received_header`` expands ``received_header_text`` with the variables
receive.c sets and appends ``;\\n\\t<date>``.  ``local_fixups`` adds the
Message-Id:, From:, Sender: and Date: headers Exim adds to messages submitted
locally (or in submission mode), in Exim's order.
"""

from __future__ import annotations

from dataclasses import dataclass

from pexim.expand import ExpandContext, expand_string
from pexim.expand.variables import tod
from pexim.message.envelope import (
    HTYPE_FROM,
    HTYPE_ID,
    HTYPE_OTHER,
    HTYPE_RECEIVED,
    HTYPE_SENDER,
    Header,
    header_type,
)


def received_header(ctx: ExpandContext, message_id: str, now: float,
                    recipients: list[str] | None = None) -> Header:
    """The Received: header as Exim 4.96 writes it (type P, or * when the text is empty).

    ``ctx`` carries the connection's variables (sender_rcvhost, sender_ident,
    sender_helo_name, received_protocol, sender_address, tls_in_*...);
    $message_exim_id and $received_for (the recipient when there is exactly
    one) are set here.  Expansion errors propagate (Exim: panic-die).
    """
    values = ctx.values
    saved = {k: values.get(k) for k in ("message_exim_id", "message_id", "received_for")}
    values["message_exim_id"] = values["message_id"] = message_id
    values["received_for"] = recipients[0] if recipients and len(recipients) == 1 else ""
    try:
        text = expand_string(ctx.main_option("received_header_text", ""), ctx)
    finally:
        for k, v in saved.items():
            if v is None:
                values.pop(k, None)
            else:
                values[k] = v
    if not text:
        return Header("Received: \n", "*")
    return Header("%s;\n\t%s\n" % (text, tod("full", now)), HTYPE_RECEIVED)


@dataclass
class Submission:
    """Who submitted a local message, as far as the fix-ups care."""

    message_id: str
    primary_hostname: str
    qualify_domain: str            # qualify_domain (the sender's)
    sender: str                    # envelope sender after -f
    originator_login: str
    originator_name: str = ""      # gecos or -F
    trusted: bool = False          # trusted caller
    sender_forced: bool = False    # -f was used
    name_forced: bool = False      # -F was used
    local_from_check: bool = True
    id_domain: str | None = None   # expanded message_id_header_domain
    id_text: str = ""              # expanded message_id_header_text
    resent: bool = False           # message has Resent- headers


def _has(headers: list[Header], htype: str, name: str) -> bool:
    lname = name.lower()
    return any(h.type == htype or (h.type != "*" and h.name.lower() == lname) for h in headers)


def local_fixups(headers: list[Header], sub: Submission, now: float) -> list[Header]:
    """Headers to append (in order) to a locally submitted message."""
    prefix = "Resent-" if sub.resent else ""
    added: list[Header] = []
    if not _has(headers, HTYPE_ID, prefix + "Message-Id"):
        added.append(Header("%sMessage-Id: <E%s%s%s@%s>\n" % (
            prefix, sub.message_id, "." if sub.id_text else "", sub.id_text,
            sub.id_domain or sub.primary_hostname), HTYPE_ID))
    from_hdr = next((h for h in headers if h.type == HTYPE_FROM), None)
    if from_hdr is None and sub.sender == "":
        pass                        # a bounce-like message (<> sender) gets no From:
    elif from_hdr is None:
        if not sub.trusted or sub.name_forced or not sub.sender_forced:
            oname = sub.originator_name
        else:
            oname = ""
        addr = sub.sender or "%s@%s" % (sub.originator_login, sub.qualify_domain)
        text = "%s <%s>" % (oname, addr) if oname else addr
        added.append(Header("%sFrom: %s\n" % (prefix, text), HTYPE_FROM))
    elif sub.local_from_check and not sub.trusted and not _from_is_login(from_hdr, sub):
        added.append(Header("%sSender: %s <%s@%s>\n" % (
            prefix, sub.originator_name, sub.originator_login, sub.qualify_domain),
            HTYPE_SENDER))
    if not any(h.type != "*" and h.name.lower() == (prefix + "date").lower() for h in headers):
        added.append(Header("%sDate: %s\n" % (prefix, tod("full", now)), HTYPE_OTHER))
    return added


def apply_local_fixups(headers: list[Header], sub: Submission, now: float) -> None:
    """Add the fix-ups where Exim puts them: at the end, except that a resent
    message gets its Resent-Message-Id: and Resent-Date: at the top."""
    for h in local_fixups(headers, sub, now):
        if sub.resent and h.type != HTYPE_FROM and h.type != HTYPE_SENDER:
            headers.insert(0, h)
        else:
            headers.append(h)


def apply_submission_fixups(headers: list[Header], message_id: str, primary_hostname: str,
                            sender: str, now: float) -> None:
    """`control = submission` for an SMTP message: Message-Id:, Date: (and a From:
    naming the sender when there is none), as for a local submission.  The
    Sender:/From: checks against an authenticated id come with AUTH."""
    domain = sender.rpartition("@")[2] or primary_hostname
    sub = Submission(message_id, primary_hostname, domain, sender, "", trusted=True,
                     sender_forced=True, local_from_check=False)
    apply_local_fixups(headers, sub, now)


def _from_is_login(from_hdr: Header, sub: Submission) -> bool:
    """Whether the From: header holds exactly the caller's own address."""
    from pexim.expand.address import extract_address

    value = from_hdr.text.split(":", 1)[1].strip()
    address, _error, _domain = extract_address(value)
    own = "%s@%s" % (sub.originator_login, sub.qualify_domain)
    return address is not None and address.lower() == own.lower()


def typed(text: str, resent: bool = False) -> Header:
    """A header line as read from a message, with its htype."""
    return Header(text, header_type(text, resent))
