"""verify = header_syntax (verify_check_headers()): every address in the
address-bearing headers must parse."""

from __future__ import annotations

from pexim.expand.address import extract_address, split_addresses

_ADDRESS_HEADERS = ("sender", "from", "reply-to", "to", "cc", "bcc", "resent-sender",
                    "resent-from", "resent-reply-to", "resent-to", "resent-cc", "resent-bcc")


def check_header_syntax(ctx):
    """(ok, user message, log message) for the message in `ctx`."""
    msg = ctx.message
    for h in getattr(msg, "headers", None) or ():
        text = h if isinstance(h, str) else h.text
        name, colon, value = text.partition(":")
        if not colon or name.strip().lower() not in _ADDRESS_HEADERS:
            continue
        if getattr(h, "type", None) == "*":
            continue
        for piece in split_addresses(value.replace("\n", " ")):
            piece = piece.strip()
            if not piece:
                continue
            addr, err, _ = extract_address(piece, allow_group=True)
            if addr is None:
                log = '%s: failing address in "%s:" header is: %s' % (
                    err, name.strip(), piece)
                return False, None, log
    return True, None, None
