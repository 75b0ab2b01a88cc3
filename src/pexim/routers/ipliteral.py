"""The ipliteral router: routes domain literals; no private options."""

OPTIONS: list = []
TRANSPORT = "required"


def route(rctx, r, addr, out) -> str:
    """ipliteral_router_entry(): a domain like [192.0.2.1] or [IPv6:2001:db8::1]."""
    from pexim.delivery.address import DECLINE, OK, Host
    from pexim.lists import match_ip
    from pexim.routers import generic, hostlist

    domain = str(addr.domain)
    if not (domain.startswith("[") and domain.endswith("]")):
        return DECLINE
    ip = domain[1:-1]
    if ip[:5].lower() == "ipv6:":
        ip = ip[5:]
    if not hostlist.is_ip(ip) or ("." in ip and ":" in ip and domain[1:6].lower() != "ipv6:"
                                  and ip.count(":") > 0 and ip.count(".") != 3):
        return DECLINE
    ignore = r.get("ignore_target_hosts")
    if ignore and match_ip(rctx.expand_context(addr), ip, ignore)[0]:
        return DECLINE
    host = Host(domain, ip)
    if hostlist.is_local_host(rctx, addr, host):
        rc = generic.self_action(rctx, r, addr, host, out)
        if rc != OK:
            return rc
    addr.hosts = [host]
    return generic.finish(rctx, r, addr, out)
