"""The `dnslists` ACL condition (dnsbl.c: verify_check_dnsbl, one_check_dnsbl).

Items: `+include_unknown`, `+exclude_unknown`, `+defer_unknown`, and
`[txtdomain,]domain[!][=|==|=&|&]ip,ip.../key:key...`.  Lookups go through
pexim.dns (PEXIM_RESOLVER points tests at their own server) and are cached for
the session as Exim caches them (dnsbl_cache, limited by the answers' TTL).
Sets $dnslist_domain, $dnslist_matched, $dnslist_value and $dnslist_text.
"""

from __future__ import annotations

import ipaddress
import time

from pexim import lists
from pexim.acl import where as W

MT_NOT, MT_ALL = 1, 2


class _Cached:
    __slots__ = ("expiry", "rc", "rhs", "text", "text_set")

    def __init__(self):
        self.expiry = 0.0
        self.rc = "FAIL"
        self.rhs: list[str] = []
        self.text = None
        self.text_set = False


def _is_ip(s: str) -> bool:
    try:
        ipaddress.ip_address(s)
        return True
    except ValueError:
        return False


def invert_address(address: str) -> str:
    """invert_address(): reversed octets for IPv4, reversed nibbles for IPv6."""
    ip = ipaddress.ip_address(address)
    if ip.version == 4:
        return ".".join(reversed(address.split(".")))
    return ".".join(reversed(ip.exploded.replace(":", "")))


def _aton4(s: str):
    try:
        ip = ipaddress.ip_address(s)
    except ValueError:
        return None
    return int(ip) if ip.version == 4 else None


class _Checker:
    def __init__(self, engine):
        self.engine = engine
        self.trace = engine.hd
        cache = getattr(engine, "_dnsbl_cache", None)
        if cache is None:
            cache = engine._dnsbl_cache = {}
        self.cache = cache
        self._resolver = None

    def line(self, text: str) -> None:
        if self.trace:
            self.trace.line(text)

    def resolver(self):
        if self._resolver is None:
            from pexim.dns import Resolver
            self._resolver = Resolver.for_context(self.engine.ctx)
        return self._resolver

    def log(self, text: str, panic: bool = False) -> None:
        self.engine.host.log(text, panic=panic)

    def one(self, domain, domain_txt, keydomain, prepend, iplist, bitmask, match_type,
            defer_return):
        v = self.engine.ctx.values
        query = "%s.%s" % (prepend, domain)
        if len(query) >= 256:
            self.log("dnslist query is too long (ignored): %s..." % query, panic=True)
            return W.FAIL
        cb = self.cache.get(query.lower())
        if cb is not None and cb.expiry > time.time():
            self.line("dnslists: using result of previous lookup")
        else:
            stale = "cached data found but past valid time; " if cb is not None else ""
            cb = _Cached()
            self.cache[query.lower()] = cb
            ttl = 3600
            self.line("%snew DNS lookup for %s" % (stale, query))
            ans = self.resolver().lookup_sync(query, "A")
            cb.rc = ans.rc
            if ans.rc == "OK":
                cb.rhs = [r.address for r in ans.records if hasattr(r, "address")]
                if cb.rhs:
                    ttl = min(ttl, int(ans.ttl or 0))
                else:
                    cb.rc = "NODATA"
            cb.expiry = time.time() + ttl
            self.line("dnslists: wrote cache entry, ttl=%d" % ttl)
        if cb.rc == "OK":
            addlist = ", ".join(cb.rhs)
            self.line("DNS lookup for %s succeeded (yielding %s)" % (query, addlist))
            if iplist is not None:
                ips = list(lists.iter_list(iplist, ","))
                found = None
                for da in cb.rhs:
                    res = None
                    if not bitmask:
                        for item in ips:
                            if da == item:
                                res = item
                                break
                    else:
                        mask = 0
                        a = _aton4(da)
                        if a is not None:
                            if a & 0xFF000000 != 0x7F000000:
                                self.log("DNS list lookup for %s at %s returned %s; not in "
                                         "127.0/8 and discarded" % (keydomain, domain, da))
                            else:
                                mask = a
                        for item in ips:
                            b = _aton4(item)
                            if b is not None and (b & mask) == b:
                                res = item
                                break
                    if bool(match_type & MT_ALL) == (res is None):
                        found = da
                        break
                if (match_type in (MT_NOT, MT_ALL)) != (found is None):
                    why = {0: "was no match", MT_NOT: "was an exclude match",
                           MT_ALL: "was an IP address that did not match",
                           MT_NOT | MT_ALL: "were no IP addresses that did not match"}[
                        match_type]
                    self.line("=> but we are not accepting this block class because")
                    self.line("=> there %s for %s%s%s" % (
                        why, "=" if match_type & MT_ALL else "", "&" if bitmask else "=",
                        iplist))
                    return W.FAIL
            else:
                ok = False
                for da in cb.rhs:
                    a = _aton4(da)
                    if a is not None and a & 0xFF000000 == 0x7F000000:
                        ok = True
                    else:
                        self.log("DNS list lookup for %s at %s returned %s; not in 127.0/8 "
                                 "and discarded" % (keydomain, domain, da))
                if not ok:
                    return W.FAIL
            if domain_txt is not domain:
                return self.one(domain_txt, domain_txt, keydomain, prepend, None, False,
                                match_type, defer_return)
            if not cb.text_set:
                cb.text_set = True
                ans = self.resolver().lookup_sync(query, "TXT")
                if ans.rc == "OK":
                    for r in ans.records:
                        strings = getattr(r, "strings", None)
                        if strings:
                            cb.text = strings[0].decode("latin-1")
                            break
            v["dnslist_value"] = addlist
            v["dnslist_text"] = cb.text
            return W.OK
        if cb.rc not in ("NOMATCH", "NODATA"):
            if self._defer_logged():
                self.log("DNS list lookup defer (probably timeout) for %s: %s" % (
                    query, {W.OK: "assumed in list", W.FAIL: "assumed not in list"}.get(
                        defer_return, "returned DEFER")))
            return defer_return
        self.line("DNS lookup for %s failed" % query)
        self.line("=> that means %s is not listed at %s" % (keydomain, domain))
        return W.FAIL

    def _defer_logged(self) -> bool:
        cfg = self.engine.config
        try:
            sel = str(cfg.main.get("log_selector") or "")
        except Exception:  # noqa: BLE001
            sel = ""
        on = True
        for word in sel.split():
            if word in ("-all", "-dnslist_defer"):
                on = False
            elif word in ("+all", "+dnslist_defer"):
                on = True
        return on


