"""Host lists for routers: build, look up, drop local and ignored hosts.

host_build_hostlist() and rf_lookup_hostlist() of Exim: `name`, `name::port`
(or `name:port` in a list with another separator), `name/MX`; IP literals are
used as they are; names are found by DNS (bydns), the hosts file and DNS
(byname), or DNS then the hosts file (neither).  A host that is this host ends
the list (it and the hosts after it are dropped) or, when it is the first,
triggers the router's `self` action.
"""

from __future__ import annotations

import ipaddress
import random

from pexim.delivery.address import DECLINE, DEFER, FAIL, OK, PASS, Host
from pexim.lists import iter_list, local_addresses, match_domain, match_ip
from pexim.routers.generic import RouterDefer, self_action


def is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return False


def build(text: str, randomize: bool = False) -> list[Host]:
    """host_build_hostlist(): parse a host list into Host items (no lookups)."""
    hosts: list[Host] = []
    for item in iter_list(text):
        name, port, mx = item, None, False
        if name.endswith("/MX") or name.endswith("/mx"):
            name, mx = name[:-3], True
        if name.startswith("["):
            end = name.find("]")
            rest = name[end + 1:]
            name = name[1:end]
            if rest.startswith(":") and rest[1:].isdigit():
                port = int(rest[1:])
        elif name.count(":") == 1 or (":" in name and not is_ip(name)):
            head, _, tail = name.rpartition(":")
            if tail.isdigit():
                name, port = head, int(tail)
        h = Host(name, port=port)
        if mx:
            h.extra_mx = True   # type: ignore[attr-defined]
        hosts.append(h)
    if randomize:
        random.shuffle(hosts)
    return hosts


def _is_local(rctx, addr, address: str) -> bool:
    ctx = rctx.expand_context(addr)
    return address in local_addresses(ctx)


def is_local_host(rctx, addr, h: Host) -> bool:
    return bool(h.address and _is_local(rctx, addr, h.address)) or \
        _treat_as_local(rctx, addr, h.name)


def _treat_as_local(rctx, addr, name: str) -> bool:
    text = rctx.config.main.get("hosts_treat_as_local")
    if not text:
        return False
    return match_domain(rctx.expand_context(addr), name, text)[0]


def find_addresses(rctx, name: str, how: str) -> tuple[str, list[str]]:
    """(rc, addresses) with rc "OK", "NOMATCH" or "AGAIN"."""
    from pexim.dns.hostnames import _hosts_file
    from pexim.dns.resolver import AGAIN, NOMATCH
    from pexim.dns.resolver import OK as DNS_OK

    def from_file():
        return [a for a, names in _hosts_file() if name.lower() in names]

    if how == "byname":
        local = from_file()
        if local:
            return DNS_OK, local
    resolver = rctx.get_resolver()
    rc, found = resolver.addresses_sync(name, rctx.dns_cache)
    if found:
        return DNS_OK, found
    if how != "bydns":
        local = from_file()
        if local:
            return DNS_OK, local
    return (AGAIN if rc == AGAIN else NOMATCH), []


def mx_hosts(rctx, name: str) -> tuple[str, list[Host]]:
    """MX records of name as Host items sorted by preference (ties shuffled)."""
    resolver = rctx.get_resolver()
    answer = resolver.lookup_sync(name, "MX", rctx.dns_cache)
    if not answer.ok:
        return answer.rc, []
    recs = list(answer.records)
    random.shuffle(recs)
    recs.sort(key=lambda r: r.preference)
    return answer.rc, [Host(r.exchange.to_text(omit_final_dot=True).lower(), mx=r.preference)
                       for r in recs]


def all_ignored(r, addr) -> str:
    """host_all_ignored: every host was ignored (not found, or ignore_target_hosts)."""
    action = r.get("host_all_ignored") or "defer"
    if action == "decline":
        return DECLINE
    if action == "pass":
        return PASS
    msg = (f"lookup failed for all hosts in {r.name} router: host_find_failed="
           f"ignore host_all_ignored={action}")
    if action == "fail":
        addr.message = msg
        return FAIL
    if action == "freeze":
        addr.frozen = True
    raise RouterDefer(msg)


def lookup(rctx, r, addr, hosts: list[Host], how: str, out) -> str:
    """rf_lookup_hostlist(): fill in addresses, applying host_find_failed and self."""
    from pexim.dns.resolver import AGAIN

    failed_action = r.get("host_find_failed") or "freeze"
    ignore = r.get("ignore_target_hosts")
    ctx = rctx.expand_context(addr)
    result: list[Host] = []
    had_any = bool(hosts)
    for h in hosts:
        if getattr(h, "extra_mx", False):
            rc, mxs = mx_hosts(rctx, h.name)
            found = []
            expanded = []
            for m in mxs:
                mrc, addrs = find_addresses(rctx, m.name, "bydns")
                expanded += [Host(m.name, a, port=h.port, mx=m.mx) for a in addrs]
            if expanded:
                result.extend(expanded)
                continue
            rc = "NOMATCH" if rc != AGAIN else AGAIN
            found = []
        elif is_ip(h.name):
            found = [h.name]
            rc = "OK"
        else:
            rc, found = find_addresses(rctx, h.name, how)
        if rc != "OK" or not found:
            if failed_action == "ignore":
                continue
            msg = f'lookup of host "{h.name}" failed in {r.name} router'
            if failed_action == "decline":
                return DECLINE
            if failed_action == "pass":
                return PASS
            if failed_action == "fail":
                addr.message = msg
                return FAIL
            if failed_action == "freeze":
                addr.frozen = True
            raise RouterDefer(msg)
        for a in found:
            if ignore and match_ip(ctx, a, ignore)[0]:
                continue
            result.append(Host(h.name, a, port=h.port, mx=h.mx))
    if had_any and not result:
        return all_ignored(r, addr)
    for i, h in enumerate(result):
        if is_local_host(rctx, addr, h):
            if i == 0:
                rc = self_action(rctx, r, addr, h, out)
                if rc != OK:
                    return rc
                break
            del result[i:]
            break
    hosts[:] = result
    return OK


__all__ = ["build", "lookup", "mx_hosts", "find_addresses", "is_ip", "DEFER"]
