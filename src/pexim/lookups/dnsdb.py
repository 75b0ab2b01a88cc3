"""dnsdb: the DNS as a query-style lookup (spec "More about dnsdb"; Exim's dnsdb.c).

Query: ``[>S[,F|;]] [modifier,]... [type=]domain-list``.  S separates records
(newline by default), F the fields of one record (MX, SRV, TLSA, CSA, SOA,
and the strings of a TXT record); ``;`` joins TXT strings with nothing.
Modifiers: defer_strict|lax|never, dnssec_strict|lax|never, retrans_<time>,
retry_<n>.  Types: a, a+ (AAAA then A), aaaa, cname, csa, mx, mxh, ns, zns,
ptr (an IP address is reversed), soa, spf, srv, tlsa, txt (the default).
Each item of the list is looked up; the lookup fails only if all fail, and a
temporary error defers as the defer_ modifier says.  After each DNS lookup
$lookup_dnssec_authenticated is "yes" or "no" ("" with dnssec_never).
"""

from __future__ import annotations

import copy
import ipaddress

from pexim.config.timeval import read_time
from pexim.dns.resolver import AGAIN, NODATA, NOMATCH, OK, DnsAnswer, Resolver
from pexim.expand.ip import ip_version

from ..expand.errors import LookupDefer
from ..lists import iter_list
from . import register

# Exim's type_names order: the name is matched case-insensitively.
TYPES = {"a": "A", "a+": "A+", "aaaa": "AAAA", "cname": "CNAME", "csa": "CSA",
         "mx": "MX", "mxh": "MXH", "ns": "NS", "ptr": "PTR", "soa": "SOA", "spf": "SPF",
         "srv": "SRV", "tlsa": "TLSA", "txt": "TXT", "zns": "ZNS"}
_SEARCH = {"CSA": "SRV", "MXH": "MX", "ZNS": "NS"}
STRICT, LAX, NEVER = "strict", "lax", "never"


def _strip(s: str, i: int) -> int:
    while i < len(s) and s[i].isspace():
        i += 1
    return i


def parse_query(key: str) -> tuple[str, str | None, str, str, int | None, int | None, str, str]:
    """(record separator, field separator, defer mode, dnssec mode, retrans, retry,
    type, domain list); a syntax error raises LookupDefer with Exim's text."""
    s, i = key, _strip(key, 0)
    outsep, outsep2 = "\n", None
    if s.startswith(">", i):
        outsep = s[i + 1:i + 2]
        i += 2
        if s.startswith(",", i):
            outsep2 = s[i + 1:i + 2]
            i += 2
        elif s.startswith(";", i):
            outsep2 = ""
            i += 1
        i = _strip(s, i)
    defer, dnssec, retrans, retry = LAX, LAX, None, None
    while True:
        low = s[i:].lower()
        if low.startswith("defer_") or low.startswith("dnssec_"):
            word = "defer" if low.startswith("defer_") else "dnssec"
            i += len(word) + 1
            rest = s[i:].lower()
            mode = next((m for m in (STRICT, LAX, NEVER) if rest.startswith(m)), None)
            if mode is None:
                raise LookupDefer("unsupported dnsdb %s behaviour" % word)
            i += len(mode)
            if word == "defer":
                defer = mode
            else:
                dnssec = mode
        elif low.startswith("retrans_"):
            i += 8
            retrans = read_time(s[i:], ",")
            if retrans <= 0:
                raise LookupDefer("unsupported dnsdb timeout value")
            i = s.index(",", i)
        elif low.startswith("retry_"):
            i += 6
            j = i + (1 if s[i:i + 1] in "+-" else 0)
            while j < len(s) and s[j].isdigit():
                j += 1
            retry = int(s[i:j]) if j > i and s[i:j] not in "+-" else 0
            if retry < 0:
                raise LookupDefer("unsupported dnsdb retry count")
            i = j
        else:
            break
        i = _strip(s, i)
        if not s.startswith(",", i):
            raise LookupDefer("dnsdb modifier syntax error")
        i = _strip(s, i + 1)
    rtype = "TXT"
    eq = s.find("=", i)
    if eq >= 0:
        name = s[i:eq].rstrip().lower()
        if name not in TYPES:
            raise LookupDefer("unsupported DNS record type")
        rtype = TYPES[name]
        i = _strip(s, eq + 1)
    if rtype == "SPF" and outsep2 is None:
        outsep2 = ""
    return outsep, outsep2, defer, dnssec, retrans, retry, rtype, s[i:]


def _reverse(domain: str) -> str:
    """dns_build_reverse(): 4.3.2.1.in-addr.arpa / nibbles.ip6.arpa."""
    return ipaddress.ip_address(domain).reverse_pointer