def _strange(domain: str) -> bool:
    return any(not (ch.isascii() and ch.isalnum()) and ch not in "-._" for ch in domain)


def run(engine, c, arg, res):
    chk = _Checker(engine)
    v = engine.ctx.values
    where = engine.where
    defer_return = W.FAIL
    revadd = None
    for item in lists.iter_list(arg):
        chk.line("dnslists check: %s" % item)
        if item.startswith("+"):
            low = item.lower()
            if low == "+include_unknown":
                defer_return = W.OK
            elif low == "+exclude_unknown":
                defer_return = W.FAIL
            elif low == "+defer_unknown":
                defer_return = W.DEFER
            else:
                chk.log("unknown item in dnslist (ignored): %s" % item, panic=True)
            continue
        domain, slash, key = item.partition("/")
        key = key if slash else None
        bitmask = False
        match_type = 0
        iplist = None
        pos = domain.find("=")
        if pos < 0:
            bitmask = True
            pos = domain.find("&")
        if pos >= 0:
            iplist = domain[pos + 1:]
            head = domain[:pos]
            if pos > 0 and domain[pos - 1] == "!":
                match_type |= MT_NOT
                head = domain[:pos - 1]
            domain = head
            if not bitmask and iplist[:1] in ("=", "&"):
                bitmask = iplist[0] == "&"
                iplist = iplist[1:]
                match_type |= MT_ALL
        domain_txt = domain
        comma = domain.find(",")
        if comma >= 0:
            domain_txt, domain = domain[:comma], domain[comma + 1:]
        if _strange(domain):
            chk.log('dnslists domain "%s" contains strange characters - is this right?'
                    % domain)
        if domain_txt is not domain and _strange(domain_txt):
            chk.log('dnslists domain "%s" contains strange characters - is this right?'
                    % domain_txt)
        if key is None:
            if where in (W.NOTSMTP_START, W.NOTSMTP):
                res.log = "cannot test auto-keyed dnslists condition in %s ACL" % W.NAMES[where]
                return W.ERROR
            host = v.get("sender_host_address")
            if not host:
                return W.FAIL
            host = str(host)
            if revadd is None:
                revadd = invert_address(host)
            rc = chk.one(domain, domain_txt, host, revadd, iplist, bitmask, match_type,
                         defer_return)
            if rc == W.OK:
                v["dnslist_domain"] = domain_txt
                v["dnslist_matched"] = host
                chk.line("=> that means %s is listed at %s" % (host, domain_txt))
            if rc != W.FAIL:
                return rc
        else:
            defer = False
            for keydomain in lists.iter_list(key):
                prepend = invert_address(keydomain) if _is_ip(keydomain) else keydomain
                rc = chk.one(domain, domain_txt, keydomain, prepend, iplist, bitmask,
                             match_type, defer_return)
                if rc == W.OK:
                    v["dnslist_domain"] = domain_txt
                    v["dnslist_matched"] = keydomain
                    chk.line("=> that means %s is listed at %s" % (keydomain, domain_txt))
                    return W.OK
                if rc == W.DEFER:
                    defer = True
            if defer:
                return W.DEFER
    return W.FAIL
