"""The real end of a message's reception (Exim's receive_msg()): spool, log, reply.

One path for SMTP (the daemon, -bs) and for local submission (-bm/-t): the
caller supplies the envelope, the header lines and the body; `Receiver.accept`
adds the Received: header, writes -D, runs the DATA (or not-SMTP) ACL, writes
-H durably and logs "<=".  It returns the id only once `DataFile.commit` has
returned, so a "250 OK id=..." is never said for a message not on disk
(DESIGN, "Durable before acknowledged"); a rejected message leaves nothing.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

from pexim.acl import where as W
from pexim.expand import Tainted
from pexim.log_lines import Arrival, Peer, arrival
from pexim.message.envelope import HTYPE_OLD, Header, Recipient, SpoolMessage, header_type
from pexim.message.headers import received_header
from pexim.message.hostinfo import sender_fullhost, sender_rcvhost
from pexim.message.ids import MessageIdGenerator
from pexim.spool.paths import SpoolPaths
from pexim.spool.writer import DataFile


@dataclass
class Incoming:
    """A message as read in, before it has an id."""

    sender: str
    recipients: list[Recipient]
    lines: list[bytes]                       # header + body lines, no line ends
    protocol: str
    helo_name: str | None = None
    host_address: str | None = None
    host_port: int = 0
    interface_address: str | None = None
    interface_port: int = 0
    ident: str | None = None
    originator: tuple[str, int, int] = ("root", 0, 0)
    local: bool = False
    auth: tuple[str, str] | None = None      # -auth_id, -auth_sender (the caller's own)
    sender_set_untrusted: bool = False
    allow_unqualified: bool = False
    dsn_envid: str | None = None
    dsn_ret: int = 0
    extra: dict = field(default_factory=dict)


@dataclass
class Outcome:
    message_id: str | None          # None: rejected (nothing spooled)
    rc: str = W.OK
    user_msg: str | None = None
    log_msg: str | None = None
    message: SpoolMessage | None = None


class _AclView:
    """What $h_*, $message_body and $recipients read during the DATA ACL."""

    def __init__(self, headers, body, recipients):
        self.headers = headers
        self.body = body
        self.recipients = recipients


def split_message(lines: list[bytes]) -> tuple[list[str], int]:
    """Header texts (folded, LF-ended) and the index of the first body line."""
    headers: list[str] = []
    i = 0
    for i, raw in enumerate(lines):         # noqa: B007 - i is used after the loop
        line = raw.decode("latin-1")
        if line == "":
            return headers, i + 1
        if line[:1] in (" ", "\t") and headers:
            headers[-1] += line + "\n"
            continue
        name, colon, _ = line.partition(":")
        if colon and name.rstrip(" \t") and all(33 <= ord(c) <= 126
                                                 for c in name.rstrip(" \t")):
            headers.append(line + "\n")
            continue
        return headers, i
    return headers, len(lines)


def typed_headers(texts: list[str]) -> list[Header]:
    resent = any(t[:7].lower() == "resent-" for t in texts)
    return [Header(t, header_type(t, resent)) for t in texts]


def _remove(headers: list[Header], names: list[str]) -> None:
    """ACL remove_header: the matching headers become deleted (type '*')."""
    wanted = {n.rstrip(":").strip().lower() for n in names}
    for h in headers:
        if h.type != HTYPE_OLD and h.name.lower() in wanted:
            h.type = HTYPE_OLD


def _add(headers: list[Header], texts: list[str]) -> None:
    for text in texts:
        text = text if text.endswith("\n") else text + "\n"
        headers.append(Header(text, header_type(text)))


class Receiver:
    """Per process: configuration, logger, spool location and id generator."""

    def __init__(self, config, logger, owner: tuple[int, int] | None = None,
                 ids: MessageIdGenerator | None = None):
        self.config = config
        self.logger = logger
        self.owner = owner
        self.paths = SpoolPaths.from_config(config)
        number = config.main.get("localhost_number")
        self.ids = ids or MessageIdGenerator(int(number) if number not in (None, "") else None)
        # Called with the message id once a message is safely spooled and should be
        # delivered now (not queued by queue_only or `control = queue`).
        self.after_accept = None

    def set_host_vars(self, ctx, inc: Incoming) -> None:
        """The connection variables Received: and the ACLs read."""
        v = ctx.values
        v["received_protocol"] = inc.protocol
        v["sender_address"] = Tainted(inc.sender)
        if inc.helo_name is not None:
            v["sender_helo_name"] = Tainted(inc.helo_name)
        if inc.ident is not None:
            v["sender_ident"] = Tainted(inc.ident)
        if inc.host_address is not None:
            v["sender_rcvhost"] = sender_rcvhost(inc.host_address, inc.host_port,
                                                 inc.helo_name, None, inc.ident)
            v["sender_fullhost"] = sender_fullhost(inc.host_address, inc.host_port,
                                                   inc.helo_name)
        else:
            for k in ("sender_rcvhost", "sender_fullhost"):
                v.pop(k, None)

    def accept(self, ctx, inc: Incoming, acl=None, state=None) -> Outcome:
        """Spool the message; ``acl()`` runs the DATA/not-SMTP ACL -> (rc, user, log).

        ``state`` (an AclState) supplies headers the ACLs added and removed.
        """
        now = time.time()
        msgid = self.ids.new_id()
        texts, body_start = split_message(inc.lines)
        body_lines = inc.lines[body_start:]
        body = b"".join(ln + b"\n" for ln in body_lines)
        headers = typed_headers(texts)
        fixups = inc.extra.get("fixups")
        if fixups is None and "submission" in (getattr(state, "controls", None) or {}):
            from pexim.expand.variables import primary_hostname
            from pexim.message.headers import apply_submission_fixups

            def fixups(headers, msgid, now):
                apply_submission_fixups(headers, msgid, primary_hostname(ctx), inc.sender, now)
        if fixups is not None:
            ids = sum(h.type == "I" for h in headers)
            fixups(headers, msgid, now)
            inc.extra["msgid_created"] = sum(h.type == "I" for h in headers) > ids
        self.set_host_vars(ctx, inc)
        addresses = [r.address for r in inc.recipients]
        received = received_header(ctx, msgid, now, addresses)
        headers.insert(0, received)
        # Headers that ACLs before DATA added are part of the message the DATA ACL
        # sees ($h_, $message_size); the DATA ACL's own additions come after it.
        early = len(state.added_headers) if state is not None else 0
        if early:
            _add(headers, state.added_headers[:early])
        data = DataFile(self.paths, msgid, self.owner)
        try:
            data.write(body)
            size = sum(h.slen for h in headers if h.type != HTYPE_OLD) + len(body) + 1
            v = ctx.values
            v.update({"message_exim_id": msgid, "message_id": msgid, "message_size": size,
                      "body_linecount": len(body_lines)})
            ctx.message = _AclView([h.text for h in headers if h.type != HTYPE_OLD], body,
                                   addresses)
            rc, user_msg, log_msg = (acl() if acl is not None else None) or (W.OK, None, None)
            if rc not in (W.OK, W.DISCARD):
                data.discard()
                return Outcome(None, rc, user_msg, log_msg)
            if state is not None:
                _remove(headers, state.removed_headers)
                _add(headers, state.added_headers[early:])
            msg = self._message(msgid, inc, headers, body_lines, now, ctx)
            if "freeze" in (getattr(state, "controls", None) or {}):
                msg.frozen_at = int(now)
            if rc == W.DISCARD:
                data.discard()
                self.logger.main("=> blackhole (DATA ACL discarded recipients)", msgid)
                self.logger.main("Completed", msgid)
                return Outcome(msgid, rc, user_msg, log_msg, msg)
            data.commit(msg)
        except BaseException:
            if data.fd >= 0:
                data.discard()
            raise
        finally:
            data.close()
            ctx.message = None
        self.log_arrival(msg, len(body), inc, now, getattr(state, "queue_name", None))
        for line in acl_after_effects(state):
            self.logger.main(line, msgid)
        if self.after_accept is not None and not self._queue_only(state) \
                and msg.frozen_at is None:
            self.after_accept(msgid)
        return Outcome(msgid, rc, user_msg, log_msg, msg)

    def _queue_only(self, state) -> bool:
        if self.config.main.get("queue_only"):
            return True
        controls = getattr(state, "controls", None) or {}
        return "queue" in controls or "queue_only" in controls

    def _message(self, msgid, inc: Incoming, headers, body_lines, now, ctx) -> SpoolMessage:
        login, uid, gid = inc.originator
        done = time.time()
        longest = max((len(ln) for ln in inc.lines), default=0)
        return SpoolMessage(
            id=msgid, sender=inc.sender, originator_login=login, originator_uid=uid,
            originator_gid=gid, received_time=(int(now), int(now * 1e6) % 1000000),
            received_time_complete=(int(done), int(done * 1e6) % 1000000),
            helo_name=Tainted(inc.helo_name) if inc.helo_name is not None else None,
            host_address=inc.host_address, host_port=inc.host_port,
            interface_address=inc.interface_address, interface_port=inc.interface_port,
            ident=inc.ident, received_protocol=inc.protocol,
            acl_c={"acl_" + k if not k.startswith("acl_") else k: v
                   for k, v in ctx.acl_c.items()},
            acl_m={"acl_" + k if not k.startswith("acl_") else k: v
                   for k, v in ctx.acl_m.items()},
            body_linecount=len(body_lines), max_received_linelength=longest,
            body_zerocount=sum(ln.count(b"\0") for ln in body_lines),
            auth_id=inc.auth[0] if inc.auth else None,
            auth_sender=inc.auth[1] if inc.auth else None,
            allow_unqualified_recipient=inc.allow_unqualified,
            allow_unqualified_sender=inc.allow_unqualified,
            deliver_firsttime=not inc.local or inc.extra.get("deliver_firsttime", False),
            local=inc.local, sender_set_untrusted=inc.sender_set_untrusted,
            dsn_envid=inc.dsn_envid, dsn_ret=inc.dsn_ret,
            recipients=list(inc.recipients), headers=headers)

    def log_arrival(self, msg: SpoolMessage, body_size: int, inc: Incoming, now,
                    queue_name: str | None = None) -> None:
        sel = self.logger.selectors
        fullhost = None
        if inc.host_address is not None:
            fullhost = sender_fullhost(inc.host_address, inc.host_port, inc.helo_name,
                                       log_port="incoming_port" in sel)
        peer = Peer(fullhost, inc.interface_address, inc.interface_port,
                    inc.ident, inc.protocol)
        msgid_hdr = next((h for h in msg.headers if h.type == "I"), None)
        subject = next((h for h in msg.headers if h.name.lower() == "subject"
                        and h.type != HTYPE_OLD), None)
        a = Arrival(msg.sender, msg.message_size(body_size), peer,
                    receive_time=time.time() - now,
                    chunking=bool(inc.extra.get("chunking")),
                    proxy_local=inc.extra.get("proxy_local"),
                    msgid=msgid_hdr.text.split(":", 1)[1].strip().strip("<>")
                    if msgid_hdr else None,
                    msgid_created=bool(inc.extra.get("msgid_created")),
                    subject=subject.text.split(":", 1)[1].strip() if subject else None,
                    recipients=[r.address for r in msg.recipients], queue_name=queue_name or "")
        self.logger.main(arrival(a, sel), msg.id)

    def close(self) -> None:
        self.ids.close()


def acl_after_effects(state, all_discarded: bool = False) -> list[str]:
    """The log lines that follow the arrival line when ACLs froze, queued or
    discarded the message (receive.c, after the "<=" line)."""
    controls = getattr(state, "controls", None) or {}
    lines = []
    if all_discarded:
        lines += ["=> blackhole (RCPT ACL discarded recipients)", "Completed"]
        return lines
    if "freeze" in controls:
        lines.append("frozen by ACL")
    elif "queue" in controls or "queue_only" in controls:
        lines.append("no immediate delivery: queued by ACL")
    return lines


def ensure_log_dirs(logger, owner: tuple[int, int] | None = None) -> None:
    """Create the log files' directories, as Exim does when a log cannot be opened."""
    for path in logger.paths:
        d = os.path.dirname(path)
        if d and not os.path.isdir(d):
            os.makedirs(d, 0o750, exist_ok=True)
            if owner is not None:
                os.chown(d, *owner)


def originator() -> tuple[str, int, int]:
    """The login, uid and gid of this process (the -H file's second line)."""
    import pwd

    uid, gid = os.getuid(), os.getgid()
    try:
        login = pwd.getpwuid(uid).pw_name
    except KeyError:
        login = str(uid)
    return login, uid, gid
