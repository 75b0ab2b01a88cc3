"""Delivery status notifications: the parts Exim's three reports share, and the
success DSN itself (deliver.c maybe_send_dsn()).

Failure reports (bounce.py), delay warnings (warning.py) and success DSNs are
all multipart/report messages (RFC 3464) with the same pieces: the From:
built from ``dsn_from``, a References: to the original, the MIME headers and
boundary, the "Reporting-MTA" block with the ENVID, one per-recipient block
(Original-Recipient, Action, Final-Recipient, Status, Remote-MTA,
Diagnostic-Code) and the returned message or its headers.  They live here
once, written the way Exim 4.96 writes them byte for byte.
"""

from __future__ import annotations

import random
import re

from pexim.delivery.address import AddressItem
from pexim.delivery.inject import GeneratedMessage
from pexim.expand import ExpansionError, ForcedFail, expand_string, is_tainted
from pexim.expand.variables import primary_hostname
from pexim.log import Flags
from pexim.log_lines import printing
from pexim.message.envelope import HTYPE_ID, HTYPE_OLD, RF_DSNLASTHOP, RF_NOTIFY_SUCCESS
from pexim.transports.write import write_message

DEFAULT_DSN_FROM = "Mail Delivery System <Mailer-Daemon@$qualify_domain>"

# Exim's EXPERIMENTAL_DSN_INFO build option (Remote-MTA: X-ip, the remote
# greeting, HELO response and full error as X- fields).  The reference binary
# (Debian's 4.96) is built without it, so it is off.
DSN_INFO = False


def boundary(now: float) -> str:
    """The MIME boundary: TIME_T_FMT "-eximdsn-%d" with rand()."""
    return "%d-eximdsn-%d" % (int(now), random.randrange(2 ** 31))


def mime_headers(bound: str) -> str:
    return ("Content-Type: multipart/report; report-type=delivery-status; boundary=%s\n"
            "MIME-Version: 1.0\n" % bound)


def log_panic(logger, text: str, message_id: str | None = None) -> None:
    """LOG_MAIN|LOG_PANIC: configuration trouble while composing a report."""
    if logger is not None:
        logger.write(Flags.MAIN | Flags.PANIC, text, message_id)


def from_header(ctx, logger=None) -> str:
    """moan_write_from(): "From: " + expanded dsn_from (the default if that fails)."""
    text = ctx.main_option("dsn_from", DEFAULT_DSN_FROM)
    try:
        value = expand_string(str(text), ctx)
    except (ExpansionError, ForcedFail) as err:
        log_panic(logger, "Failed to expand dsn_from (using default): %s"
                  % getattr(err, "message", err), message_id(ctx))
        value = expand_string(DEFAULT_DSN_FROM, ctx)
    return "From: %s\n" % value


_MSGID = re.compile(r"<[^<>]*>")


def references(message) -> str:
    """moan_write_references(): the original's References: (or In-Reply-To:) ids,
    first one and last eleven at most, then its Message-ID; nothing without one."""
    live = [h for h in message.headers if h.type != HTYPE_OLD]
    msgid = None
    for h in live:
        if h.type == HTYPE_ID:
            msgid = h.text.split(":", 1)[1].lstrip(" \t")
    if msgid is None:
        return ""
    ref = next((h for h in live if h.text[:11].lower() == "references:"), None)
    if ref is None:
        ref = next((h for h in live if h.text[:12].lower() == "in-reply-to:"), None)
    ids: list[str] = []
    if ref is not None:
        for m in _MSGID.finditer(_strip_comments(ref.text.split(":", 1)[1])):
            if len(ids) == 12:
                ids = ids[:1] + ids[2:]
            ids.append(re.sub(r"\s+", "", m.group(0)))
    return "References:" + "".join(" " + i for i in ids) + " " + msgid


def _strip_comments(text: str) -> str:
    out, depth = [], 0
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")" and depth:
            depth -= 1
        elif not depth:
            out.append(ch)
    return "".join(out)


def xtext_ok(text: str) -> bool:
    """Whether ENVID decodes as xtext (RFC 3461 6.3a): "+" then two hex digits."""
    return bool(text) and re.fullmatch(r"(?:[^+]|\+[0-9A-Fa-f]{2})*", text) is not None


def active_hostname(message) -> str:
    """$smtp_active_hostname of the original message (the Reporting-MTA)."""
    return message.spool.active_hostname or primary_hostname(message.context())


def status_intro(message, bound: str, utf8: bool = True) -> str:
    """The message/delivery-status part's start, up to the first recipient block
    (message/global-delivery-status for an SMTPUTF8 message, unless ``utf8`` is off)."""
    kind = "message/global-delivery-status" if utf8 and message.spool.smtputf8 \
        else "message/delivery-status"
    out = "--%s\nContent-type: %s\n\nReporting-MTA: dns; %s\n" % (
        bound, kind, active_hostname(message))
    envid = message.spool.dsn_envid
    if envid:
        out += ("Original-Envelope-ID: %s\n" % envid if xtext_ok(envid)
                else "X-Original-Envelope-ID: error decoding xtext formatted ENVID\n")
    return out + "\n"


