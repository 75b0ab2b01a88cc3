"""$sender_fullhost and $sender_rcvhost (host.c, host_build_sender_fullhost).

The log lines show ``H=<fullhost>``; the default Received: header shows
``from <rcvhost>``.  Both say whether the HELO name differs from the host's
(looked-up) name or, for an IP-literal HELO, from its address.
"""

from __future__ import annotations


def _show_helo(helo: str | None, host_name: str | None, address: str) -> bool:
    if not helo:
        return False
    if helo.startswith("[") and helo.endswith("]"):
        literal = helo[1:-1]
        if literal.lower().startswith("ipv6:"):
            literal = literal[5:]
        return literal.lower() != address.lower()
    return host_name is None or helo.lower() != host_name.lower()


def sender_fullhost(address: str, port: int = 0, helo: str | None = None,
                    host_name: str | None = None, log_port: bool = False) -> str:
    """"name (helo) [ip]", "(helo) [ip]", "name [ip]" or "[ip]" (":port" with +incoming_port)."""
    addr = "[%s]" % address
    if log_port and port > 0:
        addr += ":%d" % port
    show = _show_helo(helo, host_name, address)
    parts = [p for p in (host_name, "(%s)" % helo if show else None, addr) if p]
    return " ".join(parts)


def sender_rcvhost(address: str, port: int = 0, helo: str | None = None,
                   host_name: str | None = None, ident: str | None = None,
                   log_port: bool = False) -> str:
    """"[ip] (helo=h ident=u)", "name ([ip] helo=h)", ... as in Received: headers."""
    show = _show_helo(helo, host_name, address)
    extras = []
    if show:
        extras.append("helo=" + helo)
    if ident:
        extras.append("ident=" + ident)
    if host_name is None:
        if log_port and port > 0:
            extras.insert(0, "port=%d" % port)
        if not extras:
            return "[%s]" % address
        return "[%s] (%s)" % (address, " ".join(extras))
    addr = "[%s]" % address
    if log_port and port > 0:
        addr += ":%d" % port
    return "%s (%s)" % (host_name, " ".join([addr] + extras))
