"""Exim lists: splitting (string_nextinlist) and matching domain, local-part,
address and host lists, including named lists (``+name``), negation,
lookups (``lsearch;/file``), regexes and wildcards.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Iterator

from pexim.bytestr import SPACE, iscntrl, ispunct


def list_separator(s: str, sep: str | None = None) -> tuple[str, int]:
    """The separator in force for list ``s`` and where the items start."""
    i = 0
    n = len(s)
    if sep is None:
        while i < n and s[i] in SPACE:
            i += 1
        if i + 1 < n and s[i] == "<" and (ispunct(s[i + 1]) or iscntrl(s[i + 1])):
            sep = s[i + 1]
            i += 2
            while i < n and s[i] in SPACE and s[i] != sep:
                i += 1
        else:
            sep = ":"
    return sep, i


def iter_list(s: str | None, sep: str | None = None, start: int | None = None) -> Iterator[str]:
    """Yield the items of list ``s`` exactly as string_nextinlist() does."""
    if not s:
        return
    if start is None:
        sep, i = list_separator(s, sep)
    else:
        i = start
    n = len(s)
    special = iscntrl(sep)
    while True:
        while i < n and s[i] in SPACE and s[i] != sep:
            i += 1
        if i >= n:
            return
        if s[i] == sep:
            i += 1
            if i >= n or s[i] != sep or special:
                yield ""
                continue
        parts = []
        while True:
            j = s.find(sep, i + 1)
            if j < 0:
                parts.append(s[i:])
                i = n
                break
            parts.append(s[i:j])
            i = j + 1
            if i >= n or s[i] != sep or special:
                break
        item = "".join(parts)
        yield item.rstrip(SPACE)


@lru_cache(maxsize=4096)
def list_items(s: str) -> tuple[str, ...]:
    """The items of list ``s`` (default separator), split once per process."""
    return tuple(iter_list(s))


def split_list(s: str | None, sep: str | None = None) -> list[str]:
    return list(iter_list(s, sep))


def list_sep_of(s: str) -> str:
    return list_separator(s)[0]


# --- matching --------------------------------------------------------------------

class ListDefer(Exception):
    """A list could not be checked (lookup defer, expansion failure)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


_KINDS = {"domain": "domain", "localpart": "local part", "address": "address", "host": "host"}


def _log(text: str) -> None:
    import sys
    import time
    sys.stderr.write("%s %s\n" % (time.strftime("%Y-%m-%d %H:%M:%S"), text))


def _named(ctx, kind: str, name: str) -> str:
    text = ctx.named_list(kind, name)
    if text is None:
        # Exim logs the problem and defers; the reason it then gives is
        # whatever search_error_message holds (NULL if no lookup ran yet).
        _log('unknown named %s list "+%s"' % (_KINDS[kind], name))
        prev = ctx.extra.get("search_error") if ctx is not None else None
        raise ListDefer("NULL" if prev is None else prev)
    return getattr(text, "text", text)


def _panic_regex(e) -> None:
    from .expand.errors import PanicDie
    from .expand.regex import RegexError
    if isinstance(e, RegexError):
        pattern = e.message.split('"', 2)[1] if '"' in e.message else ""
        raise PanicDie("regular expression error: %s at offset %d while compiling %s"
                       % (e.pcre_message, e.offset, pattern)) from None
    raise e


def _regex_match(ctx, subject: str, pattern: str, caseless: bool) -> bool:
    from .expand import regex
    try:
        rx = regex.compile_pcre(pattern, caseless)
    except regex.RegexError as e:
        _panic_regex(e)
    m = rx.search(subject)
    if m:
        ctx.nvars = regex.groups(m)
        return True
    return False


def _lookup_item(ctx, item: str, key: str, kind: str):
    """``type;arg`` items: (matched, value). Single-key types use the subject."""
    from .expand.errors import ExpansionError, LookupDefer, PanicDie
    from .lookups import lookup_direct
    semi = item.find(";")
    spec_text, arg = item[:semi].strip(), item[semi + 1:].strip()
    spec = _spec(spec_text)
    if isinstance(spec, str):
        raise PanicDie(spec)                    # search_findtype() failure: fatal
    try:
        if spec.query_style:
            value = lookup_direct(ctx, spec_text, arg, None)
        else:
            value = lookup_direct(ctx, spec_text, arg, key)
    except LookupDefer as e:
        ctx.extra["search_error"] = e.message
        raise ListDefer(e.message) from None
    except ExpansionError as e:
        # search_open() failed: Exim logs it with LOG_PANIC_DIE.
        if not e.message.startswith("Tainted filename"):
            ctx.extra["search_error"] = e.message
        raise PanicDie(ctx.extra.get("search_error") or e.message) from None
    ctx.extra["search_error"] = ""
    return value is not None, value


