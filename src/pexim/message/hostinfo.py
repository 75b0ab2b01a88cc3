"""$sender_fullhost and $sender_rcvhost (host.c, host_build_sender_fullhost).

The log lines show ``H=<fullhost>``; the default Received: header shows
``from <rcvhost>``.  Both say whether the HELO name differs from the host's
(looked-up) name or, for an IP-literal HELO, from its address.
"""

from __future__ import annotations


def _literal_matches(helo: str, address: str) -> bool:
    """An IP-literal HELO ("[1.2.3.4]", "[IPv6:...]") naming the connection's address."""
    if not (helo.startswith("[") and helo.endswith("]")):
        return False
    literal = helo[1:-1]
    if literal.lower().startswith("ipv6:"):
        literal = literal[5:]
    return literal.lower() == address.lower()


def _address(address: str, port: int, log_port: bool) -> str:
    return "[%s]:%d" % (address, port) if log_port and port > 0 else "[%s]" % address


def sender_fullhost(address: str, port: int = 0, helo: str | None = None,
                    host_name: str | None = None, log_port: bool = False) -> str:
    """"name (helo) [ip]", "name [ip]", "(helo) [ip]" or "[ip]" (":port" with +incoming_port).

    Without a host name any HELO is shown, even a literal of the address itself.
    """
    addr = _address(address, port, log_port)
    if host_name is None:
        return "(%s) %s" % (helo, addr) if helo else addr
    if _show_helo(helo, host_name, address):
        return "%s (%s) %s" % (host_name, helo, addr)
    return "%s %s" % (host_name, addr)


def _show_helo(helo: str | None, host_name: str | None, address: str) -> bool:
    if not helo or _literal_matches(helo, address):
        return False
    return host_name is None or helo.lower() != host_name.lower()


def sender_rcvhost(address: str, port: int = 0, helo: str | None = None,
                   host_name: str | None = None, ident: str | None = None,
                   log_port: bool = False) -> str:
    """"[ip] (port=p helo=h ident=u)", "name ([ip]:p helo=h)", as in Received: headers.

    With a host name, a shown HELO and an ident, Exim folds the line before "(".
    """
    show = _show_helo(helo, host_name, address)
    if host_name is None:
        extras = ["port=%d" % port] if log_port and port > 0 else []
        if show:
            extras.append("helo=" + helo)
        if ident:
            extras.append("ident=" + ident)
        return "[%s] (%s)" % (address, " ".join(extras)) if extras else "[%s]" % address
    addr = _address(address, port, log_port)
    if show:
        if ident:
            return "%s\n\t(%s helo=%s ident=%s)" % (host_name, addr, helo, ident)
        return "%s (%s helo=%s)" % (host_name, addr, helo)
    if ident:
        return "%s (%s ident=%s)" % (host_name, addr, ident)
    return "%s (%s)" % (host_name, addr)