def exim_order(addrs: list[AddressItem], message, success: bool = False) -> list[AddressItem]:
    """The order of Exim's address chains, which its reports follow.

    Exim routes the recipients last to first and prepends each outcome to its
    chain: routing failures and deferrals end up in recipient order, those of
    local and then remote deliveries in front of them, each in reverse
    recipient order.  The success DSN reverses its chain again: local
    deliveries, then remote ones, in recipient order.
    """
    index = {r.address: i for i, r in enumerate(message.spool.recipients)}

    def key(a: AddressItem):
        pos = index.get(a.top.address, len(index))
        remote = a.host_used is not None or bool(a.hosts)
        if success:
            return (1 if remote else 0, pos)
        if a.transport is None and not remote:
            return (2, pos)                     # failed or deferred by a router
        return (0 if remote else 1, -pos)
    return sorted(addrs, key=key)


def addr_action(addr: AddressItem, action: str, status: str) -> str:
    """print_dsn_addr_action(): Original-Recipient, Action, Final-Recipient, Status."""
    out = "Original-Recipient: %s\n" % addr.orcpt if addr.orcpt else ""
    return out + "Action: %s\nFinal-Recipient: rfc822;%s\nStatus: %s\n" % (
        action, addr.top.address, status)


def diagnostic_code(addr: AddressItem) -> str:
    """print_dsn_diagnostic_code(): the remote reply (what follows the first ": "
    of a message the sender may see), its "\\n"s as RFC 3461 continuations."""
    if not addr.pass_message or not addr.message:
        return ""
    at = addr.message.find(": ")
    if at < 0:
        return ""
    return "Diagnostic-Code: smtp; %s\n" % addr.message[at + 2:].replace("\\n", "\n ")


def remote_mta(addr: AddressItem) -> str:
    """Remote-MTA: (and the DSN_INFO fields) for an address that went to a host."""
    hu = addr.host_used
    if hu is None or not hu.name:
        return ""
    out = "Remote-MTA: dns; %s\n" % hu.name
    if DSN_INFO:
        if hu.address:
            port = hu.port or 25
            out += "Remote-MTA: X-ip; [%s]%s\n" % (hu.address, "" if port == 25
                                                   else ":%d" % port)
        for field, value in (("X-Remote-MTA-smtp-greeting: X-str; ", addr.smtp_greeting),
                             ("X-Remote-MTA-helo-response: X-str; ", addr.helo_response),
                             ("X-Exim-Diagnostic: X-str; ", addr.message)):
            if value:
                out += field + value + "\n"
    return out + diagnostic_code(addr)


# --- the human-readable part --------------------------------------------------

def address_information(addr: AddressItem, si: str, sc: str, se: str) -> tuple[str, bool]:
    """print_address_information(): how an address is named in a report, with the
    address it was generated from; False when it is hidden (hide_child_in_errmsg)."""
    shown = True
    out = si
    if addr.parent is not None and addr.hide_child:
        printed, shown = "an undisclosed address", False
    elif addr.special is None or addr.parent is None:
        printed = addr.address
    else:
        s = addr.address
        if s.startswith(">"):
            kind, s = "mail", s[1:]
        elif s.startswith("|"):
            kind = "pipe"
        else:
            kind = "save"
        out += "%s to %s%sgenerated by " % (kind, s, sc)
        printed = addr.parent.address
    out += printing(printed)
    top = addr.top
    if top is not addr:
        original = top.extra.get("onetime_parent") or top.address
        if original.lower() != printed.lower():
            out += "%s(%sgenerated from %s)" % (
                sc, "ultimately " if top is not addr.parent else "", printing(original))
    if addr.host_used is not None:
        out += "\n    host %s [%s]" % (addr.host_used.name, addr.host_used.address)
    return out + se, shown


def address_error(addr: AddressItem, t: str) -> str:
    """print_address_error(): the error text the sender may see; "\\n" in it, and
    a colon followed by white space more than 45 characters into a line, start
    a new line."""
    s = addr.message if addr.pass_message else None
    if not s:
        s = addr.user_message
    if not s:
        return ""
    out = ["\n    ", t]
    count = len(t)
    i, n = 0, len(s)
    while i < n:
        if s[i] == "\\" and s[i + 1:i + 2] == "n":
            out.append("\n    ")
            i += 2
            count = 0
            continue
        ch = s[i]
        out.append(ch)
        count += 1
        i += 1
        if ch == ":" and s[i:i + 1].isspace() and count > 45:
            out.append("\n   ")            # the space after the colon follows
            count = 0
    return "".join(out)


# --- the returned message -----------------------------------------------------

class _ReportCopy:
    """The dummy transport Exim writes the original with (topt_add_return_path,
    topt_no_body for headers only, the limit note as its headers_add)."""

    def __init__(self, headers_only: bool, note: str | None):
        self._options = {"return_path_add": True, "headers_only": headers_only,
                         "headers_add": note}

    def get(self, name: str):
        return self._options.get(name)


