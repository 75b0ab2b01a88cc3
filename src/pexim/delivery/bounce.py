"""Failure reports ("bounces"), as Exim 4.96's deliver_message() writes them.

One report per errors address: failed addresses go to their router's
errors_to address when they have one, else to the sender.  The report is a
multipart/report (RFC 3464): the human-readable list of failed addresses
(texts replaceable with bounce_message_file), the machine-readable
delivery-status part, and the message returned whole or as headers only
(RET=HDRS, bounce_return_body, bounce_return_size_limit,
bounce_return_linesize_limit; Exim 4.96 ignores bounce_return_message).

Addresses that asked for no failure report (NOTIFY without FAILURE) or whose
errors go nowhere (errors_to = "") get none: the caller logs
``error_ignored_lines``.  A message whose sender is <> and whose failed
addresses have no errors address gets no report either: the caller freezes
it ("Frozen (delivery error message)"), as Exim does for bounces of bounces.
"""

from __future__ import annotations

from pexim import lists
from pexim.delivery import dsn
from pexim.delivery.address import AddressItem
from pexim.delivery.inject import GeneratedMessage
from pexim.expand import ExpansionError, ForcedFail, expand_string
from pexim.message.envelope import DSN_RET_FULL, DSN_RET_HDRS, RF_NOTIFY_FAILURE
from pexim.message.ids import SPOOL_DATA_START_OFFSET

RF_DSNFLAGS = 0x1E                       # rf_notify_never|success|failure|delay
DELIVER_IN_BUFFER_SIZE = 8192
DSN_LIMIT_NOTE = ("X-Exim-DSN-Information: Due to administrative limits only headers "
                  "are returned")


def _ignore_reason(addr: AddressItem) -> str | None:
    """Why no report is sent for ``addr`` (the log line's tail), or None."""
    if addr.errors_address == "":
        return ""
    if addr.dsn_flags & RF_DSNFLAGS and not addr.dsn_flags & RF_NOTIFY_FAILURE:
        return ": RFC 3461 DSN, failure notify not requested"
    return None


def error_ignored_lines(failed: list[AddressItem], message=None) -> list[str]:
    """The "<address>: error ignored" log lines for failures that get no report,
    in Exim's order when ``message`` is given."""
    out = []
    for a in dsn.exim_order(failed, message) if message is not None else failed:
        reason = _ignore_reason(a)
        if reason is not None:
            parent = " <%s>" % a.parent.address if a.parent is not None else ""
            out.append("%s%s: error ignored%s" % (a.address, parent, reason))
    return out


def unreportable(message, failed: list[AddressItem]) -> list[AddressItem]:
    """Failures of a bounce (sender <>) that have no errors address: nobody can
    be told, so Exim keeps them and freezes the message ("Frozen (delivery
    error message)"), after sending the reports that can be sent."""
    if message.sender:
        return []
    return [a for a in dsn.exim_order(failed, message)
            if _ignore_reason(a) is None and not a.errors_address]


def bounce_message(config, message, failed: list[AddressItem], now: float,
                   logger=None) -> list[GeneratedMessage] | None:
    """The failure reports due for ``failed`` (one per errors address), or None.

    None when every failure is ignored, or when the message is itself a bounce
    (sender <>) and the failures have no errors address: see ``unreportable``.
    """
    todo = [a for a in dsn.exim_order(failed, message) if _ignore_reason(a) is None]
    out = []
    while todo:
        recipient = todo[0].errors_address or message.sender
        if not recipient:
            todo = [a for a in todo if a.errors_address]
            continue
        group = [a for a in todo if (a.errors_address or message.sender) == recipient]
        todo = [a for a in todo if a not in group]
        out.append(_one(config, message, group, recipient, now, logger))
    return out or None


