"""The end of DATA under `-bh`: Exim builds the message (Received: header,
id, size) and runs the DATA ACL, but writes no spool; the reply says the id
is not real. The real receive path will write the spool instead."""

from __future__ import annotations

import time

from pexim.acl import where as W
from pexim.expand import Tainted
from pexim.expand.variables import tod
from pexim.message.envelope import Header, header_type
from pexim.message.headers import apply_submission_fixups
from pexim.message.ids import MessageIdGenerator
from pexim.smtp.receive import acl_after_effects


class _Message:
    def __init__(self, headers, body, recipients):
        self.headers = headers
        self.body = body
        self.recipients = recipients


def _split_headers(lines: list[bytes]):
    """(header texts with LF endings, body bytes) as receive_msg() separates them."""
    headers: list[str] = []
    i = 0
    n = len(lines)
    while i < n:
        line = lines[i].decode("latin-1")
        if line == "":
            i += 1
            break
        if line[:1] in (" ", "\t") and headers:
            headers[-1] += line + "\n"
            i += 1
            continue
        name, colon, _ = line.partition(":")
        if colon and name and all(33 <= ord(c) <= 126 for c in name):
            headers.append(line + "\n")
            i += 1
            continue
        break
    body = b"".join(ln + b"\n" for ln in lines[i:])
    return headers, body


def received_header(session, env, msgid: str) -> str:
    text = session.opt("received_header_text")
    v = session.ctx.values
    v["message_exim_id"] = msgid
    v["received_for"] = Tainted(env.recipients[0]) if len(env.recipients) == 1 else None
    if v["received_for"] is None:
        del v["received_for"]
    if not text:
        text = ("Received: ${if def:sender_rcvhost {from $sender_rcvhost\n\t}"
                "{${if def:sender_ident {from ${quote_local_part:$sender_ident} }}"
                "${if def:sender_helo_name {(helo=$sender_helo_name)\n\t}}}}"
                "by $primary_hostname ${if def:received_protocol {with $received_protocol }}"
                "${if def:tls_in_ver { ($tls_in_ver)}}"
                "${if def:tls_in_cipher_std { tls $tls_in_cipher_std\n\t}}"
                "(Exim $version_number)\n\t"
                "${if def:sender_address {(envelope-from <$sender_address>)\n\t}}"
                "id $message_exim_id${if def:received_for {\n\tfor $received_for}}")
    # Under -bh exim 4.96 appends the date after "; " on the same line (the
    # spool's Received: is folded before the date; see message.headers).
    return session.expand(str(text)) + "; " + tod("full") + "\n"


def receive_for_hostcheck(session, env, data: list[bytes], server) -> bytes:
    msgid = MessageIdGenerator().new_id()
    read = sum(len(line) + 1 for line in data)
    limit = server.s.message_size_limit
    if limit > 0 and read > limit:
        session.log("%s rejected from <%s>%s: message too big: read=%d max=%d" % (
            msgid, env.sender, (" " + server.host_and_ident(True))
            if server.s.host_address else "", read, limit),
            reject=True, selector="size_reject")
        return b"552 Message size exceeds maximum permitted\r\n"
    headers, body = _split_headers(data)
    state = getattr(session, "state", None)
    for text in getattr(state, "added_headers", ()):     # from ACLs before DATA
        headers.append(text if text.endswith("\n") else text + "\n")
    original = list(headers)        # id= names only a Message-ID the client sent
    if "submission" in (getattr(state, "controls", None) or {}):
        fixed = [Header(h, header_type(h)) for h in headers]
        apply_submission_fixups(fixed, msgid, session.ctx.main_option("primary_hostname")
                                or session.ctx.values.get("primary_hostname") or "",
                                env.sender or "", time.time())
        headers = [h.text for h in fixed]
    received = received_header(session, env, msgid)
    size = len(received) + sum(len(h) for h in headers) + 1 + len(body) + 1
    ctx = session.ctx
    ctx.message = _Message([received] + headers, body, env.recipients)
    ctx.values.update({"message_size": size, "message_id": msgid,
                       "message_exim_id": msgid})
    out = b""
    outcome = session.acl(W.DATA, None)
    rc, user_msg, log_msg = outcome if outcome is not None else (W.OK, None, None)
    if rc not in (W.OK, W.DISCARD):
        save = server._out
        server._out = []
        server._acl_fail(W.DATA, rc, user_msg, log_msg)
        out = b"".join(server._out)
        server._out = save
    else:
        line = "%s <= %s %s P=%s%s S=%d" % (
            msgid, env.sender or "<>", server.host_and_ident(True), env.protocol,
            " K" if getattr(env, "chunking", False) else "", size)
        if getattr(state, "queue_name", None):
            line += " Q=" + state.queue_name
        for h in original:
            if h[:11].lower() == "message-id:":
                line += " id=" + h[11:].strip().strip("<>")
                break
        session._log_write(line, {"main"})
        for text in acl_after_effects(state, not env.recipients and server.discarded):
            session._log_write("%s %s" % (msgid, text), {"main"})
        if user_msg:
            from pexim.smtp.replies import message_code, respond
            code, msg, _ = message_code("250", user_msg, True)
            out = respond(code, True, msg)
        else:
            out = ("250 OK id=%s\r\n" % msgid).encode()
        out += b"\n**** SMTP testing: that is not a real message id!\n\n"
    for k in ("message_exim_id", "message_id", "message_size"):
        ctx.values.pop(k, None)
    ctx.message = None
    return out
