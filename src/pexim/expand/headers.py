"""Header access for $h_/$rh_/$bh_/$lh_, $message_headers and friends.

The message object is duck-typed: ``message.headers`` is a sequence of header
lines, each either a str (the raw ``Name: value\\n`` text, folding included) or
an object with ``.text`` and optionally ``.type`` (Exim's one-letter htype;
``"*"`` marks a deleted header).  ``message.body`` (str/bytes) and
``message.recipients`` (addresses) are optional.
"""

from __future__ import annotations

from .taint import Tainted

HEADER_INSERT_MAXLEN = 64 * 1024
MESSAGE_BODY_VISIBLE = 500

_ADDRESS_TYPES = {"bcc": "B", "cc": "C", "from": "F", "reply-to": "R", "sender": "S", "to": "T"}

RAW, LIST = 1, 2


def _lines(ctx):
    msg = ctx.message
    if msg is None:
        return ()
    return getattr(msg, "headers", None) or ()


def _text_type(h) -> tuple[str, str]:
    if isinstance(h, str):
        text, htype = h, None
    else:
        text, htype = h.text, getattr(h, "type", None)
        if isinstance(text, bytes):
            text = text.decode("latin-1")
    if htype is None:
        name = text.split(":", 1)[0].strip().lower()
        htype = _ADDRESS_TYPES.get(name, " ")
    return text, htype


def find_header(ctx, name: str | None, flags: int = 0, charset: str | None = None,
                exists_only: bool = False) -> str | None:
    """Exim's find_header(): ``name`` ends with ':' (None = all headers)."""
    found = name is None
    n = len(name) if name else 0
    lname = name.lower() if name else ""
    comma = False
    out: list[str] = []
    size = 0
    for h in _lines(ctx):
        text, htype = _text_type(h)
        if htype == "*":
            continue
        if name is not None and (len(text) < n or text[:n].lower() != lname):
            continue
        if exists_only:
            return "1"
        found = True
        s = text[n:]
        if not flags & RAW:
            s = s.lstrip(" \t\r\n\v\f")
        if flags & LIST:
            s = s.rstrip("\n")
        elif not flags & RAW:
            s = s.rstrip(" \t\r\n\v\f")
            if name is not None and htype in "BCFRST":
                comma = True
        if size + len(s) > HEADER_INSERT_MAXLEN:
            s = s[:HEADER_INSERT_MAXLEN - size]
        if flags & LIST:
            item = s.replace(":", "::")
            out.append(":" + item if out else item)
        elif flags & RAW:
            out.append(s)
        elif s:
            out.append(((",\n" if comma else "\n") if out else "") + s)
        size += len(out[-1]) if out else 0
        if size >= HEADER_INSERT_MAXLEN:
            break
    if not found:
        return None
    result = "".join(out)
    if not flags & RAW and result:
        from .rfc2047 import decode_header
        result = decode_header(result, charset)
    return Tainted(result)


def _charset(ctx) -> str:
    return ctx.headers_charset or ctx.main_option("headers_charset") or "ISO-8859-1"


def header_value(ctx, kind: str, name: str) -> str | None:
    """$h_name: / $rh_ / $bh_ / $lh_ (``kind`` is '', 'r', 'b' or 'l')."""
    flags = RAW if kind == "r" else RAW | LIST if kind == "l" else 0
    charset = None if kind == "b" else _charset(ctx)
    return find_header(ctx, name, flags, charset)


def message_headers(ctx, name=None) -> str:
    return find_header(ctx, None, 0, None) or ""


def message_headers_raw(ctx, name=None) -> str:
    return find_header(ctx, None, RAW) or ""


def headers_added(ctx, name=None) -> str:
    msg = ctx.message
    added = getattr(msg, "headers_added", None) if msg is not None else None
    if not added:
        return ""
    return Tainted("\n".join(str(h).rstrip("\n") for h in added))


def _body(ctx, end: bool) -> str:
    msg = ctx.message
    body = getattr(msg, "body", None) if msg is not None else None
    if body is None:
        return ""
    if isinstance(body, bytes):
        body = body.decode("latin-1")
    limit = int(ctx.main_option("message_body_visible", MESSAGE_BODY_VISIBLE))
    part = body[-limit:] if end else body[:limit]
    if ctx.main_option("message_body_newlines", False):
        part = part.replace("\0", " ")
    else:
        part = part.replace("\n", " ").replace("\0", " ")
    return Tainted(part)


def message_body(ctx, name=None) -> str:
    return _body(ctx, False)


def message_body_end(ctx, name=None) -> str:
    return _body(ctx, True)


def recipients(ctx, name=None) -> str:
    msg = ctx.message
    rcpts = getattr(msg, "recipients", None) if msg is not None else None
    if not rcpts or not ctx.extra.get("enable_dollar_recipients", True):
        return ""
    return Tainted(", ".join(str(r) for r in rcpts))


def reply_address(ctx, name=None) -> str:
    s = find_header(ctx, "reply-to:", RAW)
    if s is not None:
        s = s.lstrip()
    if not s:
        s = find_header(ctx, "from:", RAW)
    if s is None:
        return ""
    s = s.lstrip().replace("\n", " ").rstrip()
    return Tainted(s)