@lru_cache(maxsize=1024)
def _spec(spec_text: str):
    """The parsed lookup type of a list item, or the error text."""
    from .lookups import LookupSpecError, parse_spec
    try:
        return parse_spec(spec_text)
    except LookupSpecError as e:
        return e.message


@lru_cache(maxsize=4096)
def _is_lookup(item: str) -> bool:
    semi = item.find(";")
    if semi <= 0:
        return False
    head = item[:semi].strip()
    return bool(head) and head[0].isalpha() and all(
        c.isalnum() or c in "-_*@,()=." for c in head)


def _valid_type(spec: str) -> bool:
    return not isinstance(_spec(spec), str)


def match_string(ctx, subject: str, pattern: str, kind: str, caseless: bool = True):
    """match_check_string(): one non-negated pattern against subject."""
    if pattern.startswith("^"):
        return _regex_match(ctx, subject, pattern, caseless), None
    if pattern.startswith("*"):
        suffix = pattern[1:]
        if len(suffix) > len(subject):
            return False, None
        tail = subject[len(subject) - len(suffix):]
        ok = tail.lower() == suffix.lower() if caseless else tail == suffix
        if ok and kind in ("domain", "localpart"):
            n0 = ctx.nvars[0] if ctx.nvars else ""
            ctx.nvars = (n0, subject[:len(subject) - len(suffix)])
        return ok, None
    if kind == "domain" and pattern == "@":
        from .expand.variables import primary_hostname
        return subject.lower() == primary_hostname(ctx).lower(), None
    if kind == "domain" and pattern.startswith("@mx_"):
        return _match_mx(ctx, subject, pattern), pattern
    if kind == "domain" and pattern == "@[]":
        if subject.startswith("[") and subject.endswith("]"):
            # exim compares the literal as it is: "[IPv6:::1]" is no local address
            return subject[1:-1] in local_interface_addresses(), None
        return False, None
    if _is_lookup(pattern):
        return _lookup_item(ctx, pattern, subject, kind)
    if caseless:
        return subject.lower() == pattern.lower(), None
    return subject == pattern, None


def local_addresses(ctx) -> set[str]:
    """The addresses that count as this host: local_interfaces and
    extra_local_interfaces, where 0.0.0.0 or ::0 stand for every interface."""
    config = getattr(ctx, "config", None)
    texts = ["<; ::0 ; 0.0.0.0"] if config is None else [
        config.main.get("local_interfaces") or "", config.main.get("extra_local_interfaces") or ""]
    out: set[str] = set()
    for text in texts:
        for item in iter_list(text):
            addr = item[1:item.find("]")] if item.startswith("[") else item
            if addr.count(".") == 4 and ":" not in addr:      # a.b.c.d.port
                addr = addr.rsplit(".", 1)[0]
            if addr in ("0.0.0.0", "::0", "::"):
                out.update(local_interface_addresses())
            else:
                out.add(addr)
    return out


def _match_mx(ctx, domain: str, pattern: str) -> bool:
    """@mx_any, @mx_primary, @mx_secondary (with /ignore=<host list>): does an
    MX of `domain` point at this host (or at a hosts_treat_as_local domain)?"""
    from pexim.dns import AGAIN, OK, Resolver

    name, _, option = pattern.partition("/")
    which = name[4:]
    ignore = option[7:] if option.startswith("ignore=") else ""
    resolver = Resolver.for_context(ctx)
    answer = resolver.lookup_sync(domain, "MX")
    if answer.rc == AGAIN:
        raise ListDefer(f"DNS lookup of {domain} (MX) gave DEFER")
    if answer.rc != OK:
        return False
    local = local_addresses(ctx)
    as_local = ctx.config.main.get("hosts_treat_as_local") if ctx.config is not None else None
    records = sorted(answer.records, key=lambda r: r.preference)
    best = records[0].preference if records else 0
    primary = secondary = False
    for record in records:
        host = record.exchange.to_text(omit_final_dot=True)
        rc, addrs = resolver.addresses_sync(host)
        addrs = [a for a in addrs if not (ignore and match_ip(ctx, a, ignore)[0])]
        is_local = any(a in local for a in addrs) or bool(
            as_local and match_domain(ctx, host, as_local)[0])
        if is_local:
            primary |= record.preference == best
            secondary |= record.preference != best
    if which == "any":
        return primary or secondary
    if which == "primary":
        return primary
    return secondary and not primary


