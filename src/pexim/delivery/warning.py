"""Delay warnings ("Warning: message <id> delayed <time>"), as Exim 4.96 sends them.

After a delivery attempt that left addresses deferred, Exim works out from
``delay_warning`` how many warnings the message should have had by now (the
last interval repeats); when more than ``warning_count``, and
``delay_warning_condition`` agrees, it sends one report (texts replaceable
with warn_message_file) to the sender or the deferred addresses' errors
addresses, and sets warning_count to that number.
"""

from __future__ import annotations

from pexim.delivery import dsn
from pexim.delivery.address import AddressItem
from pexim.delivery.bounce import RF_DSNFLAGS
from pexim.delivery.errors import RETRY_BASE
from pexim.delivery.inject import GeneratedMessage
from pexim.expand import ExpansionError, ForcedFail, expand_string
from pexim.message.envelope import RF_NOTIFY_DELAY


def warnings_due(times, queue_time: int) -> tuple[int, int]:
    """(number of warnings due by ``queue_time``, the delay to report), from the
    ``delay_warning`` list; the last interval repeats."""
    dw = [int(t) for t in (times or ()) if t is not None]
    if not dw or dw[0] <= 0:
        return 0, 0
    count = 0
    while count < len(dw) and queue_time >= dw[count]:
        count += 1
    if count == 0:
        return 0, 0
    show = dw[count - 1]
    if count >= len(dw):
        last_gap = show - (dw[count - 2] if count > 1 else 0)
        if last_gap > 0:
            extra = (queue_time - dw[count - 1]) // last_gap
            show += last_gap * extra
            count += extra
    return count, show


def _condition(config, message, deferred: list[AddressItem], logger) -> bool:
    text = config.main.get("delay_warning_condition")
    if not text:
        return True
    domains = {(a.parent.domain if a.special is not None and a.parent else a.domain)
               for a in deferred}
    extra = {"domain": domains.pop()} if len(domains) == 1 else {}
    ctx = message.context(extra=extra)
    try:
        value = expand_string(str(text), ctx)
    except ForcedFail:
        return False
    except ExpansionError as err:
        dsn.log_panic(logger, "failed to expand delay_warning option: %s"
                      % getattr(err, "message", err))
        return False
    return value.strip().lower() not in ("", "0", "no", "false")


def warning_message(config, message, deferred: list[AddressItem], now: float,
                    logger=None) -> GeneratedMessage | None:
    """The delay warning due for ``deferred``, or None.

    When one is returned, ``message.spool.warning_count`` has been set to the
    number of warnings the message has now had (it may jump by more than one
    after a long gap); the caller writes the -H file.
    """
    if not deferred or not message.sender:
        return None
    addrs = dsn.exim_order(deferred, message)
    if not any(a.basic_errno > RETRY_BASE for a in addrs):
        return None                     # nobody was tried: no reason to give yet
    first = addrs[0].dsn_flags
    if first & RF_DSNFLAGS and not first & RF_NOTIFY_DELAY:
        return None
    queue_time = int(now) - message.spool.received_time[0]
    count, show = warnings_due(config.main.get("delay_warning"), queue_time)
    if count <= message.spool.warning_count:
        return None
    if not _condition(config, message, addrs, logger):
        return None
    rcpts: list[str] = []
    for a in addrs:
        r = a.errors_address or message.sender
        if r not in ",".join(rcpts):
            rcpts.append(r)
    recipients = ",".join(rcpts)
    delay = "%d minutes" % (show // 60) if queue_time < 120 * 60 else "%d hours" % (show // 3600)
    ctx = message.context(extra={"warn_message_delay": delay, "warnmsg_delay": delay,
                                 "warn_message_recipients": recipients,
                                 "warnmsg_recipients": recipients})
    tmpl = dsn.Template(config, ctx, "warn_message_file", "warning", logger)
    bound = dsn.boundary(now)
    text = dsn.reply_to(ctx) + "Auto-Submitted: auto-replied\n" + dsn.from_header(ctx, logger)
    text += "To: %s\n" % recipients + dsn.references(message) + dsn.mime_headers(bound)
    item = tmpl.next("header")
    text += item + "\n" if item is not None else \
        "Subject: Warning: message %s delayed %s\n\n" % (message.id, delay)
    text += "--%s\nContent-type: text/plain; charset=us-ascii\n\n" % bound
    item = tmpl.next("intro")
    if item is not None:
        text += item
    else:
        text += "This message was created automatically by mail delivery software.\n"
        if recipients == message.sender:
            text += ("A message that you sent has not yet been delivered to one or more of "
                     "its\nrecipients after more than ")
        else:
            text += ("A message sent by\n\n  <%s>\n\nhas not yet been delivered to one or "
                     "more of its recipients after more than \n" % message.sender)
        from pexim.expand.variables import primary_hostname
        text += "%s on the queue on %s.\n\nThe message identifier is:     %s\n" % (
            delay, primary_hostname(ctx), message.id)
        for h in message.headers:
            if h.text[:8].lower() == "subject:":
                text += "The subject of the message is: %s" % h.text[9:]
            elif h.text[:5].lower() == "date:":
                text += "The date of the message is:    %s" % h.text[6:]
        text += "\nThe address%s to which the message has not yet been delivered %s:\n" % (
            ("", "is") if len(addrs) == 1 else ("es", "are"))
    text += "\n"
    for a in addrs:
        info, visible = dsn.address_information(a, "  ", "\n    ", "")
        text += info + (dsn.address_error(a, "Delay reason: ") if visible else "") + "\n"
    text += "\n"
    if tmpl.active:
        item = tmpl.next("final")
        text += item or ""
    else:
        text += ("No action is required on your part. Delivery attempts will continue for\n"
                 "some time, and this warning may be repeated at intervals if the message\n"
                 "remains undelivered. Eventually the mail delivery software will give up,\n"
                 "and when that happens, the message will be returned to you.\n")
    text += "\n" + dsn.status_intro(message, bound, utf8=False)
    for a in addrs:
        text += dsn.addr_action(a, "delayed", "4.0.0")
        if a.host_used is not None and a.host_used.name:
            text += "Remote-MTA: dns; %s\n" % a.host_used.name + dsn.diagnostic_code(a)
        text += "\n"
    text += "--%s\nContent-type: text/rfc822-headers\n\n" % bound
    data = text.encode("latin-1", "replace") + dsn.returned_message(message, True)
    data += b"\n--%s--\n" % bound.encode()
    message.spool.warning_count = count
    return GeneratedMessage("", rcpts, data)
