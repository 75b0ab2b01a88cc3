"""The manualroute router: hosts from route_list / route_data."""

from pexim.config.drivers import fail_for
from pexim.config.options import Option, T

S, B = T.STRING, T.BOOL

OPTIONS = [
    Option("host_all_ignored", S, "defer"),
    Option("host_find_failed", S, "freeze"),
    Option("hosts_randomize", B, "false"),
    Option("route_data", S),
    Option("route_list", S),
    Option("same_domain_copy_routing", B, "false"),
]

HOST_FAILED_ACTIONS = ("decline", "defer", "fail", "freeze", "ignore", "pass")


def check(inst, v) -> None:
    if v["host_find_failed"] not in HOST_FAILED_ACTIONS:
        raise fail_for(inst, "unrecognized setting for host_find_failed option")
    if v["host_all_ignored"] not in HOST_FAILED_ACTIONS or v["host_all_ignored"] == "ignore":
        raise fail_for(inst, "unrecognized setting for host_all_ignored option")
    if (v["route_list"] is None) == (v["route_data"] is None):
        raise fail_for(inst, "route_list or route_data (but not both) must be specified")


# -- runtime ----------------------------------------------------------------------

_HOW = ("byname", "bydns")


def route(rctx, r, addr, out) -> str:
    """manualroute_router_entry(): the first matching route_list item, or route_data."""
    from pexim.delivery.address import DECLINE, OK
    from pexim.expand import ExpansionError, ForcedFail
    from pexim.lists import iter_list, match_domain
    from pexim.routers import generic, hostlist
    from pexim.routers.generic import RouterDefer

    ctx = rctx.expand_context(addr)
    if r.get("route_data") is not None:
        try:
            item = generic.expand(rctx, addr, r.get("route_data"), ctx)
        except ForcedFail:
            return DECLINE
        except ExpansionError as e:
            raise RouterDefer(f'failed to expand "{r.get("route_data")}" in {r.name} '
                              f'router: {e.message}') from None
        if not item.strip():
            return DECLINE
        hosts_text, options = _split_words(item)
    else:
        for entry in iter_list(r.get("route_list"), ";"):
            pattern, rest = _split_words(entry)
            if match_domain(ctx, addr.domain, pattern)[0]:
                hosts_text, options = _split_words(rest)
                break
        else:
            return DECLINE
        try:
            hosts_text = generic.expand(rctx, addr, hosts_text, ctx)
        except ForcedFail:
            return DECLINE
        except ExpansionError as e:
            raise RouterDefer(f'failed to expand "{hosts_text}" in {r.name} router: '
                              f'{e.message}') from None
    randomize, how, transport = bool(r.get("hosts_randomize")), None, None
    for word in options.split():
        if word == "randomize":
            randomize = True
        elif word == "no_randomize":
            randomize = False
        elif word in _HOW:
            how = word
        elif word in ("ipv4_prefer", "ipv4_only"):
            continue
        else:
            transport = word
    generic.get_errors_address(rctx, r, addr)
    generic.get_munge_headers(rctx, r, addr)
    if transport is not None:
        addr.transport = generic.get_transport(rctx, r, addr, text=transport)
    else:
        addr.transport = generic.get_transport(rctx, r, addr)
    hosts = hostlist.build(hosts_text, randomize)
    if hosts_text.startswith("<") and len(hosts_text.strip()) <= 2:
        return hostlist.all_ignored(r, addr)    # a separator and no hosts
    if not hosts:
        if addr.transport is None or not rctx.transport_is_local(addr.transport):
            if rctx.verify is None or addr.transport is not None:
                raise RouterDefer(f"no hosts found for {r.name} router")
        generic.queue_add(rctx, r, addr, out)
        return OK
    if addr.transport is not None and rctx.transport_is_local(addr.transport):
        addr.hosts = hosts                  # for a local transport: names only
        generic.queue_add(rctx, r, addr, out)
        return OK
    rc = hostlist.lookup(rctx, r, addr, hosts, how or "", out)
    if rc != OK:
        return rc
    addr.hosts = hosts
    generic.queue_add(rctx, r, addr, out)
    return OK


def _split_words(text: str) -> tuple[str, str]:
    """The first (possibly quoted) word and the rest (string_dequote)."""
    text = text.lstrip()
    if text.startswith('"'):
        out, i = [], 1
        while i < len(text) and text[i] != '"':
            if text[i] == "\\" and i + 1 < len(text):
                i += 1
            out.append(text[i])
            i += 1
        return "".join(out), text[i + 1:].lstrip()
    word, _, rest = text.partition(" ")
    if "\t" in word:
        word, _, more = word.partition("\t")
        rest = more + " " + rest
    return word, rest.strip()
