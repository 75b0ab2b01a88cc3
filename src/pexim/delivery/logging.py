"""Delivery log lines for one address (deliver.c delivery_log / post_process_one).

Each outcome goes to the mainlog and to the message's msglog, in Exim's
words, so exigrep and eximstats see what they expect.
"""

from __future__ import annotations

from pexim.delivery.address import AddressItem
from pexim.log_lines import Delivery, deferred, delivered, failed


def _local(addr: AddressItem, config) -> bool:
    tp = _instance(config.transports, addr.transport)
    if tp is None:
        return False
    from pexim.config.drivers import driver_module

    return bool(getattr(driver_module("transport", tp.driver), "LOCAL", True))


def _instance(items, name):
    return next((i for i in items if i.name == name), None) if name else None


def log_address(addr: AddressItem, config, success: bool) -> tuple[str, list[str]]:
    """string_log_address(): what is shown, and the parents to show after it."""
    top = addr.top
    router = _instance(config.routers, addr.router)
    if addr.special or (success and router is not None and router.get("log_as_local")
                        and _local(addr, config)):
        shown = addr.local_part
        if addr.special == "file" and not shown.startswith("/"):
            shown = "save " + shown
    else:
        shown = f"{addr.local_part}@{addr.domain}" if addr.domain else addr.address
        if (shown.lower() == top.address.lower()
                and shown.split("@")[0] == top.address.split("@")[0]
                and addr.parent in (None, top)):
            return shown, []
    parents = []
    p = addr.parent
    while p is not None:
        parents.append(p.address)
        p = p.parent
    return shown, parents or [top.address]


def record(addr: AddressItem, config) -> Delivery:
    success = addr.status == "ok"
    shown, parents = log_address(addr, config, success)
    host = None
    port = 25
    if addr.host_used is not None:
        h = addr.host_used
        host = f"{h.name} [{h.address}]" if h.address else h.name
        port = h.port or 25
    return Delivery(
        address=shown, parents=parents, router=addr.router, transport=addr.transport,
        host=host, host_port=port, errno=addr.basic_errno,
        message=addr.message, confirmation=addr.extra.get("confirmation"),
        chunking=bool(addr.extra.get("chunking")), size=addr.extra.get("size"),
        deliver_time=addr.extra.get("deliver_time"))


def line(addr: AddressItem, config, sel, first: bool = True) -> str:
    """The mainlog text for an address's outcome."""
    d = record(addr, config)
    if addr.status == "ok":
        return delivered(d, sel, "=>" if first else "->")
    if addr.status == "fail":
        return failed(d, sel)
    return deferred(d, sel)


def msglog_text(addr: AddressItem, config, sel) -> str:
    """The msglog form: success is "<addr>: <transport> transport succeeded"."""
    if addr.status == "ok":
        return f"{addr.address}: {addr.transport} transport succeeded"
    return line(addr, config, sel)[3:]