def returned_message(message, headers_only: bool, extra_header: str | None = None) -> bytes:
    """The original as the report carries it: Return-path:, its headers,
    ``extra_header``, the blank line and (unless ``headers_only``) the body."""
    out: list[bytes] = []
    write_message(_ReportCopy(headers_only, extra_header), message, [], None, out.append,
                  return_path=message.sender)
    return b"".join(out)


# --- bounce_message_file / warn_message_file ----------------------------------

class Template:
    """The texts of a bounce_message_file or warn_message_file, read in turn
    (next_emf()): items separated by "****" lines, each expanded; an empty or
    missing item, or one that fails to expand, means "use the default"."""

    def __init__(self, config, ctx, option: str, what: str, logger=None):
        self.items: list[str] = []
        self.ctx = ctx
        self.logger = logger
        self.active = False
        name = config.main.get(option)
        if not name:
            return
        text = self._open(str(name), option, what, message_id(ctx))
        if text is None:
            return
        self.active = True
        item: list[str] = []
        for line in text.splitlines(keepends=True):
            if line == "****\n":
                self.items.append("".join(item))
                item = []
            else:
                item.append(line)
        if item:
            self.items.append("".join(item))
        self.items.reverse()

    def _open(self, name: str, option: str, what: str, mid: str | None) -> str | None:
        """expand_open(): the file's text, or None (logged) if it cannot be used."""
        try:
            path = expand_string(name, self.ctx)
        except (ExpansionError, ForcedFail):
            path = ""
        if not path:
            log_panic(self.logger, "Failed to expand %s: '%s'\n" % (option, name), mid)
        elif not path.startswith("/") or is_tainted(path):
            log_panic(self.logger, "%s is not %s after expansion: '%s'\n" % (
                option, "untainted" if path.startswith("/") else "absolute", path), mid)
        else:
            try:
                with open(path, encoding="latin-1") as fh:
                    return fh.read()
            except OSError as err:
                log_panic(self.logger, "Failed to open %s for %s message texts: %s"
                          % (path, what, err.strerror), mid)
        return None

    def next(self, which: str) -> str | None:
        if not self.items:
            return None
        text = self.items.pop()
        if not text:
            return None
        try:
            return expand_string(text, self.ctx)
        except (ExpansionError, ForcedFail) as err:
            log_panic(self.logger, "Failed to expand string from bounce_message_file or "
                      "warn_message_file (%s): %s" % (which, getattr(err, "message", err)),
                      message_id(self.ctx))
            return None


def reply_to(ctx) -> str:
    """errors_reply_to (not expanded: it is checked as an address at start-up)."""
    value = ctx.main_option("errors_reply_to", None)
    return "Reply-To: %s\n" % value if value else ""


def message_id(ctx) -> str | None:
    value = ctx.values.get("message_exim_id")
    return str(value) if value else None


# --- success DSNs ---------------------------------------------------------------

def success_dsn(config, message, delivered: list[AddressItem], now: float,
                logger=None) -> GeneratedMessage | None:
    """The "Delivery Status Notification" for addresses delivered with
    NOTIFY=SUCCESS where the DSN chain ends here (local delivery, a next hop
    without DSN, or a router with dsn_lasthop); None when none is due."""
    due = [a for a in exim_order(delivered, message, success=True)
           if a.dsn_flags & RF_NOTIFY_SUCCESS
           and (a.dsn_aware is not True or a.dsn_flags & RF_DSNLASTHOP)]
    if not due or not message.sender:
        return None
    ctx = message.context()
    bound = boundary(now)
    head = reply_to(ctx) + from_header(ctx, logger)
    head += "Auto-Submitted: auto-generated\nTo: %s\nSubject: Delivery Status Notification\n" \
        % message.sender
    refs = references(message)
    head += refs + mime_headers(bound) + "\n"
    text = head + ("--%s\nContent-type: text/plain; charset=us-ascii\n\n"
                   "This message was created automatically by mail delivery software.\n"
                   " ----- The following addresses had successful delivery notifications -----\n"
                   % bound)
    for a in due:
        how = ("via non DSN router" if a.dsn_flags & RF_DSNLASTHOP
               else "to non-DSN-aware mailer" if a.dsn_aware is False
               else 'via non "Remote SMTP" router')
        text += "<%s> (relayed %s)\n\n" % (a.address, how)
    text += status_intro(message, bound, utf8=False)
    for a in due:
        text += addr_action(a, "delivered", "2.0.0")
        if a.host_used is not None and a.host_used.name:
            text += "Remote-MTA: dns; %s\nDiagnostic-Code: smtp; 250 Ok\n\n" % a.host_used.name
        else:
            text += "Diagnostic-Code: X-Exim; relayed via non %s router\n\n" % (
                "DSN" if a.dsn_flags & RF_DSNLASTHOP else "SMTP")
    text += "--%s\nContent-type: text/rfc822-headers\n\n" % bound
    data = text.encode("latin-1", "replace") + returned_message(message, True)
    data += b"\n--%s--\n" % bound.encode()
    return GeneratedMessage("", [message.sender], data)
