"""What a transport is given besides the message and its addresses.

Transport modules export ``deliver(tp, message, addrs, tctx)`` (a coroutine
for remote transports).  ``tp`` is the transport's DriverInstance
(``tp.get(option)``), ``message`` a DeliveryMessage, ``addrs`` the batch of
AddressItems routed to it.  The transport sets each address's ``status``
(OK / DEFER / FAIL), ``message``, ``basic_errno``/``more_errno`` and, for
remote ones, ``host_used``; it never writes log lines itself, the delivery
orchestrator does, so every transport logs the same way.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass
class TransportContext:
    config: Any
    logger: Any = None                        # pexim.log.Logger
    hints: Any = None                         # pexim.hints.store (retry, wait-, callout)
    resolver: Any = None                      # pexim.dns.resolver.Resolver
    now: float = field(default_factory=time.time)
    owner: tuple[int, int] | None = None      # exim uid/gid for files we create
    debug: Callable[[str], None] | None = None
    event: Callable[..., str | None] | None = None   # (name, data, ctx) -> result
    extra: dict[str, Any] = field(default_factory=dict)

    def transport(self, name: str):
        """The DriverInstance of the transport called ``name`` (None if unknown)."""
        for t in self.config.transports:
            if t.name == name:
                return t
        return None
