"""The dnslookup router: MX/SRV/A lookups for remote domains."""

from pexim.config.options import Option, T

S, B = T.STRING, T.BOOL
TRANSPORT = "required"

OPTIONS = [
    Option("check_secondary_mx", B, "false"),
    Option("check_srv", S),
    Option("fail_defer_domains", S),
    Option("ipv4_only", S),
    Option("ipv4_prefer", S),
    Option("mx_domains", S),
    Option("mx_fail_domains", S),
    Option("qualify_single", B, "true"),
    Option("rewrite_headers", B, "true"),
    Option("same_domain_copy_routing", B, "false"),
    Option("search_parents", B, "false"),
    Option("srv_fail_domains", S),
    Option("widen_domains", S),
]


# -- runtime ----------------------------------------------------------------------

def route(rctx, r, addr, out) -> str:
    """dnslookup_router_entry(): MX records, else the domain's own addresses."""
    from pexim.delivery.address import DECLINE, FAIL, OK, PASS, REROUTED
    from pexim.dns.resolver import AGAIN
    from pexim.lists import iter_list, match_domain
    from pexim.routers import generic, hostlist
    from pexim.routers.generic import RouterDefer

    domain = str(addr.domain)
    if not _valid_domain(rctx, domain):
        addr.message = f'mail domain "{domain}" is syntactically invalid'
        return FAIL
    ctx = rctx.expand_context(addr)

    def in_list(option: str) -> bool:
        text = r.get(option)
        return bool(text) and match_domain(ctx, domain, generic.expand(rctx, addr, text, ctx))[0]

    names = [domain]
    widen = r.get("widen_domains")
    if widen:
        names += [f"{domain}.{w}" for w in iter_list(widen)]
    for name in names:
        rc, hosts, why = _find_hosts(rctx, r, addr, name, in_list)
        if rc == "found":
            break
        if rc == AGAIN:
            if r.get("pass_on_timeout"):
                return PASS
            if in_list("fail_defer_domains"):
                return DECLINE
            raise RouterDefer("host lookup did not complete")
        if rc == "fail":
            addr.message = why
            return FAIL
        if rc == "decline" and why:
            addr.message = why
    else:
        return DECLINE
    if name != domain:
        out.new.append(addr.child(f"{addr.local_part}@{name}"))
        return REROUTED
    ignored = r.get("ignore_target_hosts")
    if ignored:
        hosts = generic.remove_ignored(rctx, r, addr, hosts)
        if not hosts:
            return DECLINE
    local_mx = None
    for h in hosts:
        if hostlist.is_local_host(rctx, addr, h):
            local_mx = h.mx
            break
    if r.get("check_secondary_mx") and local_mx is None:
        return DECLINE
    if local_mx is not None:
        if hosts[0].mx == local_mx or local_mx < 0:
            rc = generic.self_action(rctx, r, addr, hosts[0], out)
            if rc != OK:
                return rc
        else:
            hosts = [h for h in hosts if h.mx < local_mx]
    addr.hosts = hosts
    return generic.finish(rctx, r, addr, out)


def _valid_domain(rctx, domain: str) -> bool:
    import re

    pattern = rctx.config.main.get("dns_check_names_pattern")
    if not pattern:
        return not domain.startswith("[")
    try:
        return re.match(pattern.replace("(?>", "(?:"), domain) is not None
    except re.error:
        return True


def _find_hosts(rctx, r, addr, name, in_list):
    """host_find_bydns(): ("found", hosts, "") or (rc, [], message)."""
    from pexim.delivery.address import Host
    from pexim.dns.resolver import AGAIN
    from pexim.routers import hostlist

    rc, mxs = hostlist.mx_hosts(rctx, name)
    if rc == AGAIN:
        return AGAIN, [], ""
    if mxs:
        if any(m.name in ("", ".") for m in mxs):
            return "fail", [], "an MX or SRV record indicated no SMTP service"
        hosts = []
        again = False
        for m in mxs:
            hrc, addrs = _addresses(rctx, m.name)
            again |= hrc == AGAIN
            hosts += [Host(m.name, a, mx=m.mx) for a in addrs]
        if hosts:
            return "found", hosts, ""
        if again:
            return AGAIN, [], ""
        if in_list("mx_fail_domains"):
            return "fail", [], "all relevant MX records point to non-existent hosts"
        return "decline", [], "all relevant MX records point to non-existent hosts"
    if in_list("mx_domains"):
        return "decline", [], ""
    hrc, addrs = _addresses(rctx, name)
    if addrs:
        return "found", [Host(name, a) for a in addrs], ""
    if hrc == AGAIN:
        return AGAIN, [], ""
    return "decline", [], ""


def _addresses(rctx, name: str):
    """AAAA then A records of a host name, from the DNS only."""
    from pexim.dns.resolver import AGAIN, NOMATCH, OK

    resolver = rctx.get_resolver()
    found, rcs = [], []
    for rdtype in ("AAAA", "A"):
        answer = resolver.lookup_sync(name, rdtype, rctx.dns_cache)
        rcs.append(answer.rc)
        found += [rec.address for rec in answer.records]
    if found:
        return OK, found
    return (AGAIN if AGAIN in rcs else NOMATCH), []
