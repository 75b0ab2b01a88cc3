"""What a spooled message is: envelope, status and headers (the -H file's content).

One dataclass mirrors the variables Exim saves in spool_write_header(), so
the spool writer and reader are plain translations and the receiving code
fills in fields by name.  Values that came from outside may be
``pexim.expand.Tainted``; the writer records their taint as Exim does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Header types (Exim's htype_*): the -H file's flag character.
HTYPE_OTHER, HTYPE_FROM, HTYPE_TO, HTYPE_CC, HTYPE_BCC = " ", "F", "T", "C", "B"
HTYPE_ID, HTYPE_REPLY_TO, HTYPE_RECEIVED, HTYPE_SENDER, HTYPE_OLD = "I", "R", "P", "S", "*"

_TYPE_BY_NAME = {"bcc": "B", "cc": "C", "from": "F", "message-id": "I", "received": "P",
                 "reply-to": "R", "sender": "S", "to": "T"}

# Recipient DSN flags (rf_* in macros.h) and -dsn_ret values.
RF_DSNLASTHOP, RF_NOTIFY_NEVER, RF_NOTIFY_SUCCESS = 0x01, 0x02, 0x04
RF_NOTIFY_FAILURE, RF_NOTIFY_DELAY = 0x08, 0x10
DSN_RET_FULL, DSN_RET_HDRS = 1, 2


def header_type(text: str, resent: bool = False) -> str:
    """The htype Exim gives a header line when it is read in (receive.c).

    Resent-* headers are the interesting ones only when the message has them
    (``resent``); then plain From:/To:/... are ordinary.
    """
    name = text.split(":", 1)[0].rstrip(" \t").lower()
    if name.startswith("resent-"):
        if not resent:
            return HTYPE_OTHER
        name = name[7:]
        if name in ("message-id", "received"):
            return HTYPE_OTHER
    elif resent and name in ("bcc", "cc", "from", "reply-to", "sender", "to"):
        return HTYPE_OTHER
    return _TYPE_BY_NAME.get(name, HTYPE_OTHER)


@dataclass
class Header:
    """One header line as stored: the full text with its folding and final newline."""

    text: str
    type: str = HTYPE_OTHER

    @property
    def slen(self) -> int:
        """Length in bytes (the text is a byte string, one char per byte)."""
        return len(self.text)

    @property
    def name(self) -> str:
        return self.text.split(":", 1)[0].rstrip(" \t")


@dataclass
class Recipient:
    address: str
    orcpt: str | None = None        # DSN ORCPT=, as given ("rfc822;...")
    dsn_flags: int = 0              # RF_NOTIFY_* bits
    errors_to: str | None = None
    pno: int = -1                   # parent number for one_time children


@dataclass
class SpoolMessage:
    """Everything spool_write_header() saves, under Exim's names."""

    id: str
    sender: str                                  # envelope sender, "" for bounces
    originator_login: str = "root"
    originator_uid: int = 0
    originator_gid: int = 0
    received_time: tuple[int, int] = (0, 0)      # (seconds, microseconds)
    received_time_complete: tuple[int, int] | None = None
    warning_count: int = 0
    helo_name: str | None = None
    host_address: str | None = None
    host_port: int = 0
    host_name: str | None = None
    host_auth: str | None = None                 # $sender_host_authenticated
    host_auth_pubname: str | None = None
    interface_address: str | None = None
    interface_port: int = 0
    active_hostname: str | None = None           # only when != primary_hostname
    ident: str | None = None
    received_protocol: str | None = None
    acl_c: dict[str, str] = field(default_factory=dict)   # "acl_c_foo" -> value
    acl_m: dict[str, str] = field(default_factory=dict)
    spool_file_wireformat: bool = False
    body_linecount: int = 0
    max_received_linelength: int = 0
    body_zerocount: int = 0
    auth_id: str | None = None
    auth_sender: str | None = None
    allow_unqualified_recipient: bool = False
    allow_unqualified_sender: bool = False
    deliver_firsttime: bool = False
    frozen_at: int | None = None                 # -frozen <time>
    dont_deliver: bool = False                   # -N
    host_lookup_deferred: bool = False
    host_lookup_failed: bool = False
    local: bool = False
    localerror: bool = False
    local_scan: str | None = None
    spam_bar: str | None = None
    spam_score: str | None = None
    spam_score_int: str | None = None
    manual_thaw: bool = False
    sender_set_untrusted: bool = False
    tls_certificate_verified: bool = False
    tls_cipher: str | None = None
    tls_peercert: str | None = None              # exported PEM, newlines as \n
    tls_peerdn: str | None = None
    tls_sni: str | None = None
    tls_ourcert: str | None = None
    tls_ocsp: int = 0
    tls_resumption: str = "A"                    # 'A' + resumption bits
    tls_ver: str | None = None
    smtputf8: bool = False
    utf8_downconvert: int = 0                    # 1 = -utf8_downcvt, -1 = optional
    dsn_envid: str | None = None
    dsn_ret: int = 0
    nonrecipients: set[str] = field(default_factory=set)
    recipients: list[Recipient] = field(default_factory=list)
    headers: list[Header] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)   # "-name value" lines not understood

    @property
    def header_size(self) -> int:
        """Bytes of the headers that will be transmitted (deleted ones excluded)."""
        return sum(h.slen for h in self.headers if h.type != HTYPE_OLD)

    def message_size(self, body_size: int) -> int:
        """$message_size / S= / the -bp size: headers + body + 1, as Exim counts."""
        return self.header_size + body_size + 1