def match_string_item(ctx, subject: str, pattern: str, expand: bool) -> bool:
    """A wildlsearch key: a one-item string list (with optional expansion)."""
    if expand and ("$" in pattern or "\\" in pattern):
        from .expand import ExpansionError, compile_cached
        try:
            pattern = compile_cached(pattern).evaluate(ctx)
        except ExpansionError as e:
            import sys
            import time
            sys.stderr.write('%s failed to expand "%s" while checking a list: %s\n'
                             % (time.strftime("%Y-%m-%d %H:%M:%S"), pattern, e.message))
            raise ListDefer("") from None
    neg = pattern.startswith("!")
    if neg:
        pattern = pattern[1:].lstrip(SPACE)
    save = ctx.nvars
    ok, _ = match_string(ctx, subject, pattern, "string")
    ctx.nvars = save
    return ok != neg


def _named_cache(ctx, kind: str, name: str, key):
    """(key, cache) for a cacheable named list (no expansion in it), else None.

    Exim remembers a named list's result per value tested, so a list checked
    again for the same host or domain is not re-evaluated (and -bh says
    "cached"); the cache lives as long as the context (a connection)."""
    if ctx is None or key is None:
        return None
    lists = getattr(ctx.config, "named_lists", None) if ctx.config is not None else None
    nl = (lists or {}).get(kind, {}).get(name)
    if nl is None or not getattr(nl, "cacheable", False):
        return None
    return (kind, name, key), ctx.extra.setdefault("named_cache", {})


def _check_list(ctx, kind: str, lst: str, check, depth: int = 0,
                subject: str | None = None, label: str | None = None, key=None):
    """match_check_list(): (matched, value) honouring '!', '+name' and the
    "last item negative means match" rule.

    When ``ctx.extra["list_trace"]`` is set (``-bh``), each list checked
    reports its outcome as Exim's HDEBUG(D_lists) lines do; ``label`` is the
    option name for named options (default: the quoted list text)."""
    trace = ctx.extra.get("list_trace") if ctx is not None and subject is not None else None
    yield_ok = True
    for original in list_items(lst) if lst else ():
        item = original
        yield_ok = True
        while item.startswith("!"):
            yield_ok = not yield_ok
            item = item[1:].lstrip(SPACE)
        if kind == "host" and item in _HOST_FLAGS:
            ctx.extra.setdefault("host_flags", set()).add(item)
            continue
        if item.startswith("+") and kind != "string":
            cache = _named_cache(ctx, kind, item[1:], subject if key is None else key)
            if cache is not None and cache[0] in cache[1]:
                ok, value = cache[1][cache[0]]
                if ok:
                    if trace:
                        trace('%s in %s? %s (matched "%s" - cached)' % (
                            subject, label or '"%s"' % lst, "yes" if yield_ok else "no",
                            original))
                    return yield_ok, value
                continue
            sub = _named(ctx, kind, item[1:])
            if "$" in sub or "\\" in sub:
                from .expand import ExpansionError, compile_cached
                try:
                    sub = compile_cached(sub).evaluate(ctx)
                except ExpansionError as e:
                    raise ListDefer(e.message) from None
            ok, value = _check_list(ctx, kind, sub, check, depth + 1, subject, key=key)
            if cache is not None:
                cache[1][cache[0]] = (ok, value)
        else:
            ok, value = check(item)
        if ok:
            if trace:
                trace('%s in %s? %s (matched "%s")' % (
                    subject, label or '"%s"' % lst, "yes" if yield_ok else "no", original))
            return yield_ok, value
    if trace:
        trace('%s in %s? %s (end of list)' % (
            subject, label or '"%s"' % lst, "no" if yield_ok else "yes"))
    return (not yield_ok), None


def match_domain(ctx, domain: str, lst: str, label: str | None = None):
    return _check_list(ctx, "domain", lst,
                       lambda item: match_string(ctx, domain, item, "domain"),
                       subject=domain, label=label)


