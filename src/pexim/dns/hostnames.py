"""Host names and addresses as Exim finds them for host lists.

Forward (name to addresses): the hosts file, then the DNS (A and AAAA), as
the system's gethostbyname() does with "files dns". Reverse (address to
names), in host_lookup_order's default order bydns:byaddr: a PTR lookup, then
the hosts file; names are kept only if they resolve back to the address.
"""

from __future__ import annotations

import ipaddress

from pexim.dns.resolver import AGAIN, NOMATCH, OK, Resolver

HOSTS_FILE = "/etc/hosts"


def _same(a: str, b: str) -> bool:
    try:
        return ipaddress.ip_address(a.split("%")[0]) == ipaddress.ip_address(b.split("%")[0])
    except ValueError:
        return a == b


def _hosts_file(path: str = HOSTS_FILE) -> list[tuple[str, list[str]]]:
    entries = []
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                words = line.split("#", 1)[0].split()
                if len(words) >= 2:
                    entries.append((words[0], [w.lower() for w in words[1:]]))
    except OSError:
        pass
    return entries


def host_addresses(resolver: Resolver, name: str,
                   hosts_file: str = HOSTS_FILE) -> tuple[str, list[str]]:
    """(rc, addresses) for a host name."""
    local = [addr for addr, names in _hosts_file(hosts_file) if name.lower() in names]
    if local:
        return OK, local
    return resolver.addresses_sync(name)


def host_names(resolver: Resolver, address: str,
               hosts_file: str = HOSTS_FILE) -> tuple[str, list[str]]:
    """(rc, confirmed names) for an address: rc is AGAIN when the DNS failed
    temporarily and nothing else was found."""
    try:
        ptr_name = ipaddress.ip_address(address.split("%")[0]).reverse_pointer
    except ValueError:
        return NOMATCH, []
    answer = resolver.lookup_sync(ptr_name, "PTR")
    names = [r.target.to_text(omit_final_dot=True).lower() for r in answer.records]
    if not names:
        names = [n for addr, ns in _hosts_file(hosts_file) if _same(addr, address) for n in ns]
    confirmed, deferred = [], answer.rc == AGAIN
    for name in names:
        rc, addrs = host_addresses(resolver, name, hosts_file)
        deferred |= rc == AGAIN
        if any(_same(a, address) for a in addrs):
            confirmed.append(name)
    if confirmed:
        return OK, confirmed
    return (AGAIN if deferred else NOMATCH), []
