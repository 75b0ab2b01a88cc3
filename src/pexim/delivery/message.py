"""A spooled message as delivery sees it: the -H content, the body, the variables.

Routers and transports get one ``DeliveryMessage`` per delivery attempt; it
builds the expansion context Exim sets up in deliver_message() (message-level
variables from the -H file) and, per address, adds the address variables.
The body is read from the -D file lazily and only once.
"""

from __future__ import annotations

import os
from typing import Any

from pexim.expand import ExpandContext
from pexim.message.envelope import HTYPE_OLD, SpoolMessage
from pexim.message.ids import SPOOL_DATA_START_OFFSET
from pexim.spool.paths import SpoolPaths


class DeliveryMessage:
    """The message being delivered; ``headers`` is the live list (type "*" = deleted)."""

    def __init__(self, config, spool: SpoolMessage, paths: SpoolPaths | None = None,
                 body: bytes | None = None, logger=None):
        self.config = config
        self.logger = logger        # for logwrite in ${acl} called from delivery options
        self.spool = spool
        self.paths = paths or SpoolPaths.from_config(config)
        self._body = body

    @property
    def id(self) -> str:
        return self.spool.id

    @property
    def sender(self) -> str:
        return self.spool.sender

    @property
    def headers(self):
        return self.spool.headers

    @property
    def body_path(self) -> str:
        return self.paths.input_file(self.spool.id, "-D")

    @property
    def body(self) -> bytes:
        """The body, LF line endings, as stored after the -D file's id line."""
        if self._body is None:
            with open(self.body_path, "rb") as fh:
                fh.seek(SPOOL_DATA_START_OFFSET)
                self._body = fh.read()
        return self._body

    @property
    def body_size(self) -> int:
        if self._body is not None:
            return len(self._body)
        return os.stat(self.body_path).st_size - SPOOL_DATA_START_OFFSET

    @property
    def size(self) -> int:
        """$message_size."""
        return self.spool.message_size(self.body_size)

    def header_texts(self) -> list[str]:
        return [h.text for h in self.spool.headers if h.type != HTYPE_OLD]

    def values(self) -> dict[str, Any]:
        """Message-level expansion variables, as deliver_message() sets them."""
        s = self.spool
        v: dict[str, Any] = {
            "message_exim_id": s.id, "message_id": s.id,
            "sender_address": s.sender, "message_size": self.size,
            "message_body_size": self.body_size,
            "body_linecount": s.body_linecount, "body_zerocount": s.body_zerocount,
            "received_time": s.received_time[0],
            "received_protocol": s.received_protocol,
            "sender_helo_name": s.helo_name, "sender_host_address": s.host_address,
            "sender_host_port": s.host_port if s.host_address else None,
            "sender_host_name": s.host_name, "sender_ident": s.ident,
            "sender_host_authenticated": s.host_auth, "authenticated_id": s.auth_id,
            "authenticated_sender": s.auth_sender,
            "interface_address": s.interface_address,
            "interface_port": s.interface_port if s.interface_address else None,
            "originator_uid": s.originator_uid, "originator_gid": s.originator_gid,
            "caller_uid": s.originator_uid, "caller_gid": s.originator_gid,
            "warning_count": s.warning_count, "dsn_envid": s.dsn_envid,
            "tls_in_cipher": s.tls_cipher, "tls_in_peerdn": s.tls_peerdn,
            "tls_in_sni": s.tls_sni, "tls_in_ver": s.tls_ver,
            "recipients_count": len(s.recipients),
        }
        if s.active_hostname:
            v["smtp_active_hostname"] = s.active_hostname
        return {k: val for k, val in v.items() if val is not None}

    def context(self, addr=None, extra: dict[str, Any] | None = None) -> ExpandContext:
        """A fresh expansion context for this message (and address, when given)."""
        ctx = ExpandContext(config=self.config, message=self)
        ctx.values.update(self.values())
        ctx.acl_c.update({k[4:] if k.startswith("acl_") else k: v
                          for k, v in self.spool.acl_c.items()})
        ctx.acl_m.update({k[4:] if k.startswith("acl_") else k: v
                          for k, v in self.spool.acl_m.items()})
        ctx.acl_eval = lambda name, args: self._acl(ctx, name, args)
        if addr is not None:
            ctx.values.update(addr.values())
        if extra:
            ctx.values.update(extra)
        return ctx

    def _acl(self, ctx, name: str, args: list[str]):
        """${acl} during delivery (event_action, conditions): logwrite goes to the
        mainlog under this message's id."""
        from pexim.acl.engine import Engine, PlainHost

        engine = ctx.extra.get("acl_engine")
        if engine is None:
            log = (lambda text: self.logger.main(text, self.id)) if self.logger else None
            engine = ctx.extra["acl_engine"] = Engine(self.config, ctx, PlainHost(log))
        return engine.acl_eval(name, args)

    @property
    def recipients(self) -> list[str]:
        """For $recipients (headers.py reads ``message.recipients``)."""
        return [r.address for r in self.spool.recipients]