def _one(config, message, addrs: list[AddressItem], recipient: str, now: float,
         logger) -> GeneratedMessage:
    ctx = message.context(extra={"bounce_recipient": recipient})
    to_sender = recipient.lower() == message.sender.lower()
    bound = dsn.boundary(now)
    shown = [a for a in addrs if not a.hide_child]
    head = ""
    for n, a in enumerate(shown):
        name = a.parent.address if a.special is not None and a.parent is not None \
            else a.address
        if n % 50 == 0:
            head += ("\n" if n else "") + "X-Failed-Recipients: " + dsn.printing(name)
        else:
            head += ",\n  " + dsn.printing(name)
    if shown:
        head += "\n"
    head += dsn.reply_to(ctx)
    head += "Auto-Submitted: auto-replied\n" + dsn.from_header(ctx, logger)
    head += "To: %s\n" % recipient + dsn.references(message) + dsn.mime_headers(bound)
    tmpl = dsn.Template(config, ctx, "bounce_message_file", "error", logger)
    bcc = _errors_copy(config, ctx, recipient)
    if bcc:
        head += "Bcc: %s\n" % bcc
    text = tmpl.next("header")
    if text is not None:
        head += text + "\n"
    else:
        head += "Subject: Mail delivery failed%s\n\n" % (
            ": returning message to sender" if to_sender else "")
    body = "--%s\nContent-type: text/plain; charset=us-ascii\n\n" % bound
    text = tmpl.next("intro")
    if text is not None:
        body += text
    else:
        body += "This message was created automatically by mail delivery software.\n"
        extra = config.main.get("bounce_message_text")
        if extra:
            body += str(extra)
        if to_sender:
            body += ("\nA message that you sent could not be delivered to one or more of its\n"
                     "recipients. This is a permanent error. The following address(es) "
                     "failed:\n")
        else:
            body += ("\nA message sent by\n\n  <%s>\n\ncould not be delivered to one or more "
                     "of its recipients. The following\naddress(es) failed:\n"
                     % message.sender)
    body += "\n"
    with_output = []
    for a in addrs:
        info, visible = dsn.address_information(a, "  ", "\n    ", "")
        body += info
        if visible:
            body += dsn.address_error(a, "")
        body += "\n"
        if a.return_output is not None:
            with_output.append(a)
    body += "\n"
    text = tmpl.next("generated text")
    if with_output:
        body += text if text is not None else (
            "The following text was generated during the delivery attempt%s:\n"
            % ("s" if len(with_output) > 1 else ""))
        for a in with_output:
            info, _ = dsn.address_information(a, "------ ", "\n       ", " ------\n")
            body += "\n" + info + "\n" + a.return_output.decode("latin-1")
        body += "\n"
    body += dsn.status_intro(message, bound)
    # Exim's handled_addr chain: addresses with output, then the others, each
    # list reversed.
    plain = [a for a in addrs if a.return_output is None]
    for a in list(reversed(with_output)) + list(reversed(plain)):
        body += dsn.addr_action(a, "failed", "5.0.0")
        if a.host_used is not None and a.host_used.name:
            body += dsn.remote_mta(a)
        body += "\n"
    tmpl.next("copy")
    body += "--%s\n" % bound
    headers_only, note = _return_body(config, message)
    if message.spool.smtputf8:
        body += "Content-type: message/global-headers\n\n" if headers_only \
            else "Content-type: message/global\n\n"
    else:
        body += "Content-type: text/rfc822-headers\n\n" if headers_only \
            else "Content-type: message/rfc822\n\n"
    data = (head + body).encode("latin-1", "replace")
    data += dsn.returned_message(message, headers_only, note)
    data += b"\n--%s--\n" % bound.encode()
    return GeneratedMessage("", [recipient] + ([bcc] if bcc else []), data)


def _return_body(config, message) -> tuple[bool, str | None]:
    """Whether only the headers go back, and the note added when a limit did it."""
    ret = message.spool.dsn_ret
    if ret == DSN_RET_HDRS:
        return True, None
    main = config.main
    if not main.get("bounce_return_body"):
        return True, DSN_LIMIT_NOTE if ret == DSN_RET_FULL else None
    limit = int(main.get("bounce_return_size_limit") or 0)
    biggest = (limit // DELIVER_IN_BUFFER_SIZE + 1) * DELIVER_IN_BUFFER_SIZE
    linesize = int(main.get("bounce_return_linesize_limit") or 0)
    if message.spool.max_received_linelength > linesize or (
            limit > 0 and message.body_size + SPOOL_DATA_START_OFFSET > biggest):
        return True, DSN_LIMIT_NOTE
    return False, None


def _errors_copy(config, ctx, recipient: str) -> str | None:
    """moan_check_errorcopy(): the errors_copy addresses for this recipient."""
    text = config.main.get("errors_copy")
    if not text:
        return None
    local, _, domain = recipient.rpartition("@")
    for item in lists.split_list(str(text)):
        parts = item.split(None, 1)
        if len(parts) < 2:
            continue
        pattern, copies = parts
        ok, _ = lists.match_address(ctx, recipient, pattern)
        if not ok:
            continue
        ctx.values.update({"local_part": local, "domain": domain})
        try:
            return expand_string(copies, ctx)
        except (ExpansionError, ForcedFail) as err:
            dsn.log_panic(None, "Failed to expand %s when processing errors_copy: %s"
                          % (copies, getattr(err, "message", err)))
            return None
        finally:
            ctx.values.pop("local_part", None)
            ctx.values.pop("domain", None)
    return None