def match_localpart(ctx, lp: str, lst: str, caseless: bool = True, label: str | None = None):
    return _check_list(ctx, "localpart", lst,
                       lambda item: match_string(ctx, lp, item, "localpart", caseless),
                       subject=lp, label=label)


def match_string_list(ctx, subject: str, lst: str, label: str | None = None):
    """match_isinlist() with MCL_STRING: plain strings, wildcards, regexes."""
    return _check_list(ctx, "string", lst,
                       lambda item: match_string(ctx, subject, item, "string"),
                       subject=subject, label=label)


def match_address(ctx, address: str, lst: str, label: str | None = None):
    at = address.rfind("@")
    local, domain = (address[:at], address[at + 1:]) if at >= 0 else (address, "")

    def check(item):
        if not item and not address:
            return True, None
        if item.startswith("^"):
            return _regex_match(ctx, address, item, True), None
        if _is_lookup(item) and _valid_type(item[:item.find(";")].strip()):
            return _lookup_item(ctx, item, address, "address")
        if item.startswith("@@"):
            return False, None
        pat_at = item.rfind("@")
        if pat_at < 0:
            if at < 0:
                return False, None
            return match_domain(ctx, domain, item)
        if at < 0:
            return False, None
        lpat, dpat = item[:pat_at], item[pat_at + 1:]
        ok, _ = match_string(ctx, local, lpat, "localpart", True)
        if not ok:
            return False, None
        return match_domain(ctx, domain, dpat)

    return _check_list(ctx, "address", lst, check, subject=address, label=label)


_HOST_FLAGS = ("+ignore_unknown", "+include_unknown", "+ignore_defer", "+include_defer")


class _NameNeeded(Exception):
    """A host-list item needs the host's name, which -be cannot look up (yet)."""


def host_in_net(address: str, net: str) -> bool:
    """host_is_in_net(): is ``address`` within ``net`` (address or CIDR)?

    An IPv4-mapped subject has been turned into IPv4 by the caller; addresses
    of one family never match nets of the other; a mask longer than the
    address compares every bit."""
    import ipaddress
    addr, slash, bits = net.partition("/")
    try:
        a = ipaddress.ip_address(address.split("%", 1)[0])
        n_addr = ipaddress.ip_address(addr)
        width = 32 if n_addr.version == 4 else 128
        mlen = int(bits) if slash else width
    except ValueError:
        return False
    if a.version != n_addr.version or mlen < 0:
        return False
    mlen = min(mlen, width)
    shift = width - mlen
    return int(a) >> shift == int(n_addr) >> shift


def local_interface_addresses() -> list[str]:
    """The host's interface addresses (what @[] means), IPv4 then IPv6."""
    import fcntl
    import socket
    import struct
    out = []
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        for _idx, name in socket.if_nameindex():
            try:
                res = fcntl.ioctl(s.fileno(), 0x8915,   # SIOCGIFADDR
                                  struct.pack("256s", name.encode()[:15]))
                out.append(socket.inet_ntoa(res[20:24]))
            except OSError:
                pass
    finally:
        s.close()
    try:
        with open("/proc/net/if_inet6") as f:
            for line in f:
                h = line.split()[0]
                out.append(str(__import__("ipaddress").IPv6Address(int(h, 16))))
    except OSError:
        pass
    return out


def _host_unknown(ctx):
    """A name or address could not be found (section "Behaviour when an IP address
    or name cannot be found"): no match, unless +ignore_unknown/+include_unknown."""
    flags = ctx.extra.get("host_flags") or ()
    if "+ignore_unknown" in flags:
        return False, None
    if "+include_unknown" in flags:
        return True, None
    raise _NameNeeded()


def _host_deferred(ctx, what: str):
    flags = ctx.extra.get("host_flags") or ()
    if "+ignore_defer" in flags:
        return False, None
    if "+include_defer" in flags:
        return True, None
    raise ListDefer(f"host lookup for {what} deferred")


