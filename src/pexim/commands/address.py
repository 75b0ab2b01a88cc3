"""-bt (address testing), -bv and -bvs (address verification), as exim.c and
verify_address() print them.

-bt shows everything routing produced ("full info"): each delivery with its
parents, router, transport and hosts, generated pipes and files, failures and
deferrals; -bv/-bvs say "verified" or why not, stopping as verification does
(a redirect to one address is followed, to several is enough).
"""

from __future__ import annotations

import getpass
import os
import pwd
import sys

from pexim.delivery.address import DEFER, DISCARD, FAIL, OK, REROUTED, AddressItem


def run(config, inv) -> int:
    test = inv.mode == "-bt"
    as_sender = inv.mode == "-bvs"
    out = sys.stdout
    sender = inv.values.get("-f")
    if sender is None:
        sender = f"{_login()}@{config.main.get('qualify_domain')}"
    elif sender == "<>":
        sender = ""
    status = [0]

    def one(text: str) -> None:
        rc = _test_address(config, text, test, as_sender, sender, out, bool(inv.debug))
        if rc == FAIL:
            status[0] = 2
        elif rc == DEFER and status[0] == 0:
            status[0] = 1

    if inv.args:
        from pexim.expand.address import find_address_end

        for arg in inv.args:
            s = arg
            while s:
                end = find_address_end(s, 0, False)
                finished = end >= len(s) or s[end] != ","
                one(s[:end])
                if finished:
                    break
                s = s[end + 1:].lstrip(", \t\n")
    else:
        while True:
            out.write("> ")
            out.flush()
            line = sys.stdin.readline()
            if not line:
                out.write("\n")
                break
            one(line.strip())
    out.flush()
    return status[0]


def _login() -> str:
    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return getpass.getuser()


def _test_address(config, text: str, test: bool, as_sender: bool, sender: str, out,
                  debug: bool) -> str:
    from pexim.message.address import parse_extract_address

    address, error, _start, _end, domain = parse_extract_address(text)
    if address is None:
        out.write(f"syntax error: {error}\n")
        return FAIL
    return verify_address(config, address, out, recipient=not as_sender, test=test,
                          sender=sender, full_info=test or debug)


def qualify(config, address: str, recipient: bool) -> str:
    from pexim.message.address import find_at

    if find_at(address) >= 0:
        return address
    key = "qualify_recipient" if recipient else "qualify_domain"
    return f"{address}@{config.main.get(key)}"


def rewrite(config, address: str, recipient: bool) -> str:
    if not config.rewrite_rules:
        return address
    from pexim.message import rewrite as rw

    rewriter = rw.Rewriter(config.rewrite_rules, config.main.get("qualify_recipient"))
    new, _ = rewriter.rewrite(address, rw.ENV_TO if recipient else rw.ENV_FROM)
    return new


def verify_address(config, address: str, out, *, recipient: bool, test: bool, sender: str,
                   full_info: bool) -> str:
    """verify_address() with an output file: OK, FAIL or DEFER."""
    from pexim.delivery.route import RouterOutput, RoutingContext, route_address

    address = qualify(config, address, recipient)
    new = rewrite(config, address, recipient)
    if new != address:
        out.write(f"Address rewritten as: {new}\n")
        address = new
    if not address:
        return OK
    mode = "test" if test else ("verify_recipient" if recipient else "verify_sender")
    rctx = RoutingContext(config, None, mode=mode, sender=sender)
    todo: list[AddressItem] = [AddressItem(address)]
    local: list[AddressItem] = []
    remote: list[AddressItem] = []
    allok, result = True, OK
    while todo:
        addr = todo.pop(0)
        if addr.special is not None:
            allok = False
            _show_special(addr, out)
            continue
        routed = RouterOutput()
        rc = route_address(rctx, addr, routed)
        local.extend(routed.local)
        remote.extend(routed.remote)
        todo[:0] = routed.new
        if rc == REROUTED:
            continue
        shown = addr.address if full_info else address
        if rc == FAIL:
            allok = False
            out.write(f"{shown} {'is undeliverable' if test else 'failed to verify'}"
                      f"{_reason(addr, False)}{_parents(addr) if full_info else ''}\n")
            if not full_info:
                return FAIL
            result = FAIL
        elif rc == DEFER:
            allok = False
            out.write(f"{shown} cannot be resolved at this time{_reason(addr, True)}"
                      f"{_parents(addr) if full_info else ''}\n")
            if not full_info:
                return DEFER
            if result == OK:
                result = DEFER
        elif not full_info and (not todo or len(todo) > 1 or todo[0].special is not None):
            out.write(f"{address} {'is deliverable' if test else 'verified'}\n")
            return OK
        elif rc == DISCARD:
            pass
    if allok and not local and not remote:
        out.write(f"mail to {address} is discarded\n")
        return result
    seen: set[str] = set()
    for addr in list(reversed(local)) + list(reversed(remote)):
        _show_routed(rctx, addr, seen, out)
    return result


def _reason(addr: AddressItem, defer: bool) -> str:
    text = ""
    if addr.basic_errno > 0:
        text += f": {os.strerror(addr.basic_errno)}"
    if addr.message is not None:
        text += f": {addr.message}"
    elif defer and addr.basic_errno <= 0:
        text += ": unknown error"
    return text


def _parents(addr: AddressItem) -> str:
    text, p = "", addr.parent
    while p is not None:
        text += f"\n    <-- {p.address}"
        p = p.parent
    return text


def _show_special(addr: AddressItem, out) -> None:
    parent = addr.parent.address if addr.parent is not None else ""
    if addr.special == "reply":
        out.write(f"{parent} -> mail {addr.address[1:]}")
    else:
        out.write(f"{parent} -> {addr.address}")
    from pexim.delivery import errors

    if addr.basic_errno == errors.BADTRANSPORT:
        out.write(f"\n*** Error in setting up pipe, file, or autoreply:\n{addr.message}\n")
    elif addr.extra.get("allowed", True):
        out.write(f"\n  transport = {addr.transport}\n")
    else:
        out.write(" *** forbidden ***\n")


def _show_routed(rctx, addr: AddressItem, seen: set[str], out) -> None:
    line = addr.address
    if addr.special is None:
        if addr.unique in seen:
            line += "   [duplicate, would not be delivered]"
        else:
            seen.add(addr.unique)
    line += _parents(addr)
    out.write(f"{line}\n  router = {addr.router}, transport = {addr.transport or 'unset'}\n")
    if not addr.hosts or addr.transport is None:
        return
    tp = rctx.config_transport(addr.transport)
    if tp is not None and tp.driver == "smtp" and tp.get("hosts_override"):
        return
    local = rctx.transport_is_local(addr.transport)
    maxlen = max(len(h.name) for h in addr.hosts)
    maxaddlen = max(len(h.address) if h.address else 7 for h in addr.hosts)
    from pexim.delivery.address import HSTATUS_UNUSABLE

    for h in addr.hosts:
        text = f"  host {h.name.ljust(maxlen)} "
        if h.address:
            text += f"[{h.address}]"
            pad = maxaddlen - len(h.address)
        elif not local:
            text += "[unknown]"
            pad = maxaddlen - 7
        else:
            pad = maxaddlen + 1
        if h.mx >= 0:
            text += " " * (pad + 1) + f"MX={h.mx}"
        if h.port is not None:
            text += f" port={h.port}"
        if h.status == HSTATUS_UNUSABLE:
            text += " ** unusable **"
        text = text.rstrip(" ")
        out.write(text + "\n")


__all__ = ["run", "verify_address", "DISCARD"]
