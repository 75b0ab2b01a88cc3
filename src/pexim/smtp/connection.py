"""A real SMTP connection's hooks: the -bh Session, but messages are spooled.

Used by the daemon (one per TCP connection) and by -bs (stdin/stdout, no
host).  ACL `delay` is not slept here: the sans-IO server must not block, so
the seconds are collected in ``pending_delay`` and the I/O layer waits
before sending the reply.

PROXY protocol: the listener reads the header before the session starts and
hands it over in ``proxy``; it takes effect where Exim's smtp_start_session()
runs setup_proxy(), when the server asks about hosts_proxy (after
host_reject_connection and the other early host checks, which therefore see
the proxy's address, as in Exim).
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
        self.proxy = None                 # a ProxyHeader read by the listener
        self.proxy_failed = False
        self._proxy_done = False
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
        if option == "hosts_proxy" and self.proxy is not None:
            self.apply_proxy()
            return True
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

    def apply_proxy(self) -> None:
        """setup_proxy()'s effects: the proxy's view of the connection moves to
        $proxy_local_*, the header's source becomes the client.  A bad v1 line
        leaves the fields it had already read (Exim assigns them as it goes)."""
        header = self.proxy
        if header is None or self._proxy_done:
            return
        self._proxy_done = True
        v = self.ctx.values
        v["proxy_session"] = True
        if header.source is not None:
            v["proxy_local_address"] = self.host_address
            v["sender_host_address"] = Tainted(header.source[0])
            if header.source[1] is not None:
                v["proxy_local_port"] = str(self.host_port)
                v["sender_host_port"] = str(header.source[1])
        if header.dest is not None:
            v["proxy_external_address"] = header.dest[0]
            if header.dest[1] is not None:
                v["proxy_external_port"] = str(header.dest[1])
        if not header.ok:
            self.proxy_failed = True
            return
        if header.source is not None:
            self.host_address, self.host_port = header.source
            self.server.s.host_address = self.host_address
            v["sender_fullhost"] = v["sender_rcvhost"] = "[%s]" % self.host_address
        self._use_host_name()

    def proxy_local_address(self) -> str | None:
        """PRX= in the "<=" line: the proxy's address, when the header named a client."""
        return self.ctx.values.get("proxy_local_address") or None

    def proxied_host_to_look_up(self) -> str | None:
        """After a good PROXY header Exim looks the client's name up, whatever
        host_lookup says (smtp_start_session); the listener does the lookup
        (`lookup_host_name`, off the event loop) and `apply_proxy` uses it."""
        header = self.proxy
        if header is None or not header.ok:
            return None
        return header.source[0] if header.source is not None else self.host_address

    def lookup_host_name(self, address: str) -> None:
        from pexim.dns import Resolver
        from pexim.dns.hostnames import host_names

        self._host_lookup = host_names(Resolver.for_context(self.ctx), address)

    def _use_host_name(self) -> None:
        from pexim.dns import NOMATCH, OK
        from pexim.log import parse_log_selector

        rc, names = getattr(self, "_host_lookup", (None, []))
        if rc == OK and names:
            self.ctx.values["sender_host_name"] = names[0]
        elif rc == NOMATCH:
            self.ctx.values["host_lookup_failed"] = "1"
            if "host_lookup_failed" in parse_log_selector(self.opt("log_selector")):
                self._log_write("no host name found for IP address %s" % self.host_address,
                                {"main"})

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
            sender=env.sender, recipients=[
                Recipient(a, orcpt=dsn[1], dsn_flags=dsn[0]) if dsn else Recipient(a)
                for a, dsn in zip(env.recipients, env.rcpt_dsn or [None] * len(env.recipients),
                                  strict=False)],
            lines=data, protocol=protocol, helo_name=env.helo_name,
            host_address=self.host_address, host_port=self.host_port,
            interface_address=self.interface[0] if self.interface else None,
            interface_port=self.interface[1] if self.interface else 0,
            ident=self.ident if local else None, originator=self.originator,
            allow_unqualified=local,
            extra=dict({"fixups": self._local_fixups} if local else {},
                       chunking=bool(getattr(env, "chunking", False)),
                       proxy_local=self.proxy_local_address()),
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
