"""Host lists for remote delivery: parsing, addresses, ports, retry keys, skipping.

Shared by the smtp transport and callouts (and usable by routers): a host
list option ("a.example : [192.0.2.1]:2525 : b.example::26" ...) becomes
Host items; names get their addresses; the retry database says which hosts
may not be tried yet.  Retry keys are Exim's: ``T:<name>:<ip>`` for port 25,
``T:<name>:<ip>:<port>`` otherwise (``T:<name>`` without the IP when
retry_include_ip_address is false), and ``<host key>:<message id>`` for
errors that concern one message on one host (MAIL or DATA 4xx).
"""

from __future__ import annotations

import asyncio
import random
import socket

from pexim.delivery.address import HSTATUS_UNUSABLE, MX_NONE, Host
from pexim.expand.ip import is_ip_address


def parse_host_list(text: str | None) -> list[Host]:
    """host_build_hostlist() (routers/hostlist.py), IP literals given their address."""
    from pexim.routers.hostlist import build

    hosts = build(text or "")
    for h in hosts:
        if not h.address and is_ip_address(h.name)[0]:
            h.address = h.name
    return hosts


def port_number(value, default: int = 25) -> int:
    """The transport's port option: a number or a service name."""
    if value is None or value == "":
        return default
    text = str(value).strip()
    if text.isdigit():
        return int(text)
    try:
        return socket.getservbyname(text, "tcp")
    except OSError:
        return {"smtp": 25, "lmtp": 24, "smtps": 465}.get(text, default)


async def resolve(hosts: list[Host], resolver=None) -> list[Host]:
    """Give every host an address: one Host per address, unresolvable ones dropped."""
    out: list[Host] = []
    for h in hosts:
        if h.address:
            out.append(h)
            continue
        addresses = await _addresses(h.name, resolver)
        for a in addresses:
            out.append(Host(h.name, a, h.port, h.mx, h.sort_key, dnssec=h.dnssec))
    return out


async def _addresses(name: str, resolver) -> list[str]:
    if resolver is not None:
        found: list[str] = []
        for rdtype in ("A", "AAAA"):
            answer = await resolver.lookup(name, rdtype)
            found += [r.address for r in answer.records]
        if found:
            return found
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            name, None, type=socket.SOCK_STREAM)
    except OSError:
        return []
    seen: list[str] = []
    for info in infos:
        if info[4][0] not in seen:
            seen.append(info[4][0])
    return seen


def randomize(hosts: list[Host]) -> list[Host]:
    """hosts_randomize: shuffle, keeping MX preference groups in order."""
    groups: dict[int, list[Host]] = {}
    for h in hosts:
        groups.setdefault(h.mx, []).append(h)
    out: list[Host] = []
    for mx in sorted(groups, key=lambda m: (m == MX_NONE, m)) if len(groups) > 1 else groups:
        group = groups[mx]
        random.shuffle(group)
        out += group
    return out


def host_retry_key(host: Host, port: int, include_ip: bool = True) -> str:
    if not include_ip:
        return f"T:{host.name}"
    key = f"T:{host.name}:{host.address}"
    return key + (f":{port}" if port != 25 else "")


def message_retry_key(host_key: str, message_id: str) -> str:
    return f"{host_key}:{message_id}"


def retry_not_due(hints, key: str, now: float) -> bool:
    """True when the retry record for ``key`` says "not yet"."""
    from pexim.delivery import retry

    return retry.due(hints, key, now) is not None


def mark_retry_skip(host: Host) -> None:
    host.status, host.why = HSTATUS_UNUSABLE, "retry"