class DnsdbLookup:
    name = "dnsdb"
    query_style = True

    def find(self, ctx, filename, key, opts):
        outsep, outsep2, defer, dnssec, retrans, retry, rtype, domains = parse_query(str(key))
        resolver = copy.copy(Resolver.for_context(ctx))
        if retrans is not None:
            resolver.timeout = float(retrans)
        if retry is not None:
            resolver.tries = max(1, retry)
        resolver.dnssec_ok = 0 if dnssec == NEVER else 1
        if rtype == "PTR" and not domains.startswith("<") and ip_version(domains) == 6:
            items = [domains]           # one IPv6 address is not a colon-separated list
        else:
            items = list(iter_list(domains))
        out: list[str] = []
        failrc_defer = False
        for domain in items:
            if rtype in ("PTR", "CSA") and ip_version(domain):
                domain = _reverse(domain)
            for search in (("AAAA", "A") if rtype == "A+" else (rtype,)):
                answer, found = _special(resolver, domain, search)
                ctx.values["lookup_dnssec_authenticated"] = \
                    "" if dnssec == NEVER else ("yes" if answer.authentic else "no")
                if answer.rc in (NOMATCH, NODATA):
                    continue
                if answer.rc != OK or (dnssec == STRICT and not answer.authentic):
                    if defer == STRICT:
                        raise LookupDefer("")      # Exim gives no reason
                    if defer == LAX:
                        failrc_defer = True
                    continue
                for rdata in answer.records:
                    text = _format(rdata, search if rtype == "A+" else rtype, outsep2,
                                   found, domain)
                    if text is not None:
                        out.extend(text)
        if not out:
            if failrc_defer:
                raise LookupDefer("")
            return None
        return outsep.join(out)


def _special(resolver: Resolver, domain: str, rtype: str) -> tuple[DnsAnswer, str]:
    """dns_special_lookup(): ZNS and SOA climb the tree, CSA searches parents."""
    if rtype in ("ZNS", "SOA"):
        d = domain
        while True:
            answer = resolver.lookup_sync(d, _SEARCH.get(rtype, rtype))
            if answer.rc not in (NOMATCH, NODATA):
                return answer, d
            if "." not in d:
                return DnsAnswer(NOMATCH, domain, rtype), domain
            d = d.split(".", 1)[1]
    if rtype == "CSA":
        return _csa(resolver, domain)
    return resolver.lookup_sync(domain, _SEARCH.get(rtype, rtype)), domain


def _csa(resolver: Resolver, domain: str) -> tuple[DnsAnswer, str]:
    """The SRV record of _client._smtp.<domain>, else of a parent that asserts
    something (port bit 0), at most five labels up (32 nibbles for ip6.arpa)."""
    answer = resolver.lookup_sync("_client._smtp." + domain, "SRV")
    if answer.rc in (OK, AGAIN):
        return answer, domain
    labels = domain.split(".")
    ipv6 = domain.endswith(".ip6.arpa")
    step = 4 if ipv6 else 1
    limit = 32 if ipv6 else 5
    n = 0
    for _ in range(limit):
        n += step
        if n >= len(labels):
            break
        parent = ".".join(labels[n:])
        answer = resolver.lookup_sync("_client._smtp." + parent, "SRV")
        if answer.rc == AGAIN:
            return answer, parent
        if answer.rc != OK:
            continue
        if any(r.priority == 1 and r.port & 1 for r in answer.records):
            return answer, parent
    return DnsAnswer(NOMATCH, domain, "SRV"), domain


def _name(n) -> str:
    return n.to_text(omit_final_dot=True)


def _format(r, rtype: str, outsep2: str | None, found: str, domain: str) -> list[str] | None:
    """The text of one record (a list: one item per address for A/AAAA)."""
    f = " " if outsep2 is None else outsep2[:1]
    if rtype in ("A", "AAAA"):
        return [r.address]
    if rtype in ("TXT", "SPF"):
        parts = [b.decode("latin-1") for b in r.strings]
        if outsep2 is None:
            return [parts[0] if parts else ""]
        return [outsep2[:1].join(parts)]
    if rtype == "TLSA":
        return ["%d%s%d%s%d%s%s" % (r.usage, f, r.selector, f, r.mtype, f, r.cert.hex())]
    if rtype == "MX":
        return ["%d%s%s" % (r.preference, f, _name(r.exchange))]
    if rtype == "MXH":
        return [_name(r.exchange)]
    if rtype == "SRV":
        return ["%d%s%d%s%d%s%s" % (r.priority, f, r.weight, f, r.port, f, _name(r.target))]
    if rtype == "CSA":
        if r.priority != 1:
            return None
        if found != domain:
            code = "X" if r.port & 1 else "?"
        elif r.weight < 2:
            code = "N"
        elif r.weight in (2, 3):
            code = "Y" if r.weight == 2 else "?"
        else:
            return None
        return [code + " " + _name(r.target)]
    if rtype == "SOA":
        if outsep2 is None:
            return [_name(r.mname)]
        return [f.join([_name(r.mname), _name(r.rname)] + [str(x) for x in (
            r.serial, r.refresh, r.retry, r.expire, r.minimum)])]
    return [_name(r.target)]       # CNAME, NS, ZNS, PTR


register(DnsdbLookup())
