"""Exim lists: splitting (string_nextinlist) and matching domain, local-part,
address and host lists, including named lists (``+name``), negation,
lookups (``lsearch;/file``), regexes and wildcards.
"""

from __future__ import annotations

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


def _named(ctx, kind: str, name: str) -> str:
    text = ctx.named_list(kind, name)
    if text is None:
        from .expand.errors import ExpansionError
        raise ExpansionError('unknown named %s list "+%s"' % (_KINDS[kind], name))
    return getattr(text, "text", text)


def _regex_match(ctx, subject: str, pattern: str, caseless: bool) -> bool:
    from .expand import regex
    m = regex.compile_pcre(pattern, caseless).search(subject)
    if m:
        ctx.nvars = regex.groups(m)
        return True
    return False


def _lookup_item(ctx, item: str, key: str, kind: str):
    """``type;arg`` items: (matched, value). Single-key types use the subject."""
    from .expand.errors import ExpansionError
    from .lookups import LookupSpecError, lookup_direct, parse_spec
    semi = item.find(";")
    spec_text, arg = item[:semi].strip(), item[semi + 1:].strip()
    try:
        spec = parse_spec(spec_text)
    except LookupSpecError as e:
        raise ListDefer(e.message) from None
    try:
        if spec.query_style:
            value = lookup_direct(ctx, spec_text, arg, None)
        else:
            value = lookup_direct(ctx, spec_text, arg, key)
    except ExpansionError as e:
        raise ListDefer(e.message) from None
    return value is not None, value


def _is_lookup(item: str) -> bool:
    semi = item.find(";")
    if semi <= 0:
        return False
    head = item[:semi].strip()
    return bool(head) and head[0].isalpha() and all(
        c.isalnum() or c in "-_*@,()=." for c in head)


def _valid_type(spec: str) -> bool:
    from .lookups import LookupSpecError, parse_spec
    try:
        parse_spec(spec)
    except LookupSpecError:
        return False
    return True


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
    if _is_lookup(pattern):
        return _lookup_item(ctx, pattern, subject, kind)
    if caseless:
        return subject.lower() == pattern.lower(), None
    return subject == pattern, None


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


def _check_list(ctx, kind: str, lst: str, check, depth: int = 0):
    """match_check_list(): (matched, value) honouring '!', '+name' and the
    "last item negative means match" rule."""
    yield_ok = True
    for item in iter_list(lst):
        yield_ok = True
        while item.startswith("!"):
            yield_ok = not yield_ok
            item = item[1:].lstrip(SPACE)
        if item.startswith("+") and kind != "string":
            sub = _named(ctx, kind, item[1:])
            if "$" in sub or "\\" in sub:
                from .expand import ExpansionError, compile_cached
                try:
                    sub = compile_cached(sub).evaluate(ctx)
                except ExpansionError as e:
                    raise ListDefer(e.message) from None
            ok, value = _check_list(ctx, kind, sub, check, depth + 1)
        else:
            ok, value = check(item)
        if ok:
            return yield_ok, value
    return (not yield_ok), None


def match_domain(ctx, domain: str, lst: str):
    return _check_list(ctx, "domain", lst,
                       lambda item: match_string(ctx, domain, item, "domain"))


def match_localpart(ctx, lp: str, lst: str, caseless: bool = True):
    return _check_list(ctx, "localpart", lst,
                       lambda item: match_string(ctx, lp, item, "localpart", caseless))


def match_address(ctx, address: str, lst: str):
    at = address.rfind("@")
    local, domain = (address[:at], address[at + 1:]) if at >= 0 else (address, "")

    def check(item):
        if not item:
            return address == "", None
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
            return match_string(ctx, domain, item, "domain")
        if at < 0:
            return False, None
        lpat, dpat = item[:pat_at], item[pat_at + 1:]
        if lpat:
            ok, _ = match_string(ctx, local, lpat, "localpart", True)
            if not ok:
                return False, None
        if dpat.startswith("+"):
            return _check_list(ctx, "domain", _named(ctx, "domain", dpat[1:]),
                               lambda d: match_string(ctx, domain, d, "domain"))
        return match_string(ctx, domain, dpat, "domain")

    return _check_list(ctx, "address", lst, check)


def host_in_net(address: str, net: str) -> bool:
    """host_is_in_net(): is ``address`` within ``net`` (address or CIDR)?"""
    import ipaddress
    try:
        a = ipaddress.ip_address(address.split("%", 1)[0])
        n = ipaddress.ip_network(net, strict=False)
    except ValueError:
        return False
    if a.version != n.version:
        if a.version == 6 and a.ipv4_mapped is not None:
            a = a.ipv4_mapped
        elif a.version == 4 and n.version == 6:
            a = ipaddress.IPv6Address("::ffff:" + str(a))
        else:
            return False
        if a.version != n.version:
            return False
    return a in n


def match_ip(ctx, address: str, lst: str):
    from .expand import ip as iptext
    v4 = address[7:] if address.lower().startswith("::ffff:") else address

    def check(item):
        if item == "*":
            return True, None
        if not item:
            return address == "", None
        version, _ = iptext.is_ip_address(item)
        if version:
            return bool(address) and host_in_net(v4 if version == 4 else address, item), None
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
        return False, None

    return _check_list(ctx, "host", lst, check)


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