def _match_host_name(ctx, address: str, item: str):
    """A host-list item naming hosts: a full name is looked up forwards; a
    wildcard or regex is matched against the client's (confirmed) names."""
    from pexim.dns import AGAIN, OK, Resolver
    from pexim.dns.hostnames import host_addresses, host_names

    resolver = Resolver.for_context(ctx)
    if item == "@":
        from .expand.variables import primary_hostname
        item = primary_hostname(ctx)
    if not item.startswith(("*", "^")):
        rc, addrs = host_addresses(resolver, item)
        if rc == AGAIN:
            return _host_deferred(ctx, item)
        if rc != OK:
            return _host_unknown(ctx)
        return address in addrs, None
    values = ctx.values
    if values.get("sender_host_address") == address and values.get("sender_host_name"):
        names = [values["sender_host_name"]]
    else:
        rc, names = host_names(resolver, address)
        if rc == AGAIN:
            return _host_deferred(ctx, address)
        if rc != OK:
            return _host_unknown(ctx)
        if values.get("sender_host_address") == address:
            values["sender_host_name"] = names[0]
    return any(match_string(ctx, n, item, "domain")[0] for n in names), None


def match_ip(ctx, address: str, lst: str, label: str | None = None, names: bool = False):
    """A host list against a client: `names` allows items that need DNS (ACL
    `hosts` and host-list options do that; the match_ip condition does not)."""
    from .expand import ip as iptext
    if address.lower().startswith("::ffff:") and iptext.is_ip_address(address[7:])[0] == 4:
        address = address[7:]

    def check(item):
        if item == "*":
            return True, None
        if not item:
            return address == "", None
        version, _ = iptext.is_ip_address(item)
        if version:
            return bool(address) and host_in_net(address, item), None
        if item == "@[]":
            return address in local_interface_addresses(), None
        if _is_lookup(item):
            semi = item.find(";")
            head = item[:semi].strip()
            key = address
            if head.startswith("net"):
                k = 3
                while k < len(head) and head[k].isdigit():
                    k += 1
                bits = head[3:k]
                head = head[k + 1:] if head[k:k + 1] == "-" else head[k:]
                if bits and address:
                    ver, _ = iptext.is_ip_address(address)
                    width = 32 if ver == 4 else 128
                    _, value = iptext.to_int(address)
                    value = iptext.mask_int(value, int(bits), width)
                    sep = "." if ver == 4 else ":"
                    key = "%s/%s" % (iptext.dotted(ver, value, sep), bits)
            return _lookup_item(ctx, head + ";" + item[semi + 1:], key, "host")
        if item.startswith("@mx_"):
            return _host_unknown(ctx)       # not a host-list item: as a failed lookup
        if item.startswith("@") and item != "@":
            return False, None
        if not names:
            # match_ip and friends: names are not looked up; as a failed lookup.
            return _host_unknown(ctx)
        return _match_host_name(ctx, address, item)

    ctx.extra["host_flags"] = set()
    try:
        return _check_list(ctx, "host", lst, check, subject="host", label=label,
                           key=address)
    except _NameNeeded:
        return False, None


def match_condition(ctx, name: str, subject: str, lst: str):
    """The match_* expansion conditions: (matched, value for $value)."""
    from .expand.errors import ExpansionError
    try:
        if name == "match_domain":
            return match_domain(ctx, subject, lst)
        if name == "match_local_part":
            return match_localpart(ctx, subject, lst)
        if name == "match_address":
            return match_address(ctx, subject, lst)
        return match_ip(ctx, subject, lst)
    except ExpansionError:
        raise


def listnamed(ctx, name: str, typ: str | None) -> str:
    """${listnamed:name}: the list re-quoted as a colon list, named lists inlined."""
    from .expand.errors import ExpansionError
    if name.startswith("+"):
        name = name[1:]
    kinds = {"a": "address", "d": "domain", "h": "host", "l": "localpart"}
    if typ is None:
        order = ("address", "domain", "host", "localpart")
    elif typ[:1] in kinds:
        order = (kinds[typ[:1]],)
    else:
        raise ExpansionError('bad suffix on "list" operator')
    text = None
    for kind in order:
        text = ctx.named_list(kind, name)
        if text is not None:
            break
    if text is None:
        what = "" if typ is None else {"address": "address ", "domain": "domain ",
                                       "host": "host ", "localpart": "localpart "}[order[0]]
        raise ExpansionError('"%s" is not a %snamed list' % (name, what))
    text = getattr(text, "text", text)
    sep, start = list_separator(text)
    out = []
    for item in iter_list(text, sep, start):
        if out:
            out.append(" : ")
        else:
            out.append("")
        if item.startswith("+"):
            out.append(listnamed(ctx, item, typ))
        elif sep != ":":
            out.append(item.replace(":", "::"))
        else:
            out.append(item)
    return "".join(out)
