"""A real SMTP connection's hooks: the -bh Session, but messages are spooled.

Used by the daemon (one per TCP connection) and by -bs (stdin/stdout, no
host).  ACL `delay` is not slept here: the sans-IO server must not block, so
the seconds are collected in ``pending_delay`` and the I/O layer waits
before sending the reply.
"""

from __future__ import annotations

from pexim import lists
from pexim.acl import where as W
from pexim.expand import Tainted
from pexim.message.envelope import Recipient
from pexim.smtp.receive import Incoming, Receiver
from pexim.smtp.replies import message_code, respond
from pexim.smtp.session import Session


class LiveSession(Session):
    def __init__(self, config, receiver: Receiver, log_write, host_address: str | None,
                 host_port: int = 0, interface: tuple[str, int] | None = None,
                 originator=("root", 0, 0), ident: str | None = None):
        self.receiver = receiver
        self.host_port = host_port
        self.interface = interface
        self.originator = originator
        self.ident = ident
        self.pending_delay = 0.0
        super().__init__(config, host_address, log_write)
        v = self.ctx.values
        if host_address is None:
            for k in ("sender_host_address", "sender_fullhost", "sender_rcvhost"):
                v.pop(k, None)
            v["received_protocol"] = "local-smtp"
            self.server.protocol = "local-smtp"
            if ident:
                v["sender_ident"] = Tainted(ident)
        else:
            v["sender_host_port"] = str(host_port)
        if interface is not None:
            v["interface_address"], v["interface_port"] = interface[0], str(interface[1])

    def checking_only(self) -> bool:
        return False

    def delay(self, seconds: int) -> None:
        self.pending_delay += seconds

    def check_host(self, option: str) -> bool:
        if self.host_address is not None:
            return super().check_host(option)
        # Local SMTP has no host: only "*" and an empty item match (verify.c);
        # PIPECONNECT is offered on TCP connections only (smtp_in.c, fl.pipe_connect_acceptable).
        text = self.opt(option)
        if not text or option == "pipelining_connect_advertise_hosts":
            return False
        for item in lists.iter_list(self.expand(str(text))):
            neg = item.startswith("!")
            if (item[1:].strip() if neg else item) in ("*", ""):
                return not neg
        return False

    def _local_fixups(self, headers, msgid, now) -> None:
        """-bs: Message-Id:, Date: and a From: naming the MAIL FROM sender (none for <>)."""
        from pexim.message.headers import Submission, apply_local_fixups
        sender = self.server.sender or ""
        qualify = self.qualify_domain(False)
        sub = Submission(msgid, self.ctx.values.get("primary_hostname") or qualify, qualify,
                         sender, self.originator[0], "", True, True, False,
                         resent=any(h.name.lower().startswith("resent-") for h in headers))
        before = len(headers)
        apply_local_fixups(headers, sub, now)
        if not sender:
            headers[:] = [h for i, h in enumerate(headers) if i < before or h.type != "F"]

    def receive(self, env, data, server) -> bytes:
        local = self.host_address is None
        protocol = env.protocol
        if local and not protocol.startswith("local"):
            protocol = "local-" + protocol
        inc = Incoming(
            sender=env.sender, recipients=[Recipient(a) for a in env.recipients],
            lines=data, protocol=protocol, helo_name=env.helo_name,
            host_address=self.host_address, host_port=self.host_port,
            interface_address=self.interface[0] if self.interface else None,
            interface_port=self.interface[1] if self.interface else 0,
            ident=self.ident if local else None, originator=self.originator,
            allow_unqualified=local,
            extra=dict({"fixups": self._local_fixups} if local else {},
                       chunking=bool(getattr(env, "chunking", False))),
            dsn_envid=env.dsn_envid, dsn_ret={"FULL": 1, "HDRS": 2}.get(
                (env.dsn_ret or "").upper(), 0))
        outcome = self.receiver.accept(self.ctx, inc, lambda: self.acl(W.DATA, None),
                                       self.state)
        for k in ("message_exim_id", "message_id", "message_size"):
            self.ctx.values.pop(k, None)
        if outcome.message_id is None:
            save = server._out
            server._out = []
            server._acl_fail(W.DATA, outcome.rc, outcome.user_msg, outcome.log_msg)
            out = b"".join(server._out)
            server._out = save
            return out
        if outcome.user_msg:
            code, msg, _ = message_code("250", outcome.user_msg, True)
            return respond(code, True, msg)
        return ("250 OK id=%s\r\n" % outcome.message_id).encode()
