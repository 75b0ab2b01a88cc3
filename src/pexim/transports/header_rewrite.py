"""Rewriting the addresses in one header line (Exim's rewrite_header()), for
a transport's headers_rewrite.

Only address headers are touched (Sender:, From:, To:, Cc:, Bcc:,
Reply-To:); each address in the list is rewritten by the rules for that
header, and the new header keeps the rest of the text as it was.
"""

from __future__ import annotations

from pexim.expand.address import find_address_end
from pexim.message import rewrite as rw
from pexim.message.address import GroupState, parse_extract_address
from pexim.message.envelope import (
    HTYPE_BCC,
    HTYPE_CC,
    HTYPE_FROM,
    HTYPE_REPLY_TO,
    HTYPE_SENDER,
    HTYPE_TO,
    Header,
)

_WHERE = {HTYPE_SENDER: rw.SENDER, HTYPE_FROM: rw.FROM, HTYPE_TO: rw.TO, HTYPE_CC: rw.CC,
          HTYPE_BCC: rw.BCC, HTYPE_REPLY_TO: rw.REPLY_TO}
_WS = " \t\n\r\v\f"


def rewrite_header(h: Header, rewriter: rw.Rewriter) -> str | None:
    """The rewritten header text, or None when nothing changed."""
    where = _WHERE.get(h.type)
    if where is None or not any(rw.applies(r, where) for r in rewriter.rules):
        return None
    text = h.text
    colon = text.find(":")
    if colon < 0:
        return None
    s = colon + 1
    while s < len(text) and text[s] in _WS:
        s += 1
    changed = False
    lastnewline = 0
    group = GroupState(allow=True)
    while s < len(text):
        ss = find_address_end(text, s, True)
        recipient, _err, start, end, _dom = parse_extract_address(text[s:ss], group=group)
        sprev = s
        s = ss + (1 if ss < len(text) else 0)
        while s < len(text) and text[s] in _WS:
            s += 1
        if recipient is None:
            continue
        new, whole = rewriter.rewrite(recipient, where)
        if new == recipient:
            continue
        changed = True
        if whole:
            start, end = 0, ss - sprev
            if text[sprev + end - 1] == "\n":
                end -= 1
        head = text[:sprev + start] + new + text[sprev + end:s]
        oldlen, newlen = end - start, len(new)
        if newlen > oldlen and len(head) - lastnewline > 40:
            p = s - 1
            while p >= 0 and text[p] in " \t":
                p -= 1
            if text[p] != "\n":
                lastnewline = len(head)
                head += "\n\t"
        text, s = head + text[s:], len(head)
    return text if changed else None
